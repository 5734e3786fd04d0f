"""The show's podcast feed: RSS 2.0 with the itunes and Podcasting 2.0 namespaces
(the Podcasting 2.0 tags are podcasting.py's).

Built as an element tree with lxml and serialized by it, never from string
templates, so any title (``&``, ``<``, quotes, emoji, right-to-left script)
comes out well-formed and reads back exactly.

The feed is a pure function of the show settings and the episodes' records:
``lastBuildDate`` is the newest episode's publication time, so an unchanged
show rewrites a byte-identical feed and a rebuilt episode whose audio did not
change leaves every item as it was.

Enclosure URLs carry the audio's version in their path,
``episodes/<first 12 hex of sha256>/<stem>.mp3``: a changed audio gets a new
URL (apps and caches fetch it again) while the GUID never changes. The
versioned file is a hard link to ``episodes/<stem>.mp3`` (a copy where links
are not possible), made by ``write_feed``; so is each edition's
(``<stem>.m4b``, ``<stem>.opus``). A path, not a query string such as
``?v=``, because static hosts and feed checkers map URLs to files by path.
"""
from __future__ import annotations

import datetime
import email.utils
import os
import re
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Callable

import lxml.html
from lxml import etree
from lxml.html import builder as html

from audiobook import __version__
from audiobook.audio.cover import generate_cover, jpeg_side, podcast_jpeg, scaled_copy
from audiobook.display import timestamp
from audiobook.errors import OutputError
from audiobook.fsutil import link_atomic, write_bytes_atomic
from audiobook.settings import COVER_FILE, FEED_FILE, ShowSettings, checks
from audiobook.show.episodes import PublishedEpisode
from audiobook.show.feedxml import NSMAP, sub, xml_text
from audiobook.show.podcasting import COVER_SIZES, MP3_MIME, channel_tags, cover_copy, item_tags
from audiobook.show.record import EPISODES, VERSION_HEX, EpisodeRecord

DESCRIPTION_BYTES = 4000  # Apple's limit for a show's (and an episode's) description
# Apple reads chapters from a description only when it lists three timestamps or more.
DESCRIPTION_CHAPTERS = 3
_VERSION_DIR = re.compile(rf"[0-9a-f]{{{VERSION_HEX}}}")


