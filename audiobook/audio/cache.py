"""Content-addressed clip cache, shared by every show of the user.

A clip's key hashes everything that changes its sound: engine, engine
version, voice, rate, speech text and how clips are processed
(clips.processing_fingerprint). Entries are 44.1 kHz mono 16-bit WAVs with
a small JSON sidecar (length, CRC-32 of the PCM, true peak, loudness energy
profile, where each word starts); both are written atomically, the sidecar last, so an entry whose
sidecar is missing or unreadable is treated as absent. A WAV is never
trusted: ``read_checked`` verifies it against its sidecar.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import wave
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from audiobook.audio.loudness import SAMPLE_RATE
from audiobook.fsutil import atomic_path, remove_stale_temp_files, write_text_atomic

CACHE_ENV = "AUDIOBOOK_CACHE_DIR"


def default_cache_dir() -> Path:
    """$AUDIOBOOK_CACHE_DIR, else the user cache dir (honours XDG_CACHE_HOME)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    return platformdirs.user_cache_path("audiobook") / "clips"


def cache_beside_clips(name: str) -> Path:
    """Another cache of the user's next to the clips' (proofs heard, prepared models):
    ~/.cache/audiobook/NAME, or _NAME inside $AUDIOBOOK_CACHE_DIR (never beside it, where
    the user did not say audiobook may write; no clip folder starts with "_")."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) / f"_{name}" if override else default_cache_dir().parent / name


def clip_key(engine: str, engine_version: str, voice: str, rate: int, text: str, processing: str) -> str:
    payload = json.dumps([engine, engine_version, voice, rate, text, processing], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    samples: int
    peak: float
    profile: np.ndarray  # float32: a book holds hundreds of thousands of these values
    crc32: int  # of the PCM as stored (little-endian int16)
    words: tuple[tuple[int, int], ...] = ()  # (offset in the speech text, first sample) of each word


class DamagedClip(Exception):
    """A cached WAV that does not hold what its sidecar says; the message says how."""


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
            if meta["measures_crc32"] != _measures_crc(meta):
                return None  # a damaged sidecar: the clip is made again
            profile = np.asarray(meta["profile"], dtype=np.float32)
            words = tuple((int(offset), int(start)) for offset, start in meta["words"])
            return CacheEntry(wav, int(meta["samples"]), float(meta["peak"]), profile, int(meta["crc32"]), words)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, pcm: np.ndarray, sample_rate: int, peak: float, profile: np.ndarray,
            words: tuple[tuple[int, int], ...] = ()) -> CacheEntry:
        wav = self._wav(key)
        wav.parent.mkdir(parents=True, exist_ok=True)
        pcm = np.ascontiguousarray(pcm, dtype="<i2")
        # Not durable: syncing doubles or triples the cost of a put (4 fsyncs) and a
        # book writes thousands. Safe, because an entry torn by a power cut fails its
        # checksum on read and is made again, never trusted; only time is lost.
        with atomic_path(wav, durable=False) as tmp:
            write_wav(tmp, pcm, sample_rate)
        profile = np.asarray(profile, dtype=np.float32)
        crc = zlib.crc32(pcm)
        words = tuple((int(offset), int(start)) for offset, start in words)
        meta = {"samples": len(pcm), "crc32": crc, "peak": peak, "profile": [float(e) for e in profile],
                "words": [list(word) for word in words]}
        meta["measures_crc32"] = _measures_crc(meta)
        write_text_atomic(wav.with_suffix(".json"), json.dumps(meta), durable=False)
        return CacheEntry(wav, len(pcm), peak, profile, crc, words)


def _measures_crc(meta: dict) -> int:
    """CRC-32 of what the sidecar says about the clip: its length and checksum, the
    true peak and loudness profile that set its gain in the mix, and its word starts."""
    return zlib.crc32(json.dumps([meta["samples"], meta["crc32"], meta["peak"], meta["profile"],
                                  meta["words"]]).encode())


@dataclass
class CacheStats:
    root: Path
    clips: int
    bytes: int
    temp_files: int = 0  # left by runs killed while writing an entry


def cache_stats(cache: ClipCache) -> CacheStats:
    wavs = list(cache.root.glob("*/*.wav")) if cache.root.is_dir() else []
    size = sum(p.stat().st_size for p in cache.root.rglob("*") if p.is_file()) if wavs else 0
    return CacheStats(cache.root, len(wavs), size)


def prune_cache(cache: ClipCache, older_than_days: float) -> CacheStats:
    """Remove clips not used for ``older_than_days`` (0: all), and the temp
    files of dead runs; return what went."""
    cutoff = time.time() - older_than_days * 86400
    removed = CacheStats(cache.root, 0, 0, remove_stale_temp_files(cache.root))
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


def read_checked(path: Path, samples: int, crc32: int) -> np.ndarray:
    """A cached clip's samples (int16), or DamagedClip when the WAV at ``path`` is
    not the ``samples`` samples of checksum ``crc32`` that were stored.

    CRC-32, not a cryptographic hash: it catches a cut or flipped file, and
    runs at 4 GB/s here where sha256 runs at 1.7 and blake2b at 0.8 (a book
    is gigabytes of PCM, read again on every build).
    """
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, SAMPLE_RATE):
                raise DamagedClip(f"not {SAMPLE_RATE} Hz mono 16-bit")
            frames = wav.readframes(samples + 1)
    except OSError as exc:
        raise DamagedClip(f"unreadable: {exc.strerror or exc}") from None
    except (EOFError, wave.Error) as exc:
        raise DamagedClip(f"not a WAV file: {str(exc) or 'cut short'}") from None
    if len(frames) != 2 * samples:
        raise DamagedClip(f"{len(frames) // 2} samples where {samples} were stored")
    if zlib.crc32(frames) != crc32:
        raise DamagedClip("checksum mismatch")
    return np.frombuffer(frames, dtype="<i2")


def to_float(pcm: np.ndarray) -> np.ndarray:
    """16-bit samples as float32 in [-1, 1]."""
    samples = pcm.astype(np.float32)
    samples /= 32768.0  # in place: a long clip is megabytes
    return samples
