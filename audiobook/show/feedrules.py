"""A feed's rules that its XML alone can break, for ``audiobook check``: RSS 2.0,
the itunes and podcast namespaces, the Podcasting 2.0 schema (podcast.xsd, for
each podcast: tag) and where each podcast: tag may stand and how often (which
an XSD cannot say of tags inside RSS, a vocabulary without a namespace), and
Apple's rules for a show and its episodes
(https://podcasters.apple.com/support/823-podcast-requirements).

Every rule returns sentences about feed.xml; check.py names the file.
"""
from __future__ import annotations

import email.utils
import functools
import re
from collections import Counter
from copy import deepcopy
from importlib import resources

import lxml.html
from lxml import etree

from audiobook.errors import ConfigError
from audiobook.settings import checks
from audiobook.show.feedxml import ATOM, CONTENT, ITUNES, NSMAP, PODCAST, prefixed

NS = NSMAP
# Where each podcast: tag may stand (docs/tags/*.md, "Parent"), and those that may stand there once only.
PLACES = {
    **dict.fromkeys(("guid", "locked", "medium", "block", "trailer"), ("channel",)),
    **dict.fromkeys(("person", "image", "images", "funding", "location"), ("channel", "item", "podcast:liveItem")),
    **dict.fromkeys(("license", "txt"), ("channel", "item")),
    **dict.fromkeys(("chapters", "transcript", "soundbite", "season", "episode"), ("item",)),
    "alternateEnclosure": ("item", "podcast:liveItem"),
    **dict.fromkeys(("source", "integrity"), ("podcast:alternateEnclosure",)),
}
ONCE = {"guid", "locked", "medium", "license", "chapters", "season", "episode", "integrity", "images"}
# Tags of the namespace audiobook does not write and leaves to their readers.
OTHER_TAGS = {"value", "valueRecipient", "valueTimeSplit", "liveItem", "remoteItem", "podroll", "updateFrequency",
              "socialInteract", "chat", "publisher", "contentLink", "podping"}
EPISODE_TYPES = ("full", "trailer", "bonus")
APPLE_MAX_ART = checks.MAX_ART_SIDE
DESCRIPTION_CHAPTERS = 3  # Apple reads chapters from a description only from three timestamps on
_TIMESTAMP = re.compile(r"\s*(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\b")


def feed_rules(root: etree._Element) -> list[str]:
    """Every rule of the XML; [] for a feed that keeps them all."""
    channel = root.find("channel")
    if root.tag != "rss" or root.get("version") != "2.0" or channel is None or len(root.findall("channel")) != 1:
        return ["not an RSS 2.0 feed: <rss version=\"2.0\"> with one <channel> is what podcast apps read"]
    items = channel.findall("item")
    return [*_namespaces(root), *_podcast_tags(root), *_apple_channel(channel),
            *(problem for item in items for problem in _apple_item(item)),
            *_unique(items, lambda item: item.findtext("guid"), "guid"),
            *_unique(items, lambda item: item.find("enclosure").get("url") if item.find("enclosure") is not None
                     else None, "enclosure URL"),
            *(problem for item in items for problem in _description_chapters(item))]


def item_label(item: etree._Element) -> str:
    title = (item.findtext("title") or item.findtext("guid") or "").strip()
    return f"item {checks.capped(title, 48)!r}"


def duration_seconds(text: str | None) -> float | None:
    """itunes:duration as seconds: "465", "7:45" or "1:02:03"; None when it is none of these."""
    if not text or not re.fullmatch(r"\d+(?::[0-5]?\d){0,2}(?:\.\d+)?", text.strip()):
        return None
    total = 0.0
    for part in text.strip().split(":"):
        total = total * 60 + float(part)
    return total


def _namespaces(root: etree._Element) -> list[str]:
    problems = [f"the {prefix} namespace ({uri}) is not declared on <rss>"
                for prefix, uri in (("itunes", ITUNES), ("podcast", PODCAST)) if uri not in root.nsmap.values()]
    known = {None, ITUNES, PODCAST, ATOM, CONTENT, NSMAP["psc"]}
    strange = sorted({etree.QName(el).namespace for el in root.iter(etree.Element)} - known)
    return problems + [f"elements in the namespace {uri}, which podcast apps do not read (a misspelt namespace?)"
                       for uri in strange]


