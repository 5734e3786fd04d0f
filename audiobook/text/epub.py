"""EPUB: a book's chapters from its table of contents, its metadata from its package.

Each entry of the table of contents (the NCX, else the EPUB 3 navigation
document) becomes a heading where its link lands, followed by the text of the
spine's documents up to the next entry, walked as the HTML reader walks a
page (``html_blocks``). What comes before the first entry (a cover, a title
page, a copyright page, the table of contents itself) is left out; a
heading inside a chapter that only repeats its entry's title is not read
twice; other headings are read as text, so chapters are the book's own. A
book without a table of contents is read whole, its headings as chapters.
The cover image is not taken (Metadata.image is a file beside the essay).
"""
from __future__ import annotations

import io
import posixpath
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import lxml.etree
import lxml.html

from audiobook.errors import InputError
from audiobook.models import HEADING, TEXT, Document, Metadata, Paragraph
from audiobook.text.fields import essay_date, natural_list
from audiobook.text.html import Block, html_blocks, html_text
from audiobook.text.readers import Reader, collapse

MIMETYPE = b"application/epub+zip"
# Local file header of a zip's first entry: signature, then the name's and extra field's lengths at 26 and 28.
ZIP_SIGNATURE = b"PK\x03\x04"
# More than any book unpacks to (the longest novels with their images are tens of MB).
MAX_UNPACKED_BYTES = 512 * 2**20
OPF = "{http://www.idpf.org/2007/opf}"
# XHTML as XML, leniently, never fetching or expanding what a hostile book points to.
XHTML_PARSER = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class TocEntry:
    """A table of contents entry: its title and where it links, a spine file and an optional #id."""

    title: str
    file: str
    fragment: str | None


class EpubReader(Reader):
    """An EPUB 2 or 3 book: one chapter per table of contents entry."""

    name = "epub"
    suffixes = (".epub",)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import ebooklib  # noqa: F401 - only to see that it imports
        except ImportError as error:
            return f"EbookLib cannot be imported ({error}); install it with: pip install EbookLib"
        return None

    @classmethod
    def recognises(cls, head: bytes) -> bool:
        """An EPUB's first zip entry is "mimetype", stored uncompressed, holding application/epub+zip."""
        if not head.startswith(ZIP_SIGNATURE) or len(head) < 30:
            return False
        name_length = int.from_bytes(head[26:28], "little")
        extra_length = int.from_bytes(head[28:30], "little")
        start = 30 + name_length + extra_length
        return head[30:30 + name_length] == b"mimetype" and head[start:start + len(MIMETYPE)] == MIMETYPE

    def read(self, path: Path, data: bytes, encoding: str | None = None) -> Document:
        """``encoding`` is not used: each XHTML document declares its own."""
        book = _open_book(path, data)
        paragraphs = _book_paragraphs(book)
        return Document(source=path, metadata=_book_metadata(book), paragraphs=paragraphs,
                        text="\n\n".join(p.text for p in paragraphs))


