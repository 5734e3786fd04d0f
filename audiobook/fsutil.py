"""Writing files so that an interrupted run never leaves a broken one behind."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path, *, durable: bool = True):
    """Yield a temporary path beside ``target``; rename it into place on success.

    The temp file lives in the same directory, so ``os.replace`` is atomic.
    On any exception the temp file is removed and ``target`` is untouched.

    ``durable``: the temp file's data reach the disk before the rename, and
    the rename before we return, so after a power cut ``target`` holds the
    old bytes or the new ones, never an empty file. The data are synced
    through the path, whoever wrote them (ffmpeg writes the MP3 by path).
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        if durable:
            _fsync(tmp)
        os.replace(tmp, target)
        if durable:
            _fsync(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _fsync(path: Path | str) -> None:
    """Flush a file's data, or a folder's entries, to the disk.

    On Linux a rename is on disk only once its folder is: a folder is synced
    like a file, through a descriptor opened read-only.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(target: Path, data: bytes, *, durable: bool = True) -> None:
    with atomic_path(target, durable=durable) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str, *, durable: bool = True) -> None:
    write_bytes_atomic(target, text.encode("utf-8"), durable=durable)
