"""Bytes -> text: the essay's encoding found or refused before any parser sees it.

UTF-8 is the rule (a byte-order mark allowed); binary files are refused
here, by their NUL and control bytes, so the parsers never see them.
"""
from __future__ import annotations

import re
from pathlib import Path

from audiobook.errors import InputError

UTF8_BOM = b"\xef\xbb\xbf"
# More than this share of control characters means "not a text file".
MAX_CONTROL_SHARE = 0.1
# C0/C1 control characters other than tab, newline, carriage return, form feed.
CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def decode_text(path: Path, data: bytes, encoding: str | None = None) -> str:
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
