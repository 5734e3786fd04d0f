"""decode_text: which codec a file is read with, and the one-line refusals of what is not text."""
from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest

from audiobook.errors import InputError
from audiobook.text.decode import decode_text
from audiobook.text.read import read_document

PATH = Path("essay.txt")
ESSAY = "Caf\u00e9 society \u2014 \u201cquoted\u201d, na\u00efve.\r\nSecond line.\n"

# name, bytes, --encoding, declared by the file -> the text read
READABLE = [
    ("utf-8", ESSAY.encode("utf-8"), None, None),
    ("utf-8-bom", codecs.BOM_UTF8 + ESSAY.encode("utf-8"), None, None),
    ("utf-16-le-bom (Notepad's 'Unicode')", codecs.BOM_UTF16_LE + ESSAY.encode("utf-16-le"), None, None),
    ("utf-16-be-bom", codecs.BOM_UTF16_BE + ESSAY.encode("utf-16-be"), None, None),
    ("utf-32-le-bom", codecs.BOM_UTF32_LE + ESSAY.encode("utf-32-le"), None, None),
    ("utf-32-be-bom", codecs.BOM_UTF32_BE + ESSAY.encode("utf-32-be"), None, None),
    ("utf-16 codec writes its own bom", ESSAY.encode("utf-16"), None, None),
    ("--encoding cp1252", ESSAY.encode("cp1252"), "cp1252", None),
    ("--encoding with an alias", ESSAY.encode("cp1252"), "Windows-1252", None),
    ("--encoding utf-8 skips a bom", codecs.BOM_UTF8 + ESSAY.encode("utf-8"), "utf-8", None),
    ("declared cp1252", ESSAY.encode("cp1252"), None, "windows-1252"),
    ("declared latin-1 read as the web reads it", ESSAY.encode("cp1252"), None, "ISO-8859-1"),
    ("a bom beats the declaration", codecs.BOM_UTF16_LE + ESSAY.encode("utf-16-le"), None, "cp1252"),
    ("--encoding beats the declaration", ESSAY.encode("cp1252"), "cp1252", "utf-8"),
    ("an unknown declaration is ignored", ESSAY.encode("utf-8"), None, "x-klingon"),
]


@pytest.mark.parametrize("data,encoding,declared", [c[1:] for c in READABLE], ids=[c[0] for c in READABLE])
def test_readable_text(data, encoding, declared):
    assert decode_text(PATH, data, encoding, declared) == ESSAY


# name, bytes, --encoding -> words the one-line refusal must hold
REFUSED = [
    ("nul bytes", b"PNG\x00\x01\x02 hello", None, ["binary", "NUL"]),
    ("utf-16 without a bom", "Hello there.".encode("utf-16-le"), None, ["binary"]),
    ("binary behind a utf-16 bom", codecs.BOM_UTF16_LE + "PNG".encode("utf-16-le") + b"\x00\x00" * 20, None, ["binary"]),
    ("control characters", bytes(range(1, 9)) * 20 + b"text", None, ["binary", "control"]),
    ("whitespace only, in utf-16", codecs.BOM_UTF16_LE + " \n".encode("utf-16-le"), None, ["whitespace"]),
    ("latin-1 without --encoding", "caf\u00e9 society\n".encode("latin-1"), None,
     ["not valid UTF-8", "offset 3", "looks like cp1252", "--encoding cp1252"]),
    ("cp1252 smart quotes", "\u201cSmart\u201d quotes and na\u00efve r\u00e9sum\u00e9.\n".encode("cp1252"), None,
     ["offset 0", "--encoding cp1252"]),
    ("cyrillic", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430? "
     "\u042d\u0442\u043e \u0442\u0435\u0441\u0442.\n".encode("cp1251"), None, ["looks like cp1251", "--encoding cp1251"]),
    ("bad byte after a bom counts the bom", codecs.BOM_UTF8 + b"ab\xff", None, ["offset 5"]),
    ("unknown --encoding", b"Hello.", "klingon-8", ["unknown encoding 'klingon-8'"]),
    ("not valid in the --encoding given", "caf\u00e9".encode("utf-8"), "ascii", ["not valid ascii", "offset 3", "--encoding"]),
    ("truncated utf-16", codecs.BOM_UTF16_LE + "Hi".encode("utf-16-le") + b"\x00", None, ["not valid utf-16-le"]),
]


@pytest.mark.parametrize("data,encoding,words", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_one_line_naming_the_file(data, encoding, words):
    with pytest.raises(InputError) as caught:
        decode_text(PATH, data, encoding)
    message = str(caught.value)
    assert message.startswith(f"{PATH}: ") and "\n" not in message
    for word in words:
        assert word in message


def test_the_guessed_encoding_reads_the_file():
    data = ESSAY.encode("cp1252")
    with pytest.raises(InputError) as caught:
        decode_text(PATH, data)
    guessed = str(caught.value).rsplit("--encoding ", 1)[1].rstrip(".")
    assert decode_text(PATH, data, guessed) == ESSAY


def test_a_large_undecodable_file_is_refused_quickly():
    data = ESSAY.encode("cp1252") * 20_000  # about a megabyte
    started = time.monotonic()
    with pytest.raises(InputError, match="cp1252"):
        decode_text(PATH, data)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("name,data,expected", [
    ("notepad.txt", codecs.BOM_UTF16_LE + "First paragraph,\r\ntwo lines.\r\n\r\nSecond.\r\n".encode("utf-16-le"),
     ["First paragraph, two lines.", "Second."]),
    ("notepad.md", codecs.BOM_UTF16_LE + "# A heading\r\n\r\nBody text.\r\n".encode("utf-16-le"),
     ["A heading", "Body text."]),
    ("utf32.md", codecs.BOM_UTF32_BE + "# A heading\n\nBody text.\n".encode("utf-32-be"), ["A heading", "Body text."]),
])
def test_read_document_reads_utf16_and_utf32_essays(tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    assert [p.text for p in read_document(path).paragraphs] == expected


def test_read_document_passes_the_encoding_on(tmp_path):
    path = tmp_path / "essay.txt"
    path.write_bytes(ESSAY.encode("cp1252"))
    with pytest.raises(InputError, match="--encoding cp1252"):
        read_document(path)
    assert read_document(path, encoding="cp1252").paragraphs[0].text.startswith("Caf\u00e9 society \u2014")
