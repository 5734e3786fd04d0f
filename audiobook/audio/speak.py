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

import collections
import contextlib
import functools
import multiprocessing
import platform
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

import numpy as np
from audiobook import __version__
from audiobook.audio import loudness
from audiobook.audio.cache import CacheEntry, ClipCache, clip_key, write_wav
from audiobook.audio.engines import Engine, engine_started_here, load_engine, usable_engine_class
from audiobook.errors import EngineCrashed, EngineError
from audiobook.audio.loudness import SAMPLE_RATE
from audiobook.audio.memory import release_free_memory
from audiobook.models import QUOTE_ROLE, Clip, Script

ATTEMPTS = 3
EDGE_THRESHOLD = 10 ** (-50 / 20)  # below -50 dBFS counts as silence at a clip's edges
EDGE_KEEP = 0.02  # seconds of the quiet edge kept, so onsets are not clipped
SILENT_PEAK = 10 ** (-40 / 20)  # a clip that never rises above -40 dBFS said nothing
# Peaks above a clip's loudness by more than this are limited, so the whole
# program can reach -16 LUFS with its true peak under the ceiling (mix.py).
CLIP_PEAK_TO_LOUDNESS = 12.0  # dB

Progress = Callable[[int, int], None]  # (done, total)
# Clips sent to the workers ahead of the one being mixed: enough to keep a
# cluster busy, few enough that a book's futures do not pile up in memory.
AHEAD = 256


@dataclass(frozen=True)
class ClipJob:
    key: str
    text: str
    voice: str
    rate: int


def clip_problem(pcm: np.ndarray, sample_rate: int, text: str, rate: int) -> str | None:
    """Why a clip cannot be trusted, or None when it looks like speech of ``text``."""
    if pcm.size == 0:
        return "no audio"
    if np.abs(pcm).max() < SILENT_PEAK * 32768:
        return "silence"
    seconds = pcm.size / sample_rate
    # Long tokens (URLs, a run of letters) take longer than their word count says.
    expected = max(len(text.split()), len(text) / 8, 1) * 60.0 / rate
    if seconds < 0.3 * expected - 0.2:
        return f"{seconds:.2f} s of audio for ~{expected:.1f} s of words (truncated)"
    if seconds > 3.0 * expected + 3.0:
        return f"{seconds:.2f} s of audio for ~{expected:.1f} s of words (runaway)"
    return None


