"""workers: local synthesis processes, each test in a fresh process: they make valid
clips with the real pyttsx3 engine, and they die with a build that is killed; an
engine that speaks on threads (Piper) is shared by threads of the build instead."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from conftest import ROOT, cli_env, requires_pipeline, tools_missing
from test_speak import ONE_LSB, seconds_for

POOL_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from audiobook.audio.cache import ClipCache
    from audiobook.audio.engines import load_engine
    from audiobook.models import BODY, Metadata, Script, Segment
    from audiobook.audio.speak import Speech
    from audiobook.audio.workers import worker_pool

    texts, engine_first = json.loads(sys.argv[2]), sys.argv[3] == "engine first"
    cache = ClipCache(Path(sys.argv[1]))
    script = Script(Metadata(title="Pool"), ["Chapter"],
                    [Segment(i, 0, BODY, t, t, pause_after=0.35) for i, t in enumerate(texts)])
    engine = load_engine("pyttsx3") if engine_first else None  # then the workers are spawned, not forked
    with worker_pool("pyttsx3", 2, cache) as pool:
        engine = engine or load_engine("pyttsx3")
        speech = Speech(script, engine, engine.default_voice("en"), 175, cache, pool=pool)
        clips = list(speech)
    print(json.dumps({"synthesized": speech.synthesized, "voice": speech.voice,
                      "clips": [[str(c.path), c.samples, c.peak] for c in clips]}))
""")


@requires_pipeline
@pytest.mark.parametrize("order", ["pool first", "engine first"])  # forked workers, spawned ones
def test_a_pool_of_two_workers_makes_valid_clips_with_pyttsx3(tmp_path, order):
    texts = ["The pool starts two workers.", "Each loads the engine once.",
             "Clips come back in any order.", "The cache holds them all."]
    result = subprocess.run([sys.executable, "-c", POOL_SCRIPT, str(tmp_path / "clips"), json.dumps(texts), order],
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


THREADS_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from audiobook.audio.cache import ClipCache
    from audiobook.audio.engines import load_engine
    from audiobook.models import BODY, Metadata, Script, Segment
    from audiobook.audio.speak import Speech
    from audiobook.audio.workers import ThreadWorkers, worker_pool

    texts = json.loads(sys.argv[2])
    script = Script(Metadata(title="Threads"), ["Chapter"],
                    [Segment(i, 0, BODY, t, t, pause_after=0.35) for i, t in enumerate(texts)])
    with worker_pool("piper", 2, ClipCache(Path(sys.argv[1]) / "threads")) as pool:
        engine = load_engine("piper")
        speech = Speech(script, engine, "joe-us", 175, ClipCache(Path(sys.argv[1]) / "threads"), pool=pool)
        shared = [c.pcm.tobytes() for c in speech]
        children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    import gc
    from audiobook.audio.engines.piper_engine import FixedNoiseSession
    gc.collect()
    sessions_left = sum(isinstance(o, FixedNoiseSession) for o in gc.get_objects())
    alone = Speech(script, load_engine("piper"), "joe-us", 175, ClipCache(Path(sys.argv[1]) / "alone"))
    print(json.dumps({"threads": isinstance(pool, ThreadWorkers), "children": children,
                      "sessions_left": sessions_left,
                      "synthesized": speech.synthesized,
                      "same": shared == [c.pcm.tobytes() for c in alone]}))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_piper_speaks_on_threads_of_the_build_and_says_what_one_engine_says(tmp_path):
    """Piper's model is loaded once and shared by the pool's threads (no worker
    process holds a copy), and let go when the pool closes; clips made side by
    side on two threads are the samples one engine makes alone, one after another."""
    from audiobook.audio.engines import engine_class

    if engine_class("piper").unavailable_reason():
        pytest.skip("Piper (the neural extra) is not installed here")
    texts = ["Two threads share one model.", "Each clip is the same, whoever speaks it.",
             "Noise is an input, not a draw.", "The cache keeps every one."]
    result = subprocess.run([sys.executable, "-c", THREADS_SCRIPT, str(tmp_path), json.dumps(texts)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, env=cli_env())
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"threads": True, "children": [], "sessions_left": 0, "synthesized": len(texts), "same": True}


# --- workers die with the build ---------------------------------------------------------------

@pytest.mark.parametrize("platform", ["linux", "elsewhere"])  # the death signal, or a thread watching
def test_a_worker_whose_build_is_already_gone_exits_at_once(platform):
    """The build may die before the worker's initializer runs: the parent it names is not its parent."""
    program = ("import sys, time; from audiobook.audio import workers; "
               + ("sys.platform = 'darwin'; " if platform == "elsewhere" else "")
               + "workers._die_with(1); time.sleep(5); print('still here')")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                            env=cli_env())
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert time.monotonic() - started < 5

GONE_WITHIN = 10.0  # seconds


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now, from /proc/PID/task/*/children."""
    found, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                children = {int(child) for child in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += children - found
            found |= children
    return found


def alive(pid: int) -> bool:
    """Running, or stopped; not a zombie waiting for an init that may never reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("executor", ["local", "dask"])
def test_workers_die_with_a_build_that_is_killed(mute_plugin, tmp_path, executor):
    """kill -9 of `audiobook build` (or the OOM killer, or a closed terminal)
    leaves no synthesis worker running, busy as they are."""
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    if executor == "dask":
        pytest.importorskip("distributed", reason="the cluster extra is not installed")
    essay = tmp_path / "slow.md"
    essay.write_text("# Slow\n\nOne sentence here. Another one there. And a third one.\n", encoding="utf-8")
    loads = tmp_path / "loads"
    env = cli_env(PYTHONPATH=os.pathsep.join([str(ROOT), str(mute_plugin)]), COUNTED_LOADS=str(loads),
                  AUDIOBOOK_CACHE_DIR=str(tmp_path / "clips"))
    with open(tmp_path / "stderr", "wb") as stderr:
        build = subprocess.Popen([sys.executable, "-m", "audiobook", "build", essay, "--show", tmp_path / "show",
                                  "--engine", "slow", "--jobs", "2", "--executor", executor],
                                 cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + 120
        while len(workers) < 2:
            assert build.poll() is None, (tmp_path / "stderr").read_text()
            assert time.monotonic() < deadline, "the workers never loaded the engine"
            time.sleep(0.1)
            workers = {int(pid) for pid in loads.read_text().split()} - {build.pid} if loads.exists() else set()
        tree = descendants(build.pid)
        assert workers <= tree
    finally:
        build.kill()
        build.wait()
    deadline = time.monotonic() + GONE_WITHIN
    while (left := {pid for pid in tree if alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"still running {GONE_WITHIN:g} s after the build was killed: {sorted(left)} " \
                     f"(workers {sorted(workers)})"
