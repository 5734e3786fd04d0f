"""The Dask executor (audiobook/cluster.py): the same bytes as local workers.

The end-to-end tests build field-notes with the real pyttsx3 engine, each
in an empty clip cache of its own, so every clip is synthesized by the
executor under test: in this process (--jobs 1), by local worker processes,
by a LocalCluster the CLI starts, and by a cluster reached at its scheduler
address. The MP3 and every cache file must be the same bytes.
"""
from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest

from audiobook.audio import cluster
from audiobook.audio.cache import ClipCache
from audiobook.errors import ConfigError, EngineError, OutputError
from audiobook.audio.clips import ClipJob, Rendered
from conftest import FIELD_NOTES, cli_env, requires_pipeline, run_cli, sha256, summary_counts, tree_digest

distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")


def _build(tmp_path, name: str, *flags: str) -> SimpleNamespace:
    show, cache = tmp_path / name / "show", tmp_path / name / "clips"
    result = run_cli("build", FIELD_NOTES, "--show", show, "--engine", "pyttsx3", *flags,
                     cwd=tmp_path, env=cli_env(AUDIOBOOK_CACHE_DIR=str(cache)))
    assert result.returncode == 0, result.stderr
    synthesized, cached = summary_counts(result.stdout)
    assert (synthesized, cached) == (32, 0), "every clip must come from the executor under test"
    mp3 = show / "episodes" / "field-notes.mp3"
    return SimpleNamespace(mp3=sha256(mp3), cache=tree_digest(cache), stderr=result.stderr)


@pytest.fixture(scope="module")
def local_build(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("local"), "local", "--jobs", "2")


@pytest.mark.e2e
@requires_pipeline
def test_a_dask_local_cluster_makes_the_same_bytes_as_local_workers(local_build, tmp_path):
    on_dask = _build(tmp_path, "dask", "--executor", "dask", "--jobs", "2")
    assert "synthesizing on Dask: a new LocalCluster of 2 workers" in on_dask.stderr
    assert on_dask.mp3 == local_build.mp3
    assert on_dask.cache == local_build.cache
    assert len(on_dask.cache) == 2 * 32  # a WAV and its sidecar per clip


@pytest.mark.e2e
@requires_pipeline
def test_a_cluster_reached_at_its_scheduler_address_makes_the_same_bytes(local_build, tmp_path):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as running:
        remote = _build(tmp_path, "remote", "--scheduler", running.scheduler_address)
        with distributed.Client(running) as client:
            seen = client.run(lambda: sys.modules.get("audiobook.audio.cluster") is not None)
    assert f"synthesizing on Dask: {running.scheduler_address}" in remote.stderr
    assert any(seen.values()), "no worker of the cluster ran a clip"
    assert remote.mp3 == local_build.mp3
    assert remote.cache == local_build.cache


@pytest.mark.e2e
@requires_pipeline
def test_one_worker_in_this_process_makes_the_same_bytes(local_build, tmp_path):
    assert _build(tmp_path, "serial", "--jobs", "1").mp3 == local_build.mp3


@requires_pipeline
def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path):
    result = run_cli("build", FIELD_NOTES, "--show", tmp_path / "show", "--engine", "pyttsx3",
                     "--scheduler", "tcp://127.0.0.1:9", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "audiobook: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "show" / "episodes").exists()


def test_an_unknown_executor_is_refused(tmp_path):
    result = run_cli("build", FIELD_NOTES, "--show", tmp_path / "show", cwd=tmp_path,
                     env=cli_env(AUDIOBOOK_EXECUTOR="spark"))
    assert result.returncode == 2
    assert "AUDIOBOOK_EXECUTOR: must be one of local, dask, got 'spark'" in result.stderr


def test_without_the_cluster_extra_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ConfigError, match=r"pip install 'audiobook\[cluster\]'"):
        cluster._distributed()


class Arrived:
    """What DaskWorkers needs of a finished Dask future."""

    key = "render_on_worker-1"

    def __init__(self, value=None, error: Exception | None = None) -> None:
        self.value, self.error = value, error

    def result(self):
        if self.error:
            raise self.error
        return self.value


def _rendered(made_by: str) -> Rendered:
    return Rendered(np.full(441, 1000, np.int16), 0.05, np.ones(1, np.float32), made_by)


JOB = ClipJob("ab" * 32, "A sentence from the essay.", "gmw/en-us", 175)


def test_an_arriving_clip_is_stored_in_this_machines_cache(tmp_path):
    from concurrent.futures import Future

    workers = cluster.DaskWorkers(client=None, engine_name="pyttsx3", made_here="v1",
                                  cache=ClipCache(tmp_path))
    done = Future()
    workers._arrive(Arrived(_rendered("v1")), JOB, done)
    entry = done.result()
    assert entry.path == tmp_path / "ab" / f"{JOB.key}.wav" and entry.samples == 441
    assert ClipCache(tmp_path).get(JOB.key).peak == 0.05


def test_a_clip_made_with_other_versions_is_refused(tmp_path):
    from concurrent.futures import Future

    workers = cluster.DaskWorkers(None, "pyttsx3", "espeak-ng 1.51; numpy 2.3", ClipCache(tmp_path))
    done = Future()
    workers._arrive(Arrived(_rendered("espeak-ng 1.51; numpy 1.26")), JOB, done)
    with pytest.raises(EngineError, match="renders with 'espeak-ng 1.51; numpy 1.26', this machine with "
                                          "'espeak-ng 1.51; numpy 2.3'"):
        done.result()
    assert ClipCache(tmp_path).get(JOB.key) is None


def test_a_cache_that_cannot_be_written_is_an_output_error_not_a_workers_fault(tmp_path):
    from concurrent.futures import Future

    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    workers = cluster.DaskWorkers(None, "pyttsx3", "v1", ClipCache(blocked))
    done = Future()
    workers._arrive(Arrived(_rendered("v1")), JOB, done)
    with pytest.raises(OutputError, match="cannot write to the clip cache"):
        done.result()


def test_a_scheduler_alone_means_the_dask_executor(tmp_path):
    from audiobook.settings import read_layers

    settings = read_layers(tmp_path, {}, environ={"AUDIOBOOK_SCHEDULER": "tcp://10.0.0.5:8786"}).resolve()
    assert settings.executor == "dask"
    assert settings.source("executor") == "scheduler from AUDIOBOOK_SCHEDULER"
    chosen = read_layers(tmp_path, {"executor": "local"},
                         environ={"AUDIOBOOK_SCHEDULER": "tcp://10.0.0.5:8786"}).resolve()
    assert chosen.executor == "local"


def test_a_workers_crash_becomes_one_engine_error(tmp_path):
    from concurrent.futures import Future

    workers = cluster.DaskWorkers(None, "pyttsx3", "v1", ClipCache(tmp_path))
    done = Future()
    workers._arrive(Arrived(error=ModuleNotFoundError("No module named 'audiobook'")), JOB, done)
    with pytest.raises(EngineError, match="a Dask worker failed on 'A sentence from the essay.': "
                                          "ModuleNotFoundError: No module named 'audiobook'"):
        done.result()
