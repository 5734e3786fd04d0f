"""The episode record: one typed, schema-versioned JSON file beside each MP3,
and the names of every file an episode has.

The build writes the record last, once everything else of the episode is in
place; the feed, the site, ``inspect`` and the up-to-date check read it back
through ``EpisodeRecord.from_json``, which checks every field and its type.
Nothing else parses it. An episode's identity (its GUID and first
publication time) and the key of what it was built from live here too: both
are carried from one build of an essay to the next in this record.

File names (``EpisodeFiles``): every file of episode STEM sits in the show's
``episodes/`` folder and is named STEM + one of the suffixes below, none of
which ends another, so no stem can take another stem's files (an essay
called ``notes.chapters.md`` is episode ``notes.chapters``, whose record is
``notes.chapters.episode.json`` and chapters ``notes.chapters.chapters.json``).
Release 0.1 wrote the record as ``STEM.json``, a name that can be another
episode's chapters (``notes`` + ``.chapters.json``); those records are still
read, and one is removed only once it has been read as this episode's record.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import re
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from audiobook import __version__
from audiobook.models import INTRO, OUTRO, Script, Timeline
from audiobook.show.typed import RecordError, RecordMissing, no_constant, typed

SCHEMA = 2
EPISODES = "episodes"  # the show's folder of episodes
MARKS_REVISION = 2  # of what the record and transcripts mark: 2 added where each word starts
VERSION_HEX = 12  # hex digits of the audio's sha256 in a versioned enclosure path


@dataclass(frozen=True)
class EpisodeFiles:
    """The paths of one episode's files, all in the show's episodes/ folder."""

    folder: Path
    stem: str

    @classmethod
    def of(cls, show: Path, stem: str) -> EpisodeFiles:
        return cls(Path(show) / EPISODES, stem)

    def _named(self, suffix: str) -> Path:
        return self.folder / f"{self.stem}{suffix}"

    @property
    def mp3(self) -> Path:
        return self._named(".mp3")

    @property
    def record(self) -> Path:
        return self._named(".episode.json")

    @property
    def legacy_record(self) -> Path:
        """Where release 0.1 kept the record."""
        return self._named(".json")

    @property
    def chapters(self) -> Path:
        """Podcasting 2.0 chapters JSON."""
        return self._named(".chapters.json")

    @property
    def vtt(self) -> Path:
        return self._named(".vtt")

    @property
    def srt(self) -> Path:
        return self._named(".srt")

    @property
    def art(self) -> Path:
        """The episode's cover art, for feeds and pages (the MP3 holds it too)."""
        return self._named(".jpg")

    @property
    def proof(self) -> Path:
        """What a listening proof heard (``audiobook proof``)."""
        return self._named(".proof.json")

    @property
    def page(self) -> Path:
        """The episode's web page, which is also its HTML transcript."""
        return self._named(".html")

    def edition(self, format: str) -> Path:
        """Another edition of the audio: STEM.m4b, STEM.opus."""
        return self._named(f".{format}")

    def enclosure(self, sha256: str, suffix: str = ".mp3") -> Path:
        """The audio under a path that changes whenever it does (a hard link), for the feed."""
        return self.folder / sha256[:VERSION_HEX] / f"{self.stem}{suffix}"

    def url_path(self, path: Path) -> str:
        """``path`` relative to the show, as it appears in URLs: episodes/STEM.html."""
        return path.relative_to(self.folder.parent).as_posix()


@dataclass(frozen=True)
class Source:
    file: str  # the essay's file name
    sha256: str  # of its text, front matter removed


@dataclass(frozen=True)
class EngineUsed:
    name: str
    version: str
    voice: str
    quote_voice: str
    rate: int


@dataclass(frozen=True)
class Audio:
    sha256: str
    bytes: int
    duration: float  # seconds, from the timeline
    sample_rate: int
    samples: int
    bitrate_kbps: int
    loudness_lufs: float
    cover_sha256: str


@dataclass(frozen=True)
class Edition:
    """Another file of the same program (M4B, Opus), made from the MP3's master;
    listed in the feed as a podcast:alternateEnclosure."""

    format: str  # "m4b" or "opus": also the file's suffix (episodes/STEM.m4b)
    mime: str  # audio/mp4, audio/ogg
    sha256: str
    bytes: int
    bitrate_kbps: int
    duration: float  # seconds, read back from the file


@dataclass(frozen=True)
class ChapterMark:
    start: float  # seconds, whole milliseconds as in the CHAP frames
    end: float
    title: str


