"""Where ``audiobook deploy`` sends a show: one small interface, two kinds of target.

    s3://bucket/prefix   an S3-compatible bucket (Amazon S3, Cloudflare R2, Backblaze B2,
                         DigitalOcean Spaces, MinIO) through boto3: see s3.py
    a directory          a mounted web root, written file by file with fsutil's atomic rename

A target knows nothing of shows: it lists what it holds (path -> size and
ETag), tells a stored file's MD5 when the listing cannot, stores one file
whole, and removes one. Every store is atomic (an S3 PUT is; a local file is
written under a temp name and renamed), and what is there is always read back
from the target itself, never from a note kept on this machine, so a deploy
killed at any moment and run again finds exactly what the first one finished.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from audiobook.errors import ConfigError, DeployError
from audiobook.fsutil import atomic_path, remove_stale_temp_files

S3_SCHEME = "s3://"
CHUNK = 1 << 20  # bytes read at a time when hashing


@dataclass(frozen=True)
class Stored:
    """A file at the target, as its listing gives it."""

    size: int
    etag: str | None  # S3's ETag without quotes (the MD5 of a single-part upload); None for a directory


@dataclass(frozen=True)
class Headers:
    content_type: str
    cache_control: str


def md5_of(path: Path) -> str:
    """The hex MD5 of a file, read in chunks: S3's ETag of a single-part upload, and what Content-MD5 carries."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Target(ABC):
    """A place a show is deployed to; paths are the show's, with "/" between folders."""

    url: str  # as the user gave it, for messages
    sets_headers: bool  # whether Content-Type and Cache-Control are stored with each file

    @abstractmethod
    def check(self) -> None:
        """Refuse (DeployError) unless the target is there, reachable and ours to write."""

    @abstractmethod
    def listing(self) -> dict[str, Stored]:
        """Every file the target holds, by path."""

    @abstractmethod
    def stored_md5(self, path: str) -> str | None:
        """The MD5 of a stored file when its ETag is not one (None when nobody knows)."""

    @abstractmethod
    def put(self, path: str, source: Path, headers: Headers, md5: str) -> None:
        """Store ``source`` whole at ``path``: a reader sees the old file or the new one, never a part."""

    @abstractmethod
    def delete(self, path: str) -> None:
        """Remove the file at ``path``."""

    def tidy(self) -> None:
        """Clear what an interrupted deploy left that is not a file of the show (before writing)."""


class LocalTarget(Target):
    """A directory, such as a mounted web root: files only; its web server sets the headers."""

    sets_headers = False

    def __init__(self, url: str, root: Path) -> None:
        self.url, self.root = url, Path(root)

    def refuse_overlap(self, show: Path) -> None:
        """A show cannot be deployed into itself, nor into a folder that holds it (--delete would eat it)."""
        root, show = self.root.resolve(), Path(show).resolve()
        if root == show or show in root.parents or root in show.parents:
            raise ConfigError(f"target {self.url} and the show {show} overlap; deploy to a folder outside the show")

    def check(self) -> None:
        if not self.root.is_dir():
            raise DeployError(f"target directory {self.root} does not exist (is the web root mounted?); "
                              f"create it if the show goes there")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise DeployError(f"target directory {self.root} is not writable by this user")

    def listing(self) -> dict[str, Stored]:
        found = {}
        for folder, subfolders, names in os.walk(self.root):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for name in names:
                path = Path(folder, name)
                if not name.startswith(".") and path.is_file():
                    found[path.relative_to(self.root).as_posix()] = Stored(path.stat().st_size, None)
        return found

    def stored_md5(self, path: str) -> str | None:
        return md5_of(self.root / path)

    def put(self, path: str, source: Path, headers: Headers, md5: str) -> None:
        target = self.root / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as partial:
                shutil.copyfile(source, partial)
        except OSError as exc:
            raise DeployError(f"cannot write {target}: {exc.strerror or exc}") from exc

    def delete(self, path: str) -> None:
        target = self.root / path
        try:
            target.unlink(missing_ok=True)
            for folder in target.parents:  # folders left empty (an old audio version's)
                if folder == self.root or any(folder.iterdir()):
                    break
                folder.rmdir()
        except OSError as exc:
            raise DeployError(f"cannot remove {target}: {exc.strerror or exc}") from exc

    def tidy(self) -> None:
        remove_stale_temp_files(self.root)  # of a deploy killed mid-copy
