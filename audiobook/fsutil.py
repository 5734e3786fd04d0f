"""Writing files so that an interrupted run never leaves a broken one behind,
nor, once a later run has looked, a stray temp file."""
from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import hashlib
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

TEMP_FILES = ".*.part"  # atomic_path's names: .<target name>.<random>.part
# A temp file younger than this is left alone even when unlocked: it covers the
# moment between creating a temp file and locking it, and link_atomic's link,
# which is never locked, between its making and its rename.
STALE_AFTER = 5.0  # seconds


@contextlib.contextmanager
def _locked_temp(target: Path):
    """A temp file beside ``target`` (``.<target name>.<random>.part``) and its descriptor,
    locked while we hold it; removed on the way out unless it was renamed."""
    lock, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    # flock belongs to the open file, not to the path or the process: it holds
    # while ffmpeg or mutagen write the same file by its path, and the kernel
    # drops it when our descriptor closes, however this process ends.
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield lock, Path(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.close(lock)


@contextlib.contextmanager
def atomic_path(target: Path, *, durable: bool = True):
    """Yield a temporary path beside ``target``; rename it into place on success.

    The temp file lives in the same directory, so ``os.replace`` is atomic.
    On any exception the temp file is removed and ``target`` is untouched.
    While we write, the temp file is locked, so ``remove_stale_temp_files``
    tells it from one a killed run left behind.

    ``durable``: the temp file's data reach the disk before the rename, and
    the rename before we return, so after a power cut ``target`` holds the
    old bytes or the new ones, never an empty file. Whoever writes the temp
    file writes it in place by its path (ffmpeg, mutagen), so syncing our own
    descriptor flushes their data.
    """
    target = Path(target)
    with _locked_temp(target) as (lock, tmp):
        yield tmp
        os.chmod(tmp, 0o644)
        if durable:
            os.fsync(lock)  # the same file whoever wrote it by its path (ffmpeg, mutagen)
        os.replace(tmp, target)
        if durable:
            _fsync(target.parent)


@contextlib.contextmanager
def scratch_path(beside: Path):
    """A temp file named after ``beside`` for this run's own use (a master kept
    for the editions), removed when done. Locked like atomic_path's, so what a
    killed run leaves is cleaned up like them."""
    with _locked_temp(Path(beside)) as (_, tmp):
        yield tmp


def _fsync(folder: Path) -> None:
    """Flush a folder's entries (a rename) to the disk.

    On Linux a rename is on disk only once its folder is; a folder is synced
    like a file, through a descriptor opened read-only.
    """
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def link_atomic(source: Path, target: Path) -> None:
    """Make ``target`` a hard link to ``source`` (a copy where the filesystem has
    none), replacing what was there in one rename. The link shares the data of
    ``source``, already on disk; only the folder's new entry is synced."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        os.link(source, tmp)
    except OSError:  # no hard links here (another filesystem, FAT): a copy
        with atomic_path(target) as partial:
            shutil.copyfile(source, partial)
        return
    try:
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync(target.parent)


def write_bytes_atomic(target: Path, data: bytes, *, durable: bool = True) -> None:
    with atomic_path(target, durable=durable) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str, *, durable: bool = True) -> None:
    write_bytes_atomic(target, text.encode("utf-8"), durable=durable)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file in hex, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_stale_temp_files(root: Path) -> int:
    """Remove the temp files of dead runs under ``root``; return how many went.

    A run killed mid-write (kill -9, a power cut) never reaches atomic_path's
    own cleanup, and its temp files would be published with the show. One is
    stale when nobody holds its lock and it has not changed for STALE_AFTER
    seconds; a writer that is still running holds its lock.
    """
    removed = 0
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]  # not ours (.git)
        for name in fnmatch.filter(names, TEMP_FILES):
            removed += _remove_if_stale(os.path.join(folder, name))
    return removed


def _remove_if_stale(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:  # renamed into place meanwhile, or not a file of ours
        return False
    try:
        # Non-blocking: refused at once while a live writer holds the lock.
        # flock locks belong to open files, so this works against a writer in
        # this very process too. ctime, not mtime: linking a file in changes it.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if time.time() - os.fstat(fd).st_ctime < STALE_AFTER:
            return False
        os.unlink(path)
        return True
    except OSError:  # BlockingIOError: its writer lives
        return False
    finally:
        os.close(fd)
