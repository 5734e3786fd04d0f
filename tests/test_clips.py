"""clips: what makes an engine's answer untrusted, and what is done to a good one."""
from __future__ import annotations

import hashlib
import platform

import numpy as np
import pytest
import soxr

from audiobook.audio import clips
from audiobook.audio.clips import clip_problem, process_clip
from test_speak import ENGINE_RATE, tone

SIXTEEN_WORDS = " ".join(["word"] * 16)  # 16 words at 160 wpm: 6 s expected
CLIP_PROBLEMS = {
    "good": (tone(6.0), None),
    "a little fast": (tone(3.0), None),
    "empty": (np.zeros(0, np.int16), "no audio"),
    "digital silence": (np.zeros(ENGINE_RATE * 6, np.int16), "silence"),
    "quiet hiss": (tone(6.0, level=0.005), "silence"),
    "truncated": (tone(0.5), "truncated"),
    "runaway": (tone(30.0), "runaway"),
}


@pytest.mark.parametrize("case", list(CLIP_PROBLEMS))
def test_clip_problem(case):
    pcm, expected = CLIP_PROBLEMS[case]
    problem = clip_problem(pcm, ENGINE_RATE, SIXTEEN_WORDS, 160)
    if expected is None:
        assert problem is None
    else:
        assert problem and expected in problem


# --- the processing, pinned -----------------------------------------------------------------

# What process_clip made of synthetic_clip(), and the PROCESSING_REVISION it was
# recorded for. Other numpy or soxr versions, or another kind of CPU, may round
# differently; the fingerprint keys on them already, so there the pin is skipped.
RECORDED = {"revision": 1, "numpy": "2.4.6", "soxr": "1.1.0", "machine": "x86_64",
            "sha256": "04883c5958907d2334dd37660d7b6b27dc78e39644646878e198f44a90dffa22"}


def synthetic_clip() -> tuple[np.ndarray, int]:
    """1.2 s of voiced syllables with three clicks, between hiss under the edge
    threshold, at espeak-ng's rate: every step is at work (trim, resample, limit)."""
    rng = np.random.default_rng(1770)
    t = np.arange(int(1.2 * ENGINE_RATE)) / ENGINE_RATE
    voiced = sum(np.sin(2 * np.pi * 140 * k * t + k) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    speech = 0.25 * voiced * syllables + 0.01 * rng.standard_normal(t.size)
    speech[[3000, 9000, 15000]] = 0.95  # far above the clip's loudness + CLIP_PEAK_TO_LOUDNESS
    hiss = 0.0005 * rng.standard_normal(int(0.3 * ENGINE_RATE))
    return np.round(np.concatenate([hiss, speech, hiss]) * 32767).astype(np.int16), ENGINE_RATE


def test_the_processing_is_pinned_to_its_revision():
    """A change to how clips are processed must bump PROCESSING_REVISION, or
    every cache would hand out clips processed the old way."""
    here = {"numpy": np.__version__, "soxr": soxr.__version__, "machine": platform.machine()}
    recorded_on = {name: RECORDED[name] for name in here}
    if here != recorded_on:
        pytest.skip(f"recorded on {recorded_on}, this is {here}")
    pcm, peak, profile, _ = process_clip(*synthetic_clip())
    digest = hashlib.sha256(pcm.astype("<i2").tobytes() + np.float64(peak).tobytes()
                            + np.asarray(profile, "<f8").tobytes()).hexdigest()
    if clips.PROCESSING_REVISION == RECORDED["revision"]:
        assert digest == RECORDED["sha256"], (
            f"process_clip's output changed (sha256 {digest}) but PROCESSING_REVISION is still "
            f"{clips.PROCESSING_REVISION}: bump PROCESSING_REVISION and re-record")
    else:
        pytest.fail(f"PROCESSING_REVISION is {clips.PROCESSING_REVISION}: re-record RECORDED for it "
                    f'(revision {clips.PROCESSING_REVISION}, sha256 "{digest}")')


def test_the_fingerprint_names_the_revision_and_what_rounds():
    fingerprint = clips.processing_fingerprint()
    assert fingerprint.startswith(f"processing {clips.PROCESSING_REVISION} ")
    for part in (f"numpy {np.__version__}", f"soxr {soxr.__version__}", platform.machine(), repr(clips.EDGE_KEEP)):
        assert part in fingerprint
