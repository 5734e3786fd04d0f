"""Which written word is said when: the engine tells where the words of the
speech text start; the transcript shows the display text.

The two differ where normalisation and the lexicon rewrote the text
("In 1998, Dr. Nyong'o" is said "In nineteen ninety-eight, Doctor
nee-yong-go"), so both are brought to heard words (``text.hearing``) and
matched in order; a written word takes the time of the first spoken word it
matched, and one that matched nothing (a respelled name) the time of the
spoken word where its neighbours put it.
"""
from __future__ import annotations

import difflib
import functools
import re

from audiobook.text.hearing import heard_words

SPOKEN_TOKEN = re.compile(r"\[\[.*?\]\]|\S+")  # a word of the speech text, or a lexicon entry's phonemes
DISPLAY_WORD = re.compile(r"\S+")  # the same words as str.split()


@functools.lru_cache(maxsize=1 << 13)  # common words; a few MB at most
def _token_words(token: str) -> tuple[str, ...]:
    """One token as heard words: a book says the same tokens again and again."""
    return tuple(heard_words(token))


def display_words(display: str) -> list[re.Match[str]]:
    """The words of a transcript cue, where the VTT and the page time them one by one."""
    return list(DISPLAY_WORD.finditer(display))


def _spoken_starts(speech: str, words: tuple[tuple[int, int], ...]) -> list[tuple[list[str], int | None]]:
    """Each token of the speech text, as heard words, with the sample the engine
    said it starts at (the first word event inside it), or None."""
    timed, index, tokens = sorted(words), 0, []
    for match in SPOKEN_TOKEN.finditer(speech):
        while index < len(timed) and timed[index][0] < match.start():
            index += 1
        start = timed[index][1] if index < len(timed) and timed[index][0] < match.end() else None
        heard = [] if match.group().startswith("[[") else list(_token_words(match.group()))
        tokens.append((heard or ["\0phonemes"], start))
    return tokens


def word_starts(display: str, speech: str, words: tuple[tuple[int, int], ...]) -> list[int]:
    """The first sample of each of ``display_words(display)``, non-decreasing; empty
    when the engine told nothing about its words."""
    shown = [word.group() for word in display_words(display)]
    if not words or not shown:
        return []
    spoken = _spoken_starts(speech, words)
    said = [(word, start) for heard, start in spoken for word in heard]
    written = [(word, number) for number, token in enumerate(shown) for word in _token_words(token)]
    starts: list[int | None] = [None] * len(shown)
    matcher = difflib.SequenceMatcher(None, [word for word, _ in written], [word for word, _ in said], autojunk=False)
    for block in matcher.get_matching_blocks():
        for step in range(block.size):
            number = written[block.a + step][1]
            if starts[number] is None:
                starts[number] = said[block.b + step][1]
    return _filled(starts, min(start for _, start in words), max(start for _, start in words))


def _filled(starts: list[int | None], first: int, last: int) -> list[int]:
    """Gaps filled from the neighbours (evenly between the known times around them), non-decreasing."""
    known = [(number, start) for number, start in enumerate(starts) if start is not None]
    known = [(-1, first)] + known if not known or known[0][0] != 0 else known
    known += [(len(starts), last)]
    filled = list(starts)
    for (a, start_a), (b, start_b) in zip(known, known[1:]):
        for number in range(max(a, 0), min(b, len(starts))):
            if filled[number] is None:
                filled[number] = start_a + (start_b - start_a) * (number - a) // (b - a)
    result, floor = [], first
    for start in filled:
        floor = max(floor, start)
        result.append(floor)
    return result
