"""Stage "read": an essay file on disk -> Document.

The file's bytes are read here and handed to the reader that claims the file
(``readers``); every way a file can be unusable ends in an InputError that
names the file and says what to do.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlsplit

from audiobook.errors import InputError
from audiobook.models import Document, Essay
from audiobook.text.feeds import FeedReader
from audiobook.text.readers import HEAD_BYTES, reader_for
from audiobook.text.web import fetch, is_url, kept_pages_dir

# Files read as one essay, never as a feed: no need to look inside them before the build.
SINGLE_ESSAY_SUFFIXES = (".md", ".markdown", ".mdx", ".txt", ".text", ".html", ".htm", ".xhtml", ".epub")


def read_document(path: Path, encoding: str | None = None) -> Document:
    """Read an essay file into a Document, or raise InputError saying why not."""
    path = Path(path)
    data = _read_bytes(path)
    document = reader_for(path, data[:HEAD_BYTES]).read(path, data, encoding)
    if not document.paragraphs:
        raise InputError(f"{path}: no readable text found (only markup?); add some prose to the essay.")
    return document


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path to the essay.")
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the path to an essay file (.txt or .md).")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error}); check its permissions.") from None
    if not data:
        raise InputError(f"{path}: the file is empty; write the essay into it first.")
    return data


@dataclass(frozen=True)
class Reading:
    """How a command reads its essays: ``encoding`` for text that is not UTF-8,
    ``latest`` posts of each feed (all when None)."""

    encoding: str | None = None
    latest: int | None = None


def essays_from(sources: Sequence[str | Path], reading: Reading = Reading(),
                warn: Callable[[str], None] = lambda message: None) -> list[Essay]:
    """What each source the user named holds: a file is one essay, read when its turn
    comes; a feed, a file or an http(s) URL, is one essay per post, newest first.

    Only feeds are read here: a build calls this before it forks its synthesis
    workers, and what this process loads then is counted again in every worker."""
    essays: list[Essay] = []
    for source in sources:
        if is_url(source):
            reader = FeedReader(fetch_pages=True, warn=warn)
            essays += _posts(reader, kept_pages_dir() / "feeds" / _feed_name(source), fetch(source), reading)
            continue
        path = Path(source)
        head = _read_bytes(path)[:HEAD_BYTES] if path.suffix.lower() not in SINGLE_ESSAY_SUFFIXES else b""
        if path.suffix.lower() in FeedReader.suffixes or FeedReader.recognises(head):
            essays += _posts(FeedReader(warn=warn), path, _read_bytes(path), reading)
        else:
            essays.append(Essay(path))
    return essays


def _posts(reader: FeedReader, path: Path, data: bytes, reading: Reading) -> list[Essay]:
    reason = reader.unavailable_reason()
    if reason:
        raise InputError(f"{path}: feeds need the feed reader, which cannot run: {reason}")
    documents = reader.read_all(path, data, reading.encoding)
    return [Essay(document.source, document) for document in documents[:reading.latest]]


def _feed_name(url: str) -> str:
    """A folder name for a feed's posts: its host and a digest of its whole URL."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'feed'}-{hashlib.sha256(url.encode('utf-8')).hexdigest()[:8]}"
