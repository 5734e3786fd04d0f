"""Stage "read": an essay file on disk -> Document.

Bytes are checked and decoded here, front matter is split off
(``frontmatter``), and the reader registered for the file's suffix
(``readers``) turns the body into paragraphs. Every way a file can be
unusable ends in an InputError that names the file and says what to do.
"""
from __future__ import annotations

import re
from pathlib import Path

from audiobook.errors import InputError
from audiobook.models import Document
from audiobook.text.frontmatter import split_front_matter
from audiobook.text.readers import reader_for

UTF8_BOM = b"\xef\xbb\xbf"
# More than this share of control characters means "not a text file".
MAX_CONTROL_SHARE = 0.1
# C0/C1 control characters other than tab, newline, carriage return, form feed.
CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def read_document(path: Path) -> Document:
    """Read an essay file into a Document, or raise InputError saying why not."""
    path = Path(path)
    text = _decode(path, _read_bytes(path))
    metadata, body = split_front_matter(path, text)
    paragraphs = reader_for(path.suffix).paragraphs(body)
    if not paragraphs:
        raise InputError(f"{path}: no readable text found (only markup?); add some prose to the essay.")
    return Document(source=path, metadata=metadata, paragraphs=paragraphs, text=body)


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


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (BOM allowed) text, refusing binary files before they reach the parsers."""
    if b"\x00" in data:
        raise InputError(f"{path}: looks like a binary file (contains NUL bytes); give a .txt or .md essay.")
    bom = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not valid UTF-8 (bad byte at offset {error.start + bom}); re-save the file as UTF-8."
        ) from None
    if not text.strip():
        raise InputError(f"{path}: contains only whitespace; write the essay into it first.")
    if len(CONTROL_CHAR.findall(text)) > MAX_CONTROL_SHARE * len(text):
        raise InputError(f"{path}: looks like a binary file (mostly control characters); give a .txt or .md essay.")
    return text
