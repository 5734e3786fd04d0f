"""What was heard against what was written, segment by segment.

The script's words and the recogniser's are aligned as one sequence (jiwer's
Levenshtein alignment on words both normalised by ``text.hearing``), so a word
heard a little early or late still lands on its sentence; each error is then
charged to the sentence of the written word it concerns (an inserted word to
the sentence before it).
"""
from __future__ import annotations

from dataclasses import dataclass

from audiobook.audio.listen import HeardWord
from audiobook.text.hearing import heard_words


@dataclass(frozen=True)
class Heard:
    """One normalised word the recogniser heard, at its time in the episode."""

    text: str
    start: float
    end: float


@dataclass
class SegmentHearing:
    """How one segment was heard: its written words, what was heard there, and the errors."""

    expected: list[str]
    heard: list[Heard]
    errors: int = 0
    wrong: list[tuple[str, str]] | None = None  # (written, heard) pairs; "" where a word is missing or extra


def normalised(words: list[HeardWord], offset: float, language: str) -> list[Heard]:
    """Recogniser words as heard words, their times moved by ``offset`` seconds."""
    result = []
    for word in words:
        for text in heard_words(word.text, language):
            result.append(Heard(text, round(word.start + offset, 3), round(word.end + offset, 3)))
    return result


def align(expected: list[list[str]], heard: list[Heard]) -> list[SegmentHearing]:
    """Each segment's hearing, for segments whose written words are ``expected`` (in order)
    and everything heard across them."""
    import jiwer

    owner = [number for number, words in enumerate(expected) for _ in words]
    reference = [word for words in expected for word in words]
    hearings = [SegmentHearing(words, [], 0, []) for words in expected]
    if not reference:
        return hearings
    hypothesis = [word.text for word in heard]
    if not hypothesis:
        for hearing in hearings:
            hearing.errors = len(hearing.expected)
            hearing.wrong = [(word, "") for word in hearing.expected]
        return hearings
    output = jiwer.process_words(" ".join(reference), " ".join(hypothesis))
    for chunk in output.alignments[0]:
        refs = range(chunk.ref_start_idx, chunk.ref_end_idx)
        hyps = range(chunk.hyp_start_idx, chunk.hyp_end_idx)
        if chunk.type == "insert":
            segment = owner[max(chunk.ref_start_idx - 1, 0)]
            hearings[segment].heard.extend(heard[index] for index in hyps)
            hearings[segment].errors += len(hyps)
            hearings[segment].wrong.extend(("", heard[index].text) for index in hyps)
            continue
        for position, ref_index in enumerate(refs):
            hearing = hearings[owner[ref_index]]
            if chunk.type == "delete":
                hearing.errors += 1
                hearing.wrong.append((reference[ref_index], ""))
                continue
            hyp_index = chunk.hyp_start_idx + position
            hearing.heard.append(heard[hyp_index])
            if chunk.type == "substitute":
                hearing.errors += 1
                hearing.wrong.append((reference[ref_index], heard[hyp_index].text))
    return hearings


def error_rate(errors: int, words: int) -> float:
    """Word error rate; 0 for no words (nothing to get wrong), rounded for reports."""
    return round(errors / words, 4) if words else 0.0
