"""Speech engines behind one small interface, found through one registry.

Built-in engines are listed the same way a third-party plugin is: as an
``audiobook.engines`` entry point (see pyproject.toml). ``DEFAULT_ENGINES``
keeps them reachable from a source checkout whose metadata is not installed.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Callable, NamedTuple, TypeVar

import numpy as np

from audiobook import registry
from audiobook.errors import AudiobookError, EngineCrashed, EngineError

ENTRY_POINT_GROUP = "audiobook.engines"
DEFAULT_ENGINES = {
    "piper": "audiobook.audio.engines.piper_engine:PiperEngine",
    "pyttsx3": "audiobook.audio.engines.pyttsx3_engine:Pyttsx3Engine",
}
AUTO = "auto"
AUTO_PREFERENCE = ("piper", "pyttsx3")  # the natural voice when it is installed

T = TypeVar("T")


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    language: str
    source: str  # where it comes from: a system package, a wheel, a file


class Spoken(NamedTuple):
    """A clip as an engine said it."""

    pcm: np.ndarray  # mono int16
    sample_rate: int
    # Where words start, for engines that tell: (offset of the word's first character
    # in the text, its first sample), in order. Transcripts time each word from these.
    words: tuple[tuple[int, int], ...] = ()


class Engine:
    """One speech engine. Load once (``__init__``), then synthesize many clips.

    Subclasses set ``name``, implement ``unavailable_reason`` (None when the
    engine can run here), ``version``, ``voices``, ``default_voice`` and
    ``synthesize``. Clips are untrusted: the caller checks every one.
    """

    name = ""
    takes_phonemes = False  # whether "[[IPA]]" in the text is spoken as phonemes
    # Whether one instance may speak from several threads at once. A build then
    # synthesizes on threads of its own process, the engine's model in memory
    # once, instead of in worker processes that each hold a copy (workers.py).
    speaks_on_threads = False

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return None

    @classmethod
    def available(cls) -> bool:
        return cls.unavailable_reason() is None

    def version(self) -> str:
        raise NotImplementedError

    def voices(self) -> list[Voice]:
        raise NotImplementedError

    def default_voice(self, language: str | None) -> str:
        raise NotImplementedError

    def synthesize(self, text: str, voice: str, rate: int) -> tuple[np.ndarray, int]:
        """Return mono int16 PCM and its sample rate.

        The same text, voice and rate must give the same samples whatever the
        engine said before: the clip cache, and builds spread over worker
        processes or machines, rely on it. Engines that keep state between
        utterances speak each clip through ``in_fresh_fork``.
        """
        raise NotImplementedError

    def speak(self, text: str, voice: str, rate: int) -> Spoken:
        """``synthesize``, with where each word starts when the engine can tell (then override this)."""
        return Spoken(*self.synthesize(text, voice, rate))

    def resolve_voice(self, requested: str | None, language: str | None) -> str:
        """The voice id for what a user typed: an id, a name or a language tag."""
        if not requested:
            return self.default_voice(language)
        wanted = requested.lower()
        for voice in self.voices():
            if wanted in (voice.id.lower(), voice.name.lower(), voice.language.lower()):
                return voice.id
        raise EngineError(
            f"unknown voice {requested!r} for engine {self.name}; "
            f"run 'audiobook voices' to list the installed ones"
        )


def in_fresh_fork(produce: Callable[[], T], timeout: float | None = None) -> T:
    """Call ``produce`` in a forked child of this process and return its result.

    For engines that carry state from one utterance into the next (espeak-ng:
    its pitch flutter and voicing phase). A clip made in a fork of a process
    whose engine is loaded but has not spoken starts from the same state
    every time, so it is the same bytes whichever worker makes it, after
    whatever it made before. A fork costs a few milliseconds, plus whatever
    memory the engine touches, faulted in again by every fork.

    A child that dies (a crash in the engine's C code) or gives no answer
    within ``timeout`` seconds (a lock some other thread held at the fork)
    raises EngineCrashed, which the retry loop counts as a bad try, instead
    of taking its worker down. Forks are made one at a time per process, so
    no child holds another's pipe open. An error the child raises comes back
    as itself when it is one of ours, else as an EngineError of one line.
    """
    with _fork_lock:
        read_end, write_end = os.pipe()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads running
                pid = os.fork()
        except OSError as exc:
            os.close(read_end)
            os.close(write_end)
            raise EngineCrashed(f"no process to speak in ({exc.strerror or exc})") from None
        if pid == 0:  # the child: answer through the pipe, then leave without cleanup
            os.close(read_end)
            os._exit(_answer(produce, write_end))
        os.close(write_end)
        data = None
        try:
            data = _read_answer(read_end, timeout or FORK_TIMEOUT)
        finally:
            os.close(read_end)
            if data is None:
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
    if data is None:
        raise EngineCrashed(f"no answer within {timeout or FORK_TIMEOUT:g} s")
    try:
        outcome, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - an empty or cut answer: the child died
        raise EngineCrashed(f"a crash ({_exit_reason(status)})") from None
    if outcome == "error":
        raise value
    return value


FORK_TIMEOUT = 120.0  # seconds for one clip: espeak-ng needs milliseconds
_fork_lock = threading.Lock()


def _answer(produce: Callable[[], T], write_end: int) -> int:
    """In the child: send ("ok", result) or ("error", exception); the exit status."""
    try:
        try:
            answer = ("ok", produce())
        except AudiobookError as exc:
            answer = ("error", exc)
        except Exception as exc:  # noqa: BLE001 - told to the user in one line
            answer = ("error", EngineError(f"{type(exc).__name__}: {exc}"))
        try:
            payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an answer that cannot travel
            payload = pickle.dumps(("error", EngineError(f"unreadable answer: {exc}")))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        return 0
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        return 1


def _read_answer(read_end: int, timeout: float) -> bytes | None:
    """Everything the child writes until it closes the pipe; None past the deadline."""
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_end], [], [], left)[0]:
            return None
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def engine_targets() -> dict[str, str]:
    """Engine name -> 'module:Class', built-ins first, then installed plugins."""
    return registry.targets(ENTRY_POINT_GROUP, DEFAULT_ENGINES)


def engine_class(name: str) -> type[Engine]:
    targets = engine_targets()
    if name not in targets:
        known = ", ".join(sorted(targets))
        raise EngineError(f"unknown engine {name!r}; installed engines: {known}")
    try:
        return registry.load(targets[name])
    except ImportError as exc:
        raise EngineError(f"engine {name!r} cannot be loaded: {exc}") from exc


def choose_engine(name: str) -> tuple[str, str | None]:
    """The engine to use for ``name``, and for "auto" a sentence saying why."""
    if name != AUTO:
        return name, None
    passed_over = []
    for candidate in AUTO_PREFERENCE:
        reason = engine_class(candidate).unavailable_reason()
        if reason is None:
            why = f"using {candidate}" + (f" ({'; '.join(passed_over)})" if passed_over else
                                          " (the natural voice, installed)")
            return candidate, why
        passed_over.append(f"{candidate}: {reason}")
    raise EngineError("no speech engine is usable: " + "; ".join(passed_over))


_started_in: set[int] = set()  # pids of processes that have started an engine


def engine_started_here() -> bool:
    """Whether this process has started an engine (and so may run its threads)."""
    return os.getpid() in _started_in


def usable_engine_class(name: str) -> type[Engine]:
    """The engine's class, or an error saying in one line why it cannot run here."""
    cls = engine_class(name)
    reason = cls.unavailable_reason()
    if reason:
        raise EngineError(f"engine {name!r} is not usable: {reason}")
    return cls


def load_engine(name: str) -> Engine:
    """Instantiate an engine (its models load here, once per process)."""
    cls = usable_engine_class(name)
    _started_in.add(os.getpid())
    return cls()
