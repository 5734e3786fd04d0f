"""What the user named -> the essays it holds: files, and feeds (files or URLs).

A build calls this before it forks its synthesis workers, and whatever this
process has loaded then is counted again in every worker; so this module
imports nothing heavy, plain files are only named here (read when their turn
comes), and the feed reader and the network are loaded only for a feed.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlsplit

from audiobook.errors import InputError
from audiobook.models import Essay

FEED_READER = "feed"  # the registered reader of feeds, loaded only when a source is one
FEED_SUFFIXES = (".rss", ".atom")
# A feed's first bytes, after any XML declaration, comments or BOM.
FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)\b")
FEED_HEAD_BYTES = 2048
# Files read as one essay, never as a feed: no need to look inside them before the build.
SINGLE_ESSAY_SUFFIXES = (".md", ".markdown", ".mdx", ".txt", ".text", ".html", ".htm", ".xhtml", ".epub")


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

    Only feeds are read here (see the module docstring)."""
    essays: list[Essay] = []
    for source in sources:
        if is_url(source):
            from audiobook.text.web import fetch, kept_pages_dir

            essays += _posts(kept_pages_dir() / "feeds" / _feed_name(source), fetch(source), reading, warn,
                             fetch_pages=True)
            continue
        path = Path(source)
        suffix = path.suffix.lower()
        data = b"" if suffix in SINGLE_ESSAY_SUFFIXES else read_bytes(path)  # read once, only to look inside
        if suffix in FEED_SUFFIXES or looks_like_feed(data):
            essays += _posts(path, data, reading, warn)
        else:
            essays.append(Essay(path))
    return essays


def _posts(path: Path, data: bytes, reading: Reading, warn: Callable[[str], None],
           fetch_pages: bool = False) -> list[Essay]:
    from audiobook import registry
    from audiobook.text.readers import reader_targets

    reader = registry.load(reader_targets()[FEED_READER])(fetch_pages=fetch_pages, warn=warn, latest=reading.latest)
    reason = reader.unavailable_reason()
    if reason:
        raise InputError(f"{path}: feeds need the feed reader, which cannot run: {reason}")
    documents = reader.read_all(path, data, reading.encoding)
    return [Essay(document.source, document) for document in documents]


def _feed_name(url: str) -> str:
    """A folder name for a feed's posts: its host and a digest of its whole URL."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'feed'}-{hashlib.sha256(url.encode('utf-8')).hexdigest()[:8]}"


def is_url(source: object) -> bool:
    return isinstance(source, str) and urlsplit(source).scheme in ("http", "https")


def looks_like_feed(head: bytes) -> bool:
    return bool(FEED_ROOT.search(head[:FEED_HEAD_BYTES]))


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or InputError saying in one line why they cannot be had."""
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
