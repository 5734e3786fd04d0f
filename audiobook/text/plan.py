"""Stage "plan": Document -> Script, every word and pause decided before any audio.

A segment is one sentence (or a piece of a very long one), so a transcript cue
is a sentence and a cache entry survives edits elsewhere.

Chapters are what a listener navigates by, so every one is worth jumping to:
- Each heading starts a chapter, at any depth, so a book keeps all of them.
  An essay without headings is cut into even chapters (3 to 8, about
  WORDS_PER_CHAPTER words each) at paragraph boundaries, titled by their
  opening words; front matter's ``chapters`` list names them when it has
  exactly as many titles as there are chapters, with or without headings.
- Text before the first heading is an opening chapter titled with the essay's
  title, or "Introduction" when the first heading is that title.
- A first heading that only repeats the title (same words, ignoring case and
  punctuation) before anything else is said is not read: the intro has just
  said the title. The text under it is the opening chapter.
- A heading followed at once by a subheading is one chapter with both: "Part
  one: The crossing". So is any chapter of fewer than MIN_CHAPTER_WORDS spoken
  words (under about four seconds), joined to the next one (the last one to
  the one before, keeping that one's title).
- Two chapters in a row with the same title are one chapter.
- An essay long enough for three chapters (MIN_CHAPTERS times
  MIN_WORDS_PER_ADDED_CHAPTER spoken words) but with fewer sections gets its
  longest ones cut at paragraphs into three, the new ones titled by their
  opening words: Apple Podcasts shows chapters only from three.

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
from audiobook.text.lexicon import Lexicon
from audiobook.text.normalize import speech_text
from audiobook.text.sentences import TRAILING_PUNCTUATION, shorten, split_for_speech, split_sentences

# Seconds of silence after a segment: piece of a sentence < sentence < paragraph < chapter.
PAUSE_AFTER_PHRASE = 0.15
PAUSE_AFTER_SENTENCE = 0.35
PAUSE_AFTER_PARAGRAPH = 0.7
PAUSE_AFTER_HEADING = 0.8
PAUSE_AFTER_CHAPTER = 1.5
PAUSE_AFTER_INTRO = 1.0

# Chapters for an essay without headings.
WORDS_PER_CHAPTER = 325
MIN_CHAPTERS, MAX_CHAPTERS = 3, 8
# Chapters from headings: shorter ones join a neighbour; fewer than three get more when long enough.
MIN_CHAPTER_WORDS = 12
MIN_WORDS_PER_ADDED_CHAPTER = 150
OPENING_TITLE = "Introduction"
JOINED_TITLE_MAX_CHARS = 100

TITLE_MAX_WORDS, TITLE_MAX_CHARS = 8, 60
CHAPTER_TITLE_WORDS = 6

CODE_SPEECH = "A code example follows in the written essay; it is skipped here."


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


# --- chapters ---------------------------------------------------------------

@dataclass
class _Chapter:
    """Paragraphs ``start`` up to ``end`` (exclusive), heard as one chapter."""

    start: int
    end: int
    title: str
    headed: bool  # opens at one of the essay's headings (not at its opening, nor at a split)
    words: int  # spoken words


def _chapters(document: Document, metadata: Metadata, title: str, spoken: list[int],
              unread: int | None) -> list[_Chapter]:
    """The essay's chapters, by the rules in the module docstring; ``spoken`` counts
    each paragraph's spoken words and ``unread`` is the heading that repeats the title."""
    paragraphs = document.paragraphs
    headings = {i for i, p in enumerate(paragraphs) if p.kind == HEADING and i != unread}
    bounds = sorted({0, *headings, len(paragraphs)})
    chapters = [_Chapter(start, end, paragraphs[start].text, start in headings, sum(spoken[start:end]))
                for start, end in zip(bounds, bounds[1:])]
    if not headings:
        chapters[0].title = ""  # every part is titled by its opening words
        if metadata.chapter_titles:
            count = len(metadata.chapter_titles)
        else:
            count = min(max(round(sum(spoken) / WORDS_PER_CHAPTER), MIN_CHAPTERS), MAX_CHAPTERS)
        return _split(chapters, count, paragraphs, spoken)
    if not chapters[0].headed:
        first_heading = paragraphs[unread if unread is not None else min(headings)].text
        chapters[0].title = OPENING_TITLE if _same_words(first_heading, title) else title
    chapters = _merge_repeated(_merge_short(chapters))
    if len(chapters) < MIN_CHAPTERS and sum(spoken) >= MIN_CHAPTERS * MIN_WORDS_PER_ADDED_CHAPTER:
        chapters = _split(chapters, MIN_CHAPTERS, paragraphs, spoken)
    return chapters


def _title_heading(document: Document, title: str) -> int | None:
    """The heading that only repeats the essay's title before anything is said, if there is one:
    the intro has just said the title, so it is not read again."""
    for index, paragraph in enumerate(document.paragraphs):
        if paragraph.kind == HEADING:
            return index if _same_words(paragraph.text, title) else None
        if paragraph.kind == CODE or _WORD.search(paragraph.text):
            return None
    return None


_WORD = re.compile(r"\w+")


def _same_words(one: str, other: str) -> bool:
    """Equal but for case, punctuation and spacing ("The Ear, Forgiving" = "the ear forgiving")."""
    return _WORD.findall(one.casefold()) == _WORD.findall(other.casefold())