def prepare_clip(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    """Trim edge silence and resample to 44.1 kHz float32."""
    signal = pcm.astype(np.float32)
    signal /= 32768.0
    loud = np.flatnonzero(np.abs(signal) > EDGE_THRESHOLD)
    keep = int(EDGE_KEEP * sample_rate)
    start, end = max(loud[0] - keep, 0), min(loud[-1] + 1 + keep, signal.size)
    signal = signal[start:end]
    if sample_rate != SAMPLE_RATE:
        import soxr

        signal = soxr.resample(signal, sample_rate, SAMPLE_RATE, "HQ")
    signal = np.asarray(signal, dtype=np.float32)  # ours either way: edited in place
    return np.clip(signal, -1.0, 32767 / 32768, out=signal)


def synthesize_checked(engine: Engine, text: str, voice: str, rate: int) -> tuple[np.ndarray, int]:
    """Synthesize, check the clip, retry; fail loudly if it stays wrong."""
    problem = None
    for _ in range(ATTEMPTS):
        try:
            pcm, sample_rate = engine.synthesize(text, voice, rate)
        except EngineCrashed as crash:
            problem = str(crash)
            continue
        problem = clip_problem(pcm, sample_rate, text, rate)
        if problem is None:
            return pcm, sample_rate
    raise EngineError(
        f"{engine.name} gave {problem} {ATTEMPTS} times for {text[:60]!r}; "
        f"try another voice or engine, or report the text"
    )


@dataclass(frozen=True)
class Rendered:
    """A clip ready for the cache: what a worker on another machine sends back."""

    pcm: np.ndarray  # int16 at SAMPLE_RATE
    peak: float  # true peak, linear
    profile: np.ndarray  # loudness energy per 100 ms block (loudness.energy_profile)
    renderer: str  # what made it (renderer()): the clip's key assumes this machine's

    def store(self, cache: ClipCache, key: str) -> CacheEntry:
        return cache.put(key, self.pcm, SAMPLE_RATE, self.peak, self.profile)


def render(engine: Engine, job: ClipJob) -> Rendered:
    """Synthesize one clip, check it, retry; trim, resample, limit and measure it."""
    pcm, sample_rate = synthesize_checked(engine, job.text, job.voice, job.rate)
    signal = prepare_clip(pcm, sample_rate)
    profile = loudness.energy_profile(signal)
    level = loudness.clip_loudness(profile)
    if np.isfinite(level):
        ceiling = 10 ** ((level + CLIP_PEAK_TO_LOUDNESS - 3.01) / 20)  # dual mono -> dBFS
        limited = loudness.limit_peaks(signal, ceiling)
        if limited is not signal:
            signal, profile = limited, loudness.energy_profile(limited)
    peak = loudness.true_peak(signal)
    signal *= 32768  # in place: a long clip's copies are what a worker's memory peaks on
    np.round(signal, out=signal)
    pcm44 = np.clip(signal, -32768, 32767, out=signal).astype(np.int16)
    return Rendered(pcm44, peak, profile, renderer(engine))


@functools.lru_cache(maxsize=8)
def renderer(engine: Engine) -> str:
    """What a clip's bytes depend on besides its key (text, voice, rate, engine
    version): this code, its numeric libraries and the kind of CPU."""
    import soxr

    return (f"{engine.version()}; audiobook {__version__}; numpy {np.__version__}; "
            f"soxr {soxr.__version__}; {platform.machine()}")


def render_clip(engine: Engine, job: ClipJob, cache: ClipCache) -> CacheEntry:
    """Render one clip and store it in the cache."""
    return render(engine, job).store(cache, job.key)


# Worker-process state: one engine per worker, loaded once by the initializer.
_worker_engine: Engine | None = None
_worker_cache: ClipCache | None = None


def _init_worker(engine_name: str, cache_root: str) -> None:
    global _worker_engine, _worker_cache
    _worker_engine = load_engine(engine_name)
    _worker_cache = ClipCache(cache_root)


def _render_in_worker(job: ClipJob) -> CacheEntry:
    entry = render_clip(_worker_engine, job, _worker_cache)
    release_free_memory()
    return entry


class ClipWorkers(Protocol):
    """What Speech needs of an executor: LocalWorkers here, cluster.DaskWorkers on Dask."""

    def submit(self, job: ClipJob) -> Future:
        """A future of the clip's CacheEntry, set once the clip is in the cache."""

    def shutdown(self) -> None:
        """No more clips will be asked for: local workers exit, Dask tasks still
        pending are cancelled."""


class LocalWorkers:
    """The local executor: synthesis worker processes on this machine, each
    loading its engine once and writing its clips straight into the cache."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self._pool = pool

    def submit(self, job: ClipJob) -> Future:
        """A future of the clip's CacheEntry."""
        return self._pool.submit(_render_in_worker, job)

    def shutdown(self) -> None:
        self._pool.shutdown(cancel_futures=True)


@contextlib.contextmanager
def worker_pool(engine_name: str, jobs: int, cache: ClipCache | None = None):
    """Local synthesis workers (LocalWorkers), each loading its own engine once; None for one job.

    Best opened before this process starts any engine, and before it imports
    what only the main process needs: the workers are then forked (cheap, and
    they share what is loaded). A process that already started an engine
    (whose libraries may run threads, which a fork does not take along) gets
    forkserver workers.
    """
    if jobs <= 1:
        yield None
        return
    usable_engine_class(engine_name)  # say why here, not as a broken pool later
    context = multiprocessing.get_context("forkserver" if engine_started_here() else "fork")
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(engine_name, str((cache or ClipCache()).root)),
    )
    try:
        pool.submit(int).result()  # with fork, the first task starts every worker
        yield LocalWorkers(pool)
    finally:
        pool.shutdown(cancel_futures=True)


