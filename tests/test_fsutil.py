"""fsutil: files the user keeps reach the disk before they replace the old ones, and the
temp files of killed runs are removed, never those of a live one."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from audiobook import fsutil
from conftest import cli_env


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


def test_a_file_linked_in_under_the_temp_name_stays_while_it_syncs(tmp_path, monkeypatch):
    """The feed links the MP3 in under the temp name: that file is not the one locked first."""
    monkeypatch.setattr(fsutil, "STALE_AFTER", 0.0)
    mp3 = tmp_path / "episode.mp3"
    mp3.write_bytes(b"audio")
    removed, real_fsync = [], os.fsync

    def fsync_while_a_cleanup_runs(fd):
        removed.append(fsutil.remove_stale_temp_files(tmp_path))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_while_a_cleanup_runs)
    with fsutil.atomic_path(tmp_path / "alias.mp3") as partial:
        partial.unlink()
        os.link(mp3, partial)
    assert removed == [0, 0] and (tmp_path / "alias.mp3").read_bytes() == b"audio"

