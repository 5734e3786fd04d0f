"""Markdown, as static-site generators keep it, read the way a person reads it aloud.

The site's own syntax (templating, shortcodes, attribute lists, wiki links,
MDX statements) is taken out first (``dialects``); the rest is CommonMark with
the common extensions, parsed by markdown-it-py and mdit-py-plugins: GFM
tables, strikethrough and task lists, footnotes, definition lists, MkDocs
admonitions (``!!! note``) and ``:::`` containers (Docusaurus, VitePress).

How each construct is read, for the README:

- Ordered lists: each item is a list item *without its number*; the pause
  between items carries the order, as a person reading aloud does not say
  "one. two. three.". Bullets and task-list boxes are not read either.
- Footnotes: the marker is never read; each footnote's text is read at the
  end of the section that refers to it, as a paragraph starting "Note:".
  A footnote nobody refers to is left out.
- Tables: read row by row, each cell named by its column's header
  ("Name: Ada; Born: 1815."); a table with only a header row reads it once.
- Admonitions and callouts: their title (or kind, "Warning") is read as a
  short lead-in paragraph, then their text.
- HTML blocks and inline HTML: their visible text, walked as the HTML reader
  walks a page (``html.html_paragraphs``); an ``<img>`` by its alt text;
  ``<pre>`` is code.
- Links keep their text, images their alt text (an image without one is left
  out). A bare URL stays in the display text as written; speech says its site.
- Code blocks are shown, not read (the planner says so); inline code is read.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from audiobook.models import CODE, HEADING, LIST_ITEM, QUOTE, TEXT, Paragraph
from audiobook.text.dialects import plain_markdown
from audiobook.text.readers import TextReader, collapse, table_rows

FOOTNOTE_LEAD_IN = "Note: "


def _parser() -> MarkdownIt:
    parser = (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
        .use(deflist_plugin)
        .use(admon_plugin)
        # every ":::kind Title" block, whatever its kind (Docusaurus, VitePress and Pandoc each have their own)
        .use(container_plugin, name="admonition", validate=lambda params, *rest: True)
    )
    parser.options["tasklists"] = True  # "[ ]" and "[x]" become checkboxes, not text
    return parser


PARSER = _parser()


class MarkdownReader(TextReader):
    """CommonMark and its site-generator dialects: headings start chapters;
    quotes, list items, table rows, link text and alt text are prose."""

    name = "markdown"
    suffixes = (".md", ".markdown", ".mdx")

    def paragraphs(self, body: str) -> list[Paragraph]:
        tokens = PARSER.parse(plain_markdown(body))
        main, footnotes = _split_footnotes(tokens)
        walk = _Walk(notes=_footnote_texts(footnotes))
        for token in main:
            walk.take(token)
        walk.end_section()
        return walk.paragraphs


@dataclass
class _Walk:
    """The block tokens walked in order, each leaf block given a kind from its containers."""

    notes: dict[int, list[str]]  # footnote id -> its paragraphs' text
    paragraphs: list[Paragraph] = field(default_factory=list)
    quote_depth: int = 0
    list_depth: int = 0
    in_heading: bool = False
    table_header: list[str] = field(default_factory=list)  # the header row's cells while inside a table
    table_body: list[list[str]] = field(default_factory=list)  # and each other row's
    in_table_head: bool = False
    row: list[str] | None = None  # the cells of the table row being read
    referred_notes: list[int] = field(default_factory=list)  # footnotes referred to in this section

    def take(self, token: Token) -> None:
        kind = token.type
        if kind in ("blockquote_open", "blockquote_close"):
            self.quote_depth += 1 if kind.endswith("open") else -1
        elif kind in ("bullet_list_open", "ordered_list_open", "bullet_list_close", "ordered_list_close"):
            self.list_depth += 1 if kind.endswith("open") else -1
        elif kind == "heading_open":
            self.end_section()
            self.in_heading = True
        elif kind == "heading_close":
            self.in_heading = False
        elif kind == "container_admonition_open":
            self.add(_container_title(token.info))
        elif kind in ("fence", "code_block"):
            language = token.info.split()[0] if token.info.strip() else None
            self.paragraphs.append(Paragraph(kind=CODE, text=token.content.rstrip("\n"), language=language))
        elif kind == "html_block":
            self.take_html(token.content)
        elif kind == "inline":
            self.take_inline(token)
        elif kind == "table_open":
            self.table_header, self.table_body = [], []
        elif kind in ("thead_open", "thead_close"):
            self.in_table_head = kind == "thead_open"
        elif kind == "tr_open":
            self.row = []
        elif kind == "tr_close":
            self.end_row()
        elif kind == "table_close":
            for row in table_rows(self.table_header, self.table_body):
                self.add(row, LIST_ITEM)

    def take_inline(self, token: Token) -> None:
        text = collapse("".join(self.inline_pieces(token.children or [])))
        if self.row is not None:
            self.row.append(text)
        else:
            self.add(text)

    def take_html(self, markup: str) -> None:
        from audiobook.text.html import html_paragraphs  # lxml, loaded only for an essay that has HTML

        for paragraph in html_paragraphs(markup):
            if paragraph.kind == CODE:
                self.paragraphs.append(paragraph)
            else:  # inside a quote or a list, the HTML's text is part of it
                self.add(paragraph.text, None if paragraph.kind == TEXT else paragraph.kind)

    def inline_pieces(self, children: list[Token]) -> Iterator[str]:
        """Plain text of inline tokens: links keep their text, images and ``<img>`` their alt text."""
        for child in children:
            if child.type in ("text", "code_inline"):
                yield child.content
            elif child.type in ("softbreak", "hardbreak"):
                yield " "
            elif child.type == "image":
                yield from self.inline_pieces(child.children or [])
            elif child.type == "html_inline":
                yield " " if child.content[:3].lower() == "<br" else _inline_html_text(child.content)
            elif child.type == "footnote_ref" and child.meta["id"] not in self.referred_notes:
                self.referred_notes.append(child.meta["id"])
            # emphasis, links, strikethrough and checkboxes carry no text of their own

    def end_row(self) -> None:
        cells, self.row = self.row or [], None
        if self.in_table_head:
            self.table_header = cells
        else:
            self.table_body.append(cells)

    def end_section(self) -> None:
        """Read the footnotes the section referred to, before the next heading (or the end)."""
        for note in self.referred_notes:
            texts = self.notes.get(note, [])
            for number, text in enumerate(texts):
                self.add(FOOTNOTE_LEAD_IN + text if number == 0 else text, TEXT)
        self.referred_notes = []

    def add(self, text: str, kind: str | None = None) -> None:
        if not text:
            return
        if kind is None:
            kind = QUOTE if self.quote_depth else LIST_ITEM if self.list_depth else HEADING if self.in_heading else TEXT
        self.paragraphs.append(Paragraph(kind=kind, text=text))


def _split_footnotes(tokens: list[Token]) -> tuple[list[Token], list[Token]]:
    """The document's tokens, and the footnote block markdown-it puts at their end."""
    for index, token in enumerate(tokens):
        if token.type == "footnote_block_open":
            return tokens[:index], tokens[index:]
    return tokens, []


def _footnote_texts(tokens: list[Token]) -> dict[int, list[str]]:
    """Footnote id -> the text of each of its paragraphs."""
    texts: dict[int, list[str]] = {}
    current = None
    for token in tokens:
        if token.type == "footnote_open":
            current = texts.setdefault(token.meta["id"], [])
        elif token.type == "inline" and current is not None:
            walk = _Walk(notes={})
            walk.take_inline(token)
            current.extend(paragraph.text for paragraph in walk.paragraphs)
    return texts


def _container_title(info: str) -> str:
    """``note Title`` / ``tip[Title]`` -> the title; ``warning`` -> "Warning"; ``{.class}`` -> ""."""
    info = info.strip()
    if info.startswith("{"):  # Pandoc's fenced div: attributes only
        return ""
    kind, _, title = info.partition("[") if "[" in info.split(" ", 1)[0] else info.partition(" ")
    title = title.strip().removesuffix("]").strip()
    return title or kind.strip().capitalize()


def _inline_html_text(markup: str) -> str:
    """What an inline tag shows (an <img>'s alt text); most show nothing of their own."""
    from audiobook.text.html import html_text  # lxml, loaded only for an essay that has HTML

    return html_text(markup)
