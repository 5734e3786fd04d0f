"""Each static-site generator's front matter fields, mapped onto Metadata.

Generators name the same things differently: the publication date is
``date`` (Jekyll, Hugo, Zola, Eleventy), ``pubDate`` (Astro), ``publishDate``,
``published`` or ``created`` (Obsidian), ``date: {created: ...}`` (MkDocs
Material); authors are a string, a list of strings, objects with a ``name``,
keys into an ``authors.yml`` (Docusaurus) or ``.authors.yml`` (MkDocs
Material), or a Markdown link. ``lastmod`` and ``updated`` are not the
publication date, so they are never read. Zola's ``[extra]`` and
``[taxonomies]`` tables and Hugo's ``[params]`` are read where the top level
has no value.

Dates are typed here, once, from the text as written: a day
(``2017-10-19``) stays a date; a time with a zone (Jekyll's
``2017-10-19 21:33:00 +0200``, Hugo's ``2017-10-19T21:33:00+02:00``,
RFC 2822) becomes an aware datetime that keeps its zone; a time without a
zone is taken as UTC.
"""
from __future__ import annotations

import datetime
import email.utils
import re
from pathlib import Path

from audiobook.errors import InputError
from audiobook.models import Metadata
from audiobook.text.dialects import WIKI_LINK, wiki_link_text
from audiobook.text.limits import load_yaml

# Our field <- the names generators give it, first found wins.
TITLE_KEYS = ("title",)
AUTHOR_KEYS = ("author", "authors")
DATE_KEYS = ("date", "pubdate", "publishdate", "published", "created")
DESCRIPTION_KEYS = ("description", "summary", "excerpt", "subtitle")
IMAGE_KEYS = ("image", "cover", "heroimage", "featured_image", "featuredimage", "thumbnail", "banner", "og_image",
              "images")  # Hugo's list of social images: the first is the card
LANGUAGE_KEYS = ("lang", "language", "locale")
TAG_KEYS = ("tags", "categories", "category", "keywords")
LINK_KEYS = ("link", "canonical_url", "canonicalurl")
SEASON_KEYS = ("season", "season_number")
EPISODE_KEYS = ("episode", "episode_number")
# Tables whose values stand in for missing top-level ones: Zola's [extra] and [taxonomies], Hugo's [params].
NESTED_TABLES = ("extra", "params", "taxonomies")
# Keys of an image object: PaperMod's cover: {image: ...}, others' {src: ...}.
IMAGE_OBJECT_KEYS = ("image", "src", "url", "path")
# Where a site keeps files its pages link as /path: Hugo's static/ and assets/, Astro's and Gatsby's public/.
SITE_FILE_FOLDERS = ("", "static", "public", "assets")
# How far above the essay a site's root, or an authors file, is looked for.
FOLDERS_UP = 4
AUTHORS_FILES = ("authors.yml", "authors.yaml", ".authors.yml")

# YYYY-MM-DD, then optionally a time and a zone: "T" or spaces between, "Z", "+0200" or "+02:00".
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:(?:T|\s+)(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)"
                        r"\s*(Z|[+-]\d{2}:?\d{2})?)?", re.IGNORECASE)
# Days written out, as Astro's starter writes pubDate ('Jul 08 2022') and people write dates by hand.
_WRITTEN_DAYS = ("%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y")
_NAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[-_.]|$)")
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_INLINE_MARKS = re.compile(r"`+|\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
# A day in a post's URL path, as blogs lay them out: path = "2022/08/05/nll-by-default" (Zola's Rust blog).
_PATH_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)")
PATH_KEYS = ("path", "url", "permalink", "slug")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://|//|data:", re.IGNORECASE)


def metadata_from_fields(path: Path, fields: dict) -> Metadata:
    """Metadata from front matter fields of any dialect; unknown fields are ignored."""
    fields = _fields(fields)
    return Metadata(
        title=_plain(_first_text(fields, TITLE_KEYS) or _first_text(fields, _other_title_keys(fields))),
        author=_authors(path, fields),
        date=_date(path, fields),
        description=_first_text(fields, DESCRIPTION_KEYS),
        language=_language(_first_text(fields, LANGUAGE_KEYS)),
        image=_image(path, _first(fields, IMAGE_KEYS)),
        link=_first_text(fields, LINK_KEYS),
        tags=_tags(fields),
        draft=_draft(fields),
        chapter_titles=_chapter_titles(path, fields.get("chapters")),
        lexicon=_table(path, fields, "lexicon"),
        voices=_table(path, fields, "voices"),
        season=_whole(path, fields, SEASON_KEYS),
        episode=_whole(path, fields, EPISODE_KEYS),
        soundbite=_first_text(fields, ("soundbite",)),
    )