def _clip_bytes(text: str, limit: int = DESCRIPTION_BYTES) -> str:
    """At most limit bytes of UTF-8, cut at a character boundary, with an ellipsis when cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", "ignore").rstrip() + "\u2026"


def _rfc2822(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return email.utils.format_datetime(moment.astimezone(datetime.timezone.utc), usegmt=True)


def _show_notes(record: EpisodeRecord) -> str:
    """content:encoded: the description and the chapter list (when Apple would read it), as HTML built by lxml."""
    parts = [html.P(xml_text(record.description))] if record.description else []
    if len(record.chapters) >= DESCRIPTION_CHAPTERS:
        parts.append(html.OL(*[html.LI(f"{timestamp(round(c.start * 1000))[:8]} {xml_text(c.title)}")
                               for c in record.chapters]))
    return "".join(lxml.html.tostring(part, encoding="unicode") for part in parts)


def _item(channel: etree._Element, show: ShowSettings, episode: PublishedEpisode, number: int,
          base: str) -> None:
    record, files = episode.record, episode.files

    def url(path: Path) -> str:
        return base + urllib.parse.quote(files.url_path(path))

    item = sub(channel, "item")
    sub(item, "title", record.title)
    sub(item, "link", record.link or url(files.page))
    sub(item, "description", _clip_bytes(record.description or record.title))
    sub(item, "content:encoded", _show_notes(record) or xml_text(record.title))
    sub(item, "guid", record.guid, isPermaLink="false")
    sub(item, "pubDate", _rfc2822(record.published))
    sub(item, "enclosure", url=url(files.enclosure(record.audio.sha256)), length=str(record.audio.bytes),
        type=MP3_MIME)
    sub(item, "itunes:title", record.title)
    sub(item, "itunes:author", record.author)
    sub(item, "itunes:duration", str(round(record.audio.duration)))
    if files.art.is_file():
        sub(item, "itunes:image", href=url(files.art))
    sub(item, "itunes:explicit", "true" if show.explicit else "false")
    if record.season:
        sub(item, "itunes:season", str(record.season))
    sub(item, "itunes:episode", str(number))
    sub(item, "itunes:episodeType", "full")
    if files.chapters.is_file():
        sub(item, "podcast:chapters", url=url(files.chapters), type="application/json+chapters")
    # rel="captions": a timed file (https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/tags/transcript.md
    # shows it on SRT as well as VTT); the HTML page is a plain transcript. VTT first: Apple ingests it.
    for path, mime in ((files.vtt, "text/vtt"), (files.srt, "application/x-subrip")):
        if path.is_file():
            sub(item, "podcast:transcript", url=url(path), type=mime, language=record.language, rel="captions")
    sub(item, "podcast:transcript", url=url(files.page), type="text/html", language=record.language)
    item_tags(item, record, files, number, url)
    if record.chapters:  # Podlove Simple Chapters: what gPodder (podcastparser) and older apps read
        chapters = sub(item, "psc:chapters", version="1.2")
        for chapter in record.chapters:
            sub(chapters, "psc:chapter", start=timestamp(round(chapter.start * 1000)), title=chapter.title)


def episode_numbers(episodes: list[PublishedEpisode]) -> dict[int, int]:
    """id(episode) -> its number: the one its essay gives, else its place among the
    episodes of its season (of the show, without seasons), oldest first."""
    seen: Counter = Counter()
    numbers = {}
    for episode in episodes:
        seen[episode.record.season] += 1
        numbers[id(episode)] = episode.record.episode or seen[episode.record.season]
    return numbers


def build_feed(show: ShowSettings, episodes: list[PublishedEpisode], cover_side: int | None = None) -> bytes:
    """The feed as UTF-8 bytes; the same show and episodes always give the same bytes.

    ``cover_side``: the width of cover.jpg, for podcast:image. Refuses (ConfigError)
    without an owner email or a base URL (``ShowSettings.served_at`` gives one for a run).
    """
    base = show.require_base_url()
    owner_email = show.require_email()
    ordered = sorted(episodes, key=lambda e: (e.record.published, e.files.stem))  # oldest first: episode 1

    rss = etree.Element("rss", version="2.0", nsmap=NSMAP)
    channel = sub(rss, "channel")
    sub(channel, "title", show.title)
    sub(channel, "link", show.link or base)
    sub(channel, "description", _clip_bytes(show.description))
    sub(channel, "language", show.language)
    sub(channel, "generator", f"audiobook {__version__}")
    if ordered:
        newest = _rfc2822(ordered[-1].record.published)
        sub(channel, "pubDate", newest)
        sub(channel, "lastBuildDate", newest)
    sub(channel, "atom:link", href=show.feed_url, rel="self", type="application/rss+xml")
    image = sub(channel, "image")
    sub(image, "url", base + COVER_FILE)
    sub(image, "title", show.title)
    sub(image, "link", show.link or base)
    sub(channel, "itunes:author", show.author)
    owner = sub(channel, "itunes:owner")
    sub(owner, "itunes:name", show.author)
    sub(owner, "itunes:email", owner_email)
    sub(channel, "itunes:image", href=base + COVER_FILE)
    parent = channel
    for name in show.categories:  # nested: <itunes:category text="Main"><itunes:category text="Sub"/>
        parent = sub(parent, "itunes:category", text=name)
    sub(channel, "itunes:explicit", "true" if show.explicit else "false")
    sub(channel, "itunes:type", show.type)
    if show.block:
        sub(channel, "itunes:block", "Yes")
    if show.new_feed_url:
        sub(channel, "itunes:new-feed-url", show.new_feed_url)
    channel_tags(channel, show, base, owner_email, cover_side)
    numbers = episode_numbers(ordered)
    for episode in reversed(ordered):  # newest first
        _item(channel, show, episode, numbers[id(episode)], base)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _artwork(show: ShowSettings) -> tuple[dict[str, bytes], int]:
    """The show's cover.jpg and its smaller copies, by file name, each only when the file
    there is not already right; and the cover's width."""
    target = show.directory / COVER_FILE
    if show.cover:
        cover = podcast_jpeg(show.cover)  # checked when podcast.toml was read
    elif target.is_file():
        cover = podcast_jpeg(checks.art(target, f"show art {target}"))
    else:
        cover = generate_cover(show.title, show.author)
    wanted = {COVER_FILE: cover, **{cover_copy(side): scaled_copy(cover, side) for side in COVER_SIZES}}
    return ({name: data for name, data in wanted.items()
             if not ((show.directory / name).is_file() and (show.directory / name).read_bytes() == data)},
            jpeg_side(cover))


def _link_versions(episode: PublishedEpisode) -> set[Path]:
    """The versioned files of an episode's audio (the MP3, each edition): hard links
    to them (copies where the filesystem has none)."""
    record, files = episode.record, episode.files
    versions = {files.mp3: files.enclosure(record.audio.sha256),
                **{files.edition(e.format): files.enclosure(e.sha256, f".{e.format}") for e in record.editions}}
    for source, alias in versions.items():
        if not (alias.is_file() and os.path.samefile(alias, source)):
            alias.parent.mkdir(exist_ok=True)
            link_atomic(source, alias)
    return set(versions.values())


def _prune_versions(episodes_folder: Path, keep: set[Path]) -> None:
    """Remove audio versions no episode in the feed points at any more."""
    for folder in episodes_folder.iterdir():
        if not (folder.is_dir() and _VERSION_DIR.fullmatch(folder.name)):
            continue
        for stale in folder.iterdir():
            if stale not in keep:
                stale.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()


def write_feed(show: ShowSettings, episodes: list[PublishedEpisode],
               ready: Callable[[bytes], None] | None = None) -> Path:
    """Write the show's feed.xml, with the art and the versioned audio it points at.

    The settings are checked before anything is written. ``ready`` is given the
    new feed once its art and audio are in place: it may write the rest of what
    the feed names (the site) and refuse the feed (raise), and the feed.xml
    already there is then left as it was.
    """
    artwork, cover_side = _artwork(show)
    data = build_feed(show, episodes, cover_side)
    target = show.directory / FEED_FILE
    try:
        for name, image in artwork.items():
            write_bytes_atomic(show.directory / name, image)
        keep = set().union(*(_link_versions(episode) for episode in episodes))
        if ready is not None:
            ready(data)
        write_bytes_atomic(target, data)
        if (show.directory / EPISODES).is_dir():
            _prune_versions(show.directory / EPISODES, keep)
    except OSError as exc:
        raise OutputError(f"cannot write the feed into {show.directory}: {exc.strerror or exc}") from exc
    return target
