"""speak: untrusted clips checked and retried, a content-addressed cache, clips in order.

Fake engines (real subclasses of audiobook.audio.engines.Engine) make the failure
modes of pyttsx3 happen on demand; clips are read back with soundfile.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import Future
import signal
import wave

import numpy as np
import pytest
import soundfile

from audiobook.audio import cache as cache_module
from audiobook.audio.cache import ClipCache, read_checked
from audiobook.audio.engines import Engine, Voice, in_fresh_fork
from audiobook.errors import EngineError
from audiobook.models import BODY, Metadata, Script, Segment
from audiobook.audio import speak as speak_module
from audiobook.audio.clips import render_clip
from audiobook.audio.speak import Speech
from conftest import build_essay, run_cli, summary_counts, visible_lines

ENGINE_RATE = 22050  # fakes answer at espeak-ng's rate, so every clip is resampled
RATE = 175
VOICE = "tone"
ONE_LSB = 1 / 32768  # the peak is measured before the clip is rounded to 16 bits

TEXTS = [
    "A first short sentence to speak.",
    "The second one is a little longer than the first one was.",
    "Third.",
    "And a fourth to close the paragraph.",
]


def tone(seconds: float, sample_rate: int = ENGINE_RATE, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return np.round(level * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def seconds_for(text: str, rate: int = RATE) -> float:
    return len(text.split()) * 60.0 / rate


class ToneEngine(Engine):
    """Says every text as a 220 Hz tone exactly as long as its words need."""

    name = "tone"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def version(self) -> str:
        return "tone 1"

    def voices(self) -> list[Voice]:
        return [Voice(VOICE, "Tone", "en-us", "tests")]

    def default_voice(self, language):
        return VOICE

    def answer(self, text: str, rate: int) -> np.ndarray:
        return tone(seconds_for(text, rate))

    def synthesize(self, text, voice, rate):
        self.calls.append(text)
        return self.answer(text, rate), ENGINE_RATE


class FirstCallEmpty(ToneEngine):
    """pyttsx3's espeak driver, first call after init: no file at all."""

    def answer(self, text, rate):
        return np.zeros(0, np.int16) if len(self.calls) == 1 else super().answer(text, rate)


class AlwaysEmpty(ToneEngine):
    def answer(self, text, rate):
        return np.zeros(0, np.int16)


class AlwaysTruncated(ToneEngine):
    def answer(self, text, rate):
        return tone(0.05)


class TruncatedOnce(ToneEngine):
    def answer(self, text, rate):
        return tone(0.05) if len(self.calls) == 1 else super().answer(text, rate)


class CrashesOnce(ToneEngine):
    """An engine whose process dies (say, a crash in its C code) on the first try."""

    def synthesize(self, text, voice, rate):
        self.calls.append(text)
        if len(self.calls) == 1:
            return in_fresh_fork(lambda: os.kill(os.getpid(), signal.SIGKILL))
        return self.answer(text, rate), ENGINE_RATE


def script_of(*texts: str) -> Script:
    segments = [Segment(index=i, chapter=0, kind=BODY, display=text, speech=text, pause_after=0.35)
                for i, text in enumerate(texts)]
    return Script(Metadata(title="Test"), ["Chapter"], segments)


def speak(script, engine, voice, rate, cache, **options):
    """Every clip of ``script``, kept on the Speech for short assertions."""
    speech = Speech(script, engine, voice, rate, cache, **options)
    speech.clips = list(speech)
    return speech


@pytest.fixture
def cache(tmp_path):
    return ClipCache(tmp_path / "clips")


# --- clips -----------------------------------------------------------------------------

def test_clips_are_44_1_khz_mono_16_bit_wavs_as_long_as_their_words(cache):
    engine = ToneEngine()
    progress = []
    speech = speak(script_of(*TEXTS), engine, VOICE, RATE, cache, progress=lambda *p: progress.append(p))
    assert (speech.synthesized, speech.cached) == (len(TEXTS), 0)
    assert (speech.voice, speech.rate) == (VOICE, RATE)
    assert progress[0] == (0, len(TEXTS)) and progress[-1] == (len(TEXTS), len(TEXTS))
    for clip, text in zip(speech.clips, TEXTS):
        info = soundfile.info(str(clip.path))
        assert (info.samplerate, info.channels, info.subtype) == (44100, 1, "PCM_16")
        assert info.frames == clip.samples
        assert clip.samples / 44100 == pytest.approx(seconds_for(text), abs=0.05)
        audio, _ = soundfile.read(str(clip.path))
        assert audio.max() > 0.2, "the tone was lost"
        assert np.abs(audio).max() - ONE_LSB <= clip.peak <= np.abs(audio).max() * 1.06  # a true peak
        assert not clip.cached


