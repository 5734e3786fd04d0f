"""Where clips are made: local worker processes, threads of this process (for
an engine that can speak on several at once), or a Dask cluster (cluster.py).

Speech hands its missing clips to a ClipWorkers in script order and takes
back each clip's cache entry; it does not care where the clip was made.
"""
from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Protocol

from audiobook.audio.cache import CacheEntry, ClipCache
from audiobook.audio.clips import ClipJob, render_clip
from audiobook.audio.engines import Engine, engine_started_here, load_engine, usable_engine_class
from audiobook.audio.memory import release_free_memory

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_POLL = 1.0  # seconds between looks at the parent where there is no death signal

# Worker-process state: one engine per worker, loaded once by the initializer.
_worker_engine: Engine | None = None
_worker_cache: ClipCache | None = None


def _init_worker(engine_name: str, cache_root: str, parent: int) -> None:
    global _worker_engine, _worker_cache
    _die_with(parent)
    _worker_engine = load_engine(engine_name)
    _worker_cache = ClipCache(cache_root)


def _die_with(parent: int) -> None:
    """End this worker when the build that started it dies, however it dies
    (kill -9, the OOM killer, a closed terminal): nothing else would, and an
    orphaned worker keeps its engine's memory for good.

    On Linux the kernel sends SIGKILL (PR_SET_PDEATHSIG, see
    https://man7.org/linux/man-pages/man2/prctl.2.html; strictly when the
    *thread* that started this process ends, which is why worker_pool starts
    every worker from the thread that opens it). The parent may have died
    before prctl ran, so its pid is checked once after. Elsewhere a daemon
    thread looks at the parent's pid every PARENT_POLL seconds. A worker's
    parent is always the build (fork or spawn, never forkserver).
    """
    if sys.platform.startswith("linux"):
        if ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _render_in_worker(job: ClipJob) -> CacheEntry:
    return _rendered(_worker_engine, job, _worker_cache)


def _rendered(engine: Engine, job: ClipJob, cache: ClipCache) -> CacheEntry:
    """The clip made and stored; the memory its arrays took handed back (a long clip's are tens of MB)."""
    entry = render_clip(engine, job, cache)
    release_free_memory()
    return entry


class ClipWorkers(Protocol):
    """What Speech needs of an executor: LocalWorkers or ThreadWorkers here, cluster.DaskWorkers on Dask."""

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


class ThreadWorkers:
    """The local executor of an engine that speaks on several threads at once
    (``Engine.speaks_on_threads``): one engine, its model loaded once, shared
    by ``jobs`` threads of this process. Piper's model is 150 MB in memory
    with onnxruntime and Python around it; with two worker processes holding
    it twice a cold build of the seed peaked at 660 MB summed over its
    processes, with two threads at 480-510 MB, and took no longer.
    """

    def __init__(self, engine_name: str, jobs: int, cache: ClipCache) -> None:
        self._engine = load_engine(engine_name)  # loads its model at the first clip
        self._cache = cache
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="synthesis")

    def submit(self, job: ClipJob) -> Future:
        """A future of the clip's CacheEntry."""
        return self._pool.submit(_rendered, self._engine, job, self._cache)

    def shutdown(self) -> None:
        """Wait for the clips being made; then the engine and its model go (a build --proof
        loads the recogniser next), not when the last reference to these workers does."""
        self._pool.shutdown(cancel_futures=True)
        self._engine = None
        release_free_memory()


@contextlib.contextmanager
def worker_pool(engine_name: str, jobs: int, cache: ClipCache | None = None):
    """Local synthesis workers, each loading its own engine once (LocalWorkers),
    or threads sharing one (ThreadWorkers); None for one job.

    Best opened before this process starts any engine: the workers are then
    forked (cheap, and they share what is loaded; spawned ones cost a cold
    build 0.3 s and 20-30 MB more). A process that already started an
    engine (whose libraries may run threads, which a fork does not take
    along) gets spawned workers. Either way they die with this process.
    """
    if jobs <= 1:
        yield None
        return
    # Say why an engine cannot run here, not as a broken pool later.
    if usable_engine_class(engine_name).speaks_on_threads:
        threads = ThreadWorkers(engine_name, jobs, cache or ClipCache())
        try:
            yield threads
        finally:
            threads.shutdown()
        return
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn" if engine_started_here() else "fork"),
        initializer=_init_worker,
        initargs=(engine_name, str((cache or ClipCache()).root), os.getpid()),
    )
    try:
        # Starts every worker now, from this thread (see _die_with): a forking
        # pool starts them all at its first task, a spawning one one per task
        # while none is idle.
        for _ in range(jobs):
            pool.submit(int)
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
