"""Stage "read": an essay file on disk -> Document.

The file's bytes are read here and handed to the reader that claims the file
(``readers``); every way a file can be unusable ends in an InputError that
names the file and says what to do.
"""
from __future__ import annotations

from pathlib import Path

from audiobook.errors import InputError
from audiobook.models import Document
from audiobook.text.readers import HEAD_BYTES, reader_for


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