def essay_date(value: object) -> datetime.date | datetime.datetime:
    """A front matter date as a date, or as an aware datetime when it has a time (ValueError if neither)."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return value
    written = str(value).strip()
    match = _DATE_TIME.fullmatch(written)
    if match is None:
        return _written_out(written)
    day, time, zone = match.groups()
    if time is None:
        return datetime.date.fromisoformat(day)
    hours, rest = time.split(":", 1)
    if not zone or zone.upper() == "Z":
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"  # fromisoformat wants +02:00
    return datetime.datetime.fromisoformat(f"{day}T{int(hours):02d}:{rest}{zone}")


def _written_out(written: str) -> datetime.date | datetime.datetime:
    """A day in words ('Jul 08 2022'), or RFC 2822 as feeds write dates ('Thu, 19 Oct 2017 21:33:00 +0200')."""
    for layout in _WRITTEN_DAYS:
        try:
            return datetime.datetime.strptime(written, layout).date()
        except ValueError:
            pass
    try:
        return essay_date(email.utils.parsedate_to_datetime(written))
    except (TypeError, ValueError, IndexError):
        raise ValueError(written) from None


def date_from_name(path: Path) -> datetime.date | None:
    """The day a Jekyll-style name starts with: ``2017-10-19-slug.md``, or ``2017-10-19-slug/index.md``."""
    for name in (Path(path).stem, Path(path).parent.name):
        match = _NAME_DATE.match(name)
        if match:
            try:
                return datetime.date.fromisoformat(match[1])
            except ValueError:
                return None
    return None


def natural_list(names: list[str]) -> str | None:
    """Names as a person reads them out: "A", "A and B", "A, B and C"; None for none."""
    names = [name.strip() for name in names if name and name.strip()]
    if len(names) < 2:
        return names[0] if names else None
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _fields(fields: dict) -> dict:
    """Keys in lower case (Pelican and Obsidian write ``Title``), top level first, then the nested tables."""
    merged: dict = {}
    for table in (fields, *(fields.get(name) for name in NESTED_TABLES)):
        if isinstance(table, dict):
            for key, value in table.items():
                if isinstance(key, str):
                    merged.setdefault(key.lower(), value)
    return merged


def _other_title_keys(fields: dict) -> tuple[str, ...]:
    """A site's own name for the title (Eleventy's 11ty.dev writes ``newstitle``), when ``title`` is missing."""
    return tuple(key for key in fields if key.endswith("title") and key not in ("title", "subtitle"))


def _plain(text: str | None) -> str | None:
    """A title or a name without the Markdown it was written in: `code`, *emphasis*, [links](...), [[wiki links]]."""
    if text is None:
        return None
    text = _INLINE_MARKS.sub("", WIKI_LINK.sub(wiki_link_text, _MARKDOWN_LINK.sub(r"\1", text)))
    return text.strip() or None


def _first(fields: dict, keys: tuple[str, ...]) -> object:
    return next((fields[key] for key in keys if fields.get(key) not in (None, "", [], {})), None)


def _first_text(fields: dict, keys: tuple[str, ...]) -> str | None:
    return next((text for key in keys if (text := _as_text(fields.get(key)))), None)


def _as_text(value: object) -> str | None:
    """A scalar front matter value as a stripped string; lists and tables are not text."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    return str(value).strip() or None


def _date(path: Path, fields: dict) -> datetime.date | datetime.datetime | None:
    for key in DATE_KEYS:
        value = fields.get(key)
        if isinstance(value, dict):  # MkDocs Material: date: {created: ..., updated: ...}
            value = value.get("created")
        if value in (None, "") or isinstance(value, bool):  # Jekyll's "published: false" is no date
            continue
        try:
            return essay_date(value)
        except ValueError:
            raise InputError(f"{path}: front matter {key} {value!r} is not a date; write it like 2017-10-19 "
                             f"or 2017-10-19 21:33:00 +0200.") from None
    for key in PATH_KEYS:
        match = _PATH_DATE.search(_as_text(fields.get(key)) or "")
        if match:
            try:
                return datetime.date(*map(int, match.groups()))
            except ValueError:
                continue
    return None


