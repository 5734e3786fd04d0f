"""Stage "mix": clips, pauses and loudness into one PCM program, streamed.

The program is written while synthesis is still going on: each clip is
levelled on its own (its gain brings its loudness, known from the energy
profile made when it was synthesized, to a reference level) and capped so
its true peak stays under the ceiling; pauses come from the script. Nothing
but the current clip is in memory.

Afterwards ``plan_timeline`` lays out the same positions sample-exactly (the
one source of truth for chapter marks, cues and durations) and
``program_loudness`` measures the whole program from the clips' profiles. If
levelling missed the target by more than ``TOLERANCE`` (it lands within about
0.15 LU on speech), ``master`` writes the program once more with the gains
from ``corrected_gains``.

Music beds (beds.py) are mixed in as the program streams. With an intro bed
the first word comes after a musical lead-in instead of LEAD_IN's breath,
and with an outro bed the program runs on past the last word; both are laid
out here, so every span of the timeline moves with the speech.
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass, replace
from typing import BinaryIO, Callable, Iterable

import numpy as np

from audiobook.audio.beds import NO_BEDS, Beds, BedTrack
from audiobook.audio.cache import DamagedClip, read_checked, to_float
from audiobook.errors import OutputError
from audiobook.audio.loudness import (PEAK_CEILING, PROFILE_BIN, SAMPLE_RATE, TARGET_LUFS, LoudnessMap, clip_loudness,
                                      lufs)
from audiobook.audio.memory import release_free_memory
from audiobook.models import Clip, Script, Span, Timeline
from audiobook.text.wordmap import word_starts

# LAME's psychoacoustic model drops a little energy that K-weighting counts:
# the seed essay's program measures 0.4 LU quieter after encoding (ffmpeg
# ebur128 on the PCM: -16.0, on the MP3 at 96 or 128 kbit/s, any -q: -16.4).
ENCODER_LOSS = 0.4
# A program of clips each levelled to L measures about L - 0.13 (the blocks
# that straddle a pause); aiming the clips this much higher lands on target.
PROGRAM_OFFSET = 0.13
TOLERANCE = 0.5  # LU off target before the program is written again
# Steps of corrected_gains, each measured on the loudness map, before the program is written
# again: a music bed keeps its level, so in a short episode one step falls short (10 s of speech
# under a 3 s lead-in: -16.6 LUFS after one, -16.4 after three, where the clips' peaks stop it).
CORRECTIONS = 3
LEAD_IN = 0.3  # seconds of silence before the first word
TAIL = 1.0  # seconds of silence after the last word
CHAPTER_LEAD = 0.4  # a chapter mark sits this long before its first word
SILENCE_CHUNK = SAMPLE_RATE  # zeros are written a second at a time
TRIM_EVERY = 64  # clips written between handing freed heap back (a book's mix stays flat)

GainOf = Callable[[int, Clip], float]
# Runs an encoder and hands it the function that streams the program into it (encode.encode_mp3).
Output = Callable[[Callable[[BinaryIO], None]], None]


@dataclass
class Mix:
    timeline: Timeline
    loudness: float  # integrated LUFS (dual mono) expected of the MP3


def _samples(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE))


def plan_timeline(script: Script, clips: list[Clip], beds: Beds = NO_BEDS) -> Timeline:
    """Sample-exact positions of every segment, its words, and every chapter."""
    position = _samples(beds.lead_in or LEAD_IN)
    segments = []
    for segment, clip in zip(script.segments, clips):
        said = tuple(zip(clip.words[::2], clip.words[1::2])) if isinstance(clip.words, array) else clip.words
        words = array("q", (position + start for start in word_starts(segment.display, segment.speech, said)))
        segments.append(Span(position, position + clip.samples, text=segment.display, words=words))
        position += clip.samples + _samples(segment.pause_after)
    total = position + _samples(beds.tail or TAIL)

    starts = [0]
    for previous, (segment, span) in enumerate(zip(script.segments[1:], segments[1:])):
        if segment.chapter != script.segments[previous].chapter:
            gap_start = segments[previous].end
            starts.append(max(span.start - _samples(CHAPTER_LEAD), (gap_start + span.start) // 2))
    ends = starts[1:] + [total]
    chapters = [Span(s, e, title=t) for s, e, t in zip(starts, ends, script.chapters)]
    return Timeline(SAMPLE_RATE, total, segments, chapters)


def levelled_gain(index: int, clip: Clip) -> float:
    """The gain that brings a clip to the reference level, capped by its true peak."""
    profile = np.asarray(clip.profile)
    level = clip_loudness(profile)
    if not np.isfinite(level):  # shorter than one 400 ms block: plain mean energy
        level = float(lufs(profile.sum() / max(profile.size * PROFILE_BIN, 1)))
    reference = TARGET_LUFS + ENCODER_LOSS + PROGRAM_OFFSET
    gain = 10 ** ((reference - level) / 20) if np.isfinite(level) else 1.0
    return float(min(gain, PEAK_CEILING / max(clip.peak, 1e-9)))


def program_loudness(timeline: Timeline, gains: list[float], meter: LoudnessMap) -> float:
    """Integrated loudness (LUFS, dual mono) the MP3 of this program will measure,
    from the ``meter`` that write_program filled."""
    meter.extend_to(timeline.total)
    return meter.integrated(gains) - ENCODER_LOSS


def corrected_gains(clips: list[Clip], gains: list[float], measured: float) -> list[float]:
    """Gains moved by the miss, still capped by each clip's true peak."""
    step = 10 ** ((TARGET_LUFS - measured) / 20)
    return [float(min(g * step, PEAK_CEILING / max(c.peak, 1e-9))) for g, c in zip(gains, clips)]


