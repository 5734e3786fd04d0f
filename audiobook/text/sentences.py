"""Sentences, and pieces of sentences short enough to speak as one clip.

pysbd finds sentence ends; a sentence longer than a clip may be is cut at the
strongest break that makes it fit (sentence ends pysbd kept together, then
; and :, then commas and dashes, then spaces). Pieces always join back to
exactly the text they came from: no character is lost or changed.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

import pysbd
from pysbd.languages import LANGUAGE_CODES

from audiobook.text.normalize import speech_text

# pysbd's regexes slow down on huge inputs; longer paragraphs go in slices.
PYSBD_SLICE_CHARS = 5000

# Where an over-long sentence may be cut, strongest first; a cut goes after the match.
SPLIT_POINTS = [
    re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+"),  # sentences pysbd kept together, e.g. inside quotes
    re.compile(r"[;:]\s+"),
    re.compile(r",\s+|\s*[\u2014\u2013]\s*|\s+--?\s+"),
    re.compile(r"\s+"),
]

TRAILING_PUNCTUATION = ".,;:!?\u2026\u2014\u2013-\"'\u201c\u201d\u2018\u2019([{"


def shorten(text: str, max_words: int, max_chars: int = 10_000, ellipsis: str = "\u2026") -> str:
    """The first words of `text`, cut at a word boundary, without trailing punctuation."""
    words = text.split()
    kept = words[:max_words]
    while len(kept) > 1 and len(" ".join(kept)) > max_chars:
        kept.pop()
    short = " ".join(kept).rstrip(TRAILING_PUNCTUATION)
    if len(short) > max_chars:  # one enormous word
        short = short[:max_chars]
    return short + ellipsis if len(kept) < len(words) else short


@lru_cache(maxsize=None)
def _segmenter(language: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language, clean=False)


def _pysbd_language(language: str | None) -> str:
    primary = (language or "en").split("-")[0].split("_")[0].lower()
    return primary if primary in LANGUAGE_CODES else "en"


def _slices(text: str, size: int) -> list[str]:
    """`text` in slices of about `size` chars, cut after whitespace, joining back exactly."""
    slices = []
    while len(text) > size:
        cut = max(text.rfind(". ", 0, size) + 2, text.rfind(" ", 0, size) + 1)
        cut = cut if cut > size // 2 else size
        slices.append(text[:cut])
        text = text[cut:]
    return slices + [text]


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Sentences of a paragraph as written (stripped), never dropping a character."""
    segmenter = _segmenter(_pysbd_language(language))
    sentences = [s.strip() for part in _slices(text, PYSBD_SLICE_CHARS) for s in segmenter.segment(part)]
    sentences = [s for s in sentences if s]
    if _without_spaces("".join(sentences)) != _without_spaces(text):
        return [text.strip()]  # pysbd altered the text; a whole paragraph is better than a lost word
    return sentences


def _without_spaces(text: str) -> str:
    return re.sub(r"\s+", "", text)


def split_for_speech(display: str, max_chars: int, language: str = "en",
                     say: Callable[[str], str] | None = None) -> list[str]:
    """Cut `display` into pieces whose display and speech fit in max_chars.

    Pieces join back to exactly `display`. Cuts go after sentence ends, then
    ; and :, then commas and dashes, then spaces, and only as a last resort
    mid-word. ``say`` gives a piece's speech text (by default speech_text in
    ``language``); a caller that needs the speech of the pieces too passes a
    memoised one, so no piece is normalised twice.
    """
    say = say or (lambda piece: speech_text(piece, language))

    def fits(piece: str) -> bool:
        return len(piece) <= max_chars and len(say(piece)) <= max_chars

    def pieces(text: str, level: int) -> list[str]:
        if fits(text):
            return [text]
        if level == len(SPLIT_POINTS):
            return hard_cut(text)
        parts = _cut_after(text, SPLIT_POINTS[level])
        return pieces(text, level + 1) if len(parts) == 1 else pack(parts, level)

    def pack(parts: list[str], level: int) -> list[str]:
        """Join neighbouring parts up to max_chars of display, checking speech once per group."""
        joined = "".join(parts)
        if fits(joined):
            return [joined]
        if len(parts) == 1:
            return pieces(joined, level + 1)
        groups = _group_by_length(parts, max_chars)
        if len(groups) == 1:  # short to read, long to say (numbers): halve
            groups = [parts[: len(parts) // 2], parts[len(parts) // 2:]]
        return [piece for group in groups for piece in pack(group, level)]

    def hard_cut(text: str) -> list[str]:
        """Every max_chars characters; halves again where digits say more than they show."""
        if fits(text) or len(text) == 1:
            return [text]
        step = max_chars if len(text) > max_chars else (len(text) + 1) // 2
        return [piece for start in range(0, len(text), step) for piece in hard_cut(text[start:start + step])]

    return pieces(display, 0)


def _group_by_length(parts: list[str], max_chars: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    length = 0
    for part in parts:
        if groups[-1] and length + len(part) > max_chars:
            groups.append([])
            length = 0
        groups[-1].append(part)
        length += len(part)
    return groups


def _cut_after(text: str, pattern: re.Pattern[str]) -> list[str]:
    cuts = [match.end() for match in pattern.finditer(text) if 0 < match.end() < len(text)]
    return [text[start:end] for start, end in zip([0] + cuts, cuts + [len(text)])]
