"""Plain data passed from one pipeline stage to the next.

read -> Document, plan -> Script, speak -> Clips, mix -> Timeline.
Nothing here does work; every stage module owns its own logic.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

# Paragraph kinds produced by the readers
TEXT, HEADING, QUOTE, LIST_ITEM, CODE = "text", "heading", "quote", "list_item", "code"

# Voice roles a segment can ask for
NARRATOR, QUOTE_ROLE = "narrator", "quote"

# Segment kinds: spoken framing around the essay, or the essay itself
INTRO, BODY, OUTRO = "intro", "body", "outro"


@dataclass
class Metadata:
    """What we know about an essay; every field may be unset (None / empty)."""

    title: str | None = None
    author: str | None = None
    date: datetime.date | datetime.datetime | None = None  # a datetime is aware (keeps its zone)
    description: str | None = None
    language: str | None = None  # BCP 47, e.g. "en" or "en-GB"
    image: str | None = None  # path to cover art, relative to the essay
    link: str | None = None
    tags: list[str] = field(default_factory=list)
    draft: bool = False  # marked unpublished; built only when asked (--drafts)
    chapter_titles: list[str] = field(default_factory=list)
    lexicon: dict = field(default_factory=dict)  # word -> respelling or {say, ipa}
    voices: dict = field(default_factory=dict)  # role -> voice, e.g. {"quote": "gmw/en-gb"}
    season: int | None = None  # the feed's season and episode numbers, when the essay gives them
    episode: int | None = None
    soundbite: str | None = None  # words of the passage the feed offers as the episode's soundbite


@dataclass
class Paragraph:
    """One block of the essay, display text exactly as written (markup removed)."""

    kind: str  # TEXT, HEADING, QUOTE, LIST_ITEM or CODE
    text: str
    sentences: list[str] = field(default_factory=list)  # filled by plan (display text)
    language: str | None = None  # code block info string, for CODE


@dataclass
class Document:
    """An essay as read from disk, before any speech decisions."""

    source: Path
    metadata: Metadata
    paragraphs: list[Paragraph]  # in order; HEADING paragraphs mark chapter starts
    text: str  # the body as written (front matter removed), for USLT and hashing


@dataclass(frozen=True)
class Essay:
    """What one episode is made from: an essay file, read when its turn comes,
    or a post of a feed, read with the feed (``document``)."""

    path: Path  # for a feed's post: the post's name in the feed's folder
    document: Document | None = None


@dataclass
class Segment:
    """The unit of synthesis and of timing."""

    index: int
    chapter: int  # index into Script.chapters
    kind: str  # INTRO, BODY or OUTRO
    display: str  # what the transcript shows
    speech: str  # what the engine is asked to say
    role: str = NARRATOR
    pause_after: float = 0.0  # seconds of silence after this segment
    paragraph: int = -1  # index of the source paragraph in Document.paragraphs (-1: intro, outro)
    block: str = ""  # the source paragraph's kind (TEXT, HEADING, QUOTE, ...); "" for intro, outro


@dataclass
class Script:
    metadata: Metadata
    chapters: list[str]  # chapter titles, in order
    segments: list[Segment]

    def words(self) -> int:
        return sum(len(s.speech.split()) for s in self.segments)


@dataclass
class Clip:
    """Synthesized audio of one segment, stored in the clip cache."""

    segment: int
    path: Path  # 44.1 kHz mono 16-bit WAV in the cache
    samples: int  # length at 44.1 kHz
    peak: float  # true peak (4x oversampled), linear full scale
    cached: bool  # True when taken from the cache, False when synthesized now
    crc32: int  # of its samples in the cache, checked whenever they are read
    profile: object = None  # numpy float32: K-weighted energy per 100 ms block (loudness.py)
    pcm: object = None  # numpy int16: the samples, verified against the cache; let go once mixed
    words: tuple[tuple[int, int], ...] = ()  # (offset in the speech text, first sample) of each word, when known


def whole_ms(samples: int, sample_rate: int) -> int:
    """Whole milliseconds, the resolution of ID3 CHAP frames: the tags, chapters
    JSON and transcripts all round this way, so their times agree."""
    return round(samples * 1000 / sample_rate)


@dataclass
class Span:
    """A stretch of the assembled audio, in samples at Timeline.sample_rate."""

    start: int
    end: int
    title: str = ""
    text: str = ""
    words: list[int] = field(default_factory=list)  # a segment's: where each word of ``text`` starts


@dataclass
class Timeline:
    """Where every segment and chapter lies; the one source of truth for times."""

    sample_rate: int
    total: int  # samples in the whole episode
    segments: list[Span]  # one per Script segment, speech only (no pause)
    chapters: list[Span]  # contiguous, first at 0, last ending at total

    def ms(self, samples: int) -> int:
        return whole_ms(samples, self.sample_rate)

    @property
    def duration(self) -> float:
        return self.total / self.sample_rate
