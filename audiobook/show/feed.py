"""The show's podcast feed: RSS 2.0 with the itunes and Podcasting 2.0 namespaces.

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
are not possible), made by ``write_feed``; so are the other editions'
(``<stem>.m4b``, ``<stem>.opus``), each under its own sha256. A path, not a
query string such as ``?v=``, because static hosts and feed checkers map URLs
to files by path.
"""
from __future__ import annotations

import datetime
import email.utils
import os
import re
import urllib.parse
import uuid
from pathlib import Path

import lxml.html
from lxml import etree
from lxml.html import builder as html

from audiobook import __version__
from audiobook.audio.cover import generate_cover, podcast_jpeg
from audiobook.display import timestamp
from audiobook.errors import OutputError
from audiobook.fsutil import link_atomic, write_bytes_atomic
from audiobook.settings import COVER_FILE, FEED_FILE, ShowSettings, checks
from audiobook.show.episodes import PublishedEpisode
from audiobook.show.record import EPISODES, VERSION_HEX, EpisodeRecord

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
PSC = "http://podlove.org/simple-chapters"
NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT, "psc": PSC}

# https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/tags/guid.md
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
DESCRIPTION_BYTES = 4000  # Apple's limit for a show's (and an episode's) description
_VERSION_DIR = re.compile(rf"[0-9a-f]{{{VERSION_HEX}}}")
# Characters XML 1.0 cannot carry at all (lxml refuses them): dropped, not escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def podcast_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    bare = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", feed_url).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def _text(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


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


