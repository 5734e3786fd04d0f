"""Chapters are what a listener navigates by, so every one is worth jumping to.

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
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from audiobook.models import CODE, HEADING, QUOTE, TEXT, Document, Metadata, Paragraph
from audiobook.text.sentences import shorten

# Chapters for an essay without headings.
WORDS_PER_CHAPTER = 325
MIN_CHAPTERS, MAX_CHAPTERS = 3, 8
# Chapters from headings: shorter ones join a neighbour; fewer than three get more when long enough.
MIN_CHAPTER_WORDS = 12
MIN_WORDS_PER_ADDED_CHAPTER = 150
OPENING_TITLE = "Introduction"
JOINED_TITLE_MAX_CHARS = 100

CHAPTER_TITLE_WORDS = 6


@dataclass
class ChapterSpan:
    """Paragraphs ``start`` up to ``end`` (exclusive), heard as one chapter."""

    start: int
    end: int
    title: str
    headed: bool  # opens at one of the essay's headings (not at its opening, nor at a split)
    words: int  # spoken words


def plan_chapters(document: Document, metadata: Metadata, title: str, spoken: list[int],
              unread: int | None) -> list[ChapterSpan]:
    """The essay's chapters, by the rules in the module docstring; ``spoken`` counts
    each paragraph's spoken words and ``unread`` is the heading that repeats the title."""
    paragraphs = document.paragraphs
    headings = {i for i, p in enumerate(paragraphs) if p.kind == HEADING and i != unread}
    bounds = sorted({0, *headings, len(paragraphs)})
    chapters = [ChapterSpan(start, end, paragraphs[start].text, start in headings, sum(spoken[start:end]))
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


def title_heading(document: Document, title: str) -> int | None:
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


def _merge_short(chapters: list[ChapterSpan]) -> list[ChapterSpan]:
    """Fold each chapter too short to navigate to (a heading followed at once by a
    subheading, or fewer than MIN_CHAPTER_WORDS) into the next one; the last into the one before."""
    kept: list[ChapterSpan] = []
    waiting: ChapterSpan | None = None
    for chapter in chapters:
        if waiting is not None:
            title = _joined_title(waiting.title, chapter.title) if waiting.headed else chapter.title
            chapter = ChapterSpan(waiting.start, chapter.end, title, waiting.headed or chapter.headed,
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


def _merge_repeated(chapters: list[ChapterSpan]) -> list[ChapterSpan]:
    """A chapter titled as the one before it continues that one: a listener would see one title twice."""
    kept = chapters[:1]
    for chapter in chapters[1:]:
        if _same_words(chapter.title, kept[-1].title):
            kept[-1] = replace(kept[-1], end=chapter.end, words=kept[-1].words + chapter.words)
        else:
            kept.append(chapter)
    return kept


def _split(chapters: list[ChapterSpan], count: int, paragraphs: list[Paragraph], spoken: list[int]) -> list[ChapterSpan]:
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
            result.append(ChapterSpan(start, end, title, chapter.headed and start == chapter.start,
                                   sum(spoken[start:end])))
    for chapter in result:
        if not chapter.title:
            opening = next((i for i in range(chapter.start, chapter.end) if spoken[i]), chapter.start)
            chapter.title = _opening_words(paragraphs[opening])
    return result


def _cut_points(chapter: ChapterSpan, paragraphs: list[Paragraph], spoken: list[int]) -> list[int]:
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