def _draft(fields: dict) -> bool:
    """``draft: true`` (Hugo, Zola, Eleventy, Astro, Docusaurus), ``published: false`` (Jekyll), ``Status: draft`` (Pelican)."""
    return (str(fields.get("draft")).lower() == "true" or fields.get("published") is False
            or str(fields.get("status")).lower() == "draft")


def _authors(path: Path, fields: dict) -> str | None:
    """All authors, read as one line; keys without spaces are looked up in the site's authors file."""
    value = _first(fields, AUTHOR_KEYS)
    if isinstance(value, str) and _as_text(fields.get("author")) is None:
        value = re.split(r"[,;]", value)  # Pelican's "Authors: A, B"; Docusaurus' "authors: key"
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    known = None
    for item in items:
        if isinstance(item, str) and item.strip() and " " not in item.strip():
            known = _authors_file(path) if known is None else known
            item = known.get(item.strip(), item)
        name = _author_name(item)
        if name and name not in names:
            names.append(name)
    return natural_list(names)


def _author_name(item: object) -> str | None:
    """One author's name: a string, a Markdown link's text, or an object's ``name``."""
    if isinstance(item, dict):
        item = item.get("name")
    return _plain(_as_text(item))


def _authors_file(path: Path) -> dict:
    """Author key -> author: Docusaurus' ``authors.yml`` or MkDocs Material's ``.authors.yml``
    (whose keys sit under ``authors``), in the essay's folder or one above it."""
    for folder in list(Path(path).resolve().parents)[:FOLDERS_UP]:
        for name in AUTHORS_FILES:
            candidate = folder / name
            if candidate.is_file():
                loaded = load_yaml(candidate, candidate.read_text(encoding="utf-8", errors="replace"), "authors file")
                if isinstance(loaded, dict) and isinstance(loaded.get("authors"), dict):
                    loaded = loaded["authors"]
                return loaded if isinstance(loaded, dict) else {}
    return {}


def _image(path: Path, value: object) -> str | None:
    """The cover image's path: as written when it is there beside the essay; a site path
    (``/images/x.png``) found in the site's root, static/, public/ or assets/ above it;
    None for a URL or a site path that is nowhere near (the build makes a cover instead)."""
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, dict):
        value = _first({str(k).lower(): v for k, v in value.items()}, IMAGE_OBJECT_KEYS)
    written = _as_text(value)
    if written is None or _URL.match(written):
        return None
    relative = written.lstrip("/")
    if not written.startswith("/") and (Path(path).parent / relative).is_file():
        return written
    for folder in list(Path(path).resolve().parents)[:FOLDERS_UP]:
        for site_folder in SITE_FILE_FOLDERS:
            candidate = folder / site_folder / relative
            if candidate.is_file():
                return str(candidate)
    return None if written.startswith("/") else written


def _language(written: str | None) -> str | None:
    """BCP 47 from a locale as generators write it: ``en_US`` -> ``en-US``."""
    return written.replace("_", "-") if written else None


def _tags(fields: dict) -> list[str]:
    """Tags from lists or comma-separated strings; Obsidian's ``#tag`` strings too."""
    tags: list[str] = []
    for key in TAG_KEYS:
        value = fields.get(key)
        if isinstance(value, str):
            value = value.split() if value.lstrip().startswith("#") else value.split(",")
        for item in value if isinstance(value, list) else []:
            tag = (_as_text(item) or "").lstrip("#").strip()
            if tag and tag not in tags:
                tags.append(tag)
    return tags


def _chapter_titles(path: Path, chapters: object) -> list[str]:
    if isinstance(chapters, str):
        chapters = [chapters]
    if not isinstance(chapters, list):
        if chapters:
            raise InputError(f"{path}: front matter 'chapters' must be a list of titles; write one '- title' per line.")
        return []
    return [title for title in map(_as_text, chapters) if title]


def _whole(path: Path, fields: dict, keys: tuple[str, ...]) -> int | None:
    """A season's or an episode's number: a whole number, written as one or as digits."""
    key = next((key for key in keys if fields.get(key) not in (None, "")), None)
    if key is None:
        return None
    value = fields[key]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise InputError(f"{path}: front matter {key} {value!r} is not a whole number; write it like {key}: 2")


def _table(path: Path, fields: dict, key: str) -> dict:
    table = fields.get(key) or {}
    if not isinstance(table, dict):
        raise InputError(f"{path}: front matter '{key}' must be 'word: value' lines under it.")
    return table
