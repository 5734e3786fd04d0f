"""The feed's Podcasting 2.0 tags, as the namespace defines them
(https://podcastindex.org/namespace/1.0, docs/tags/*.md) and as Podcast
Index's own parser, podcast-partytime, reads them.

Channel: guid, locked with its owner (partytime counts a lock only with an
owner), medium, the show's author as host, the cover at several sizes, and
license, funding, txt and block when podcast.toml sets them. Item: season and
episode, the essay's author and the voice that reads it (narrator), a
soundbite, and each file of the program as an alternateEnclosure: the MP3
itself (``default="true"``) and every edition, each at its versioned URL with
an SRI hash of its bytes.
"""
from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from audiobook.models import BODY, LIST_ITEM, QUOTE, TEXT
from audiobook.settings import COVER_FILE, ShowSettings
from audiobook.settings.checks import PODCAST_TEXT_CAP, capped
from audiobook.settings.showfile import DEFAULT_AUTHOR
from audiobook.show.feedxml import sub
from audiobook.show.record import EpisodeFiles, EpisodeRecord, SegmentMark
from audiobook.text.passages import passage_span

# https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/tags/guid.md
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
COVER_SIZES = (600, 300)  # smaller copies of cover.jpg beside it, for apps that list many shows
# docs/tags/soundbite.md recommends 15 to 120 s; a minute is what a listener samples before choosing.
SOUNDBITE_SECONDS = (15.0, 60.0)
SOUNDBITE_BLOCKS = (TEXT, QUOTE, LIST_ITEM)  # prose; never a heading or the code placeholder
MP3_MIME = "audio/mpeg"
EDITION_TITLES = {"mp3": "MP3", "m4b": "M4B audiobook", "opus": "Opus"}  # at most 32 characters


def podcast_guid(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    bare = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", feed_url).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def cover_copy(side: int) -> str:
    """The file name of the cover scaled to ``side`` pixels: cover-600.jpg."""
    return f"{Path(COVER_FILE).stem}-{side}{Path(COVER_FILE).suffix}"


def sri(sha256_hex: str) -> str:
    """A Subresource Integrity string (https://www.w3.org/TR/SRI/) of a SHA-256 in hex."""
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def channel_tags(channel: etree._Element, show: ShowSettings, base: str, owner: str, cover_side: int | None) -> None:
    sub(channel, "podcast:guid", podcast_guid(show.feed_url))
    sub(channel, "podcast:locked", "yes" if show.locked else "no", owner=owner)
    sub(channel, "podcast:medium", show.medium)
    if show.author != DEFAULT_AUTHOR:  # nobody is called "Anonymous"
        sub(channel, "podcast:person", capped(show.author, PODCAST_TEXT_CAP), role="host")
    for name, side in ((COVER_FILE, cover_side), *((cover_copy(size), size) for size in COVER_SIZES)):
        size = {"width": str(side), "height": str(side)} if side else {}
        sub(channel, "podcast:image", href=base + name, type="image/jpeg", aspect_ratio="1/1", purpose="artwork",
            **size)
    if show.license:
        sub(channel, "podcast:license", show.license, url=show.license_url)
    if show.funding_url:
        sub(channel, "podcast:funding", show.funding_text, url=show.funding_url)
    for purpose, text in show.txt:
        sub(channel, "podcast:txt", text, purpose=purpose)
    if show.block:
        sub(channel, "podcast:block", "yes")


def item_tags(item: etree._Element, record: EpisodeRecord, files: EpisodeFiles, number: int,
              url: Callable[[Path], str]) -> None:
    if record.season:
        sub(item, "podcast:season", str(record.season))
    sub(item, "podcast:episode", str(number))
    # An item's people replace the channel's (docs/tags/person.md): the writer and the reader.
    if record.author != DEFAULT_AUTHOR:
        sub(item, "podcast:person", capped(record.author, PODCAST_TEXT_CAP), group="writing", role="author")
    for voice in dict.fromkeys((record.engine.voice, record.engine.quote_voice)):
        sub(item, "podcast:person", capped(f"{voice} ({record.engine.name} synthetic voice)", PODCAST_TEXT_CAP),
            role="narrator")
    bite = soundbite(record.segments, record.soundbite)
    if bite:
        start, duration, title = bite
        sub(item, "podcast:soundbite", title, startTime=f"{start:.3f}", duration=f"{duration:.3f}")
    audio = record.audio
    _alternate(item, MP3_MIME, audio.bytes, audio.bitrate_kbps, EDITION_TITLES["mp3"],
               url(files.enclosure(audio.sha256)), audio.sha256, default=True)
    for edition in record.editions:
        _alternate(item, edition.mime, edition.bytes, edition.bitrate_kbps,
                   EDITION_TITLES.get(edition.format, edition.format.upper()),
                   url(files.enclosure(edition.sha256, f".{edition.format}")), edition.sha256)


def _alternate(item: etree._Element, mime: str, size: int, bitrate_kbps: int, title: str, uri: str, sha256: str,
               default: bool = False) -> None:
    """One file of the program: its type, size, bitrate (bits per second), where, and its hash."""
    alternate = sub(item, "podcast:alternateEnclosure", type=mime, length=str(size),
                    bitrate=str(bitrate_kbps * 1000), title=title, **({"default": "true"} if default else {}))
    sub(alternate, "podcast:source", uri=uri)
    sub(alternate, "podcast:integrity", type="sri", value=sri(sha256))


def soundbite(segments: tuple[SegmentMark, ...], passage: str | None) -> tuple[float, float, str] | None:
    """(start, duration, title) of the episode's soundbite, on sentence boundaries.

    The passage the essay names (its opening words), carried on to at least
    15 s where its chapter allows and never past 60 s after its first sentence;
    else the first stretch of prose, from its first sentence, that lasts 15 to 60 s.
    """
    if passage and (span := passage_span([s.display for s in segments], passage)):
        return _excerpt(segments, *span)
    low, high = SOUNDBITE_SECONDS
    for first, segment in enumerate(segments):
        if _prose(segment):
            start, duration, title = _excerpt(segments, first, first)
            if low <= duration <= high:
                return start, duration, title
    return None


def _prose(segment: SegmentMark) -> bool:
    return segment.kind == BODY and segment.block in SOUNDBITE_BLOCKS


def _excerpt(segments: tuple[SegmentMark, ...], first: int, last: int) -> tuple[float, float, str]:
    """From segment ``first`` on, whole sentences of its chapter up to ``last`` and then until 15 s, within 60 s."""
    low, high = SOUNDBITE_SECONDS
    start, end = segments[first].start, segments[first].end
    for index in range(first + 1, len(segments)):
        segment = segments[index]
        if (not _prose(segment) or segment.chapter != segments[first].chapter or segment.end - start > high
                or (index > last and end - start >= low)):
            break
        end = segment.end
    return round(start, 3), round(end - start, 3), capped(segments[first].display, PODCAST_TEXT_CAP) or ""
