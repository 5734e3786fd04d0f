"""Readers: one small class per essay format, found through one registry.

A reader turns the body of an essay (decoded, front matter removed) into
Paragraphs whose display text is as written, minus markup; how anything is
*said* is the planner's business. Built-in readers are registered like a
third party's, as ``audiobook.readers`` entry points (the shape of pelican's
``BaseReader`` / ``Readers``); a file whose suffix no reader claims is read
as plain text.
"""
from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from audiobook import registry
from audiobook.errors import InputError
from audiobook.models import CODE, HEADING, LIST_ITEM, QUOTE, TEXT, Paragraph

ENTRY_POINT_GROUP = "audiobook.readers"
DEFAULT_READERS = {
    "text": "audiobook.text.readers:PlainTextReader",
    "markdown": "audiobook.text.readers:MarkdownReader",
}
FALLBACK = "text"

# Runs of ASCII whitespace inside a paragraph become one space. Non-breaking
# and other Unicode spaces are left for normalize, so display stays as written.
ASCII_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")
# A blank line (only whitespace) separates plain-text paragraphs.
BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
HTML_TAG = re.compile(r"<[^>]*>")


class Reader:
    """One essay format: the suffixes it claims, and body text -> paragraphs.

    ``unavailable_reason`` says why a reader whose optional library is
    missing cannot run (None when it can), as engines do.
    """

    name = ""
    suffixes: tuple[str, ...] = ()

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return None

    def paragraphs(self, body: str) -> list[Paragraph]:
        raise NotImplementedError


class PlainTextReader(Reader):
    """Paragraphs separated by blank lines; the lines of one paragraph joined by a space."""

    name = "text"
    suffixes = (".txt", ".text")

    def paragraphs(self, body: str) -> list[Paragraph]:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
        blocks = (_collapse(block) for block in BLANK_LINE.split(body))
        return [Paragraph(kind=TEXT, text=block) for block in blocks if block]


class MarkdownReader(Reader):
    """CommonMark: headings start chapters; quotes, list items, link text and alt text are prose."""

    name = "markdown"
    suffixes = (".md", ".markdown")

    def paragraphs(self, body: str) -> list[Paragraph]:
        """Walk the block tokens, giving each leaf block a kind from its containers."""
        paragraphs: list[Paragraph] = []
        quote_depth = 0
        in_heading = False
        list_prefixes: list[str] = []  # one entry per open list item: "3. " until used, then ""
        for token in MarkdownIt("commonmark").parse(body):
            if token.type == "blockquote_open":
                quote_depth += 1
            elif token.type == "blockquote_close":
                quote_depth -= 1
            elif token.type in ("heading_open", "heading_close"):
                in_heading = token.type == "heading_open"
            elif token.type == "list_item_open":
                list_prefixes.append(f"{token.info}{token.markup} " if token.info else "")
            elif token.type == "list_item_close":
                list_prefixes.pop()
            elif token.type in ("fence", "code_block"):
                language = token.info.split()[0] if token.info.strip() else None
                paragraphs.append(Paragraph(kind=CODE, text=token.content.rstrip("\n"), language=language))
            elif token.type in ("inline", "html_block"):
                text = _inline_text(token) if token.type == "inline" else _html_text(token.content)
                if not text:
                    continue
                if quote_depth:
                    kind = QUOTE
                elif list_prefixes:
                    kind = LIST_ITEM
                    text, list_prefixes[-1] = list_prefixes[-1] + text, ""
                elif in_heading:
                    kind = HEADING
                else:
                    kind = TEXT
                paragraphs.append(Paragraph(kind=kind, text=text))
        return paragraphs


def reader_targets() -> dict[str, str]:
    """Reader name -> 'module:Class', built-ins first, then installed plugins."""
    return registry.targets(ENTRY_POINT_GROUP, DEFAULT_READERS)


def reader_for(suffix: str) -> Reader:
    """The reader that claims ``suffix`` (".md"), plain text when none does.

    A plugin that cannot be loaded is passed over unless no other reader
    claims the suffix: it may have been the one meant for this file."""
    classes, broken = {}, []
    for name, target in reader_targets().items():
        try:
            classes[name] = registry.load(target)
        except ImportError as exc:
            broken.append(f"the {name} reader cannot be loaded ({exc})")
    chosen = next((cls for cls in classes.values() if suffix.lower() in cls.suffixes), None)
    if chosen is None:
        if broken:
            raise InputError(f"no reader claims {suffix or 'files without a suffix'} and {'; '.join(broken)}")
        chosen = classes[FALLBACK]
    reason = chosen.unavailable_reason()
    if reason:
        raise InputError(f"{suffix} files need the {chosen.name} reader, which cannot run: {reason}")
    return chosen()


def _collapse(text: str) -> str:
    return ASCII_WHITESPACE.sub(" ", text).strip()


def _inline_text(token: Token) -> str:
    return _collapse("".join(_inline_pieces(token.children or [])))


def _inline_pieces(children: list[Token]):
    """Plain text of inline tokens: links keep their text, images their alt text."""
    for child in children:
        if child.type in ("text", "code_inline"):
            yield child.content
        elif child.type in ("softbreak", "hardbreak"):
            yield " "
        elif child.type == "image":
            yield from _inline_pieces(child.children or [])
        # emphasis, strong and link open/close tokens carry no text; inline HTML is dropped


def _html_text(markup: str) -> str:
    """The visible text of an HTML block, or "" for comments and bare tags."""
    return _collapse(html.unescape(HTML_TAG.sub(" ", HTML_COMMENT.sub(" ", markup))))
