"""The EPUB reader on the corpus book and on small books made by tests/fixtures/make_epub.py."""
from __future__ import annotations

import datetime
import importlib.util
import io
import zipfile
from pathlib import Path

import pytest

from audiobook.errors import InputError
from audiobook.models import HEADING, QUOTE, TEXT
from audiobook.text.epub import EpubReader
from audiobook.text.read import read_document

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ALICE = FIXTURES / "corpus" / "epub" / "alice-in-wonderland.epub"
_spec = importlib.util.spec_from_file_location("make_epub", FIXTURES / "make_epub.py")
make_epub = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_epub)


def test_corpus_book_metadata():
    metadata = read_document(ALICE).metadata
    assert (metadata.title, metadata.author, metadata.date, metadata.language) == (
        "Alice\u2019s Adventures in Wonderland", "Lewis Carroll", datetime.date(1865, 11, 26), "en")
    assert metadata.description == "The first three chapters' openings, for audiobook's tests."
    assert metadata.image is None


def test_corpus_book_chapters_come_from_its_table_of_contents():
    paragraphs = read_document(ALICE).paragraphs
    assert [p.text for p in paragraphs if p.kind == HEADING] == [
        "CHAPTER I. Down the Rabbit-Hole", "CHAPTER II. The Pool of Tears", "CHAPTER III. A Caucus-Race and a Long Tale"]
    assert [p.kind for p in paragraphs] == [HEADING, TEXT, TEXT, TEXT, HEADING, TEXT, QUOTE, HEADING, TEXT]
    said = "\n".join(p.text for p in paragraphs)
    assert "ALICE\u2019S ADVENTURES" not in said  # the cover page, before the first chapter
    assert said.count("Down the Rabbit-Hole") == 1  # the chapter's own heading is not read twice
    assert paragraphs[1].text.startswith("Alice was beginning to get very tired")
    assert "so very remarkable" in said and paragraphs[-1].text.endswith("cross, and uncomfortable.")


def book(tmp_path: Path, **fields) -> Path:
    defaults = dict(title="A Book", creators=["Ann Author"], toc=[])
    return make_epub.write_epub(tmp_path / "book.epub", **{**defaults, **fields})


ONE = "<h1>One</h1><p>First text.</p>"
TWO = "<h1>Two</h1><p>Second text.</p>"
# name -> book fields, then the (kind, text) of every paragraph read
BOOKS = {
    "no table of contents: every document, its headings as chapters": (
        dict(documents={"a.xhtml": ONE, "b.xhtml": TWO}),
        [(HEADING, "One"), (TEXT, "First text."), (HEADING, "Two"), (TEXT, "Second text.")]),
    "a subheading not in the table of contents is read as text": (
        dict(documents={"a.xhtml": ONE + "<h2>Aside</h2><p>More.</p>"}, toc=[("One", "a.xhtml")]),
        [(HEADING, "One"), (TEXT, "First text."), (TEXT, "Aside"), (TEXT, "More.")]),
    "a chapter heading saying more than its entry is kept": (
        dict(documents={"a.xhtml": "<h1>Chapter 1</h1><h2>Loomings</h2><p>Call me Ishmael.</p>"},
             toc=[("Chapter 1", "a.xhtml")]),
        [(HEADING, "Chapter 1"), (TEXT, "Loomings"), (TEXT, "Call me Ishmael.")]),
    "front matter before the first entry is left out, also in the first chapter's file": (
        dict(documents={"title.xhtml": "<p>Copyright notice.</p>",
                        "a.xhtml": '<p>Epigraph.</p><h1 id="c1">One</h1><p>First text.</p>'},
             toc=[("One", "a.xhtml#c1")]),
        [(HEADING, "One"), (TEXT, "First text.")]),
    "a non-linear document is skipped": (
        dict(documents={"a.xhtml": ONE, "notes.xhtml": "<p>A note.</p>", "b.xhtml": TWO},
             toc=[("One", "a.xhtml"), ("Two", "b.xhtml")], not_linear=("notes.xhtml",)),
        [(HEADING, "One"), (TEXT, "First text."), (HEADING, "Two"), (TEXT, "Second text.")]),
    "a document without an entry continues the chapter before it": (
        dict(documents={"a.xhtml": ONE, "a-2.xhtml": "<p>Continued.</p>"}, toc=[("One", "a.xhtml")]),
        [(HEADING, "One"), (TEXT, "First text."), (TEXT, "Continued.")]),
    "an entry to a missing #id lands at its document's start": (
        dict(documents={"a.xhtml": "<p>Text.</p>"}, toc=[("Lost", "a.xhtml#nowhere")]),
        [(HEADING, "Lost"), (TEXT, "Text.")]),
    "footnote markers and notes are left out": (
        dict(documents={"a.xhtml": '<p>A claim.<a epub:type="noteref" href="#n1">1</a></p>'
                                   '<aside epub:type="footnote" id="n1"><p>The source.</p></aside>'},
             toc=[("One", "a.xhtml")]),
        [(HEADING, "One"), (TEXT, "A claim.")]),
}


