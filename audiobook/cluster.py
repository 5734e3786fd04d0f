"""The Dask executor: synthesis on a dask.distributed cluster (``audiobook[cluster]``).

``--executor dask --scheduler ADDRESS`` sends every clip to the workers of
an existing cluster; ``--executor dask`` alone starts a LocalCluster on this
machine. Workers need audiobook and the engine installed, nothing else: a
task takes the clip's text, voice and rate and sends back the finished clip
(PCM, true peak, loudness profile), which this process stores in its own
cache. So the workers share no disk with this machine, and since engines
speak every clip from a fresh state (engines.in_fresh_fork) the clips, the
cache and the episode are the same bytes as with local worker processes.
A worker whose engine version differs from this machine's would make
different clips under the same cache key, so its clips are refused.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import Future, InvalidStateError

from audiobook.cache import ClipCache
from audiobook.engines import Engine, load_engine, usable_engine_class
from audiobook.errors import AudiobookError, ConfigError, EngineError
from audiobook.memory import release_free_memory
from audiobook.speak import ClipJob, Rendered, render

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

    def __init__(self, client, engine_name: str, engine_version: str, cache: ClipCache) -> None:
        self._client, self._engine_name, self._version, self._cache = client, engine_name, engine_version, cache
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
            rendered = remote.result()
            if rendered.engine_version != self._version:
                raise EngineError(
                    f"a Dask worker runs {rendered.engine_version}, this machine {self._version}: "
                    f"its clips would not match; install the same engine version on every worker")
            outcome = rendered.store(self._cache, job.key)
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

    def shutdown(self) -> None:
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
    usable_engine_class(engine_name)  # this machine keys the clips, so it needs the engine too
    version = load_engine(engine_name).version()
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
        workers = DaskWorkers(client, engine_name, version, cache)
        try:
            yield workers
        finally:
            workers.shutdown()
