"""workers: local synthesis processes, with the real pyttsx3 engine, each test in a fresh process."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import soundfile

from conftest import ROOT, cli_env, requires_pipeline
from test_speak import ONE_LSB, seconds_for

POOL_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from audiobook.audio.cache import ClipCache
    from audiobook.audio.engines import load_engine
    from audiobook.models import BODY, Metadata, Script, Segment
    from audiobook.audio.speak import Speech
    from audiobook.audio.workers import worker_pool

    texts = json.loads(sys.argv[2])
    cache = ClipCache(Path(sys.argv[1]))
    script = Script(Metadata(title="Pool"), ["Chapter"],
                    [Segment(i, 0, BODY, t, t, pause_after=0.35) for i, t in enumerate(texts)])
    # the pool first: its workers are forked, and must be forked before this process loads espeak-ng
    with worker_pool("pyttsx3", 2, cache) as pool:
        engine = load_engine("pyttsx3")
        speech = Speech(script, engine, engine.default_voice("en"), 175, cache, pool=pool)
        clips = list(speech)
    print(json.dumps({"synthesized": speech.synthesized, "voice": speech.voice,
                      "clips": [[str(c.path), c.samples, c.peak] for c in clips]}))
""")


@requires_pipeline
def test_a_pool_of_two_workers_makes_valid_clips_with_pyttsx3(tmp_path):
    texts = ["The pool starts two workers.", "Each loads the engine once.",
             "Clips come back in any order.", "The cache holds them all."]
    result = subprocess.run([sys.executable, "-c", POOL_SCRIPT, str(tmp_path / "clips"), json.dumps(texts)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=cli_env())
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["synthesized"] == len(texts)
    assert report["voice"] == "gmw/en-us"
    assert len({path for path, _, _ in report["clips"]}) == len(texts)
    for (path, samples, peak), text in zip(report["clips"], texts):
        audio, sample_rate = soundfile.read(path)
        assert sample_rate == 44100 and audio.ndim == 1
        assert len(audio) == samples
        seconds = samples / 44100
        assert 0.3 * seconds_for(text) <= seconds <= 3 * seconds_for(text) + 1.0, (text, seconds)
        assert np.abs(audio).max() > 0.05, f"silent clip for {text!r}"
        assert np.abs(audio).max() <= peak + ONE_LSB
    assert not list((tmp_path / "clips").rglob("*.part"))