def _sub(parent: etree._Element, tag: str, text: str | None = None, /, **attrib: str) -> etree._Element:
    """A child element; ``tag`` may be prefixed ("itunes:image")."""
    prefix, _, name = tag.rpartition(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}" if prefix else name,
                               {k: _text(v) for k, v in attrib.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _show_notes(record: EpisodeRecord) -> str:
    """content:encoded: the description and the chapter list, as HTML built by lxml."""
    parts = [html.P(_text(record.description))] if record.description else []
    if record.chapters:
        parts.append(html.OL(*[html.LI(f"{timestamp(round(c.start * 1000))[:8]} {_text(c.title)}")
                               for c in record.chapters]))
    return "".join(lxml.html.tostring(part, encoding="unicode") for part in parts)


def _item(channel: etree._Element, show: ShowSettings, episode: PublishedEpisode, number: int,
          base: str) -> None:
    record, files = episode.record, episode.files

    def url(path: Path) -> str:
        return base + urllib.parse.quote(files.url_path(path))

    item = _sub(channel, "item")
    _sub(item, "title", record.title)
    _sub(item, "link", record.link or url(files.page))
    _sub(item, "description", _clip_bytes(record.description or record.title))
    _sub(item, "content:encoded", _show_notes(record) or _text(record.title))
    _sub(item, "guid", record.guid, isPermaLink="false")
    _sub(item, "pubDate", _rfc2822(record.published))
    _sub(item, "enclosure", url=url(files.enclosure(record.audio.sha256)), length=str(record.audio.bytes),
         type="audio/mpeg")
    _sub(item, "itunes:title", record.title)
    _sub(item, "itunes:author", record.author)
    _sub(item, "itunes:duration", str(round(record.audio.duration)))
    if files.art.is_file():
        _sub(item, "itunes:image", href=url(files.art))
    _sub(item, "itunes:explicit", "true" if show.explicit else "false")
    _sub(item, "itunes:episode", str(number))
    _sub(item, "itunes:episodeType", "full")
    if files.chapters.is_file():
        _sub(item, "podcast:chapters", url=url(files.chapters), type="application/json+chapters")
    # rel="captions": a timed file (https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/tags/transcript.md
    # shows it on SRT as well as VTT); the HTML page is a plain transcript. VTT first: Apple ingests it.
    for path, mime in ((files.vtt, "text/vtt"), (files.srt, "application/x-subrip")):
        if path.is_file():
            _sub(item, "podcast:transcript", url=url(path), type=mime, language=record.language, rel="captions")
    _sub(item, "podcast:transcript", url=url(files.page), type="text/html", language=record.language)
    if record.chapters:  # Podlove Simple Chapters: what gPodder (podcastparser) and older apps read
        chapters = _sub(item, "psc:chapters", version="1.2")
        for chapter in record.chapters:
            _sub(chapters, "psc:chapter", start=timestamp(round(chapter.start * 1000)), title=chapter.title)


def build_feed(show: ShowSettings, episodes: list[PublishedEpisode]) -> bytes:
    """The feed as UTF-8 bytes; the same show and episodes always give the same bytes.

    Refuses (ConfigError) without an owner email or a base URL (``ShowSettings.served_at``
    gives one for a run).
    """
    base = show.require_base_url()
    owner_email = show.require_email()
    feed_url = show.feed_url
    ordered = sorted(episodes, key=lambda e: (e.record.published, e.files.stem))  # oldest first: episode 1

    rss = etree.Element("rss", version="2.0", nsmap=NSMAP)
    channel = _sub(rss, "channel")
    _sub(channel, "title", show.title)
    _sub(channel, "link", show.link or base)
    _sub(channel, "description", _clip_bytes(show.description))
    _sub(channel, "language", show.language)
    _sub(channel, "generator", f"audiobook {__version__}")
    if ordered:
        newest = _rfc2822(ordered[-1].record.published)
        _sub(channel, "pubDate", newest)
        _sub(channel, "lastBuildDate", newest)
    _sub(channel, "atom:link", href=feed_url, rel="self", type="application/rss+xml")
    image = _sub(channel, "image")
    _sub(image, "url", base + COVER_FILE)
    _sub(image, "title", show.title)
    _sub(image, "link", show.link or base)
    _sub(channel, "itunes:author", show.author)
    owner = _sub(channel, "itunes:owner")
    _sub(owner, "itunes:name", show.author)
    _sub(owner, "itunes:email", owner_email)
    _sub(channel, "itunes:image", href=base + COVER_FILE)
    parent = channel
    for name in show.categories:  # nested: <itunes:category text="Main"><itunes:category text="Sub"/>
        parent = _sub(parent, "itunes:category", text=name)
    _sub(channel, "itunes:explicit", "true" if show.explicit else "false")
    _sub(channel, "itunes:type", show.type)
    _sub(channel, "podcast:guid", podcast_guid(feed_url))
    _sub(channel, "podcast:locked", "yes" if show.locked else "no")
    numbers = {id(e): n for n, e in enumerate(ordered, 1)}
    for episode in reversed(ordered):  # newest first
        _item(channel, show, episode, numbers[id(episode)], base)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _cover_to_write(show: ShowSettings) -> bytes | None:
    """New bytes for the show's cover.jpg, or None when the one there is right."""
    target = show.directory / COVER_FILE
    if show.cover:
        wanted = podcast_jpeg(show.cover)  # checked when podcast.toml was read
    elif target.is_file():
        wanted = podcast_jpeg(checks.art(target, f"show art {target}"))
    else:
        wanted = generate_cover(show.title, show.author)
    return None if target.is_file() and target.read_bytes() == wanted else wanted


def _link_versions(episode: PublishedEpisode) -> set[Path]:
    """The versioned enclosure files of the MP3 and of each edition: hard links to
    them (copies where the filesystem has none)."""
    record, files = episode.record, episode.files
    audio = [(files.mp3, files.enclosure(record.audio.sha256)),
             *((files.edition(e.format), files.enclosure(e.sha256, f".{e.format}")) for e in record.editions)]
    for source, alias in audio:
        if not (alias.is_file() and os.path.samefile(alias, source)):
            alias.parent.mkdir(exist_ok=True)
            link_atomic(source, alias)
    return {alias for _, alias in audio}


def _prune_versions(episodes_folder: Path, keep: set[Path]) -> None:
    """Remove enclosure versions no episode in the feed points at any more
    (not the temp files of links being made)."""
    for folder in episodes_folder.iterdir():
        if not (folder.is_dir() and _VERSION_DIR.fullmatch(folder.name)):
            continue
        for stale in folder.iterdir():
            if stale not in keep and stale.is_file() and not stale.name.startswith("."):
                stale.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()


def write_feed(show: ShowSettings, episodes: list[PublishedEpisode]) -> Path:
    """Write the show's feed.xml (and cover.jpg when needed); everything is checked before anything is written."""
    data = build_feed(show, episodes)
    cover = _cover_to_write(show)
    target = show.directory / FEED_FILE
    try:
        if cover is not None:
            write_bytes_atomic(show.directory / COVER_FILE, cover)
        keep = set().union(*(_link_versions(episode) for episode in episodes))
        write_bytes_atomic(target, data)
        if (show.directory / EPISODES).is_dir():
            _prune_versions(show.directory / EPISODES, keep)
    except OSError as exc:
        raise OutputError(f"cannot write the feed into {show.directory}: {exc.strerror or exc}") from exc
    return target
