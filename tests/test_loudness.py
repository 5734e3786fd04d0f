"""loudness.py against tools we did not write: pyloudnorm's filters and ffmpeg's ebur128."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
import soundfile
from pyloudnorm.iirfilter import IIRfilter

from audiobook.audio.loudness import (
    LoudnessMap,
    _window_minimum,
    energy_profile,
    k_weighting_biquads,
    limit_peaks,
    true_peak,
)

RATE = 44100


def test_k_weighting_biquads_are_pyloudnorms():
    theirs = [IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, RATE, "high_shelf"),
              IIRfilter(0.0, 0.5, 38.0, RATE, "high_pass")]
    for (b, a), stage in zip(k_weighting_biquads(RATE), theirs):
        np.testing.assert_allclose(np.array(b) / a[0], stage.b / stage.a[0], rtol=1e-12)
        np.testing.assert_allclose(np.array(a) / a[0], stage.a / stage.a[0], rtol=1e-12)


def _bursts(seed: int) -> list[np.ndarray]:
    """Speech-like material: noise bursts of different lengths and levels."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(int(RATE * rng.uniform(0.3, 3.0))) * rng.uniform(0.02, 0.3)).astype(np.float32)
            for _ in range(12)]


def _ffmpeg_integrated(path) -> float:
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
                          "ebur128=dualmono=true", "-f", "null", "-"], capture_output=True, text=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", out)[-1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_program_loudness_from_profiles_matches_ffmpeg(tmp_path, seed):
    clips, pause = _bursts(seed), np.zeros(int(0.35 * RATE), np.float32)
    meter, position, program = LoudnessMap(), 0, []
    for index, clip in enumerate(clips):
        meter.add(index, position, energy_profile(clip))
        program += [clip, pause]
        position += clip.size + pause.size
    meter.extend_to(position)
    wav = tmp_path / "program.wav"
    soundfile.write(wav, np.concatenate(program), RATE, subtype="FLOAT")
    # ffmpeg's gating works on a histogram of 0.1 LU steps
    assert meter.integrated(np.ones(len(clips))) == pytest.approx(_ffmpeg_integrated(wav), abs=0.15)


@pytest.mark.parametrize("ceiling", [0.5, 0.2])
def test_limiter_keeps_true_peak_under_the_ceiling(ceiling):
    rng = np.random.default_rng(7)
    signal = (rng.standard_normal(RATE * 2) * 0.02).astype(np.float32)
    signal[RATE // 2] = 0.95
    signal[RATE: RATE + 300] = 0.8
    limited = limit_peaks(signal, ceiling)
    assert true_peak(signal) > ceiling
    assert true_peak(limited) <= ceiling * 1.01
    assert limited.size == signal.size and limited.dtype == signal.dtype
    quiet = slice(int(RATE * 1.5), RATE * 2)  # far from any peak: untouched
    np.testing.assert_array_equal(limited[quiet], signal[quiet])


def test_limiter_leaves_a_signal_under_the_ceiling_alone():
    signal = (np.sin(np.arange(RATE) / 10) * 0.1).astype(np.float32)
    assert limit_peaks(signal, 0.5) is signal


def test_window_minimum_covers_the_whole_window():
    values = np.random.default_rng(3).random(2000)
    radius = 9
    covered = _window_minimum(values, radius)
    for i in range(values.size):
        assert covered[i] <= values[max(0, i - radius): i + radius + 1].min()