def test_a_clip_that_comes_back_empty_is_synthesized_again(cache):
    engine = FirstCallEmpty()
    speech = speak(script_of(TEXTS[0]), engine, VOICE, RATE, cache)
    assert engine.calls == [TEXTS[0], TEXTS[0]]
    assert speech.synthesized == 1
    assert soundfile.info(str(speech.clips[0].path)).frames > 0.5 * 44100 * seconds_for(TEXTS[0])


def test_an_engine_that_never_speaks_is_an_error_naming_the_text(cache):
    with pytest.raises(EngineError, match="no audio") as error:
        speak(script_of(TEXTS[1]), AlwaysEmpty(), VOICE, RATE, cache)
    assert TEXTS[1][:40] in str(error.value)
    assert not list(cache.root.rglob("*.wav")) if cache.root.exists() else True


def test_an_engine_process_that_crashes_is_tried_again(cache):
    engine = CrashesOnce()
    speech = speak(script_of(TEXTS[0]), engine, VOICE, RATE, cache)
    assert engine.calls == [TEXTS[0], TEXTS[0]]
    assert speech.clips[0].samples / 44100 == pytest.approx(seconds_for(TEXTS[0]), abs=0.05)


class InlineWorkers:
    """Workers that render each clip as it is sent, noting the order of sending."""

    def __init__(self, cache) -> None:
        self.engine, self.cache, self.sent = ToneEngine(), cache, []

    def submit(self, job):
        future = Future()
        future.set_result(render_clip(self.engine, job, self.cache))
        self.sent.append(job.text)
        return future

    def shutdown(self) -> None:
        pass


def test_clips_go_to_the_workers_in_order_a_window_ahead(cache, monkeypatch):
    """A book's clips are not all sent at once: their futures and answers would pile up."""
    monkeypatch.setattr(speak_module, "AHEAD", 3)
    texts = [f"Sentence number {n} is spoken here." for n in range(10)]
    workers = InlineWorkers(cache)
    speech = Speech(script_of(*texts), ToneEngine(), VOICE, RATE, cache, workers)
    assert workers.sent == texts[:3]
    for taken, clip in enumerate(speech, 1):
        assert clip.segment == taken - 1
        assert len(workers.sent) == min(len(texts), taken + 3)
    assert workers.sent == texts


def test_truncated_audio_is_detected_and_retried(cache):
    engine = TruncatedOnce()
    speech = speak(script_of(TEXTS[1]), engine, VOICE, RATE, cache)
    assert len(engine.calls) == 2
    assert speech.clips[0].samples / 44100 == pytest.approx(seconds_for(TEXTS[1]), abs=0.05)


def test_audio_that_stays_truncated_is_an_error(cache):
    with pytest.raises(EngineError, match="truncated") as error:
        speak(script_of(TEXTS[1]), AlwaysTruncated(), VOICE, RATE, cache)
    assert TEXTS[1][:40] in str(error.value)


# --- the cache -----------------------------------------------------------------------------

def _stat(path):
    info = path.stat()
    return info.st_ino, info.st_mtime_ns, info.st_size


def test_a_second_speak_synthesizes_nothing_and_reuses_the_clip_files(cache):
    first = speak(script_of(*TEXTS), ToneEngine(), VOICE, RATE, cache)
    files = {clip.path: _stat(clip.path) for clip in first.clips}
    engine = ToneEngine()
    second = speak(script_of(*TEXTS), engine, VOICE, RATE, cache)
    assert engine.calls == []
    assert (second.synthesized, second.cached) == (0, len(TEXTS))
    assert [clip.path for clip in second.clips] == [clip.path for clip in first.clips]
    assert [(c.samples, c.peak) for c in second.clips] == [(c.samples, c.peak) for c in first.clips]
    assert all(clip.cached for clip in second.clips)
    assert {path: _stat(path) for path in files} == files, "cached clip files were rewritten"


def test_editing_one_segment_resynthesizes_only_that_segment(cache):
    first = speak(script_of(*TEXTS), ToneEngine(), VOICE, RATE, cache)
    edited = list(TEXTS)
    edited[2] = "Third, now with more words."
    engine = ToneEngine()
    second = speak(script_of(*edited), engine, VOICE, RATE, cache)
    assert engine.calls == [edited[2]]
    assert (second.synthesized, second.cached) == (1, len(TEXTS) - 1)
    for index, (old, new) in enumerate(zip(first.clips, second.clips)):
        assert (old.path == new.path) == (index != 2)
        assert new.cached == (index != 2)


