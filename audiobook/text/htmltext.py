"""HTML fragments -> the text a reader sees, for any reader that meets HTML.

Markdown carries HTML blocks and inline tags (``<kbd>``, ``<details>``, MDX
components), and HTML articles are made of them. What is read aloud is what a
browser shows: the text, with an image's alt text in its place; scripts,
styles and comments (``<!--more-->``, ``<!--truncate-->``) are never shown.
"""
from __future__ import annotations

import lxml.html
from lxml import etree

from audiobook.text.readers import collapse

# Elements a browser lays out on a line of their own: their text must not run
# into their neighbours' ("<p>a</p><p>b</p>" is "a b", not "ab").
BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody tfoot thead ul".split()
)
# Elements whose content is never shown.
HIDDEN_TAGS = ("script", "style", "template", "noscript", "head", "title")


def fragment_text(markup: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed; "" when it shows none."""
    return collapse(_visible_text(markup, separate_blocks=True))


def preformatted_text(markup: str) -> str:
    """The visible text of a ``<pre>`` fragment, its lines kept as written."""
    return _visible_text(markup, separate_blocks=False).strip("\n")


def _visible_text(markup: str, separate_blocks: bool) -> str:
    if not markup.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except etree.ParserError:  # nothing lxml can make an element of: no visible text
        return ""
    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction, *HIDDEN_TAGS)):
        node.drop_tree()  # keeps the text that follows it
    for image in list(root.iter("img")):
        image.tail = f"{image.get('alt') or ''}{image.tail or ''}"
        image.drop_tree()
    if separate_blocks:
        for element in root.iter(*BLOCK_TAGS):
            element.text, element.tail = f" {element.text or ''}", f" {element.tail or ''}"
        for row in root.iter("tr"):  # one sentence of its cells (whitespace between cells is not text)
            cells = row.findall("./*")
            for cell in cells:
                cell.tail = None
            for cell in cells[1:]:
                cell.text = f", {cell.text or ''}"
            row.tail = ". "
    return root.text_content()