@pytest.mark.parametrize("name", list(BOOKS))
def test_books(tmp_path, name):
    fields, expected = BOOKS[name]
    assert [(p.kind, p.text) for p in read_document(book(tmp_path, **fields)).paragraphs] == expected


def test_several_creators_a_time_and_an_html_description(tmp_path):
    path = book(tmp_path, creators=["Ada Lovelace", "Alan Turing", "Grace Hopper"], date="2011-04-28T09:30:00+02:00",
                description="<p>Notes <b>on</b> engines.</p>", documents={"a.xhtml": ONE})
    metadata = read_document(path).metadata
    assert metadata.author == "Ada Lovelace, Alan Turing and Grace Hopper"
    assert metadata.date == datetime.datetime(2011, 4, 28, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert metadata.description == "Notes on engines."


@pytest.mark.parametrize("name", ["book.zip", "book"])
def test_an_epub_is_found_by_its_first_bytes(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(ALICE.read_bytes())
    assert read_document(path).metadata.title == "Alice\u2019s Adventures in Wonderland"


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


HEADS = [
    ("the corpus book", ALICE.read_bytes()[:4096], True),
    ("a zip whose first entry is not mimetype", zipped({"a.txt": b"application/epub+zip"}), False),
    ("another mimetype", zipped({"mimetype": b"application/vnd.oasis.opendocument.text"}), False),
    ("a zip signature alone", b"PK\x03\x04", False),
    ("text", b"Hello", False),
]


@pytest.mark.parametrize("head,expected", [c[1:] for c in HEADS], ids=[c[0] for c in HEADS])
def test_recognises(head, expected):
    assert EpubReader.recognises(head) is expected


DAMAGED = [
    ("truncated", ALICE.read_bytes()[:2000]),
    ("not a zip", b"This is not a zip file at all."),
    ("no container", zipped({"mimetype": b"application/epub+zip"})),
    ("no package", zipped({"mimetype": b"application/epub+zip", "META-INF/container.xml":
                           b'<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                           b'container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/'
                           b'oebps-package+xml"/></rootfiles></container>'})),
]


@pytest.mark.parametrize("data", [c[1] for c in DAMAGED], ids=[c[0] for c in DAMAGED])
def test_a_damaged_book_is_refused_in_one_line(tmp_path, data):
    path = tmp_path / "book.epub"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_document(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not a readable EPUB (") and "\n" not in message


def test_the_corpus_book_is_what_make_epub_makes(tmp_path, monkeypatch):
    monkeypatch.setattr(make_epub, "OUTPUT", tmp_path / "alice.epub")
    make_epub.main()
    made, kept = read_document(tmp_path / "alice.epub"), read_document(ALICE)
    assert (made.metadata, made.paragraphs) == (kept.metadata, kept.paragraphs)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    from audiobook.text import epub

    monkeypatch.setattr(epub, "MAX_UNPACKED_BYTES", 2**20)  # a real bomb is gigabytes: the rule, at a small scale
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", b"application/epub+zip", zipfile.ZIP_STORED)
        archive.writestr("OEBPS/filler.xhtml", b"\0" * (3 * 2**20))
    path = tmp_path / "book.epub"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 2**15
    with pytest.raises(InputError, match="would unpack to 3 MB") as caught:
        read_document(path)
    assert "\n" not in str(caught.value)


def test_a_description_of_only_a_comment_and_a_contents_that_misses_the_spine_still_read(tmp_path):
    path = book(tmp_path, description="<!-- nothing -->", documents={"a.xhtml": ONE}, toc=[("Lost", "elsewhere.xhtml")])
    document = read_document(path)
    assert document.metadata.description is None
    assert document.paragraphs  # the whole book, as if it had no table of contents
