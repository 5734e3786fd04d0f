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
from audiobook.text.sources import read_bytes


def read_document(path: Path, encoding: str | None = None) -> Document:
    """Read an essay file into a Document, or raise InputError saying why not."""
    path = Path(path)
    data = read_bytes(path)
    document = reader_for(path, data[:HEAD_BYTES]).read(path, data, encoding)
    if not document.paragraphs:
        raise InputError(f"{path}: no readable text found (only markup?); add some prose to the essay.")
    return document
