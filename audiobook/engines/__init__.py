"""Speech engines behind one small interface, found through one registry.

Built-in engines are listed the same way a third-party plugin is: as an
``audiobook.engines`` entry point (see pyproject.toml). ``DEFAULT_ENGINES``
keeps them reachable from a source checkout whose metadata is not installed.
"""
from __future__ import annotations

import importlib
import os
import pickle
import warnings
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Callable, TypeVar

import numpy as np

from audiobook.errors import EngineCrashed, EngineError

ENTRY_POINT_GROUP = "audiobook.engines"
DEFAULT_ENGINES = {
    "piper": "audiobook.engines.piper_engine:PiperEngine",
    "pyttsx3": "audiobook.engines.pyttsx3_engine:Pyttsx3Engine",
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


class Engine:
    """One speech engine. Load once (``__init__``), then synthesize many clips.

    Subclasses set ``name``, implement ``unavailable_reason`` (None when the
    engine can run here), ``version``, ``voices``, ``default_voice`` and
    ``synthesize``. Clips are untrusted: the caller checks every one.
    """

    name = ""
    default_rate = 175  # words per minute
    takes_phonemes = False  # whether "[[IPA]]" in the text is spoken as phonemes

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


def in_fresh_fork(produce: Callable[[], T]) -> T:
    """Call ``produce`` in a forked child of this process and return its result.

    For engines that carry state from one utterance into the next (espeak-ng:
    its pitch flutter and voicing phase). A clip made in a fork of a process
    whose engine is loaded but has not spoken starts from the same state
    every time, so it is the same bytes whichever worker makes it, after
    whatever it made before. A fork costs a few milliseconds, plus whatever
    memory the engine touches, faulted in again by every fork. A child that
    dies (a crash in the engine's C code) raises EngineCrashed, which the
    retry loop counts as a bad try, instead of taking its worker down.
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads running
        pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, then leave without cleanup
        status = 0
        try:
            os.close(read_end)
            try:
                answer = ("ok", produce())
            except Exception as exc:  # noqa: BLE001 - handed to the parent to raise
                answer = ("error", exc)
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(answer, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    try:
        outcome, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - an empty or cut answer: the child died
        raise EngineCrashed(f"a crash ({_exit_reason(status)})") from None
    if outcome == "error":
        raise value
    return value


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _load(target: str) -> type[Engine]:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def engine_targets() -> dict[str, str]:
    """Engine name -> 'module:Class', built-ins first, then installed plugins."""
    targets = dict(DEFAULT_ENGINES)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        targets.setdefault(entry.name, entry.value)
    return targets


def engine_class(name: str) -> type[Engine]:
    targets = engine_targets()
    if name not in targets:
        known = ", ".join(sorted(targets))
        raise EngineError(f"unknown engine {name!r}; installed engines: {known}")
    try:
        return _load(targets[name])
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