@functools.lru_cache(maxsize=1)
def _schema() -> tuple[etree.XMLSchema, frozenset[str]]:
    """The Podcasting 2.0 XSD shipped with audiobook, and the tags it declares."""
    document = etree.parse(str(resources.files("audiobook.show") / "podcast.xsd"))
    declared = frozenset(el.get("name") for el in document.getroot().iter("{*}element") if el.get("name"))
    return etree.XMLSchema(document), declared


def _label(parent: etree._Element) -> str:
    """How a problem names the element a podcast: tag stands in."""
    tag = prefixed(parent.tag)
    return item_label(parent) if tag == "item" else f"<{tag}>"


def _podcast_tags(root: etree._Element) -> list[str]:
    schema, declared = _schema()
    problems = []
    counts: Counter = Counter()
    for element in root.iter(f"{{{PODCAST}}}*"):
        name, parent = etree.QName(element).localname, element.getparent()
        label = _label(parent)
        if name not in PLACES and name not in OTHER_TAGS:
            problems.append(f"<podcast:{name}> in {label} is no tag of the Podcasting 2.0 namespace")
            continue
        if name in PLACES and prefixed(parent.tag) not in PLACES[name]:
            problems.append(f"<podcast:{name}> in {label}: it belongs in "
                            + " or ".join(f"<{where}>" for where in PLACES[name]))
        counts[(name, parent)] += 1
        if name in declared and etree.QName(parent).namespace != PODCAST:  # children are checked with their parent
            if not schema.validate(etree.ElementTree(deepcopy(element))):
                problems += [f"<podcast:{name}> in {label} breaks the Podcasting 2.0 schema: {prefixed(error.message)}"
                             for error in schema.error_log]
    return problems + [f"<podcast:{name}> appears {count} times in {_label(parent)}; it may appear once"
                       for (name, parent), count in counts.items() if name in ONCE and count > 1]


def _text(parent: etree._Element, path: str) -> str:
    return (parent.findtext(path, namespaces=NS) or "").strip()


def _apple_channel(channel: etree._Element) -> list[str]:
    problems = [f"the channel has no <{tag}>; Apple Podcasts requires one"
                for tag in ("title", "description", "language") if not _text(channel, tag)]
    image = channel.find("itunes:image", NS)
    if image is None or not image.get("href"):
        problems.append("the channel has no <itunes:image href=...>; Apple Podcasts requires show art")
    problems += _categories(channel)
    explicit = _text(channel, "itunes:explicit")
    if explicit not in ("true", "false"):
        problems.append(f"<itunes:explicit> is {explicit!r}; Apple Podcasts wants true or false")
    try:
        checks.email(_text(channel, "itunes:owner/itunes:email"), "<itunes:owner><itunes:email>")
    except ConfigError as exc:
        problems.append(f"{exc}; Apple Podcasts verifies the owner by it")
    if channel.find("itunes:type", NS) is not None and _text(channel, "itunes:type") not in ("episodic", "serial"):
        problems.append(f"<itunes:type> is {_text(channel, 'itunes:type')!r}; Apple knows episodic and serial")
    if channel.find("itunes:block", NS) is not None and _text(channel, "itunes:block") != "Yes":
        problems.append(f"<itunes:block> is {_text(channel, 'itunes:block')!r}; Apple reads only Yes")
    new_feed = channel.find("itunes:new-feed-url", NS)
    if new_feed is not None and not re.match(r"https?://\S+$", _text(channel, "itunes:new-feed-url")):
        problems.append(f"<itunes:new-feed-url> {_text(channel, 'itunes:new-feed-url')!r} is not an http(s) URL")
    self_link = channel.find("atom:link[@rel='self']", NS)
    if self_link is None or not self_link.get("href"):
        problems.append("the channel has no <atom:link rel=\"self\" href=...>: apps cannot tell where the feed lives")
    return problems


