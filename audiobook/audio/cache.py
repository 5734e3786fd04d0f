"""Content-addressed clip cache, shared by every show of the user.

A clip's key hashes everything that changes its sound: engine, engine
version, voice, rate, speech text and how clips are processed
(clips.processing_fingerprint). Entries are 44.1 kHz mono 16-bit WAVs with
a small JSON sidecar (length, true peak, loudness energy profile); both are
written atomically, the sidecar last, so an entry without a sidecar is
treated as absent.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from audiobook.fsutil import atomic_path, write_text_atomic

CACHE_ENV = "AUDIOBOOK_CACHE_DIR"


def default_cache_dir() -> Path:
    """$AUDIOBOOK_CACHE_DIR, else the user cache dir (honours XDG_CACHE_HOME)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    return platformdirs.user_cache_path("audiobook") / "clips"


def clip_key(engine: str, engine_version: str, voice: str, rate: int, text: str, processing: str) -> str:
    payload = json.dumps([engine, engine_version, voice, rate, text, processing], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    samples: int
    peak: float
    profile: np.ndarray  # float32: a book holds hundreds of thousands of these values


class ClipCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()

    def _wav(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> CacheEntry | None:
        wav = self._wav(key)
        try:
            sidecar = wav.with_suffix(".json")
            meta = json.loads(sidecar.read_text())
            if not wav.is_file():
                return None
            os.utime(sidecar)  # last use, for `audiobook cache prune --older-than`
            profile = np.asarray(meta["profile"], dtype=np.float32)
            return CacheEntry(wav, int(meta["samples"]), float(meta["peak"]), profile)
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, pcm: np.ndarray, sample_rate: int, peak: float, profile: np.ndarray) -> CacheEntry:
        wav = self._wav(key)
        wav.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(wav) as tmp:
            write_wav(tmp, pcm, sample_rate)
        profile = np.asarray(profile, dtype=np.float32)
        meta = {"samples": len(pcm), "peak": peak, "profile": [float(e) for e in profile]}
        write_text_atomic(wav.with_suffix(".json"), json.dumps(meta))
        return CacheEntry(wav, len(pcm), peak, profile)


@dataclass
class CacheStats:
    root: Path
    clips: int
    bytes: int


def cache_stats(cache: ClipCache) -> CacheStats:
    wavs = list(cache.root.glob("*/*.wav")) if cache.root.is_dir() else []
    size = sum(p.stat().st_size for p in cache.root.rglob("*") if p.is_file()) if wavs else 0
    return CacheStats(cache.root, len(wavs), size)


def prune_cache(cache: ClipCache, older_than_days: float) -> CacheStats:
    """Remove clips not used for ``older_than_days`` (0: all); return what went."""
    cutoff = time.time() - older_than_days * 86400
    removed = CacheStats(cache.root, 0, 0)
    for sidecar in cache.root.glob("*/*.json") if cache.root.is_dir() else []:
        if sidecar.stat().st_mtime > cutoff and older_than_days > 0:
            continue
        for path in (sidecar.with_suffix(".wav"), sidecar):  # the WAV first: no entry without it
            with contextlib.suppress(FileNotFoundError):
                removed.bytes += path.stat().st_size
                path.unlink()
        removed.clips += 1
    return removed


def write_wav(path: Path, pcm: np.ndarray, sample_rate: int) -> None:
    """Mono 16-bit WAV: the cache's format, and what `audiobook say` writes."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.astype("<i2").tobytes())


def read_clip(path: Path) -> np.ndarray:
    """A cached clip as float32 in [-1, 1]."""
    with wave.open(str(path), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32)
    samples /= 32768.0  # in place: a long clip is megabytes
    return samples