def _merge_short(chapters: list[_Chapter]) -> list[_Chapter]:
    """Fold each chapter too short to navigate to (a heading followed at once by a
    subheading, or fewer than MIN_CHAPTER_WORDS) into the next one; the last into the one before."""
    kept: list[_Chapter] = []
    waiting: _Chapter | None = None
    for chapter in chapters:
        if waiting is not None:
            title = _joined_title(waiting.title, chapter.title) if waiting.headed else chapter.title
            chapter = _Chapter(waiting.start, chapter.end, title, waiting.headed or chapter.headed,
                               waiting.words + chapter.words)
            waiting = None
        if chapter.words < MIN_CHAPTER_WORDS or (chapter.headed and chapter.end - chapter.start == 1):
            waiting = chapter
        else:
            kept.append(chapter)
    if waiting is not None:
        if kept:
            kept[-1] = replace(kept[-1], end=waiting.end, words=kept[-1].words + waiting.words)
        else:
            kept.append(waiting)
    return kept


def _joined_title(heading: str, subheading: str) -> str:
    """ "Part one: The crossing", as a book's contents would print a heading and its first subheading."""
    heading = heading.rstrip(":;, ")
    joined = f"{heading} {subheading}" if heading.endswith((".", "?", "!", "\u2026")) else f"{heading}: {subheading}"
    return joined if len(joined) <= JOINED_TITLE_MAX_CHARS else shorten(joined, len(joined), JOINED_TITLE_MAX_CHARS)


def _merge_repeated(chapters: list[_Chapter]) -> list[_Chapter]:
    """A chapter titled as the one before it continues that one: a listener would see one title twice."""
    kept = chapters[:1]
    for chapter in chapters[1:]:
        if _same_words(chapter.title, kept[-1].title):
            kept[-1] = replace(kept[-1], end=chapter.end, words=kept[-1].words + chapter.words)
        else:
            kept.append(chapter)
    return kept


def _split(chapters: list[_Chapter], count: int, paragraphs: list[Paragraph], spoken: list[int]) -> list[_Chapter]:
    """Up to ``count`` chapters: the longest ones cut at paragraph boundaries into parts of
    near-equal words, each new part titled by its opening words."""
    parts = [1] * len(chapters)
    for _ in range(count - len(chapters)):
        longest = max(range(len(chapters)), key=lambda i: chapters[i].words / parts[i])
        parts[longest] += 1
    result = []
    for chapter, part_count in zip(chapters, parts):
        cuts = _cut_points(chapter, paragraphs, spoken)
        starts = balanced_starts(spoken[chapter.start:chapter.end], part_count,
                                 [cut - chapter.start for cut in cuts])
        bounds = [chapter.start + start for start in starts] + [chapter.end]
        for start, end in zip(bounds, bounds[1:]):
            title = chapter.title if start == chapter.start else _opening_words(paragraphs[start])
            result.append(_Chapter(start, end, title, chapter.headed and start == chapter.start,
                                   sum(spoken[start:end])))
    for chapter in result:
        if not chapter.title:
            opening = next((i for i in range(chapter.start, chapter.end) if spoken[i]), chapter.start)
            chapter.title = _opening_words(paragraphs[opening])
    return result


def _cut_points(chapter: _Chapter, paragraphs: list[Paragraph], spoken: list[int]) -> list[int]:
    """Where a chapter may be cut: before a paragraph of prose, once some prose has been said
    (a heading alone is no chapter). Never before code or a list item, whose opening words
    would make an odd title."""
    cuts, said = [], False
    for index in range(chapter.start, chapter.end):
        if said and spoken[index] and paragraphs[index].kind in (TEXT, QUOTE):
            cuts.append(index)
        said = said or (spoken[index] > 0 and paragraphs[index].kind != HEADING)
    return cuts


def balanced_starts(word_counts: list[int], count: int, candidates: list[int] | None = None) -> list[int]:
    """Split paragraphs into up to `count` runs of near-equal words; the start of each run.

    The first run starts at 0, the others at one of ``candidates`` (default: any
    paragraph). Greedy: the k-th cut goes at the candidate closest to k/count
    of the words, leaving a candidate for every later cut.
    """
    cuts = [c for c in (range(1, len(word_counts)) if candidates is None else candidates) if c > 0]
    count = min(count, len(cuts) + 1)
    total = sum(word_counts)
    before = [0]
    for words in word_counts:
        before.append(before[-1] + words)
    starts = [0]
    for k in range(1, count):
        later = [c for c in cuts if c > starts[-1]]
        usable = later[:len(later) - (count - k - 1)]
        target = total * k / count
        starts.append(min(usable, key=lambda i: abs(before[i] - target)))
    return starts


def _opening_words(paragraph: Paragraph) -> str:
    first = paragraph.sentences[0] if paragraph.sentences else paragraph.text
    return shorten(first, CHAPTER_TITLE_WORDS)


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
            units.append(_Unit(0, index, paragraph.kind, piece, say(piece), role, PAUSE_AFTER_PHRASE))
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
    unread = _title_heading(document, title)
    units_of = [[] if index == unread else _paragraph_units(paragraph, index, metadata, max_chars, quote_role)
                for index, paragraph in enumerate(document.paragraphs)]
    if unread is not None:
        document.paragraphs[unread].sentences = []
    spoken = [sum(len(unit.speech.split()) for unit in units) for units in units_of]
    if not any(spoken):
        raise InputError(f"{document.source}: nothing to read aloud (no words, only symbols); add some prose.")
    chapters = _chapters(document, metadata, title, spoken, unread)
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
