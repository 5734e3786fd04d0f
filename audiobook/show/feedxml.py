"""The feed's XML vocabulary: its namespaces, and elements built with lxml.

Shared by the feed writer (feed.py, podcasting.py) and by ``audiobook check``,
which reads the feed back by the same names.
"""
from __future__ import annotations

import re

from lxml import etree

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
PSC = "http://podlove.org/simple-chapters"
NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT, "psc": PSC}

# Characters XML 1.0 cannot carry at all (lxml refuses them): dropped, not escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


def sub(parent: etree._Element, tag: str, text: str | None = None, /, **attrib: str) -> etree._Element:
    """A child element; ``tag`` may be prefixed ("itunes:image"). Attributes named with
    an underscore are written with a hyphen (``aspect_ratio`` -> ``aspect-ratio``)."""
    prefix, _, name = tag.rpartition(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}" if prefix else name,
                               {k.replace("_", "-"): xml_text(v) for k, v in attrib.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def prefixed(tag: str) -> str:
    """"{https://podcastindex.org/namespace/1.0}person" -> "podcast:person", as people write it."""
    for prefix, uri in NSMAP.items():
        tag = tag.replace(f"{{{uri}}}", f"{prefix}:")
    return tag