@dataclass(frozen=True)
class SegmentMark:
    """One segment as heard: where it lies and what it came from."""

    start: float
    end: float
    display: str  # what the transcript shows
    speech: str  # what the engine said
    chapter: int
    paragraph: int  # index of the essay's paragraph; -1 for the spoken intro and outro
    kind: str  # intro, body, outro
    block: str  # the paragraph's kind: text, heading, quote, list_item, code; "" for intro and outro
    role: str  # narrator, quote
    pause_after: float
    words: tuple[float, ...] = ()  # where each word of ``display`` (split at spaces) starts; () when the engine did not say


@dataclass(frozen=True)
class EpisodeRecord:
    stem: str
    title: str
    author: str
    album: str
    date: str  # YYYY-MM-DD, the day the essay gives (or the first build's)
    description: str
    language: str
    link: str | None
    guid: str  # made at the first build, never changed
    published: datetime.datetime  # aware; from the essay's date and time, or the first build
    build_key: str  # a hash of everything the episode was made from (see build_key)
    source: Source
    engine: EngineUsed
    audio: Audio
    chapters: tuple[ChapterMark, ...]
    segments: tuple[SegmentMark, ...]
    editions: tuple[Edition, ...] = ()
    season: int | None = None  # the feed's numbers, when the essay gives them
    episode: int | None = None
    soundbite: str | None = None  # the essay's choice of passage for podcast:soundbite (its opening words)
    generator: str = f"audiobook {__version__}"
    schema: int = SCHEMA

    def to_json(self) -> str:
        data = asdict(self)
        data["published"] = self.published.isoformat()
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, stem: str) -> EpisodeRecord:
        """The record in ``text`` (RecordError when it is not one); records of release 0.1 are migrated."""
        try:
            data = json.loads(text, parse_constant=no_constant)
        except ValueError as exc:
            raise RecordError(f"not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise RecordError("not a JSON object")
        if "schema" not in data:
            data = _from_release_0_1(data, stem)
        if data.get("schema") != SCHEMA:
            raise RecordError(f"schema {data.get('schema')!r}, this audiobook reads schema {SCHEMA}; "
                              f"upgrade audiobook or rebuild the episode")
        record = typed(cls, data, "record")
        if record.stem != stem:
            raise RecordError(f"it is the record of episode {record.stem!r}")
        _check_values(record)
        return record


def read_record(files: EpisodeFiles) -> EpisodeRecord:
    """The episode's record from disk: RecordError when it is missing or damaged."""
    for path in (files.record, files.legacy_record):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise RecordError(f"{path}: cannot be read ({exc})") from None
        if path == files.legacy_record and not _written_by_release_0_1(text):
            continue  # another episode's chapters (see the module's docstring), not a record
        try:
            return EpisodeRecord.from_json(text, files.stem)
        except RecordError as exc:
            raise RecordError(f"{path}: {exc}") from None
    raise RecordMissing(f"{files.record}: missing")


def _written_by_release_0_1(text: str) -> bool:
    """Whether a STEM.json is release 0.1's record (which names its generator),
    damaged or not, rather than chapters JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return '"generator"' in text
    return isinstance(data, dict) and "generator" in data


def remove_legacy_record(files: EpisodeFiles) -> None:
    """Remove release 0.1's STEM.json once a new record is written, if it is one:
    the same name may be another episode's chapters (stem "x.chapters" and "x")."""
    try:
        EpisodeRecord.from_json(files.legacy_record.read_text(encoding="utf-8"), files.stem)
    except (OSError, ValueError):
        return
    files.legacy_record.unlink(missing_ok=True)


# --- identity and what an episode is made from ---------------------------------------

def identity(previous: EpisodeRecord | None, date: datetime.date | datetime.datetime | None,
             now: datetime.datetime) -> tuple[str, str, datetime.datetime]:
    """(GUID, day, publication time) of an episode built now.

    The GUID is kept from the first build. An essay's date and time are its
    publication time, zone and all; a date alone keeps the first build's time
    on that day (midnight UTC when the day is not today); with no date, the
    first build's day and time stay.
    """
    guid = previous.guid if previous else str(uuid.uuid4())
    if isinstance(date, datetime.datetime):
        return guid, date.date().isoformat(), date
    if date is None:
        if previous:
            return guid, previous.date, previous.published
        return guid, now.date().isoformat(), now
    day = date.isoformat()
    if previous and previous.date == day:
        return guid, day, previous.published
    if day == now.date().isoformat():
        return guid, day, now
    return guid, day, datetime.datetime.combine(date, datetime.time(), datetime.timezone.utc)


def build_key(settings: dict[str, object], engine: EngineUsed, processing: str, cover: bytes, text: str,
              script: Script) -> str:
    """A hash of everything that shapes the episode's bytes (``processing``: how
    clips are processed, audio.clips.processing_fingerprint): when it matches
    the record's, and the files are intact, the build has nothing to do."""
    inputs = {
        "generator": __version__,
        "marks": MARKS_REVISION,
        "engine": [engine.name, engine.version, engine.voice, engine.quote_voice],
        "processing": processing,
        "settings": {key: str(value) for key, value in sorted(settings.items())},
        "cover": hashlib.sha256(cover).hexdigest(),
        "text": text,
        "chapters": script.chapters,
        "segments": [[s.kind, s.chapter, s.paragraph, s.block, s.role, s.display, s.speech, s.pause_after]
                     for s in script.segments],
    }
    return hashlib.sha256(json.dumps(inputs, ensure_ascii=False).encode("utf-8")).hexdigest()


def marks(script: Script, timeline: Timeline) -> tuple[tuple[ChapterMark, ...], tuple[SegmentMark, ...]]:
    """The timeline's chapters and segments as the record keeps them, in whole milliseconds."""
    def seconds(samples: int) -> float:
        return timeline.ms(samples) / 1000

    chapters = tuple(ChapterMark(seconds(c.start), seconds(c.end), c.title) for c in timeline.chapters)
    segments = tuple(
        SegmentMark(seconds(span.start), seconds(span.end), segment.display, segment.speech, segment.chapter,
                    segment.paragraph, segment.kind, segment.block, segment.role, segment.pause_after,
                    tuple(seconds(start) for start in span.words))
        for segment, span in zip(script.segments, timeline.segments))
    return chapters, segments


# --- values a record must hold beyond their types ------------------------------------------

_HEX64 = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"[a-z0-9]{1,8}")


