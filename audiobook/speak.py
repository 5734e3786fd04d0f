"""Stage "speak": synthesize every segment, cached, in parallel worker processes.

Every clip an engine returns is untrusted (pyttsx3's espeak driver sometimes
writes nothing, or a truncated file): it must decode, not be silent, and last
about as long as its words need, or it is synthesized again; after
``ATTEMPTS`` bad tries the build stops with an error naming the segment.
Good clips are trimmed of edge silence (the plan sets the pauses), resampled
to 44.1 kHz, limited to a steady peak-to-loudness ratio, measured (true peak,
loudness energy profile) and stored in the content-addressed cache.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable

import numpy as np
from audiobook import loudness
from audiobook.cache import CacheEntry, ClipCache, clip_key
from audiobook.engines import Engine, load_engine
from audiobook.errors import EngineError
from audiobook.models import Clip, Script

SAMPLE_RATE = 44100
ATTEMPTS = 3
EDGE_THRESHOLD = 10 ** (-50 / 20)  # below -50 dBFS counts as silence at a clip's edges
EDGE_KEEP = 0.02  # seconds of the quiet edge kept, so onsets are not clipped
SILENT_PEAK = 10 ** (-40 / 20)  # a clip that never rises above -40 dBFS said nothing
# Peaks above a clip's loudness by more than this are limited, so the whole
# program can reach -16 LUFS with its true peak under the ceiling (mix.py).
CLIP_PEAK_TO_LOUDNESS = 12.0  # dB

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class ClipJob:
    key: str
    text: str
    voice: str
    rate: int


@dataclass
class Speech:
    """What speak hands to mix, plus the counts the summary reports."""

    clips: list[Clip]
    synthesized: int
    cached: int
    engine: str
    engine_version: str
    voice: str
    rate: int


def clip_problem(pcm: np.ndarray, sample_rate: int, text: str, rate: int) -> str | None:
    """Why a clip cannot be trusted, or None when it looks like speech of ``text``."""
    if pcm.size == 0:
        return "no audio"
    if np.abs(pcm).max() < SILENT_PEAK * 32768:
        return "silence"
    seconds = pcm.size / sample_rate
    expected = max(len(text.split()), 1) * 60.0 / rate
    if seconds < 0.3 * expected - 0.2:
        return f"{seconds:.2f} s of audio for ~{expected:.1f} s of words (truncated)"
    if seconds > 3.0 * expected + 3.0:
        return f"{seconds:.2f} s of audio for ~{expected:.1f} s of words (runaway)"
    return None


def prepare_clip(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    """Trim edge silence and resample to 44.1 kHz float32."""
    signal = pcm.astype(np.float32) / 32768.0
    loud = np.flatnonzero(np.abs(signal) > EDGE_THRESHOLD)
    keep = int(EDGE_KEEP * sample_rate)
    start, end = max(loud[0] - keep, 0), min(loud[-1] + 1 + keep, signal.size)
    signal = signal[start:end]
    if sample_rate != SAMPLE_RATE:
        import soxr

        signal = soxr.resample(signal, sample_rate, SAMPLE_RATE, "HQ")
    return np.clip(signal, -1.0, 32767 / 32768).astype(np.float32)


def render_clip(engine: Engine, job: ClipJob, cache: ClipCache) -> CacheEntry:
    """Synthesize one clip, check it, retry, and store it in the cache."""
    problem = None
    for _ in range(ATTEMPTS):
        pcm, sample_rate = engine.synthesize(job.text, job.voice, job.rate)
        problem = clip_problem(pcm, sample_rate, job.text, job.rate)
        if problem is None:
            break
    else:
        raise EngineError(
            f"{engine.name} gave {problem} {ATTEMPTS} times for {job.text[:60]!r}; "
            f"try another voice or engine, or report the text"
        )
    signal = prepare_clip(pcm, sample_rate)
    profile = loudness.energy_profile(signal)
    level = loudness.clip_loudness(profile)
    if np.isfinite(level):
        ceiling = 10 ** ((level + CLIP_PEAK_TO_LOUDNESS - 3.01) / 20)  # dual mono -> dBFS
        limited = loudness.limit_peaks(signal, ceiling)
        if limited is not signal:
            signal, profile = limited, loudness.energy_profile(limited)
    pcm44 = np.round(signal * 32768).clip(-32768, 32767).astype(np.int16)
    return cache.put(job.key, pcm44, SAMPLE_RATE,
                     loudness.true_peak(signal), [float(e) for e in profile])


# Worker-process state: one engine per worker, loaded once by the initializer.
_worker_engine: Engine | None = None
_worker_cache: ClipCache | None = None


def _init_worker(engine_name: str, cache_root: str) -> None:
    global _worker_engine, _worker_cache
    _worker_engine = load_engine(engine_name)
    _worker_cache = ClipCache(cache_root)


def _render_in_worker(job: ClipJob) -> tuple[str, CacheEntry]:
    return job.key, render_clip(_worker_engine, job, _worker_cache)


def open_pool(engine_name: str, cache: ClipCache, jobs: int) -> ProcessPoolExecutor:
    """Start the synthesis workers now, each loading its own engine once.

    Call this before this process starts any engine: the workers are forked
    (cheap, nothing re-imported), and espeak-ng runs a thread once it is
    initialised, so a child forked after that can deadlock in its first clip.
    """
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(engine_name, str(cache.root)),
    )
    pool.submit(int).result()  # with fork, the first task starts every worker
    return pool


def speak(
    script: Script,
    engine: Engine,
    voice: str,
    rate: int,
    cache: ClipCache,
    pool: ProcessPoolExecutor | None = None,
    progress: Progress | None = None,
) -> Speech:
    """Make sure every segment has a clip in the cache; synthesize what is missing."""
    version = engine.version()
    keys = [clip_key(engine.name, version, voice, rate, s.speech) for s in script.segments]
    entries: dict[str, CacheEntry] = {}
    missing: dict[str, ClipJob] = {}
    for key, segment in zip(keys, script.segments):
        found = entries.get(key) or cache.get(key)
        if found:
            entries[key] = found
        elif key not in missing:
            missing[key] = ClipJob(key, segment.speech, voice, rate)

    total, done = len(missing), 0
    report = progress or (lambda done, total: None)
    report(0, total)
    if pool is not None and total > 1:
        futures = [pool.submit(_render_in_worker, job) for job in missing.values()]
        try:
            for future in as_completed(futures):
                key, entry = future.result()
                entries[key] = entry
                done += 1
                report(done, total)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    else:
        for job in missing.values():
            entries[job.key] = render_clip(engine, job, cache)
            done += 1
            report(done, total)

    fresh = set(missing)
    clips = []
    seen_fresh: set[str] = set()
    for segment, key in zip(script.segments, keys):
        entry = entries[key]
        synthesized_now = key in fresh and key not in seen_fresh
        seen_fresh.add(key)
        clips.append(Clip(segment.index, entry.path, entry.samples, entry.peak, not synthesized_now, entry.profile))
    return Speech(
        clips=clips,
        synthesized=total,
        cached=len(script.segments) - total,
        engine=engine.name,
        engine_version=version,
        voice=voice,
        rate=rate,
    )
