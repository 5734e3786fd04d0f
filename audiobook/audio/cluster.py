"""The Dask executor: synthesis on a dask.distributed cluster (``audiobook[cluster]``).

``--executor dask --scheduler ADDRESS`` sends every clip to the workers of
an existing cluster; ``--executor dask`` alone starts a LocalCluster on this
machine. Workers need audiobook and the engine installed, nothing else: a
task takes the clip's text, voice and rate and sends back the finished clip
(PCM, true peak, loudness profile), which this process stores in its own
cache. So the workers share no disk with this machine, and since an engine
gives the same samples for the same text whatever it said before (see
Engine.synthesize) the clips, the cache and the episode are the same bytes
as with local worker processes.
A worker whose engine version or processing fingerprint (processing
revision and constants, numpy and soxr versions, kind of CPU) differs from
this machine's could make other bytes under the same cache key, so its
clips are refused (clips.renderer says what must match).
"""
from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import Future, InvalidStateError

from audiobook.audio.cache import ClipCache
from audiobook.audio.engines import Engine, load_engine
from audiobook.errors import AudiobookError, ConfigError, EngineError, OutputError
from audiobook.audio.memory import release_free_memory
from audiobook.audio.clips import ClipJob, Rendered, render, renderer

CONNECT_TIMEOUT = "10s"
INSTALL_HINT = "pip install 'audiobook[cluster]'"

_thread_engines = threading.local()  # a Dask worker may run tasks in several threads


def render_on_worker(engine_name: str, job: ClipJob) -> Rendered:
    """The task a Dask worker runs: one clip, with an engine loaded once per thread."""
    engines: dict[str, Engine] = getattr(_thread_engines, "loaded", None) or {}
    _thread_engines.loaded = engines
    if engine_name not in engines:
        engines[engine_name] = load_engine(engine_name)
    rendered = render(engines[engine_name], job)
    release_free_memory()
    return rendered


class DaskWorkers:
    """Sends clips to a Dask cluster; each arriving clip is stored in the local cache."""

    def __init__(self, client, engine_name: str, made_here: str, cache: ClipCache) -> None:
        self._client, self._engine_name, self._made_here, self._cache = client, engine_name, made_here, cache
        self._pending: dict[str, object] = {}  # a Dask future nobody holds is cancelled
        self._lock = threading.Lock()

    def submit(self, job: ClipJob) -> Future:
        """A future of the clip's CacheEntry, set once the clip is back and stored."""
        done: Future = Future()
        remote = self._client.submit(render_on_worker, self._engine_name, job, pure=False)
        with self._lock:
            self._pending[remote.key] = remote
        remote.add_done_callback(lambda finished: self._arrive(finished, job, done))
        return done

    def _arrive(self, remote, job: ClipJob, done: Future) -> None:
        with self._lock:
            self._pending.pop(remote.key, None)
        try:
            outcome = self._store(remote.result(), job)
        except AudiobookError as exc:
            outcome = exc
        except Exception as exc:  # noqa: BLE001 - a worker's failure, told in one line
            outcome = EngineError(f"a Dask worker failed on {job.text[:40]!r}: "
                                  f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(InvalidStateError):  # the build stopped waiting for it
            if isinstance(outcome, BaseException):
                done.set_exception(outcome)
            else:
                done.set_result(outcome)

    def _store(self, rendered: Rendered, job: ClipJob):
        if rendered.renderer != self._made_here:
            raise EngineError(
                f"a Dask worker renders with {rendered.renderer!r}, this machine with {self._made_here!r}: "
                f"its clips would not match; install the same versions on every worker")
        try:
            return rendered.store(self._cache, job.key)
        except OSError as exc:
            raise OutputError(f"cannot write to the clip cache {self._cache.root}: {exc.strerror or exc}") from None

    def shutdown(self) -> None:
        """No more clips will be asked for: cancel what is still pending (the
        cluster itself closes when the executor's context ends)."""
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        if pending:
            self._client.cancel(pending)


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ConfigError(f"the dask executor needs dask.distributed ({INSTALL_HINT})") from None
    return distributed


@contextlib.contextmanager
def dask_workers(engine_name: str, jobs: int, scheduler: str | None, cache: ClipCache):
    """A client of the cluster at ``scheduler``, or of a new LocalCluster of ``jobs`` workers."""
    distributed = _distributed()
    made_here = renderer(load_engine(engine_name))
    with contextlib.ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(distributed.Client(scheduler, timeout=CONNECT_TIMEOUT))
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        else:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=jobs, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR))
            client = stack.enter_context(distributed.Client(cluster))
        workers = DaskWorkers(client, engine_name, made_here, cache)
        try:
            yield workers
        finally:
            workers.shutdown()
