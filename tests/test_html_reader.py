"""The HTML reader on saved pages as WordPress, Ghost and Substack write them, and its HTML walk."""
from __future__ import annotations

import codecs
import datetime
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from audiobook.errors import InputError
from audiobook.models import CODE, HEADING, LIST_ITEM, QUOTE, TEXT
from audiobook.text.fields import natural_list
from audiobook.text.html import HtmlReader, html_blocks
from audiobook.text.read import read_document

PAGES = Path(__file__).resolve().parent / "fixtures" / "html"
UTC = datetime.timezone.utc

# page -> metadata, the headings kept, words the article holds, and words of the page around it
SAVED_PAGES = {
    "wordpress": dict(
        title="Why Hedgerows Matter", author="Rosalind Pike",
        date=datetime.datetime(2021, 4, 17, 8, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
        description="A walk along three miles of hedgerow, and what it shelters.", language="en-GB",
        link="https://fieldmargin.example.org/2021/04/why-hedgerows-matter/",
        headings=["What I counted", "Why it matters"],
        kept=["Last Sunday I walked", "A bank vole", "written in thorn", "hedge_age_centuries", "southern boundary"],
        left_out=["Skip to content", "About the author", "Archive of every post", "Posted on", "Share on Facebook",
                  "Tom Ashdown", "blackcap", "Leave a Reply", "Recent Posts", "Barn owls", "Subscribe",
                  "Proudly powered by WordPress", "Notes from the edges"],
    ),
    "ghost": dict(
        title="The Quiet Economics of Repair Caf\u00e9s", author="Joan Whitfield and Samir Haddad",
        date=datetime.datetime(2023, 5, 9, 14, 2, 11, tzinfo=UTC),
        description="What a volunteer-run repair caf\u00e9 actually saves, counted over one year.", language="en",
        link="https://mendingnotes.example.com/quiet-economics-of-repair-cafes/",
        headings=["The Quiet Economics of Repair Caf\u00e9s", "What came through the door", "The money"],
        kept=["church hall that smells of coffee", "failed thermal fuses", "Category: Electrical; Items: 412; Fixed: 268.",
              "small argument against giving up", "open the case themselves"],
        left_out=["Home page", "About this newsletter", "Subscribe now", "6 min read", "Sign up for more",
                  "sewing machine", "Privacy policy", "Powered by Ghost", "paper notebook", "surprised us.1"],
    ),
    "substack": dict(
        title="Letters from a slow garden", author="Priya Raman",
        date=datetime.datetime(2024, 2, 11, 7, 15, tzinfo=UTC),
        description="On waiting three years for a medlar tree", language="en",
        link="https://slowgarden.substack.com/p/letters-from-a-slow-garden",
        headings=["The first winter", "The second summer"],
        kept=["Dear reader,", "bare stick in a cardboard tube", "The bees found it", "bottom of the garden, Priya"],
        left_out=["Sign in", "Share this post", "Thanks for reading Slow Garden", "Type your email",
                  "Discussion about this post", "Harriet", "Bletting", "Collection notice", "Get the app",
                  "home for great culture", "Link"],
    ),
}


@pytest.mark.parametrize("page", list(SAVED_PAGES))
def test_saved_page_metadata(page):
    expected = SAVED_PAGES[page]
    metadata = read_document(PAGES / f"{page}.html").metadata
    for key in ("title", "author", "description", "language", "link"):
        assert getattr(metadata, key) == expected[key], key
    assert metadata.date == expected["date"] and metadata.date.utcoffset() == expected["date"].utcoffset()
    assert metadata.image is None  # the page's image is a URL, not a file beside the essay


@pytest.mark.parametrize("page", list(SAVED_PAGES))
def test_saved_page_article_without_its_surroundings(page):
    expected = SAVED_PAGES[page]
    document = read_document(PAGES / f"{page}.html")
    assert [p.text for p in document.paragraphs if p.kind == HEADING] == expected["headings"]
    said = "\n".join(p.text for p in document.paragraphs)
    assert document.text == "\n\n".join(p.text for p in document.paragraphs)
    for words in expected["kept"]:
        assert words in said
    for words in expected["left_out"]:
        assert words not in said


def test_saved_page_paragraph_kinds():
    kinds = [p.kind for p in read_document(PAGES / "wordpress.html").paragraphs]
    assert kinds == [TEXT, TEXT, HEADING, TEXT, LIST_ITEM, LIST_ITEM, LIST_ITEM, QUOTE, HEADING, TEXT, CODE, TEXT]


# HTML -> the blocks the walk reads from it
BLOCKS = [
    ("paragraphs and headings", "<h1>Title <em>here</em></h1><p>One\n  two.</p><h3>Sub</h3>",
     [(HEADING, "Title here"), (TEXT, "One two."), (HEADING, "Sub")]),
    ("loose text between blocks", "Loose <b>bold</b><br>line<div>Block</div>after",
     [(TEXT, "Loose bold line"), (TEXT, "Block"), (TEXT, "after")]),
    ("nested lists", "<ol><li>one<ul><li>nested</li></ul>back</li><li><p>para</p></li></ol>",
     [(LIST_ITEM, "one"), (LIST_ITEM, "nested"), (LIST_ITEM, "back"), (LIST_ITEM, "para")]),
    ("a quote stays a quote", "<blockquote><p>a</p><ul><li>b</li></ul><h2>c</h2></blockquote>",
     [(QUOTE, "a"), (QUOTE, "b"), (QUOTE, "c")]),
    ("code keeps its lines", "<pre><code>  x = 1\n  y &lt; 2\n</code></pre>", [(CODE, "  x = 1\n  y < 2")]),
    ("table rows", "<table><tr><th>Name</th><th>Count</th></tr><tr><td>owls</td><td>2<br>3</td></tr></table>",
     [(LIST_ITEM, "Name: owls; Count: 2 3.")]),
    ("footnote markers", '<p>See<sup><a href="#fn1">1</a></sup> this<a role="doc-noteref" href="#n">2</a>. '
     'E=mc<sup>2</sup></p><aside epub:type="footnote"><p>The note.</p></aside>', [(TEXT, "See this. E=mc2")]),
    ("scripts, styles, forms, comments", "<p>a<script>var x</script><!-- c --> b</p><style>p{}</style>"
     "<form><textarea>t</textarea></form><svg><text>s</text></svg>", [(TEXT, "a b")]),
    ("entities and odd spaces", "<p>caf&eacute;&nbsp;society &mdash; &ldquo;yes&rdquo;</p>",
     [(TEXT, "caf\u00e9\u00a0society \u2014 \u201cyes\u201d")]),
]


@pytest.mark.parametrize("markup,expected", [c[1:] for c in BLOCKS], ids=[c[0] for c in BLOCKS])
def test_html_blocks(markup, expected):
    blocks = html_blocks(lxml.html.document_fromstring(f"<html><body>{markup}</body></html>"))
    assert [(b.paragraph.kind, b.paragraph.text) for b in blocks] == expected


def test_html_blocks_note_the_ids_before_each_block():
    page = '<body><div id="part"><h2><a id="ch1"></a>One</h2><p id="p1">Text.</p><p id="empty"></p></div><p>End.</p></body>'
    blocks = html_blocks(lxml.html.document_fromstring(page))
    assert [(b.paragraph.text, b.ids) for b in blocks] == [("One", ["part", "ch1"]), ("Text.", ["p1"]), ("End.", ["empty"])]


HEADS = [
    (b"<!DOCTYPE html>\n<html>", True),
    (b"\xef\xbb\xbf  <!doctype HTML><html lang=en>", True),
    (b"<!-- saved from url=(0042)https://example.org/ -->\n<html>", True),
    (b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">', True),
    (b"<html>", True),
    (b"<htmlish>", False),
    (b"# A Markdown heading\n\n<html> in prose", False),
    (b"---\ntitle: x\n---\n<html>", False),
    (b"<?xml version='1.0'?><rss version='2.0'>", False),
]


@pytest.mark.parametrize("head,expected", HEADS)
def test_recognises_a_page_by_its_first_bytes(head, expected):
    assert HtmlReader.recognises(head) is expected


def page(body: str, head: str = "", lang: str = "en") -> str:
    return f'<!DOCTYPE html><html lang="{lang}"><head>{head}</head><body><article>{body}</article></body></html>'


ARTICLE = ("<h1>Notes on caf\u00e9s</h1><p>The caf\u00e9 opens at seven and the regulars are already at the door, "
           "\u201cwaiting\u201d for the first pot of coffee of the day.</p>"
           "<p>By nine the room is loud, warm, and full of newspapers nobody admits to reading.</p>")


# file name, bytes, --encoding -> the first paragraph's text
ENCODED_PAGES = [
    ("utf-8.html", page(ARTICLE, '<meta charset="utf-8">').encode("utf-8"), None),
    ("declared.html", page(ARTICLE, '<meta charset="windows-1252">').encode("cp1252"), None),
    ("http-equiv.htm", page(ARTICLE, '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">')
     .encode("cp1252"), None),
    ("utf-16.html", codecs.BOM_UTF16_LE + page(ARTICLE).encode("utf-16-le"), None),
    ("option.html", page(ARTICLE, '<meta charset="utf-8">').encode("cp1252"), "cp1252"),
    ("page.xhtml", ('<?xml version="1.0" encoding="windows-1252"?>\n'
                    + page(ARTICLE).replace("<html", '<html xmlns="http://www.w3.org/1999/xhtml"')).encode("cp1252"), None),
    ("article", page(ARTICLE).encode("utf-8"), None),  # no suffix: found by its first bytes
]


@pytest.mark.parametrize("name,data,encoding", ENCODED_PAGES, ids=[c[0] for c in ENCODED_PAGES])
def test_pages_are_decoded_as_they_say(tmp_path, name, data, encoding):
    path = tmp_path / name
    path.write_bytes(data)
    document = read_document(path, encoding=encoding)
    assert [p.text for p in document.paragraphs][:2] == [
        "Notes on caf\u00e9s",
        "The caf\u00e9 opens at seven and the regulars are already at the door, "
        "\u201cwaiting\u201d for the first pot of coffee of the day.",
    ]
    assert document.metadata.language == "en"


def test_a_title_loses_the_site_name(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(page(ARTICLE, '<title>Notes on caf\u00e9s | The Corner Table</title>'
                              '<meta property="og:site_name" content="The Corner Table">'), encoding="utf-8")
    assert read_document(path).metadata.title == "Notes on caf\u00e9s"


def test_a_day_without_a_time_stays_a_day(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(page(ARTICLE, '<meta property="article:published_time" content="2019-03-02">'), encoding="utf-8")
    assert read_document(path).metadata.date == datetime.date(2019, 3, 2)


BAD_PAGES = [
    ("rendered by its scripts", page("").replace("<article></article>", '<div id="root"></div>'
                                                 "<script>render(document.getElementById('root'))</script>").encode(),
     "no readable text"),
    ("not utf-8, undeclared", page(ARTICLE).encode("cp1252"), "--encoding cp1252"),
    ("binary", b"<!DOCTYPE html>\x00\x01\x02\x03" * 10, "binary"),
]


@pytest.mark.parametrize("data,expected", [c[1:] for c in BAD_PAGES], ids=[c[0] for c in BAD_PAGES])
def test_unusable_pages_are_refused_in_one_line(tmp_path, data, expected):
    path = tmp_path / "page.html"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_document(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert expected in str(caught.value)


@pytest.mark.parametrize("names,spoken", [
    ([], None), (["Ada"], "Ada"), (["Ada", " Alan "], "Ada and Alan"), (["A", "B", "", "C"], "A, B and C"),
])
def test_names_are_listed_as_spoken(names, spoken):
    assert natural_list(names) == spoken


def test_reading_markdown_loads_none_of_the_other_readers_libraries(tmp_path):
    """A build's main process holds what reading loaded through the whole synthesis:
    a Markdown essay loads no HTML, EPUB or feed library, nor the network's."""
    essay = tmp_path / "essay.md"
    essay.write_text("# Title\n\nBody.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", encoding="utf-8")
    check = ("import sys; from pathlib import Path; from audiobook.text.read import read_document; "
             f"read_document(Path({str(essay)!r})); "
             "print(sorted(name for name in ('trafilatura', 'ebooklib', 'feedparser', 'lxml', 'ssl', "
             "'charset_normalizer') if name in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_a_file_of_many_comments_is_not_taken_for_a_page_and_costs_no_time():
    import time

    started = time.perf_counter()
    assert not HtmlReader.recognises(b"<!-- c -->\n" * 400 + b"<data>Hello</data>")
    assert HtmlReader.recognises(b"<!-- c -->\n" * 400 + b"<html><body>Hi</body></html>")
    assert time.perf_counter() - started < 0.5
