"""Markdown, as static-site generators keep it: CommonMark through markdown-it-py."""
from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from audiobook.models import CODE, HEADING, LIST_ITEM, QUOTE, TEXT, Paragraph
from audiobook.text.readers import TextReader, collapse

HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
HTML_TAG = re.compile(r"<[^>]*>")


class MarkdownReader(TextReader):
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


def _inline_text(token: Token) -> str:
    return collapse("".join(_inline_pieces(token.children or [])))


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
    return collapse(html.unescape(HTML_TAG.sub(" ", HTML_COMMENT.sub(" ", markup))))
