"""The always-there voice: pyttsx3, which speaks through espeak-ng on Linux.

Quirks this module works around (see also clips.py, which checks each clip):
- the espeak driver prints "Audio saved to ..." on stdout for every clip, so
  stdout is silenced at the file-descriptor level around each call;
- it sometimes wrote no file, notably on the first call after init: its loop
  can end (runAndWait returns) before espeak's thread has called back with
  the end of the utterance, which is when the file is written. We wait for
  espeak_Synchronize after runAndWait (each clip a first call after init:
  without it 5 of 48 came back empty, with it none of 96); whatever is still
  wrong, clips.py's checks catch and retry;
- setProperty("rate") often does not reach the utterance (a voice set after it
  resets the rate; in tests 27 of 30 rate changes were lost), so the rate goes
  into the text as espeak's embedded speed command instead, which held in
  every try. setProperty("voice") is reliable;
- espeak-ng carries state from one utterance into the next (the same sentence
  said twice in a row differs by tens of samples), so each clip is spoken by
  a fresh fork that initialises the driver (about 4 ms: everything is
  imported beforehand). The driver is never initialised in this process: it
  starts a thread there, and a fork of a process with that thread hangs.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import tempfile
import wave
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np

from audiobook.audio.engines import Engine, Spoken, Voice, in_fresh_fork

# The shared library pyttsx3's espeak driver loads on Linux.
ESPEAK_LIBRARY = "libespeak-ng.so.1"
FALLBACK_VOICE = "gmw/en-us"
# Bumped when what this module asks of espeak-ng changes, so cached clips made
# the old way are not reused.
REVISION = 5  # 4: word events kept with each clip; 5: a gap between words
# espeak-ng's pause between words, in 10 ms units (espeak_SetParameter(espeakWORDGAP)).
# 20 ms more between words is heard far better: Whisper tiny.en's word error rate on
# the seed fell from 0.159 to 0.098 at the same 175 words a minute, where slowing to
# 155 wpm, which lengthens the episode as much, only reached 0.144 (scripts/bench).
WORD_GAP = 2
ESPEAK_WORDGAP = 7  # the parameter's number in speak_lib.h, which pyttsx3 does not name


def _with_rate(text: str, rate: int) -> str:
    """espeak-ng's embedded command for speed (words per minute): Ctrl-A, value, "S"."""
    return f"\x01{int(rate)}S {text}"


@contextlib.contextmanager
def _quiet_stdout():
    """Send fd 1 to /dev/null: the driver prints from Python and from C."""
    with contextlib.suppress(ValueError, OSError):
        import sys

        sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Whatever the driver left behind; empty when it left nothing readable."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                return np.zeros(0, np.int16), rate
    except (OSError, EOFError, wave.Error):
        return np.zeros(0, np.int16), 22050
    return np.frombuffer(frames, dtype="<i2").copy(), rate


class Pyttsx3Engine(Engine):
    name = "pyttsx3"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import pyttsx3  # noqa: F401
        except ImportError:
            return "the pyttsx3 package is not installed (pip install pyttsx3)"
        try:
            ctypes.CDLL(ESPEAK_LIBRARY)
        except OSError:
            return "espeak-ng is not installed (apt-get install espeak-ng)"
        return None

    def __init__(self) -> None:
        import pyttsx3
        import pyttsx3.drivers.espeak  # noqa: F401 - imported here, not in every fork

        from pyttsx3.drivers import _espeak

        self._pyttsx3, self._espeak = pyttsx3, _espeak
        self._voices: list[Voice] | None = None

    def version(self) -> str:
        espeak = self._espeak.Info()
        espeak = espeak.decode() if isinstance(espeak, bytes) else str(espeak)
        return f"pyttsx3 {package_version('pyttsx3')}, espeak-ng {espeak}, revision {REVISION}"

    def _driver(self):
        """A freshly initialised driver: only ever called in a forked child."""
        with _quiet_stdout():
            return self._pyttsx3.init("espeak")

    def voices(self) -> list[Voice]:
        if self._voices is None:
            self._voices = in_fresh_fork(lambda: [
                Voice(id=v.id, name=v.name, language=(v.languages[0] if v.languages else ""),
                      source="espeak-ng (system package)")
                for v in self._driver().getProperty("voices")
            ])
        return self._voices

    def default_voice(self, language: str | None) -> str:
        """The espeak-ng voice for a BCP 47 tag: exact match, then its base language."""
        wanted = (language or "en").lower()
        if wanted == "en":
            wanted = "en-us"
        by_language = {v.language.lower(): v.id for v in self.voices()}
        base = wanted.split("-")[0]
        return by_language.get(wanted) or by_language.get(base) or FALLBACK_VOICE

    def synthesize(self, text: str, voice: str, rate: int) -> tuple[np.ndarray, int]:
        return self.speak(text, voice, rate)[:2]

    def speak(self, text: str, voice: str, rate: int) -> Spoken:
        # The file is made and removed here, not in the fork: a fork that crashes leaves nothing.
        handle, name = tempfile.mkstemp(prefix="audiobook-clip-", suffix=".wav")
        os.close(handle)
        out = Path(name)
        try:
            return in_fresh_fork(lambda: self._speak(text, voice, rate, out))
        finally:
            out.unlink(missing_ok=True)

    def _speak(self, text: str, voice: str, rate: int, out: Path) -> Spoken:
        tts = self._driver()
        tts.setProperty("voice", voice)
        self._espeak.SetParameter(ESPEAK_WORDGAP, WORD_GAP, 0)
        said = _with_rate(text, rate)
        words = self._listen_for_words(tts, len(said) - len(text))
        with _quiet_stdout():
            tts.save_to_file(said, str(out))
            tts.runAndWait()
            self._espeak.Synchronize()  # runAndWait may return before the file is written
        return Spoken(*_read_wav(out), tuple(words))

    def _listen_for_words(self, tts, prefix: int) -> list[tuple[int, int]]:
        """Collect espeak-ng's word events (where each word of the text starts, in samples)
        by putting a callback in front of the driver's own."""
        espeak, driver = self._espeak, tts.proxy._driver
        own_callback, words = driver._onSynth, []

        def callback(wav, count, events):
            index = 0
            while events[index].type != espeak.EVENT_LIST_TERMINATED:
                event = events[index]
                # 1-based, counted in the text with its speed command; the first word is reported at the command
                offset = max(event.text_position - 1 - prefix, 0)
                if event.type == espeak.EVENT_WORD and (not words or words[-1][0] < offset):
                    words.append((offset, int(event.sample)))
                index += 1
            return own_callback(wav, count, events)

        espeak.SetSynthCallback(callback)
        return words
