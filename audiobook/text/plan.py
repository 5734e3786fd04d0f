"""Stage "plan": Document -> Script, every word and pause decided before any audio.

A segment is one sentence (or a piece of a very long one), so a transcript cue
is a sentence and a cache entry survives edits elsewhere.

Chapters are worked out by ``chapters`` (its docstring says the rules).

Policies a listener would notice:
- Code blocks are not read out: one segment displays a placeholder and says
  that the code is skipped.
- A piece whose speech is empty (only symbols, such as "* * *") is not sent
  to the engine; its display text is appended to the previous segment (or
  put before the next one at the very start), so the transcript keeps it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from audiobook.errors import InputError
from audiobook.models import (
    BODY,
    CODE,
    HEADING,
    INTRO,
    NARRATOR,
    OUTRO,
    QUOTE,
    QUOTE_ROLE,
    TEXT,
    Document,
    Metadata,
    Paragraph,
    Script,
    Segment,
)
from audiobook.text.chapters import plan_chapters, title_heading
from audiobook.text.lexicon import Lexicon
from audiobook.text.normalize import speech_text
from audiobook.text.passages import passage_span
from audiobook.text.sentences import TRAILING_PUNCTUATION, shorten, split_for_speech, split_sentences

# Seconds of silence after a segment: piece of a sentence < sentence < paragraph < chapter.
PAUSE_AFTER_PHRASE = 0.15
PAUSE_AFTER_SENTENCE = 0.35
PAUSE_AFTER_PARAGRAPH = 0.7
PAUSE_AFTER_HEADING = 0.8
PAUSE_AFTER_CHAPTER = 1.5
PAUSE_AFTER_INTRO = 1.0

TITLE_MAX_WORDS, TITLE_MAX_CHARS = 8, 60
CODE_SPEECH = "A code example follows in the written essay; it is skipped here."
# Speech with a letter or a digit in it; anything else (")", "* * *") is not sent to an engine.
SAYABLE = re.compile(r"\w")


@dataclass
class _Unit:
    """A segment before it is numbered and merged."""

    chapter: int
    paragraph: int
    block: str  # the paragraph's kind
    display: str
    speech: str
    role: str
    pause_after: float


# --- titles -----------------------------------------------------------------

def resolve_title(document: Document) -> str:
    """Front matter title, else the file's name when it is written as a title (note apps such as
    Obsidian name a note by its title), else the first heading, else the essay's opening words."""
    if document.metadata.title:
        return document.metadata.title
    if " " in document.source.stem.strip():
        return document.source.stem.strip()
    for paragraph in document.paragraphs:
        if paragraph.kind == HEADING:
            return paragraph.text
    for paragraph in document.paragraphs:
        if paragraph.kind != CODE:
            sentences = split_sentences(paragraph.text, document.metadata.language)
            return shorten(sentences[0], TITLE_MAX_WORDS, TITLE_MAX_CHARS, ellipsis="")
    return document.source.stem


def resolve_description(document: Document, max_chars: int = 300) -> str:
    """A teaser for tags and feeds: the essay's opening sentences, up to ``max_chars``."""
    prose = [p.text for p in document.paragraphs if p.kind == TEXT][:3] or [p.text for p in document.paragraphs[:1]]
    teaser = ""
    for sentence in split_sentences(" ".join(prose), document.metadata.language):
        if teaser and len(teaser) + 1 + len(sentence) > max_chars:
            break
        teaser = f"{teaser} {sentence}".strip()
    return teaser if len(teaser) <= max_chars else shorten(teaser, max_words=60, max_chars=max_chars)


# --- segments ---------------------------------------------------------------

def _paragraph_units(paragraph: Paragraph, index: int, metadata: Metadata, max_chars: int,
                     quote_role: bool) -> list[_Unit]:
    """The segments of one paragraph, with sentence and paragraph pauses."""
    language = metadata.language or "en"
    role = QUOTE_ROLE if paragraph.kind == QUOTE and quote_role else NARRATOR
    if not paragraph.text.strip():
        paragraph.sentences = []
        return []
    if paragraph.kind == CODE:
        paragraph.sentences = []
        return [_Unit(0, index, CODE, _code_placeholder(paragraph), CODE_SPEECH, NARRATOR,
                      PAUSE_AFTER_PARAGRAPH)]
    if paragraph.kind == HEADING:
        paragraph.sentences = [paragraph.text]
    else:
        paragraph.sentences = split_sentences(paragraph.text, language)
    say = lru_cache(maxsize=None)(lambda text: speech_text(text, language))  # memoised per paragraph
    units = []
    for sentence in paragraph.sentences:
        pieces = [p.strip() for p in split_for_speech(sentence, max_chars, language, say)]
        for piece in pieces:
            speech = say(piece) if SAYABLE.search(say(piece)) else ""  # a lone ")" is nothing to say
            units.append(_Unit(0, index, paragraph.kind, piece, speech, role, PAUSE_AFTER_PHRASE))
        units[-1].pause_after = PAUSE_AFTER_SENTENCE
    units[-1].pause_after = PAUSE_AFTER_HEADING if paragraph.kind == HEADING else PAUSE_AFTER_PARAGRAPH
    return units


