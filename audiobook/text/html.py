"""HTML: a saved page or a CMS export (WordPress, Ghost, Substack), read as its article.

trafilatura finds the article in the page, leaving out navigation, sidebars,
share buttons, comments and footers, and reads its metadata from meta tags
and JSON-LD. Its article comes back as HTML, which ``html_blocks`` walks into
Paragraphs: the same walk the EPUB reader gives each chapter of a book.
Footnote markers and the notes themselves are left out: read mid-sentence,
a marker is noise, and a note read away from its sentence is a non sequitur.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

from audiobook.errors import InputError
from audiobook.models import CODE, HEADING, LIST_ITEM, QUOTE, TEXT, Document, Metadata, Paragraph
from audiobook.text.decode import decode_text
from audiobook.text.fields import essay_date, natural_list
from audiobook.text.readers import Reader, collapse, table_rows

# A page starts, after a byte-order mark, spaces, an XML declaration and comments, with one of these.
HTML_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--(?:(?!-->).)*-->\s*)*+<(?:!doctype\s+html|html[\s>])",
                        re.IGNORECASE | re.DOTALL)
# What a page says its bytes are: <meta charset=...>, <meta http-equiv ... content="...; charset=...">,
# or an XHTML page's XML declaration; browsers look at the first 1024 bytes.
DECLARED_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*[\"']([\w.:-]+)",
                              re.IGNORECASE)
CHARSET_WINDOW = 1024
# lxml refuses a str that still carries its XML declaration.
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Footnote markers and footnote sections, pruned before the article is extracted.
FOOTNOTE_XPATHS = [
    "//sup[.//a[contains(@href, '#')]]",
    "//*[contains(@role, 'doc-noteref') or contains(@role, 'doc-footnote') or contains(@role, 'doc-endnote')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' footnotes ')]",
]
# A title that ends with the site's name after one of these: "Post | Site", "Post – Blog".
TITLE_SEPARATORS = (" | ", " \u2013 ", " \u2014 ", " - ", " \u00b7 ", " :: ", " \u00bb ")

# trafilatura's elements whose <code> children are inline code.
INLINE_CODE_PARENTS = {"p", "head", "item", "cell", "hi", "ref"}

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
LIST_ITEMS = {"li", "dt", "dd"}
# Elements that start a block of their own; anything else is inline, part of the text around it.
BLOCKS = HEADINGS | LIST_ITEMS | {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "details", "div", "dl",
    "figcaption", "figure", "footer", "header", "hgroup", "hr", "html", "main", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
}
# Never read: what a page runs or draws rather than says, and forms.
SKIPPED = {"audio", "button", "canvas", "head", "iframe", "math", "noscript", "object", "script", "select",
           "style", "svg", "template", "textarea", "video"}
# epub:type and role values of footnote markers and notes (EPUB 3 structural semantics, DPUB-ARIA).
NOTE_TYPES = re.compile(r"\b(?:doc-)?(?:noteref|footnotes?|endnotes?|rearnotes?)\b")
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@dataclass
class Block:
    """A Paragraph and the element ids met since the one before it: where a
    link into the page (an EPUB table of contents entry) lands."""

    paragraph: Paragraph
    ids: list[str] = field(default_factory=list)


class HtmlReader(Reader):
    """A web page's article, with its headings, quotes, lists and code, and its metadata."""

    name = "html"
    suffixes = (".html", ".htm", ".xhtml")

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import trafilatura  # noqa: F401 - only to see that it imports
        except ImportError as error:
            return f"trafilatura cannot be imported ({error}); install it with: pip install trafilatura"
        return None

    @classmethod
    def recognises(cls, head: bytes) -> bool:
        return HTML_START.match(head) is not None

    def read(self, path: Path, data: bytes, encoding: str | None = None) -> Document:
        import trafilatura

        page = parse_html(path, data, encoding)
        language = page.get("lang") or page.get("{http://www.w3.org/XML/1998/namespace}lang") or _og_locale(page)
        # Read before trafilatura, which prunes the tree it is given.
        headlines = {collapse(h.text_content()) for h in page.iter("h1", "h2")}
        site = _first(page, "//meta[@property='og:site_name']/@content")
        published = _first(page, "//meta[@property='article:published_time']/@content")
        article = trafilatura.bare_extraction(
            page, with_metadata=True, include_comments=False, include_images=False, include_formatting=False,
            prune_xpath=FOOTNOTE_XPATHS,
            # The publication date (not the last change), with its time and zone when the page gives them.
            date_extraction_params={"original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
        )
        if article is None or article.body is None:
            return Document(source=path, metadata=Metadata(language=language), paragraphs=[], text="")
        from trafilatura.htmlprocessing import convert_to_html

        paragraphs = [block.paragraph for block in html_blocks(convert_to_html(_inline_code_as_text(article.body)))]
        link = article.url or None
        metadata = Metadata(
            title=_article_title(article.title, site, urlsplit(link or "").hostname or "", headlines),
            # A "name" with a digit in it is a byline's date or a count, not a person.
            author=natural_list([name for name in (article.author or "").split(";") if not re.search(r"\d", name)]),
            date=_page_date(published) or _page_date(article.date),
            description=article.description or None,
            language=language or None,
            link=link,
            tags=list(article.tags or []),
        )
        return Document(source=path, metadata=metadata, paragraphs=paragraphs,
                        text="\n\n".join(p.text for p in paragraphs))


def parse_html(path: Path, data: bytes, encoding: str | None = None) -> lxml.html.HtmlElement:
    """The page's element tree, decoded by its byte-order mark, else ``encoding``, else its own
    declaration, else as UTF-8; a page that is not text is refused by ``decode_text``."""
    match = DECLARED_CHARSET.search(data[:CHARSET_WINDOW])
    declared = (match.group(1) or match.group(2)).decode("ascii") if match else None
    text = XML_DECLARATION.sub("", decode_text(path, data, encoding, declared), count=1)
    try:
        return lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as error:
        raise InputError(f"{path}: cannot be read as HTML ({error}); save the page again from the browser.") from None


def html_paragraphs(markup: str) -> list[Paragraph]:
    """The readable blocks of an HTML fragment (a feed's post), as Paragraphs."""
    if not markup.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except lxml.etree.ParserError:  # nothing lxml can make an element of: nothing to read
        return []
    return [block.paragraph for block in html_blocks(root)]


def html_text(markup: str) -> str:
    """The visible text of an HTML fragment on one line (inline HTML in Markdown); "" when it shows none."""
    return " ".join(paragraph.text for paragraph in html_paragraphs(markup))


def html_blocks(root: lxml.etree._Element) -> list[Block]:
    """The readable blocks of an HTML tree in order: headings, paragraphs, quotes, list items,
    preformatted code and table rows (cells joined by semicolons)."""
    walk = _Walk()
    walk.container(root, TEXT)
    return walk.blocks


class _Walk:
    """Reads block elements into Blocks; inline text between them is gathered until the next block."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.ids: list[str] = []
        self.inline: list[str] = []

    def container(self, element: lxml.etree._Element, kind: str) -> None:
        self._note_ids(element, deep=False)
        self.inline.append(element.text or "")
        for child in element:
            tag = _tag(child)
            if tag is None or tag in SKIPPED or _is_note(child):
                pass  # its tail is still read, below
            elif tag in HEADINGS:
                self._flush(kind)
                self._note_ids(child, deep=True)
                self._emit(HEADING if kind == TEXT else kind, _inline_text(child))
            elif tag == "pre":
                self._flush(kind)
                self._note_ids(child, deep=True)
                self._emit(CODE, "".join(child.itertext()).strip("\n"), collapse_text=False)
            elif tag == "table":
                self._flush(kind)
                self._note_ids(child, deep=True)
                for row in table_rows(*_header_and_rows(child)):
                    self._emit(LIST_ITEM if kind == TEXT else kind, row)
            elif tag in BLOCKS:
                self._flush(kind)
                self.container(child, _inner_kind(tag, kind))
            else:
                self._note_ids(child, deep=True)
                self.inline.extend(_text_pieces(child))
            self.inline.append(child.tail or "")
        self._flush(kind)

    def _flush(self, kind: str) -> None:
        self._emit(kind, "".join(self.inline))
        self.inline = []

    def _emit(self, kind: str, text: str, collapse_text: bool = True) -> None:
        if collapse_text:
            text = collapse(text)
        if text.strip():
            self.blocks.append(Block(Paragraph(kind=kind, text=text), self.ids))
            self.ids = []

    def _note_ids(self, element: lxml.etree._Element, deep: bool) -> None:
        for each in element.iter() if deep else (element,):
            if isinstance(each.tag, str) and each.get("id"):
                self.ids.append(each.get("id"))


def _header_and_rows(table: lxml.etree._Element) -> tuple[list[str], list[list[str]]]:
    """Cell texts of a table: its header row (the first row, when it is all <th> or in <thead>) and the rest."""
    rows = [row for row in table.iter("{*}tr", "tr")]
    cells = [[_inline_text(cell) for cell in row if _tag(cell) in ("td", "th")] for row in rows]
    if rows and (all(_tag(cell) == "th" for cell in rows[0] if _tag(cell)) or _tag(rows[0].getparent()) == "thead"):
        return cells[0], cells[1:]
    return [], cells


def _inner_kind(tag: str, kind: str) -> str:
    """The kind of the blocks inside ``tag``: a quote stays a quote, even in a list."""
    if tag == "blockquote" or kind == QUOTE:
        return QUOTE
    return LIST_ITEM if tag in LIST_ITEMS else kind


def _inline_text(element: lxml.etree._Element) -> str:
    return collapse("".join(_text_pieces(element)))


def _text_pieces(element: lxml.etree._Element):
    """The text in and under an element, with line breaks and block edges as spaces;
    notes, scripts and comments left out (their tails are the parent's to give)."""
    tag = _tag(element)
    if tag is None or tag in SKIPPED or _is_note(element):
        return
    if tag == "img":
        yield element.get("alt") or ""
        return
    spaced = tag == "br" or tag in BLOCKS
    if spaced:
        yield " "
    yield element.text or ""
    for child in element:
        yield from _text_pieces(child)
        yield child.tail or ""
    if spaced:
        yield " "


def _tag(element: lxml.etree._Element) -> str | None:
    """The lower-case local name (XHTML elements carry a namespace); None for comments and the like."""
    if not isinstance(element.tag, str):
        return None
    return lxml.etree.QName(element).localname.lower()


def _is_note(element: lxml.etree._Element) -> bool:
    """A footnote marker or a note: by its EPUB or ARIA role, or a superscript that links within the text."""
    kinds = f"{element.get(EPUB_TYPE, '')} {element.get('epub:type', '')} {element.get('role', '')}"
    if NOTE_TYPES.search(kinds):
        return True
    return _tag(element) == "sup" and any("#" in (link.get("href") or "") for link in element.iter("{*}a"))


def _article_title(title: str | None, site: str | None, host: str, headlines: set[str]) -> str | None:
    """The article's title without the site's name that a <title> adds after or before it:
    the part that is not the site (its og:site_name, or words all found in its host name),
    or that the page gives as a headline."""
    if not title:
        return None
    title = collapse(title)
    for separator in TITLE_SEPARATORS:
        head, _, tail = title.rpartition(separator)
        first, _, rest = title.partition(separator)
        for article, other in ((head, tail), (rest, first)):
            if article and (article in headlines or _names_site(other, site, host)):
                return article.strip()
    return title


def _names_site(part: str, site: str | None, host: str) -> bool:
    words = re.findall(r"\w+", part.lower())
    return part == site or bool(words and host and all(word in host.lower() for word in words))


def _inline_code_as_text(body: lxml.etree._Element) -> lxml.etree._Element:
    """trafilatura writes inline code and code blocks alike as <code>, which its
    HTML becomes <pre>: code on one line inside a paragraph, heading, list item
    or cell is part of that sentence, not a block of its own."""
    for code in body.iter("code"):
        parent = code.getparent()
        if parent is not None and parent.tag in INLINE_CODE_PARENTS and "\n" not in "".join(code.itertext()):
            code.tag = "span"
    return body


def _page_date(written: str | None):
    """trafilatura's date, asked for with a time and zone; a bare day comes back as
    midnight without a zone, which is a day, not a moment."""
    if not written:
        return None
    try:
        return essay_date(written.removesuffix("T00:00:00"))
    except ValueError:
        return None


def _first(page: lxml.html.HtmlElement, xpath: str) -> str | None:
    """The first value an XPath finds, stripped; None when it finds none or only blanks."""
    return next((value.strip() for value in page.xpath(xpath) if value.strip()), None)


def _og_locale(page: lxml.html.HtmlElement) -> str | None:
    """Open Graph's locale (en_GB) as a language tag (en-GB)."""
    locale = _first(page, "//meta[@property='og:locale']/@content")
    return locale.replace("_", "-") if locale else None