def _categories(channel: etree._Element) -> list[str]:
    found = channel.findall("itunes:category", NS)
    if not found:
        return ["the channel has no <itunes:category>; Apple Podcasts requires one"]
    problems = []
    for category in found:
        main = category.get("text", "")
        subs = [sub.get("text", "") for sub in category.findall("itunes:category", NS)]
        if main not in checks.APPLE_CATEGORIES:
            problems.append(f"<itunes:category text={main!r}> is not an Apple Podcasts category")
        problems += [f"<itunes:category text={sub!r}> is not a subcategory of {main!r}"
                     for sub in subs if main in checks.APPLE_CATEGORIES and sub not in checks.APPLE_CATEGORIES[main]]
    return problems


def _apple_item(item: etree._Element) -> list[str]:
    label = item_label(item)
    problems = [f"{label} has no <{tag}>; Apple Podcasts requires one"
                for tag in ("title", "guid") if not _text(item, tag)]
    enclosure = item.find("enclosure")
    if enclosure is None:
        return problems + [f"{label} has no <enclosure>: there is nothing to play"]
    if not enclosure.get("url") or not enclosure.get("type") or not (enclosure.get("length") or "").isdigit():
        problems.append(f"{label}: its <enclosure> needs a url, a type and a length in bytes")
    try:
        email.utils.parsedate_to_datetime(_text(item, "pubDate"))
    except (TypeError, ValueError, IndexError):
        problems.append(f"{label}: <pubDate> {_text(item, 'pubDate')!r} is not an RFC 2822 date")
    if item.find("itunes:duration", NS) is not None and duration_seconds(_text(item, "itunes:duration")) is None:
        problems.append(f"{label}: <itunes:duration> {_text(item, 'itunes:duration')!r} is not seconds or HH:MM:SS")
    for tag in ("itunes:episode", "itunes:season"):
        value = _text(item, tag)
        if item.find(tag, NS) is not None and not (value.isdigit() and int(value) > 0):
            problems.append(f"{label}: <{tag}> {value!r} is not a whole number from 1")
    if item.find("itunes:episodeType", NS) is not None and _text(item, "itunes:episodeType") not in EPISODE_TYPES:
        problems.append(f"{label}: <itunes:episodeType> is {_text(item, 'itunes:episodeType')!r}; "
                        f"Apple knows {', '.join(EPISODE_TYPES)}")
    if item.find("itunes:explicit", NS) is not None and _text(item, "itunes:explicit") not in ("true", "false"):
        problems.append(f"{label}: <itunes:explicit> is {_text(item, 'itunes:explicit')!r}; Apple wants true or false")
    return problems


def _unique(items: list[etree._Element], key, what: str) -> list[str]:
    """Apple (and every app) tells episodes apart by GUID, and fetches audio by URL."""
    seen: dict[str, list[str]] = {}
    for item in items:
        value = key(item)
        if value:
            seen.setdefault(value.strip(), []).append(item_label(item))
    return [f"{what} {value} is shared by {len(labels)} items ({', '.join(labels)}); each episode needs its own"
            for value, labels in seen.items() if len(labels) > 1]


def _description_chapters(item: etree._Element) -> list[str]:
    """Chapters listed in a description: Apple reads them from three on, the first at 00:00."""
    notes = _text(item, "content:encoded") or _text(item, "description")
    if not notes:
        return []
    page = lxml.html.fragment_fromstring(notes, create_parent="div")
    lines = [el.text_content() for el in page.iter("li", "p")] or page.text_content().splitlines()
    stamps = [match for line in lines if (match := _TIMESTAMP.match(line))]
    if not stamps:
        return []
    label = item_label(item)
    if len(stamps) < DESCRIPTION_CHAPTERS:
        return [f"{label}: its description lists {len(stamps)} chapter timestamps; Apple ignores them "
                f"below {DESCRIPTION_CHAPTERS}"]
    if any(int(part or 0) for part in stamps[0].groups()):
        return [f"{label}: its description's first chapter is at {stamps[0].group().strip()}; Apple wants 00:00"]
    return []
