"""fsutil: files the user keeps reach the disk before they replace the old ones."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from audiobook import fsutil


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
