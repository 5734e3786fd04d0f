"""fsutil: files the user keeps reach the disk before they replace the old ones, and the
temp files of killed runs are removed, never those of a live one."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audiobook import fsutil
from conftest import CLI_TIMEOUT, SEED, cli_env, run_cli, tools_missing


def _record_syncs(monkeypatch) -> list[tuple[str, str]]:
    """Every os.fsync (the path its descriptor names) and os.replace (the source), in order."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst, **kwargs):
        events.append(("replace", str(src)))
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def test_the_temp_file_is_synced_before_the_rename_and_its_folder_after(tmp_path, monkeypatch):
    events = _record_syncs(monkeypatch)
    target = tmp_path / "episode.mp3"
    with fsutil.atomic_path(target) as partial:
        # another process writes the temp file by its path, as ffmpeg does
        subprocess.run([sys.executable, "-c", "import sys; open(sys.argv[1], 'wb').write(b'audio')",
                        str(partial)], check=True)
    assert events == [("fsync", str(partial)), ("replace", str(partial)), ("fsync", str(tmp_path))]
    assert target.read_bytes() == b"audio"


def test_written_bytes_and_text_are_synced_too(tmp_path, monkeypatch):
    events = _record_syncs(monkeypatch)
    fsutil.write_bytes_atomic(tmp_path / "cover.jpg", b"\xff\xd8")
    fsutil.write_text_atomic(tmp_path / "feed.xml", "<rss/>")
    kinds = [kind for kind, _ in events]
    paths = [Path(path) for _, path in events]
    assert kinds == ["fsync", "replace", "fsync"] * 2
    assert paths[0] == paths[1] and paths[0].name.startswith(".cover.jpg.") and paths[2] == tmp_path
    assert paths[3] == paths[4] and paths[3].name.startswith(".feed.xml.") and paths[5] == tmp_path


def test_a_failed_write_syncs_and_replaces_nothing(tmp_path, monkeypatch):
    events = _record_syncs(monkeypatch)
    target = tmp_path / "feed.xml"
    target.write_text("old")
    try:
        with fsutil.atomic_path(target) as partial:
            partial.write_text("half")
            raise RuntimeError("stop")
    except RuntimeError:
        pass
    assert events == [] and target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


# --- temp files of dead runs --------------------------------------------------------

# Holds atomic_path(argv[1]) open, as a slow build would, until a line arrives on stdin.
WRITER = """
import sys
from pathlib import Path
from audiobook.fsutil import atomic_path

with atomic_path(Path(sys.argv[1])) as partial:
    partial.write_text("written while a cleanup ran")
    print(partial, flush=True)
    sys.stdin.readline()
"""


@contextlib.contextmanager
def live_writer(target: Path):
    """A process in the middle of atomic_path(target): yields its temp file's path."""
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], env=cli_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield Path(writer.stdout.readline().strip())
        writer.stdin.write("done\n")
        writer.stdin.close()
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
        writer.wait()


def _temp_files(show: Path) -> list[Path]:
    return sorted(show.rglob(".*.part"))


def test_an_old_unlocked_temp_file_goes_and_a_fresh_one_stays(tmp_path, monkeypatch):
    monkeypatch.setattr(fsutil, "STALE_AFTER", 1.0)
    (tmp_path / "episodes").mkdir()
    old = tmp_path / "episodes" / ".x.mp3.abc.part"
    old.write_bytes(b"half an episode")
    time.sleep(1.1)
    fresh = tmp_path / ".feed.xml.def.part"
    fresh.write_bytes(b"<rss")
    assert fsutil.remove_stale_temp_files(tmp_path) == 1
    assert not old.exists() and fresh.exists()


def test_a_temp_file_whose_writer_lives_stays_and_its_rename_succeeds(tmp_path, monkeypatch):
    monkeypatch.setattr(fsutil, "STALE_AFTER", 0.0)  # only the lock keeps it
    target = tmp_path / "feed.xml"
    with live_writer(target) as partial:
        assert fsutil.remove_stale_temp_files(tmp_path) == 0
        assert partial.exists()
    assert target.read_text() == "written while a cleanup ran" and not partial.exists()


def test_a_link_replaces_its_target_in_one_rename_and_a_cleanup_meanwhile_spares_it(tmp_path, monkeypatch):
    """The feed's versioned enclosure is a hard link to the MP3, made under a temp name
    that is never locked: its fresh ctime keeps a concurrent cleanup off it."""
    mp3, alias = tmp_path / "episode.mp3", tmp_path / "v1" / "episode.mp3"
    mp3.write_bytes(b"new audio")
    alias.parent.mkdir()
    alias.write_bytes(b"old audio")
    removed, real_replace = [], os.replace

    def replace_after_a_cleanup(source, target):
        removed.append(fsutil.remove_stale_temp_files(tmp_path))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_after_a_cleanup)
    fsutil.link_atomic(mp3, alias)
    assert removed == [0] and alias.read_bytes() == b"new audio" and os.path.samefile(alias, mp3)
    assert sorted(p.name for p in alias.parent.iterdir()) == ["episode.mp3"]


def test_publishing_removes_the_temp_files_of_dead_runs_anywhere_in_the_show(tmp_path, monkeypatch):
    from audiobook.pipeline import publish

    monkeypatch.setattr(fsutil, "STALE_AFTER", 0.0)
    show = tmp_path / "show"
    left = [show / ".feed.xml.a1b2c3d4.part", show / "static" / ".site.css.e5f6g7h8.part",
            show / "episodes" / ".essay.json.i9j0k1l2.part",
            show / "episodes" / "0123456789ab" / ".essay.mp3.m3n4o5p6.part"]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    (show / "podcast.toml").write_text('[show]\nemail = "owner@example.com"\n', encoding="utf-8")
    publish(show)
    assert (show / "index.html").is_file() and _temp_files(show) == []


# --- through the real CLI ---------------------------------------------------------------

@pytest.mark.e2e
def test_a_build_after_one_killed_mid_write_leaves_no_temp_file(tmp_path):
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    show = tmp_path / "show"
    env = cli_env(AUDIOBOOK_CACHE_DIR=str(tmp_path / "clips"))  # a cold cache: a build long enough to kill
    killed = subprocess.Popen([sys.executable, "-m", "audiobook", "build", str(SEED), "--show", str(show)],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        while not (left := list((show / "episodes").glob(".*.part"))):
            assert killed.poll() is None, "the build ended before a temp file was seen"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)  # its synthesis workers and ffmpeg too
        killed.wait()
    assert all(path.exists() for path in left)  # kill -9: nothing of atomic_path's cleanup ran
    time.sleep(fsutil.STALE_AFTER)  # a user's next build comes later than this
    result = run_cli("build", SEED, "--show", show, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert _temp_files(show) == []


@pytest.mark.e2e
def test_a_build_leaves_the_temp_file_of_a_live_writer_alone(tmp_path):
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    show = tmp_path / "show"
    (show / "episodes").mkdir(parents=True)
    target = show / "episodes" / "notes.txt"
    with live_writer(target) as partial:
        time.sleep(fsutil.STALE_AFTER)  # old enough: only its lock keeps it
        result = run_cli("build", SEED, "--show", show, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert _temp_files(show) == [partial]
    assert target.read_text() == "written while a cleanup ran"
    assert _temp_files(show) == []
