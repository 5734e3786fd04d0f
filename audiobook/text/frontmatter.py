"""Front matter: the block of fields static-site generators put before an
essay, found, split off and parsed safely here; ``fields`` maps its fields
onto Metadata.

Four shapes are read, each only at the very top of the file:

- YAML between ``---`` lines (Jekyll, Hugo, Eleventy, Astro, Gatsby,
  Docusaurus, MkDocs Material, Obsidian);
- TOML between ``+++`` lines (Hugo, Zola);
- one JSON object (Hugo);
- ``Key: value`` header lines up to the first blank line (Pelican,
  MultiMarkdown), only when the first key is one they use.

Front matter is never part of the body, so it is never spoken; ``limits``
refuses hostile blocks.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from frontmatter.default_handlers import BaseHandler, YAMLHandler

from audiobook.errors import InputError
from audiobook.models import Metadata
from audiobook.text.fields import date_from_name, metadata_from_fields
from audiobook.text.limits import load_yaml, too_deep, within_budget, within_size

# Pelican's and MultiMarkdown's header keys: a file whose first line starts with one of these has a header block.
HEADER_KEYS = frozenset({
    "title", "date", "modified", "author", "authors", "category", "tags", "keywords", "summary",
    "description", "slug", "lang", "language", "status", "subtitle", "image", "cover",
})
HEADER_LINE = re.compile(r"(?P<key>[A-Za-z][A-Za-z0-9_-]*)[ \t]*:[ \t]*(?P<value>.*)")
TOML_FENCE = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
# A YAML block starts with a field (after comments); prose between two thematic breaks does not.
YAML_FIELD = re.compile(r"\s*(?:#[^\n]*\n\s*)*(?:[\"']?[\w-][\w .\"'-]*:(?:\s|$)|[{\[]|[-?]\s)")


def split_front_matter(path: Path, text: str) -> tuple[Metadata, str]:
    """Metadata from a leading front matter block, and the body after it.

    Without a date in the front matter, a ``YYYY-MM-DD`` prefix of the file's
    or its folder's name gives it, as Jekyll does."""
    text = text.strip()
    found = _split(path, text)
    if found is None:
        return Metadata(date=date_from_name(path)), text
    fields, body, fence = found
    if not isinstance(fields, dict):
        raise InputError(f"{path}: front matter must be 'key: value' lines; fix the block at the top ({fence}).")
    if not body.strip():
        raise InputError(f"{path}: has front matter but no essay text after it; add the essay below the block.")
    metadata = metadata_from_fields(path, fields)
    if metadata.date is None:
        metadata.date = date_from_name(path)
    return metadata, body.strip()


def refuse_draft(path: Path, metadata: Metadata) -> None:
    """Stop a build of an essay its front matter marks unpublished; the CLI skips this under ``--drafts``."""
    if metadata.draft:
        raise InputError(f"{path}: is marked as a draft in its front matter; build it with --drafts, "
                         f"or remove the mark when it is ready.")


def _split(path: Path, text: str) -> tuple[object, str, str] | None:
    """(parsed fields, body, how the block was fenced), or None when the file has no front matter."""
    yaml_handler = YAMLHandler()
    if yaml_handler.detect(text):
        try:
            front, body = yaml_handler.split(text)
        except ValueError:  # an opening '---' with no closing one: a thematic break, not front matter
            return None
        if front.strip() and not YAML_FIELD.match(front):  # two thematic breaks around prose
            return None
        return load_yaml(path, front, "front matter") or {}, body, "between the '---' lines"
    toml_handler = BaseHandler(TOML_FENCE)
    if toml_handler.detect(text):
        try:
            front, body = toml_handler.split(text)
        except ValueError:
            return None
        return _toml(path, front), body, "between the '+++' lines"
    if text.startswith("{"):
        return _json(path, text)
    return _header_lines(path, text)


def _toml(path: Path, front: str) -> dict:
    import tomllib  # only Hugo's and Zola's front matter needs it

    within_size(path, front, "front matter")
    try:
        fields = tomllib.loads(front)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: bad TOML front matter ({error}); fix the block between the '+++' lines.") from None
    except RecursionError:
        raise too_deep(path, "front matter") from None
    within_budget(path, fields, "front matter")
    return fields


def _json(path: Path, text: str) -> tuple[object, str, str] | None:
    """Hugo's JSON front matter: one object at the very top, its closing brace ending a line.

    Text that does not parse as JSON is an essay that happens to open with a
    brace (a Liquid ``{% raw %}`` tag), not front matter."""
    try:
        fields, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        return None
    except RecursionError:
        raise too_deep(path, "front matter") from None
    rest = text[end:]
    if not isinstance(fields, dict) or rest[:1] not in ("", "\n", "\r"):
        return None
    within_size(path, text[:end], "front matter")
    within_budget(path, fields, "front matter")
    return fields, rest, "the JSON object at the top"


def _header_lines(path: Path, text: str) -> tuple[dict, str, str] | None:
    """Pelican's ``Title: ...`` lines up to the first blank line; continuation lines are indented.

    Only when the first key is a known one, every line of the block is a header
    line, and there are two of them or the one is a title: prose that opens with
    "Summary: ..." or "Note: ..." stays prose."""
    block, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = block.split("\n")
    first = HEADER_LINE.fullmatch(lines[0])
    if first is None or first["key"].lower() not in HEADER_KEYS:
        return None
    if len(lines) < 2 and first["key"].strip().lower() != "title":
        return None
    within_size(path, block, "front matter")
    fields: dict[str, str] = {}
    key = ""
    for line in lines:
        if line[:1] in (" ", "\t") and key:
            fields[key] = f"{fields[key]} {line.strip()}".strip()
            continue
        match = HEADER_LINE.fullmatch(line)
        if match is None:
            return None
        key = match["key"].strip().lower()
        fields[key] = match["value"].strip()
    return fields, body, "the 'Key: value' lines at the top"