@contextlib.contextmanager
def executor(name: str, engine_name: str, jobs: int, scheduler: str | None = None,
             cache: ClipCache | None = None):
    """Where clips are synthesized: "local" worker processes, or "dask" (a
    cluster at ``scheduler``, or a LocalCluster of ``jobs`` workers)."""
    if name == "dask":
        from audiobook.audio.cluster import dask_workers

        with dask_workers(engine_name, jobs, scheduler, cache or ClipCache()) as workers:
            yield workers
    else:
        with worker_pool(engine_name, jobs, cache) as workers:
            yield workers


class Speech:
    """Clips for every segment of a script, handed out in order as they are ready.

    Clips found in the cache are ready at once; the missing ones go to the
    workers in script order, at most ``AHEAD`` beyond the clip being mixed
    (a future and its answer per clip of a whole book would pile up in this
    process), or, without workers, are synthesized here one by one as
    iteration reaches them. Mixing and encoding run while synthesis goes on.
    """

    def __init__(self, script: Script, engine: Engine, voice: str, rate: int, cache: ClipCache,
                 pool: ClipWorkers | None = None, progress: Progress | None = None,
                 quote_voice: str | None = None) -> None:
        self.script, self.engine, self.voice, self.rate, self.cache = script, engine, voice, rate, cache
        self.quote_voice = quote_voice or voice
        self.engine_name, self.engine_version = engine.name, engine.version()
        voices = [self.quote_voice if s.role == QUOTE_ROLE else voice for s in script.segments]
        self.keys = [clip_key(self.engine_name, self.engine_version, v, rate, s.speech)
                     for v, s in zip(voices, script.segments)]
        self._entries: dict[str, CacheEntry] = {}
        self._missing: dict[str, ClipJob] = {}
        for key, segment, segment_voice in zip(self.keys, script.segments, voices):
            found = self._entries.get(key) or cache.get(key)
            if found:
                self._entries[key] = found
            elif key not in self._missing:
                self._missing[key] = ClipJob(key, segment.speech, segment_voice, rate)
        self.synthesized = len(self._missing)
        self.cached = len(script.segments) - self.synthesized
        self._report = progress or (lambda done, total: None)
        self._done = 0
        self._lock = threading.Lock()
        self._report(0, self.synthesized)
        self._futures: dict[str, Future] = {}  # sent to the workers, not yet taken
        self._uses_left = collections.Counter(self.keys)  # entries go once their last use is past
        self._pool = pool
        self._unsent = collections.deque(self._missing.values() if pool is not None and self.synthesized > 1
                                         else ())
        self._send()

    def _send(self) -> None:
        while self._unsent and len(self._futures) < AHEAD:
            job = self._unsent.popleft()
            self._futures[job.key] = future = self._pool.submit(job)
            future.add_done_callback(self._count)

    def _count(self, future: Future | None = None) -> None:
        with self._lock:
            self._done += 1
            self._report(self._done, self.synthesized)

    def _entry(self, key: str) -> CacheEntry:
        if key not in self._entries:
            if key in self._futures:
                self._entries[key] = self._futures.pop(key).result()
                self._send()
            else:
                self._entries[key] = render_clip(self.engine, self._missing[key], self.cache)
                self._count()
        return self._entries[key]

    def __iter__(self) -> Iterator[Clip]:
        fresh = set(self._missing)
        try:
            for segment, key in zip(self.script.segments, self.keys):
                entry = self._entry(key)
                yield Clip(segment.index, entry.path, entry.samples, entry.peak, key not in fresh,
                           entry.profile)
                fresh.discard(key)
                self._uses_left[key] -= 1
                if not self._uses_left[key]:
                    self._entries.pop(key)
        finally:
            self._unsent.clear()
            for future in self._futures.values():
                future.cancel()