def _code_placeholder(paragraph: Paragraph) -> str:
    lines = len(paragraph.text.splitlines()) or 1
    language = f" ({paragraph.language})" if paragraph.language else ""
    return f"[Code example{language}, {lines} line{'s' if lines != 1 else ''}, not read aloud]"


def _merge_silent(units: list[_Unit]) -> list[_Unit]:
    """Fold units with nothing to say into a neighbour, keeping their display text."""
    merged: list[_Unit] = []
    orphans: list[str] = []  # silent display text seen before any spoken unit
    for unit in units:
        if unit.speech:
            if orphans:
                unit.display = " ".join(orphans + [unit.display])
                orphans = []
            merged.append(unit)
        elif merged:
            merged[-1].display += " " + unit.display
            merged[-1].pause_after = max(merged[-1].pause_after, unit.pause_after)
        else:
            orphans.append(unit.display)
    return merged


def plan_script(document: Document, metadata: Metadata, *, max_chars: int = 400, quote_role: bool = True,
                lexicon: Lexicon | None = None, phonemes: bool = False) -> Script:
    """Every segment to synthesize, in order, with its chapter, role and pause.

    ``lexicon`` respells (or, with ``phonemes``, transcribes) the words an
    engine says wrong, in the speech text only."""
    title = metadata.title or resolve_title(document)
    metadata = replace(metadata, title=title)
    unread = title_heading(document, title)
    units_of = [[] if index == unread else _paragraph_units(paragraph, index, metadata, max_chars, quote_role)
                for index, paragraph in enumerate(document.paragraphs)]
    if unread is not None:
        document.paragraphs[unread].sentences = []
    spoken = [sum(len(unit.speech.split()) for unit in units) for units in units_of]
    if not any(spoken):
        raise InputError(f"{document.source}: nothing to read aloud (no words, only symbols); add some prose.")
    chapters = plan_chapters(document, metadata, title, spoken, unread)
    for number, chapter in enumerate(chapters):
        for units in units_of[chapter.start:chapter.end]:
            for unit in units:
                unit.chapter = number
    units = _merge_silent([unit for units in units_of for unit in units])
    titles = [chapter.title for chapter in chapters]
    if len(metadata.chapter_titles) == len(titles):
        titles = list(metadata.chapter_titles)
    for unit, following in zip(units, units[1:] + [None]):
        if following is None or following.chapter != unit.chapter:
            unit.pause_after = PAUSE_AFTER_CHAPTER

    intro = _framing(INTRO, 0, _intro_text(title, metadata.author), PAUSE_AFTER_INTRO, metadata)
    outro = _framing(OUTRO, len(titles) - 1, _outro_text(title, metadata.author), 0.0, metadata)
    segments = [intro] + [
        Segment(index=0, chapter=u.chapter, kind=BODY, display=u.display, speech=u.speech,
                role=u.role, pause_after=u.pause_after, paragraph=u.paragraph, block=u.block)
        for u in units
    ] + [outro]
    for position, segment in enumerate(segments):
        segment.index = position
        if lexicon is not None:
            segment.speech = lexicon.apply(segment.speech, phonemes)
    if metadata.soundbite and passage_span([s.display for s in segments], metadata.soundbite) is None:
        raise InputError(f"{document.source}: front matter soundbite {metadata.soundbite!r} is not in the essay; "
                         f"quote words of it as written (the passage starts where they do)")
    return Script(metadata=metadata, chapters=titles, segments=segments)


def _framing(kind: str, chapter: int, text: str, pause: float, metadata: Metadata) -> Segment:
    return Segment(index=0, chapter=chapter, kind=kind, display=text,
                   speech=speech_text(text, metadata.language or "en"), pause_after=pause)


def _intro_text(title: str, author: str | None) -> str:
    title = title if title.endswith((".", "?", "!")) else title + "."
    return f"{title} By {author}." if author else title


def _outro_text(title: str, author: str | None) -> str:
    title = title.rstrip(TRAILING_PUNCTUATION)
    return f"That was {title}, by {author}." if author else f"That was {title}."


# --- reporting --------------------------------------------------------------

def estimate_seconds(script: Script, wpm: int) -> float:
    """Rough running time: spoken words at `wpm` plus every pause."""
    return script.words() / wpm * 60 + sum(segment.pause_after for segment in script.segments)


def format_plan(script: Script, wpm: int) -> str:
    """The script as a listener would hear it, chapter by chapter, for `audiobook plan`."""
    seconds = round(estimate_seconds(script, wpm))
    meta = script.metadata
    lines = [
        meta.title + (f" by {meta.author}" if meta.author else ""),
        f"{len(script.chapters)} chapters, {len(script.segments)} segments, {script.words()} words, "
        f"about {seconds // 60}:{seconds % 60:02d} at {wpm} words per minute",
    ]
    chapter = None
    for segment in script.segments:
        if segment.chapter != chapter:
            chapter = segment.chapter
            lines += ["", f"Chapter {chapter + 1}: {script.chapters[chapter]}"]
        lines.append(f"  {segment.index:4d}  {segment.kind:<5}  {segment.role:<8}  "
                     f"+{segment.pause_after:.2f}s  {segment.speech}")
    return "\n".join(lines)
