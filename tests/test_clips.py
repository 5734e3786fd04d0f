"""clips: what makes an engine's answer untrusted."""
from __future__ import annotations

import numpy as np
import pytest

from audiobook.audio.clips import clip_problem
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