@pytest.mark.parametrize("change", ["voice", "rate", "engine version", "processing"])
def test_the_cache_key_covers_what_changes_the_sound(cache, change, monkeypatch):
    speak(script_of(TEXTS[0]), ToneEngine(), VOICE, RATE, cache)
    if change == "processing":
        monkeypatch.setattr(speak_module, "processing_fingerprint", lambda: "processing 2; numpy 3.0")

    class NewVersion(ToneEngine):
        def version(self):
            return "tone 2"

    engine = NewVersion() if change == "engine version" else ToneEngine()
    voice = "other" if change == "voice" else VOICE
    rate = RATE + 20 if change == "rate" else RATE
    assert speak(script_of(TEXTS[0]), engine, voice, rate, cache).synthesized == 1
    assert engine.calls == [TEXTS[0]]


def test_repeated_text_is_synthesized_once(cache):
    engine = ToneEngine()
    speech = speak(script_of(TEXTS[0], TEXTS[1], TEXTS[0]), engine, VOICE, RATE, cache)
    assert engine.calls == [TEXTS[0], TEXTS[1]]
    assert (speech.synthesized, speech.cached) == (2, 1)
    assert speech.clips[0].path == speech.clips[2].path
    assert [clip.cached for clip in speech.clips] == [False, False, True]


def test_cache_writes_leave_no_temporary_files(cache):
    speak(script_of(*TEXTS), ToneEngine(), VOICE, RATE, cache)
    names = [path.name for path in cache.root.rglob("*") if path.is_file()]
    assert len(names) == 2 * len(TEXTS)  # a WAV and its JSON sidecar per clip
    assert not [name for name in names if name.endswith(".part") or name.startswith(".")]


def test_a_write_that_fails_halfway_leaves_no_entry_and_no_part_file(cache, monkeypatch):
    real_open = wave.open

    def disk_full(path, mode=None):
        out = real_open(path, mode)
        if "w" in (mode or ""):
            def write(data):
                out.writeframesraw(bytes(data)[:1000])
                raise OSError(28, "No space left on device")
            out.writeframes = write
        return out

    monkeypatch.setattr(cache_module.wave, "open", disk_full)
    with pytest.raises(OSError):
        speak(script_of(TEXTS[0]), ToneEngine(), VOICE, RATE, cache)
    monkeypatch.undo()
    assert not [p for p in cache.root.rglob("*") if p.is_file()], "a half-written clip was left behind"
    engine = ToneEngine()
    assert speak(script_of(TEXTS[0]), engine, VOICE, RATE, cache).synthesized == 1


@pytest.mark.parametrize("damage", ["sidecar missing", "sidecar corrupt", "sidecar's peak changed", "wav missing"])
def test_a_damaged_cache_entry_counts_as_absent(cache, damage):
    clip = speak(script_of(TEXTS[0]), ToneEngine(), VOICE, RATE, cache).clips[0]
    sidecar = clip.path.with_suffix(".json")
    if damage == "sidecar missing":
        sidecar.unlink()
    elif damage == "sidecar corrupt":
        sidecar.write_text('{"samples": 12', encoding="utf-8")
    elif damage == "sidecar's peak changed":  # still JSON, but the gain it would set is wrong
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        sidecar.write_text(json.dumps(dict(meta, peak=meta["peak"] / 2)), encoding="utf-8")
    else:
        clip.path.unlink()
    engine = ToneEngine()
    again = speak(script_of(TEXTS[0]), engine, VOICE, RATE, cache)
    assert engine.calls == [TEXTS[0]]
    assert soundfile.info(str(again.clips[0].path)).frames == again.clips[0].samples


def test_a_damaged_cached_clip_is_synthesized_again_and_told_once(cache):
    first = speak(script_of(*TEXTS), ToneEngine(), VOICE, RATE, cache).clips
    first[1].path.write_bytes(b"not a WAV")
    engine, told = ToneEngine(), []
    again = speak(script_of(*TEXTS), engine, VOICE, RATE, cache, warn=told.append)
    assert engine.calls == [TEXTS[1]]
    assert told == [f"cached clip {first[1].path} was damaged "
                    f"(not a WAV file: file does not start with RIFF id); synthesized it again"]
    assert (again.synthesized, again.cached) == (1, len(TEXTS) - 1)
    assert [clip.cached for clip in again.clips] == [True, False, True, True]
    assert all(np.array_equal(old.pcm, new.pcm) for old, new in zip(first, again.clips))
    assert soundfile.read(str(first[1].path), dtype="int16")[0].tolist() == first[1].pcm.tolist()


