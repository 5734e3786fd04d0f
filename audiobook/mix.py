"""Stage "mix": lay the clips out in time, set loudness, stream one PCM program.

Everything is planned before a sample is written: ``plan_timeline`` fixes
where each segment and chapter lies (in samples, the one source of truth for
chapter marks, cues and durations); ``choose_gains`` picks one gain per clip
so the program measures -16 LUFS (dual mono, as ffmpeg's ebur128 does for a
mono file) while no clip's true peak goes above the ceiling; ``write_program``
then streams the clips, scaled, with the pauses between them, to a binary
sink (the MP3 encoder's stdin). Memory holds one clip at a time.

Each clip was already limited to a steady peak-to-loudness ratio when it was
synthesized (speak.py), so one common gain fits nearly every clip; the few
louder ones are turned down as a whole rather than limited again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from audiobook.cache import read_clip
from audiobook.loudness import LoudnessMap
from audiobook.models import Clip, Script, Span, Timeline

SAMPLE_RATE = 44100
TARGET_LUFS = -16.0
# LAME's psychoacoustic model drops a little energy that K-weighting counts:
# the seed essay's program measures 0.4 LU quieter after encoding (ffmpeg
# ebur128 on the PCM: -16.0, on the MP3 at 96 or 128 kbit/s, any -q: -16.4).
ENCODER_LOSS = 0.4
# MP3 encoding adds overshoot; -2 dBTP before encoding lands at or below -1 after.
PEAK_CEILING = 10 ** (-2.0 / 20)
LEAD_IN = 0.3  # seconds of silence before the first word
TAIL = 1.0  # seconds of silence after the last word
CHAPTER_LEAD = 0.4  # a chapter mark sits this long before its first word
SILENCE_CHUNK = SAMPLE_RATE  # zeros are written a second at a time


@dataclass
class Mix:
    timeline: Timeline
    gains: list[float]
    loudness: float  # integrated LUFS (dual mono) expected of the MP3


def _samples(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE))


def plan_timeline(script: Script, clips: list[Clip]) -> Timeline:
    """Sample-exact positions of every segment and every chapter."""
    position = _samples(LEAD_IN)
    segments = []
    for segment, clip in zip(script.segments, clips):
        segments.append(Span(position, position + clip.samples, text=segment.display))
        position += clip.samples + _samples(segment.pause_after)
    total = position + _samples(TAIL)

    starts = [0]
    for previous, (segment, span) in enumerate(zip(script.segments[1:], segments[1:])):
        if segment.chapter != script.segments[previous].chapter:
            gap_start = segments[previous].end
            starts.append(max(span.start - _samples(CHAPTER_LEAD), (gap_start + span.start) // 2))
    ends = starts[1:] + [total]
    chapters = [Span(s, e, title=t) for s, e, t in zip(starts, ends, script.chapters)]
    return Timeline(SAMPLE_RATE, total, segments, chapters)


def _pieces(timeline: Timeline, clips: list[Clip]):
    """(clip index, samples of audio, samples of silence after) in program order."""
    for index, span in enumerate(timeline.segments):
        following = timeline.segments[index + 1].start if index + 1 < len(clips) else timeline.total
        yield index, read_clip(clips[index].path), following - span.end


def choose_gains(timeline: Timeline, clips: list[Clip]) -> tuple[list[float], float]:
    """One linear gain per clip: loudness on target, every clip under the ceiling."""
    meter = LoudnessMap()
    for index, (span, clip) in enumerate(zip(timeline.segments, clips)):
        meter.add(index, span.start, clip.profile)
    meter.extend_to(timeline.total)
    peaks = np.array([max(c.peak, 1e-9) for c in clips])
    caps = PEAK_CEILING / peaks

    def loudness_at(gain: float) -> float:
        return meter.integrated(np.minimum(gain, caps))

    # Loudness grows with the common gain; bisect on decibels.
    low, high = -60.0, 60.0
    for _ in range(50):
        middle = (low + high) / 2
        if loudness_at(10 ** (middle / 20)) < TARGET_LUFS + ENCODER_LOSS:
            low = middle
        else:
            high = middle
    gains = np.minimum(10 ** (low / 20), caps)
    return [float(g) for g in gains], loudness_at(10 ** (low / 20)) - ENCODER_LOSS


def mix(script: Script, clips: list[Clip]) -> Mix:
    timeline = plan_timeline(script, clips)
    gains, loudness = choose_gains(timeline, clips)
    return Mix(timeline, gains, loudness)


def write_silence(sink: BinaryIO, samples: int) -> None:
    zeros = np.zeros(min(samples, SILENCE_CHUNK), dtype="<f4").tobytes()
    while samples > 0:
        count = min(samples, SILENCE_CHUNK)
        sink.write(zeros[: count * 4])
        samples -= count


def write_program(planned: Mix, clips: list[Clip], sink: BinaryIO) -> None:
    """Stream the whole program as 32-bit float little-endian mono PCM."""
    timeline = planned.timeline
    write_silence(sink, timeline.segments[0].start if timeline.segments else timeline.total)
    for index, audio, silence in _pieces(timeline, clips):
        sink.write((audio * planned.gains[index]).astype("<f4").tobytes())
        write_silence(sink, silence)