def _open_book(path: Path, data: bytes):
    from ebooklib import epub

    _refuse_zip_bomb(path, data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ebooklib warns about its own future defaults
            return epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    except Exception as error:  # noqa: BLE001 - ebooklib fails on a damaged book in many ways
        reason = str(error.args[-1] if isinstance(error, epub.EpubException) else error) or type(error).__name__
        raise InputError(f"{path}: not a readable EPUB ({reason}); export or download the book again.") from None


def _refuse_zip_bomb(path: Path, data: bytes) -> None:
    """ebooklib unpacks every entry into memory: a book that would unpack to more than
    MAX_UNPACKED_BYTES (no real book does; a zip bomb does) is refused before it is opened."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # ebooklib says what is wrong with it, below
    if unpacked > MAX_UNPACKED_BYTES:
        raise InputError(f"{path}: would unpack to {unpacked // 2**20} MB, more than the "
                         f"{MAX_UNPACKED_BYTES // 2**20} MB a book needs; it is not a usable EPUB.")


def _book_paragraphs(book) -> list[Paragraph]:
    """The spine's linear documents in order, a heading placed where each table of contents entry lands."""
    # ebooklib gives an empty NCX's navMap as one Link without an href, not a list.
    toc = book.toc if isinstance(book.toc, list) else [book.toc]
    spine_files = {item.file_name for idref, _ in book.spine if (item := book.get_item_with_id(idref))}
    # entries that land in the spine, titled (a table of contents that points elsewhere is read past)
    entries = [entry for entry in _toc_entries(toc, _toc_folders(book), {item.file_name for item in book.get_items()})
               if entry.file in spine_files and entry.title.strip()]
    paragraphs: list[Paragraph] = []
    started = not entries  # without a table of contents, read everything
    current_title = None  # the entry whose chapter is being read, until its first prose
    for idref, linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or linear == "no" or not item.file_name.lower().endswith((".xhtml", ".html", ".htm")):
            continue
        root = _parse(item.get_content())
        if root is None:
            continue
        blocks = html_blocks(next(root.iter("{*}body"), root))
        landings = _landings(blocks, [entry for entry in entries if entry.file == item.file_name],
                             set(root.xpath("//@id")))
        for index, block in enumerate([*blocks, None]):
            for entry in landings.get(index, []):
                paragraphs.append(Paragraph(kind=HEADING, text=entry.title))
                started, current_title = True, entry.title
            if block is None or not started:
                continue
            paragraph = block.paragraph
            if entries and paragraph.kind == HEADING:
                if current_title is not None and _repeats(paragraph.text, current_title):
                    continue
                paragraph = Paragraph(kind=TEXT, text=paragraph.text)
            else:
                current_title = None
            paragraphs.append(paragraph)
    return paragraphs


def _toc_folders(book) -> list[str]:
    """Where table of contents links are relative to: ebooklib resolves the navigation
    document's links, but leaves the NCX's relative to the NCX's own folder."""
    from ebooklib import ITEM_NAVIGATION

    return ["", *(posixpath.dirname(item.file_name) for item in book.get_items_of_type(ITEM_NAVIGATION))]


def _toc_entries(toc, folders: list[str], names: set[str]):
    """The table of contents, depth first (Links, and (Section, children) pairs), each
    linking to the book's file it names from one of ``folders``."""
    for node in toc:
        section, children = node if isinstance(node, tuple) else (node, [])
        if section.href:
            file, _, fragment = unquote(section.href).partition("#")
            candidates = [posixpath.normpath(posixpath.join(folder, file)) for folder in folders]
            yield TocEntry(title=collapse(section.title or ""),
                           file=next((name for name in candidates if name in names), candidates[0]),
                           fragment=fragment or None)
        yield from _toc_entries(children, folders, names)


def _parse(content: bytes):
    try:
        return lxml.etree.fromstring(content, XHTML_PARSER)
    except lxml.etree.XMLSyntaxError:
        return None


def _landings(blocks: list[Block], entries: list[TocEntry], ids: set[str]) -> dict[int, list[TocEntry]]:
    """Block index -> the entries whose heading goes before it: the block its #id is in or
    just before; the document's start for no #id or one the document lacks; the end for an
    #id after the last block."""
    where: dict[str, int] = {}
    for index, block in enumerate(blocks):
        for identifier in block.ids:
            where.setdefault(identifier, index)
    landings: dict[int, list[TocEntry]] = {}
    for entry in entries:
        if entry.fragment is None or entry.fragment not in ids:
            index = 0
        else:
            index = where.get(entry.fragment, len(blocks))
        landings.setdefault(index, []).append(entry)
    return landings


def _repeats(heading: str, title: str) -> bool:
    """Whether a chapter's own heading says nothing its table of contents title does not."""
    def letters(text: str) -> str:
        return re.sub(r"\W+", "", text.casefold())
    return letters(heading) in letters(title)


def _book_metadata(book) -> Metadata:
    def values(name: str) -> list[tuple[str, dict]]:
        return [(collapse(value or ""), attributes or {}) for value, attributes in book.get_metadata("DC", name)]

    titles = [value for value, _ in values("title") if value]
    authors = [value for value, attributes in values("creator") if attributes.get(f"{OPF}role", "aut") == "aut"]
    return Metadata(
        title=titles[0] if titles else None,
        author=natural_list(authors),
        date=_publication_date(values("date")),
        description=html_text(next((value for value, _ in values("description") if value), "")) or None,
        language=next((value for value, _ in values("language") if value), None),
    )


def _publication_date(dates: list[tuple[str, dict]]):
    """The package's publication date (EPUB 2 may list creation and modification dates too)."""
    events = {attributes.get(f"{OPF}event"): value for value, attributes in reversed(dates)}
    written = events.get("publication") or events.get(None)
    try:
        return essay_date(written) if written else None
    except ValueError:  # a bare year, or free text
        return None