def _flip_middle(wav):
    data = bytearray(wav.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(b ^ 0xFF for b in data[middle:middle + 16])
    wav.write_bytes(bytes(data))


CLI_DAMAGES = {  # how a clip is spoiled -> what the warning says
    lambda wav: wav.write_bytes(wav.read_bytes()[: wav.stat().st_size // 2]): "samples where",
    lambda wav: wav.write_text("Not audio: a text file where a clip was.\n"): "not a WAV file",
    _flip_middle: "checksum mismatch",
}


@pytest.mark.e2e
def test_damaged_cached_clips_are_made_again_and_the_mp3_is_the_same(tmp_path, monkeypatch):
    """Through the real CLI: a cut WAV, a text file and flipped bytes each give one
    warning line, the build goes on, and the episode is the same bytes."""
    monkeypatch.setenv("AUDIOBOOK_CACHE_DIR", str(tmp_path / "clips"))
    essay, show, _ = build_essay(tmp_path, "mended", " ".join(TEXTS))
    mp3 = show / "episodes" / "mended.mp3"
    built = mp3.read_bytes()
    wavs = sorted((tmp_path / "clips").rglob("*.wav"))
    assert len(wavs) >= len(CLI_DAMAGES)
    for spoil, wav in zip(CLI_DAMAGES, wavs):
        spoil(wav)

    again = run_cli("build", essay, "--show", show, "--force", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    warnings = [line for line in visible_lines(again.stderr) if "warning" in line]
    assert len(warnings) == len(CLI_DAMAGES), again.stderr
    for reason, wav in zip(CLI_DAMAGES.values(), wavs):
        told = [line for line in warnings if str(wav) in line]
        assert len(told) == 1 and told[0].startswith(f"audiobook: warning: cached clip {wav} was damaged (")
        assert reason in told[0] and told[0].endswith("; synthesized it again")
    synthesized, cached = summary_counts(again.stdout)
    assert synthesized == len(CLI_DAMAGES)
    assert mp3.read_bytes() == built
    for wav in wavs:  # mended in the cache too
        key = wav.stem
        entry = ClipCache(tmp_path / "clips").get(key)
        assert read_checked(entry.path, entry.samples, entry.crc32).size > 0


# --- a second voice for block quotes ---------------------------------------------------------

@pytest.mark.e2e
def test_block_quotes_are_spoken_in_the_quote_voice(tmp_path):
    from audiobook.audio.engines import load_engine
    from audiobook.models import NARRATOR, QUOTE_ROLE
    from audiobook.pipeline import plan_essay

    sentence = "The same words, read twice."
    essay = tmp_path / "quoted.md"
    essay.write_text(f"{sentence}\n\n> {sentence}\n", encoding="utf-8")
    script = plan_essay(essay, tmp_path / "show", {"engine": "pyttsx3"}).script
    clips = speak(script, load_engine("pyttsx3"), "gmw/en-us", 175, ClipCache(tmp_path / "cache"),
                  quote_voice="gmw/en").clips
    by_role = {s.role: c for s, c in zip(script.segments, clips) if s.display == sentence}
    assert set(by_role) == {NARRATOR, QUOTE_ROLE}
    narrator, quote = (read_checked(c.path, c.samples, c.crc32) for c in (by_role[NARRATOR], by_role[QUOTE_ROLE]))
    assert by_role[NARRATOR].path != by_role[QUOTE_ROLE].path
    same_length = min(narrator.size, quote.size)
    assert narrator.size != quote.size or not np.allclose(narrator[:same_length], quote[:same_length])


@pytest.mark.e2e
def test_a_quote_voice_build_keeps_cues_in_order(tmp_path):
    from conftest import FIELD_NOTES, parse_vtt, run_cli

    show = tmp_path / "show"
    result = run_cli("build", FIELD_NOTES, "--show", show, "--engine", "pyttsx3",
                     "--quote-voice", "en-gb", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((show / "episodes" / "field-notes.episode.json").read_text(encoding="utf-8"))
    assert manifest["engine"]["quote_voice"] == "gmw/en"  # the language en-gb names espeak-ng's gmw/en
    cues = parse_vtt((show / "episodes" / "field-notes.vtt").read_text(encoding="utf-8"))
    starts = [cue.start for cue in cues]
    assert starts == sorted(starts) and len(cues) == len(manifest["segments"])
    assert all(cue.end <= following.start for cue, following in zip(cues, cues[1:]))
