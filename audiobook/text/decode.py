"""Bytes -> text: the essay's encoding found or refused before any parser sees it.

Which codec: the one the user names (``--encoding``), else the one a
byte-order mark names (UTF-8, UTF-16, UTF-32), else the one the file declares
for itself (an HTML page's ``<meta charset>``), else UTF-8. Text that is not
valid in it is refused with the encoding it most likely is. Binary files are
refused here too, by their NUL and control characters, so the parsers never
see them.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path


from audiobook.errors import InputError

# UTF-32-LE's mark starts with UTF-16-LE's, so the longer marks are tried first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels a web page declares that browsers read as windows-1252, a superset
# (https://encoding.spec.whatwg.org/#names-and-labels): a page "in latin-1"
# with curly quotes means cp1252's, not C1 control characters.
WEB_CP1252 = {"iso8859-1", "ascii"}
# The encoding of most non-UTF-8 essays written in Western languages.
WESTERN = "cp1252"
# More than this share of control characters means "not a text file".
MAX_CONTROL_SHARE = 0.1
# C0/C1 control characters other than tab, newline, carriage return, form feed.
CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def decode_text(path: Path, data: bytes, encoding: str | None = None, declared: str | None = None) -> str:
    """The file's text, or InputError saying why it is not text we can read.

    ``encoding`` is the user's and wins; ``declared`` is what the file says of
    itself, which a byte-order mark overrides, as browsers do."""
    codec, bom = _codec(path, data, encoding, declared)
    if codec is None:
        if b"\x00" in data:
            raise InputError(f"{path}: looks like a binary file (contains NUL bytes); give a .txt or .md essay.")
        codec = "utf-8"
    try:
        text = data[bom:].decode(codec).removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise InputError(_undecodable(path, data, codec, error.start + bom, guess=encoding is None)) from None
    if not text.strip():
        raise InputError(f"{path}: contains only whitespace; write the essay into it first.")
    if "\x00" in text:
        raise InputError(f"{path}: looks like a binary file (contains NUL characters); give a .txt or .md essay.")
    if len(CONTROL_CHAR.findall(text)) > MAX_CONTROL_SHARE * len(text):
        raise InputError(f"{path}: looks like a binary file (mostly control characters); give a .txt or .md essay.")
    return text


def _codec(path: Path, data: bytes, encoding: str | None, declared: str | None) -> tuple[str | None, int]:
    """The codec to decode with and the length of the byte-order mark to skip;
    None when nothing names one (UTF-8 then, once the file is known to be text)."""
    if encoding:
        try:
            return codecs.lookup(encoding).name, 0
        except LookupError:
            raise InputError(f"{path}: unknown encoding {encoding!r}; pass one Python knows, "
                             f"such as utf-8, cp1252 or latin-1.") from None
    for mark, codec in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return codec, len(mark)
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:  # an unknown label is ignored, as browsers do
            return None, 0
        return (WESTERN if name in WEB_CP1252 else name), 0
    return None, 0


def _undecodable(path: Path, data: bytes, codec: str, offset: int, guess: bool) -> str:
    """The one-line refusal of text that is not valid in ``codec``, naming the
    encoding it most likely is when the user did not choose one."""
    said = {"utf-8": "UTF-8"}.get(codec, codec)
    problem = f"{path}: not valid {said} (bad byte at offset {offset})"
    if not guess:
        return f"{problem}; pass the file's own encoding with --encoding, or re-save it as UTF-8."
    likely = _likely_encoding(data)
    if likely is None or likely == codec:
        return f"{problem}; re-save the file as UTF-8, or pass its encoding with --encoding."
    return f"{problem}; it looks like {likely}: re-save it as UTF-8, or pass --encoding {likely}."


def _likely_encoding(data: bytes) -> str | None:
    """charset-normalizer's guess; among its equally likely ones, Windows'
    Western cp1252 when it fits, since short Western text fits dozens of code
    pages equally well (it ranks cp1006, for Urdu, first for "café")."""
    import charset_normalizer  # 3 MB, for refusals only: a build's main process keeps it out

    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    tied = [match for match in matches if match.chaos == best.chaos]
    if any(WESTERN in match.could_be_from_charset for match in tied):
        return WESTERN
    return codecs.lookup(best.encoding).name
