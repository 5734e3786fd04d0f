"""Stage "read": an essay file on disk -> Document.

Accepts plain text and Markdown (CommonMark), each with optional YAML front
matter. Display text is kept as written, minus markup; deciding how anything
is *said* is plan's job. Every way a file can be unusable ends in an
InputError that names the file and says what to do.
"""
from __future__ import annotations

import datetime
import html
import re
from pathlib import Path

import yaml
from frontmatter.default_handlers import YAMLHandler
from markdown_it import MarkdownIt
from markdown_it.token import Token

from audiobook.errors import InputError
from audiobook.models import CODE, HEADING, LIST_ITEM, QUOTE, TEXT, Document, Metadata, Paragraph

MARKDOWN_SUFFIXES = {".md", ".markdown"}

UTF8_BOM = b"\xef\xbb\xbf"

# More than this share of control characters means "not a text file".
MAX_CONTROL_SHARE = 0.1

# Front matter keys copied to Metadata as strings; anything else is ignored.
STRING_KEYS = ("title", "author", "date", "description", "language", "image", "link")

# Runs of ASCII whitespace inside a paragraph become one space. Non-breaking
# and other Unicode spaces are left for normalize, so display stays as written.
ASCII_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")

# A blank line (only whitespace) separates plain-text paragraphs.
BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")

# C0/C1 control characters other than tab, newline, carriage return, form feed.
CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
HTML_TAG = re.compile(r"<[^>]*>")


def read_document(path: Path) -> Document:
    """Read an essay file into a Document, or raise InputError saying why not."""
    path = Path(path)
    text = _decode(path, _read_bytes(path))
    metadata, body = _split_front_matter(path, text)
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        paragraphs = markdown_paragraphs(body)
    else:
        paragraphs = plain_paragraphs(body)
    if not paragraphs:
        raise InputError(f"{path}: no readable text found (only markup?); add some prose to the essay.")
    return Document(source=path, metadata=metadata, paragraphs=paragraphs, text=body)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path to the essay.")
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the path to an essay file (.txt or .md).")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error}); check its permissions.") from None
    if not data:
        raise InputError(f"{path}: the file is empty; write the essay into it first.")
    return data


def _decode(path: Path, data: bytes) -> str:
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


def _split_front_matter(path: Path, text: str) -> tuple[Metadata, str]:
    """Metadata from a leading YAML block fenced by '---' lines, and the body after it."""
    text = text.strip()
    handler = YAMLHandler()
    if not handler.detect(text):
        return Metadata(), text
    try:
        front, body = handler.split(text)
        fields = handler.load(front) or {}
    except ValueError:  # an opening '---' with no closing one: a thematic break, not front matter
        return Metadata(), text
    except yaml.YAMLError as error:
        problem = str(error).splitlines()[0]
        raise InputError(f"{path}: bad YAML front matter ({problem}); fix the block between the '---' lines.") from None
    if not isinstance(fields, dict):
        raise InputError(f"{path}: front matter must be 'key: value' lines; fix the block between the '---' lines.")
    if not body.strip():
        raise InputError(f"{path}: has front matter but no essay text after it; add the essay below the '---' line.")
    return _metadata(path, fields), body.strip()


def _metadata(path: Path, fields: dict) -> Metadata:
    values = {key: _as_text(fields.get(key)) for key in STRING_KEYS}
    chapters = fields.get("chapters") or []
    if isinstance(chapters, str):
        chapters = [chapters]
    if not isinstance(chapters, list):
        raise InputError(f"{path}: front matter 'chapters' must be a list of titles; write one '- title' per line.")
    titles = [title for title in map(_as_text, chapters) if title]
    tables = {}
    for key in ("lexicon", "voices"):
        tables[key] = fields.get(key) or {}
        if not isinstance(tables[key], dict):
            raise InputError(f"{path}: front matter '{key}' must be 'word: value' lines under it.")
    return Metadata(**values, chapter_titles=titles, **tables)


def _as_text(value: object) -> str | None:
    """A front matter value as a stripped string; YAML dates become ISO 8601."""
    if value is None:
        return None
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).strip() or None


def _collapse(text: str) -> str:
    return ASCII_WHITESPACE.sub(" ", text).strip()


def plain_paragraphs(body: str) -> list[Paragraph]:
    """Paragraphs separated by blank lines; the lines of one paragraph joined by a space."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    blocks = (_collapse(block) for block in BLANK_LINE.split(body))
    return [Paragraph(kind=TEXT, text=block) for block in blocks if block]


def markdown_paragraphs(body: str) -> list[Paragraph]:
    """Walk CommonMark block tokens, giving each leaf block a kind from its containers."""
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
