"""Readers: one small class per essay format, found through one registry.

A reader turns an essay file's bytes into a Document: metadata, and
Paragraphs whose display text is as written, minus markup; how anything is
*said* is the planner's business. Built-in readers are registered like a
third party's, as ``audiobook.readers`` entry points (the shape of pelican's
``BaseReader`` / ``Readers``). A file goes to the reader that claims its
suffix, else to one that recognises its first bytes, else to plain text.
"""
from __future__ import annotations

import re
from pathlib import Path

from audiobook import registry
from audiobook.errors import InputError
from audiobook.models import TEXT, Document, Paragraph
from audiobook.text.decode import decode_text
from audiobook.text.frontmatter import split_front_matter

ENTRY_POINT_GROUP = "audiobook.readers"
DEFAULT_READERS = {
    "text": "audiobook.text.readers:PlainTextReader",
    "markdown": "audiobook.text.markdown:MarkdownReader",
    "html": "audiobook.text.html:HtmlReader",
    "epub": "audiobook.text.epub:EpubReader",
    "feed": "audiobook.text.feeds:FeedReader",
}
FALLBACK = "text"
# How much of a file ``Reader.recognises`` is shown.
HEAD_BYTES = 4096

# Runs of ASCII whitespace inside a paragraph become one space. Non-breaking
# and other Unicode spaces are left for normalize, so display stays as written.
ASCII_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")
# What ends a sentence already; anything else read as one gets a full stop.
SENTENCE_END = (".", "!", "?", "\u2026", ":", ";")
# A blank line (only whitespace) separates plain-text paragraphs.
BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


class Reader:
    """One essay format: the suffixes it claims, and a file's bytes -> Document.

    ``unavailable_reason`` says why a reader whose optional library is
    missing cannot run (None when it can), as engines do. ``recognises``
    looks at the first bytes of a file whose suffix no reader claims.
    A reader of a collection (a blog's feed) implements ``read_all``: one
    Document per post.
    """

    name = ""
    suffixes: tuple[str, ...] = ()

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return None

    @classmethod
    def recognises(cls, head: bytes) -> bool:
        return False

    def read(self, path: Path, data: bytes, encoding: str | None = None) -> Document:
        raise NotImplementedError

    def read_all(self, path: Path, data: bytes, encoding: str | None = None) -> list[Document]:
        return [self.read(path, data, encoding)]


class TextReader(Reader):
    """A text format with optional front matter: decode, split the front matter off, read the body."""

    def read(self, path: Path, data: bytes, encoding: str | None = None) -> Document:
        metadata, body = split_front_matter(path, decode_text(path, data, encoding))
        return Document(source=path, metadata=metadata, paragraphs=self.paragraphs(body), text=body)

    def paragraphs(self, body: str) -> list[Paragraph]:
        raise NotImplementedError


class PlainTextReader(TextReader):
    """Paragraphs separated by blank lines; the lines of one paragraph joined by a space."""

    name = "text"
    suffixes = (".txt", ".text")

    def paragraphs(self, body: str) -> list[Paragraph]:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
        blocks = (collapse(block) for block in BLANK_LINE.split(body))
        return [Paragraph(kind=TEXT, text=block) for block in blocks if block]


def reader_targets() -> dict[str, str]:
    """Reader name -> 'module:Class', built-ins first, then installed plugins."""
    return registry.targets(ENTRY_POINT_GROUP, DEFAULT_READERS)


def reader_for(path: Path, head: bytes = b"") -> Reader:
    """The reader that claims ``path``'s suffix, else the first that recognises
    ``head`` (the file's first bytes), else plain text.

    Readers are loaded in order only until one claims the suffix: a Markdown
    essay never loads the HTML, EPUB or feed readers' libraries (lxml, ssl),
    which a build's main process would otherwise hold through the synthesis.
    A plugin that cannot be loaded is passed over unless no other reader
    claims the file: it may have been the one meant for it."""
    suffix = path.suffix.lower()
    classes, broken = {}, []
    for name, target in reader_targets().items():
        try:
            classes[name] = registry.load(target)
        except ImportError as exc:
            broken.append(f"the {name} reader cannot be loaded ({exc})")
            continue
        if suffix in classes[name].suffixes:
            return _ready(classes[name], path)
    chosen = next((cls for cls in classes.values() if cls.recognises(head)), None)
    if chosen is None:
        if broken:
            raise InputError(f"{path}: no reader claims {suffix or 'files without a suffix'} "
                             f"and {'; '.join(broken)}")
        chosen = classes[FALLBACK]
    return _ready(chosen, path)


def _ready(chosen: type[Reader], path: Path) -> Reader:
    reason = chosen.unavailable_reason()
    if reason:
        raise InputError(f"{path}: {chosen.name} files need the {chosen.name} reader, which cannot run: {reason}")
    return chosen()


def collapse(text: str) -> str:
    """Runs of ASCII whitespace as one space, ends stripped."""
    return ASCII_WHITESPACE.sub(" ", text).strip()


def table_rows(header: list[str], rows: list[list[str]]) -> list[str]:
    """A table as it is read aloud: row by row, each cell named by its column's header
    ("Name: Ada; Born: 1815."); a table that is only a header reads it once."""
    if not rows:
        return [_as_sentence("; ".join(filter(None, header)))] if any(header) else []
    spoken = ("; ".join(f"{label}: {cell}" if label else cell
                        for label, cell in zip(header + [""] * len(row), row) if cell) for row in rows)
    return [_as_sentence(text) for text in spoken if text]


def _as_sentence(text: str) -> str:
    return text if text.endswith(SENTENCE_END) else text + "."