def write_silence(sink: BinaryIO, samples: int) -> None:
    zeros = np.zeros(min(samples, SILENCE_CHUNK), dtype="<f4").tobytes()
    while samples > 0:
        count = min(samples, SILENCE_CHUNK)
        sink.write(zeros[: count * 4])
        samples -= count


def _packed(words) -> array:
    """Word starts as one array of offset, sample, offset, sample... (packed already, as they are)."""
    return words if isinstance(words, array) else array("q", (value for word in words for value in word))


def _read_again(clip: Clip) -> np.ndarray:
    """A clip's samples for the second pass, from the cache, checked like the first time."""
    try:
        return read_checked(clip.path, clip.samples, clip.crc32)
    except DamagedClip as damage:
        raise OutputError(f"cached clip {clip.path} changed while the episode was being written ({damage}); "
                          f"build again") from None


def write_program(script: Script, clips: Iterable[Clip], gain_of: GainOf, sink: BinaryIO,
                  progress: Callable[[int, int], None] | None = None,
                  meter: LoudnessMap | None = None, beds: Beds = NO_BEDS) -> tuple[list[Clip], list[float]]:
    """Stream the program as 32-bit float little-endian mono PCM, in the layout
    ``plan_timeline`` describes, ``beds`` mixed in; return the clips and the gains used.

    The returned clips keep no samples (a second pass reads them from the
    cache again), and with a ``meter``, which gets each clip's loudness
    profile as the clip is written, no profile: a book's profiles add up."""
    written, gains = [], []
    report = progress or (lambda done, total: None)
    track = BedTrack(sink, script, beds, meter)
    position = _samples(beds.lead_in or LEAD_IN)
    write_silence(track, position)
    for segment, clip in zip(script.segments, clips):
        gain = gain_of(segment.index, clip)
        samples = to_float(clip.pcm if clip.pcm is not None else _read_again(clip))
        samples *= np.float32(gain)  # in place, and written without a copy: a book's mix stays flat
        track.speech(segment, position, position + clip.samples)
        track.write(samples.astype("<f4", copy=False).data)
        write_silence(track, _samples(segment.pause_after))
        # A book's clips stay listed until the timeline is laid out: their word starts packed
        # (8 bytes a word where a tuple of two ints takes about 100).
        clip = replace(clip, pcm=None, words=_packed(clip.words))
        if meter is not None:
            meter.add(segment.index, position, clip.profile)
            clip = replace(clip, profile=None)
        position += clip.samples + _samples(segment.pause_after)
        written.append(clip)
        gains.append(gain)
        report(len(written), len(script.segments))
        if len(written) % TRIM_EVERY == 0:
            release_free_memory()
    write_silence(track, _samples(beds.tail or TAIL))
    track.close()
    return written, gains


def master(script: Script, clips: Iterable[Clip], output: Output,
           progress: Callable[[int, int], None] | None = None,
           speech_done: Callable[[], None] | None = None, beds: Beds = NO_BEDS) -> Mix:
    """Level the clips into one program, ``beds`` under its opening and closing, and
    write it through ``output`` while synthesis goes on; write it once more in the
    rare case levelling missed the loudness target by more than the tolerance.

    Progress counts the segments that reached the encoder, so it covers
    synthesis and encoding; ``speech_done`` is called once every clip is in,
    before the whole program is measured (local workers' memory goes first).
    """
    streamed, meter = {}, LoudnessMap()

    def first_pass(sink: BinaryIO) -> None:
        streamed["clips"], streamed["gains"] = write_program(script, clips, levelled_gain, sink, progress, meter,
                                                             beds)

    output(first_pass)
    if speech_done:
        speech_done()
    written, gains = streamed["clips"], streamed["gains"]
    timeline = plan_timeline(script, written, beds)
    loudness = program_loudness(timeline, gains, meter)
    if abs(loudness - TARGET_LUFS) > TOLERANCE:
        for _ in range(CORRECTIONS):
            gains = corrected_gains(written, gains, loudness)
            loudness = program_loudness(timeline, gains, meter)
        output(lambda sink: write_program(script, written, lambda index, clip: gains[index], sink, beds=beds))
    return Mix(timeline, loudness)
