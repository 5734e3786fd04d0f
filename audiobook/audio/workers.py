"""Where clips are made: local worker processes, or a Dask cluster (cluster.py).

Speech hands its missing clips to a ClipWorkers in script order and takes
back each clip's cache entry; it does not care where the clip was made.
"""
from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Protocol

from audiobook.audio.cache import CacheEntry, ClipCache
from audiobook.audio.clips import ClipJob, render_clip
from audiobook.audio.engines import Engine, engine_started_here, load_engine, usable_engine_class
from audiobook.audio.memory import release_free_memory

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