def _check_values(record: EpisodeRecord) -> None:
    """What types alone do not say: a real day, and hashes that are hashes (one
    names the folder of a versioned enclosure, so it must not hold a path, nor
    may an edition's format, which is its file's suffix)."""
    try:
        datetime.date.fromisoformat(record.date)
    except ValueError:
        raise RecordError(f"record.date is not a day: {record.date!r}") from None
    hashes = [("audio.sha256", record.audio.sha256), ("audio.cover_sha256", record.audio.cover_sha256),
              ("source.sha256", record.source.sha256)]
    for number, edition in enumerate(record.editions):
        if not _SUFFIX.fullmatch(edition.format):
            raise RecordError(f"record.editions[{number}].format is not a file suffix: {edition.format[:80]!r}")
        hashes.append((f"editions[{number}].sha256", edition.sha256))
    for where, value in hashes:
        if not _HEX64.fullmatch(value):
            raise RecordError(f"record.{where} is not a sha256: {value[:80]!r}")

# Release 0.1's planner ended a paragraph with a pause of at least 0.7 s and a
# heading with exactly 0.8 s; its records kept no paragraph marks, so they are
# read back from these pauses.
_RELEASE_0_1_PARAGRAPH_PAUSE, _RELEASE_0_1_HEADING_PAUSE = 0.7, 0.8


def _from_release_0_1(data: dict, stem: str) -> dict:
    """A release 0.1 manifest in the shape of schema 2 (RecordError when it is not one)."""
    try:
        return _migrated(data, stem)
    except (TypeError, ValueError, AttributeError) as exc:
        raise RecordError(f"not a record of release 0.1 ({exc})") from None


def _migrated(data: dict, stem: str) -> dict:
    migrated = dict(data, schema=SCHEMA, stem=stem)
    if isinstance(data.get("audio"), dict):
        migrated["audio"] = {key: value for key, value in data["audio"].items() if key != "file"}
    if isinstance(data.get("segments"), list):
        segments, paragraph = [], 0
        for segment in data["segments"]:
            if not isinstance(segment, dict):
                raise RecordError("a segment is not an object")
            pause = segment.get("pause_after") or 0
            framing = segment.get("kind") in (INTRO, OUTRO)
            block = ("" if framing else "heading" if abs(pause - _RELEASE_0_1_HEADING_PAUSE) < 1e-6
                     else "quote" if segment.get("role") == "quote" else "text")
            segments.append(dict(segment, paragraph=-1 if framing else paragraph, block=block))
            if not framing and pause >= _RELEASE_0_1_PARAGRAPH_PAUSE - 1e-6:
                paragraph += 1
        migrated["segments"] = segments
    return migrated
