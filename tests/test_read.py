"""read_document against the real fixtures and a table of unusable files."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from audiobook.errors import InputError
from audiobook.models import CODE, HEADING, LIST_ITEM, QUOTE, TEXT
from audiobook.text.read import read_document

ROOT = Path(__file__).resolve().parent.parent
FIELD_NOTES = ROOT / "tests" / "fixtures" / "field-notes.md"
SEED = ROOT / "seeds" / "tipping-point.txt"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


BAD_INPUTS = [
    ("missing", None, "no such file"),
    ("directory", "DIR", "directory"),
    ("empty", b"", "empty"),
    ("whitespace", b"  \n\t\n  \n", "whitespace"),
    ("nul-bytes", b"PNG\x00\x01\x02 hello", "binary"),
    ("control-chars", bytes(range(1, 9)) * 20 + b"text", "binary"),
    ("latin-1", "caf\u00e9 society\n".encode("latin-1"), "offset 3"),
    ("bad-yaml", b"---\ntitle: [unclosed\n---\nBody text.\n", "front matter"),
    ("yaml-not-mapping", b"---\n- a\n- b\n---\nBody text.\n", "front matter"),
    ("front-matter-only", b"---\ntitle: Hello\n---\n\n", "no essay text"),
    ("markup-only", b"<!-- a comment -->\n", "no readable text"),
    ("chapters-not-list", b"---\nchapters: {a: 1}\n---\nBody.\n", "chapters"),
    ("date-not-a-date", b"---\ndate: next Tuesday\n---\nBody.\n", "date"),
    ("date-impossible", b"---\ndate: 2017-13-45\n---\nBody.\n", "date"),
]


@pytest.mark.parametrize("name,content,expected", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_raises_one_line_input_error(tmp_path, name, content, expected):
    path = tmp_path / "essay.md"
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_document(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert expected in message


def test_utf8_bom_is_stripped(tmp_path):
    path = write(tmp_path, "essay.txt", "\ufeffHello there.\n".encode("utf-8"))
    document = read_document(path)
    assert document.paragraphs[0].text == "Hello there."


def test_bad_utf8_offset_counts_the_bom(tmp_path):
    path = write(tmp_path, "essay.txt", b"\xef\xbb\xbfab\xff")
    with pytest.raises(InputError, match="offset 5"):
        read_document(path)


def test_plain_text_paragraphs_join_lines_and_strip_trailing_spaces(tmp_path):
    path = write(tmp_path, "essay.txt", "First line   \nsecond line.\n\n\n  \nNext   paragraph.  \r\n")
    document = read_document(path)
    assert [(p.kind, p.text) for p in document.paragraphs] == [
        (TEXT, "First line second line."),
        (TEXT, "Next paragraph."),
    ]


def test_seed_has_sixteen_plain_paragraphs():
    document = read_document(SEED)
    assert len(document.paragraphs) == 16
    assert {p.kind for p in document.paragraphs} == {TEXT}
    assert document.paragraphs[0].text == "We are at a tipping point."
    # lines inside a paragraph are joined with one space
    assert "installment of her podcast" in document.paragraphs[6].text
    assert document.metadata.title is None


def test_field_notes_metadata():
    metadata = read_document(FIELD_NOTES).metadata
    assert metadata.title == "Field Notes on Listening: Essays, Ears & the 3rd Medium"
    assert metadata.author == "Maren Okafor-Lindqvist"
    assert metadata.date == datetime.date(2026, 3, 14)
    assert metadata.language == "en"
    assert metadata.description.startswith("A short essay about reading aloud")
    assert metadata.chapter_titles == [
        "Why listen at all", "What the ear forgives", "A small experiment", "Notes for the reader",
    ]


def test_field_notes_paragraph_kinds():
    document = read_document(FIELD_NOTES)
    kinds = [p.kind for p in document.paragraphs]
    assert kinds.count(HEADING) == 4
    assert kinds.count(CODE) == 1
    assert kinds.count(LIST_ITEM) == 6
    quotes = [p.text for p in document.paragraphs if p.kind == QUOTE]
    assert quotes == ["We do not listen with our ears alone; we listen with what we expect to hear. "
                      "A reader who breaks that expectation loses us within a sentence."]
    code = next(p for p in document.paragraphs if p.kind == CODE)
    assert code.language == "python"
    assert code.text.splitlines()[0] == 'answers = load("answers.csv")'
    assert len(code.text.splitlines()) == 4


def test_field_notes_inline_markup_is_removed_but_text_kept():
    texts = [p.text for p in read_document(FIELD_NOTES).paragraphs]
    body = "\n".join(texts)
    assert "raw notes are messy" in body
    assert "https://example.org/notes" not in body and "[" not in body
    assert "says em dash where" in body  # *em dash* loses its asterisks
    assert "$4.5M in Q3 \u2014 12% more" in body  # display text kept as written
    assert "Short sentences near the start of a section." in texts  # a list's numbers are not read
    assert "Thanks to the St. Olaf reading group, to Prof. Ilse de Vries, and to the listeners who sat through both versions." in texts


MARKDOWN_CASES = [
    ("heading", "# Title *here*\n\nBody.", [(HEADING, "Title here"), (TEXT, "Body.")]),
    ("setext-heading", "Title\n=====\n\nBody.", [(HEADING, "Title"), (TEXT, "Body.")]),
    ("link-and-image", "See [the notes](http://x.org) and ![a chart](c.png).", [(TEXT, "See the notes and a chart.")]),
    ("inline-code", "Call `run()` now.", [(TEXT, "Call run() now.")]),
    ("breaks", "one  \ntwo\nthree", [(TEXT, "one two three")]),
    ("quote-paragraphs", "> first\n> line\n>\n> second", [(QUOTE, "first line"), (QUOTE, "second")]),
    ("ordered-from-3", "3. three\n4. four", [(LIST_ITEM, "three"), (LIST_ITEM, "four")]),
    ("bullets", "- a\n- b", [(LIST_ITEM, "a"), (LIST_ITEM, "b")]),
    ("indented-code", "Text.\n\n    x = 1\n", [(TEXT, "Text."), (CODE, "x = 1")]),
    ("html", "<div>Hello <b>there</b></div>\n\nText <em>x</em>.", [(TEXT, "Hello there"), (TEXT, "Text x.")]),
    ("smart-punctuation-kept", "It\u2019s \u201cfine\u201d \u2014 really\u2026", [(TEXT, "It\u2019s \u201cfine\u201d \u2014 really\u2026")]),
]


@pytest.mark.parametrize("source,expected", [c[1:] for c in MARKDOWN_CASES], ids=[c[0] for c in MARKDOWN_CASES])
def test_markdown_blocks(tmp_path, source, expected):
    document = read_document(write(tmp_path, "essay.md", source))
    assert [(p.kind, p.text) for p in document.paragraphs] == expected


FRONT_MATTER_CASES = [
    ("txt-front-matter", "essay.txt", "---\ntitle: '  Spaced  '\nauthor: 42\nsecret: x\n---\nBody.", ("Spaced", "42")),
    ("markdown-extension", "essay.markdown", "---\ntitle: T\n---\n# H\n\nBody.", ("T", None)),
    ("no-front-matter", "essay", "Body only.", (None, None)),
]


@pytest.mark.parametrize("name,source,expected", [c[1:] for c in FRONT_MATTER_CASES], ids=[c[0] for c in FRONT_MATTER_CASES])
def test_front_matter_is_optional_for_every_extension(tmp_path, name, source, expected):
    document = read_document(write(tmp_path, name, source))
    assert (document.metadata.title, document.metadata.author) == expected
    assert not document.text.startswith("---")
    assert "Body" in document.text


def test_odd_unicode_is_kept_as_written(tmp_path):
    text = "Emoji \U0001F600, RTL \u05e9\u05dc\u05d5\u05dd, NBSP a\u00a0b, ZWJ \U0001F469\u200d\U0001F467, e\u0301."
    document = read_document(write(tmp_path, "essay.md", text))
    assert document.paragraphs[0].text == text


ZONE = datetime.timezone(datetime.timedelta(hours=2))
# front matter date as static-site generators write it -> what the reader makes of it
DATES = [
    ("2017-10-19", datetime.date(2017, 10, 19)),  # YAML's own date
    ("2017-10-19 21:33:00 +0200", datetime.datetime(2017, 10, 19, 21, 33, tzinfo=ZONE)),  # Jekyll
    ("2017-10-19T21:33:00+02:00", datetime.datetime(2017, 10, 19, 21, 33, tzinfo=ZONE)),  # Hugo
    ('"2017-10-19T21:33:00+02:00"', datetime.datetime(2017, 10, 19, 21, 33, tzinfo=ZONE)),  # quoted
    ("2017-10-19T19:33:00Z", datetime.datetime(2017, 10, 19, 19, 33, tzinfo=datetime.timezone.utc)),
    ("2017-10-19 21:33", datetime.datetime(2017, 10, 19, 21, 33, tzinfo=datetime.timezone.utc)),  # no zone: UTC
    ("Thu, 19 Oct 2017 21:33:00 +0200", datetime.datetime(2017, 10, 19, 21, 33, tzinfo=ZONE)),  # RFC 2822
]


@pytest.mark.parametrize("written,expected", DATES, ids=[case[0] for case in DATES])
def test_front_matter_dates_keep_their_time_and_zone(tmp_path, written, expected):
    essay = write(tmp_path, "essay.md", f"---\ndate: {written}\n---\nBody text.\n")
    date = read_document(essay).metadata.date
    assert date == expected and type(date) is type(expected)
    if isinstance(expected, datetime.datetime):
        assert date.utcoffset() == expected.utcoffset()


# --- the readers' registry -----------------------------------------------------------------

READER_CASES = {  # every registered reader: a file it claims -> the kinds of paragraph it gives
    "text": ("essay.txt", "Line one\nline two.\n\nSecond paragraph.\n", ["text", "text"]),
    "markdown": ("essay.md", "# Title\n\n> quoted\n\n- item\n", ["heading", "quote", "list_item"]),
    "feed": ("posts.rss", '<rss version="2.0"><channel><item><title>A post</title><description>'
                          '&lt;h2&gt;Part&lt;/h2&gt;&lt;p&gt;Text.&lt;/p&gt;</description></item></channel></rss>',
             ["heading", "text"]),
    "html": ("page.html", "<!DOCTYPE html><html><body><article><h1>Title</h1><p>A paragraph long enough to be "
             "taken for an article's text by the extractor.</p><ul><li>An item of a list.</li></ul></article></body>"
             "</html>", ["heading", "text", "list_item"]),
    "epub": ("book.epub", (ROOT / "tests/fixtures/corpus/epub/alice-in-wonderland.epub").read_bytes(),
             ["heading", "text", "text", "text", "heading", "text", "quote", "heading", "text"]),
}


def test_every_registered_reader_has_a_case():
    from audiobook.text.readers import reader_targets

    assert set(reader_targets()) == set(READER_CASES)


@pytest.mark.parametrize("name", list(READER_CASES))
def test_each_reader_reads_the_files_it_claims(tmp_path, name):
    from audiobook.text.readers import HEAD_BYTES, reader_for

    file_name, content, kinds = READER_CASES[name]
    path = write(tmp_path, file_name, content)
    data = path.read_bytes()
    reader = reader_for(path, data[:HEAD_BYTES])
    assert reader.name == name
    first, *_ = reader.read_all(path, data)
    assert [p.kind for p in first.paragraphs] == kinds


def test_a_plugin_reader_is_found_through_its_entry_point(tmp_path, monkeypatch):
    import sys
    import types
    from importlib.metadata import EntryPoint

    from audiobook import registry
    from audiobook.models import Paragraph
    from audiobook.text.readers import ENTRY_POINT_GROUP, TextReader

    class ShoutReader(TextReader):
        name, suffixes = "shout", (".shout",)

        def paragraphs(self, body):
            return [Paragraph(kind=TEXT, text=line.upper()) for line in body.splitlines() if line]

    module = types.ModuleType("audiobook_shout_plugin")
    module.ShoutReader = ShoutReader
    monkeypatch.setitem(sys.modules, module.__name__, module)
    plugins = [EntryPoint("shout", f"{module.__name__}:ShoutReader", ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda *, group: [e for e in plugins if e.group == group])
    assert [p.text for p in read_document(write(tmp_path, "a.shout", "hello\nworld\n")).paragraphs] == ["HELLO", "WORLD"]
    assert read_document(write(tmp_path, "a.rst", "*plain* text\n")).paragraphs[0].text == "*plain* text"
