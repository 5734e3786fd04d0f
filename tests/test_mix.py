"""mix and loudness: the timeline's layout, and loudness from clip profiles against pyloudnorm.

pyloudnorm measures the whole assembled program in one array (the way
audiobook avoids doing); fed the same signal on two channels it applies
BS.1770's dual-mono weighting, as ffmpeg's ebur128 dualmono=true does.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from audiobook.errors import OutputError

from audiobook.audio.cache import ClipCache
from audiobook.audio.loudness import LoudnessMap, energy_profile
from audiobook.audio.mix import plan_timeline, write_program
from audiobook.models import BODY, Clip, Metadata, Script, Segment
from audiobook.pipeline import plan_essay
from conftest import FIELD_NOTES

RATE = 44100
TOLERANCE_LU = 0.05


def noise(seconds: float, level_db: float, seed: int) -> np.ndarray:
    samples = np.random.default_rng(seed).standard_normal(int(seconds * RATE))
    return (samples / np.sqrt(np.mean(samples**2)) * 10 ** (level_db / 20)).astype(np.float32)


def syllables(seconds: float, level_db: float, seed: int) -> np.ndarray:
    """Noise switched on and off four times a second: a crude stand-in for speech."""
    signal = noise(seconds, level_db, seed)
    t = np.arange(signal.size) / RATE
    return (signal * (0.5 + 0.5 * np.sign(np.sin(2 * np.pi * 4 * t)))).astype(np.float32)


def sine(seconds: float, frequency: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def pyloudnorm_dual_mono(program: np.ndarray) -> float:
    return pyloudnorm.Meter(RATE).integrated_loudness(np.column_stack([program, program]).astype(np.float64))


def assemble(clips: list[np.ndarray], starts: list[int], gains: list[float], total: int) -> np.ndarray:
    program = np.zeros(total, dtype=np.float64)
    for clip, start, gain in zip(clips, starts, gains):
        program[start:start + clip.size] += clip * gain
    return program


CLIPS = [
    noise(2.0, -20, 1),
    sine(1.3, 1000, 0.3),
    syllables(3.7, -18, 2),
    sine(2.2, 60, 0.5),  # mostly removed by the K-weighting high-pass
    syllables(2.9, -24, 3),
]
# starts in samples: on the 10 ms profile grid, and off it (the usual case)
PROGRAMS = {
    "aligned starts": ([13_230, 123_480, 198_450, 370_440, 485_100], [1.0, 1.0, 1.0, 1.0, 1.0]),
    "unaligned starts, per-clip gains": ([13_001, 123_777, 198_123, 371_019, 487_313], [1.0, 0.5, 1.4, 0.8, 0.7]),
    "one clip gated away": ([13_001, 123_777, 198_123, 371_019, 487_313], [1.0, 1.0, 1.0, 1.0, 0.01]),
}


@pytest.mark.parametrize("case", list(PROGRAMS))
def test_loudness_map_agrees_with_pyloudnorm(case):
    starts, gains = PROGRAMS[case]
    total = starts[-1] + CLIPS[-1].size + RATE  # a second of tail, as the program has
    meter = LoudnessMap()
    for owner, (clip, start) in enumerate(zip(CLIPS, starts)):
        meter.add(owner, start, energy_profile(clip))
    meter.extend_to(total)
    expected = pyloudnorm_dual_mono(assemble(CLIPS, starts, gains, total))
    assert meter.integrated(gains) == pytest.approx(expected, abs=TOLERANCE_LU)


def test_loudness_map_follows_a_common_gain_exactly():
    starts, gains = PROGRAMS["unaligned starts, per-clip gains"]
    meter = LoudnessMap()
    for owner, (clip, start) in enumerate(zip(CLIPS, starts)):
        meter.add(owner, start, energy_profile(clip))
    meter.extend_to(starts[-1] + CLIPS[-1].size + RATE)
    louder = meter.integrated([g * 2 for g in gains])
    assert louder - meter.integrated(gains) == pytest.approx(20 * np.log10(2), abs=1e-6)


# --- the timeline -----------------------------------------------------------------------------

def fake_clips(script: Script, seconds_per_word: float = 0.35) -> list[Clip]:
    return [Clip(segment.index, Path(f"/nonexistent/{segment.index}.wav"),
                 int(max(len(segment.speech.split()), 1) * seconds_per_word * RATE) + 17 * segment.index,
                 0.5, True, 0)
            for segment in script.segments]


def hand_made_script(pause_before_chapter: float) -> Script:
    chapters = [0, 0, 1, 1, 1, 2]
    pauses = [0.35, pause_before_chapter, 0.35, 0.7, pause_before_chapter, 0.0]
    segments = [Segment(i, chapter, BODY, f"Sentence {i}.", f"Sentence {i} said aloud.", pause_after=pause)
                for i, (chapter, pause) in enumerate(zip(chapters, pauses))]
    return Script(Metadata(title="T"), ["One", "Two", "Three"], segments)


def field_notes_script() -> Script:
    return plan_essay(FIELD_NOTES, Path("/nonexistent"), {}).script


SCRIPTS = {
    "field notes": field_notes_script,
    "long pauses": lambda: hand_made_script(1.5),
    "short pauses": lambda: hand_made_script(0.1),
    "no pause at all": lambda: hand_made_script(0.0),
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_timeline_segments_are_in_order_with_their_pauses(name):
    script = SCRIPTS[name]()
    clips = fake_clips(script)
    line = plan_timeline(script, clips)
    assert line.sample_rate == RATE
    assert len(line.segments) == len(script.segments)
    assert line.segments[0].start > 0  # a breath of lead-in before the first word
    for span, clip, segment in zip(line.segments, clips, script.segments):
        assert span.end - span.start == clip.samples
        assert span.text == segment.display
    for span, following, segment in zip(line.segments, line.segments[1:], script.segments):
        assert following.start - span.end == round(segment.pause_after * RATE)
    assert line.total > line.segments[-1].end
    assert line.duration == line.total / RATE


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_chapters_are_contiguous_and_start_in_the_pause_before_their_first_segment(name):
    script = SCRIPTS[name]()
    line = plan_timeline(script, fake_clips(script))
    assert [chapter.title for chapter in line.chapters] == script.chapters
    assert line.chapters[0].start == 0
    assert line.chapters[-1].end == line.total
    for chapter, following in zip(line.chapters, line.chapters[1:]):
        assert chapter.end == following.start
        assert chapter.start < chapter.end
    for number, chapter in enumerate(line.chapters[1:], 1):
        first = next(i for i, segment in enumerate(script.segments) if segment.chapter == number)
        assert line.segments[first - 1].end <= chapter.start <= line.segments[first].start, chapter


# --- the written program matches the timeline -------------------------------------------------

def test_the_written_program_has_audio_exactly_where_the_timeline_says(tmp_path):
    cache = ClipCache(tmp_path / "clips")
    script = hand_made_script(0.5)
    signals = [syllables(1.0 + 0.3 * i, -20 - i, seed=10 + i) for i in range(len(script.segments))]
    clips = []
    for segment, signal in zip(script.segments, signals):
        signal[0] = signal[-1] = 0.25  # clips start and end on sound, so the layout is exact
        pcm = np.round(signal * 32768).clip(-32768, 32767).astype(np.int16)
        entry = cache.put(f"{segment.index:064x}", pcm, RATE, float(np.abs(signal).max()),
                          [float(e) for e in energy_profile(pcm / 32768)])
        clips.append(Clip(segment.index, entry.path, entry.samples, entry.peak, True, entry.crc32, entry.profile))
    gains = [0.5 + 0.1 * i for i in range(len(clips))]

    sink = io.BytesIO()
    write_program(script, clips, lambda index, clip: gains[index], sink)
    program = np.frombuffer(sink.getvalue(), dtype="<f4").astype(np.float64)
    line = plan_timeline(script, clips)
    assert program.size == line.total
    quiet = np.ones(line.total, dtype=bool)
    for span, gain in zip(line.segments, gains):
        assert program[span.start] == pytest.approx(0.25 * gain, abs=1e-4)
        assert program[span.end - 1] == pytest.approx(0.25 * gain, abs=1e-4)
        quiet[span.start:span.end] = False
    assert not program[quiet].any(), "sound outside the segments' spans"

    meter = LoudnessMap()
    for owner, (span, clip) in enumerate(zip(line.segments, clips)):
        meter.add(owner, span.start, clip.profile)
    meter.extend_to(line.total)
    assert meter.integrated(gains) == pytest.approx(pyloudnorm_dual_mono(program), abs=TOLERANCE_LU)


def test_a_clip_damaged_between_the_passes_stops_the_build_in_one_line(tmp_path):
    """The second loudness pass reads clips from the cache again, and trusts them no more than the first."""
    cache = ClipCache(tmp_path / "clips")
    script = hand_made_script(0.5)
    clips = []
    for segment in script.segments:
        pcm = np.round(syllables(1.0, -20, seed=segment.index) * 32768).clip(-32768, 32767).astype(np.int16)
        entry = cache.put(f"{segment.index:064x}", pcm, RATE, 0.5, [0.0])
        clips.append(Clip(segment.index, entry.path, entry.samples, entry.peak, True, entry.crc32, entry.profile))
    clips[1].path.write_bytes(clips[1].path.read_bytes()[:-100])
    with pytest.raises(OutputError, match=r"changed while the episode was being written \(\d+ samples where"):
        write_program(script, clips, lambda index, clip: 1.0, io.BytesIO())
