"""Limits on what an essay's metadata files may cost to read: front matter and
the authors files beside it.

Hostile blocks are refused with one line: more than ``MAX_FRONT_MATTER_CHARS``,
nesting too deep for the parsers, or YAML aliases that expand to more than
``MAX_FRONT_MATTER_VALUES`` values. A "billion laughs" block loads in
microseconds, as shared objects, and then costs minutes to anything that walks
it (``str()``, our field mapping); counting the values with a budget stops
that walk early.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from audiobook.errors import InputError

# Real front matter is a few hundred characters; a long Docusaurus authors file a few thousand.
MAX_FRONT_MATTER_CHARS = 64 * 1024
# Values (scalars, lists, mappings) in a parsed block, counting each use of a YAML alias again.
MAX_FRONT_MATTER_VALUES = 10_000


class _DatesAsWritten(yaml.SafeLoader):
    """YAML that leaves dates as written, for ``fields.essay_date`` to read: PyYAML's
    own timestamps take "2017-10-19" but not Jekyll's "2017-10-19 21:33:00 +0200",
    and fail on "2017-13-45" without naming the key."""


_DatesAsWritten.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: Path, text: str, what: str) -> object:
    """YAML (safe tags only, dates as written), held to the limits; ``what`` names it in errors."""
    within_size(path, text, what)
    try:
        loaded = yaml.load(text, Loader=_DatesAsWritten)
    except yaml.YAMLError as error:
        problem = str(error).splitlines()[0]
        raise InputError(f"{path}: bad YAML {what} ({problem}); fix the block.") from None
    except RecursionError:
        raise too_deep(path, what) from None
    within_budget(path, loaded, what)
    return loaded


def within_size(path: Path, text: str, what: str) -> None:
    if len(text) > MAX_FRONT_MATTER_CHARS:
        raise InputError(f"{path}: {what} is {len(text) // 1024} KB, more than the "
                         f"{MAX_FRONT_MATTER_CHARS // 1024} KB allowed; move the long values out of it.")


def within_budget(path: Path, value: object, what: str) -> None:
    """Count the values, aliases expanded, stopping as soon as there are too many.

    Iterative, so a deep but small block cannot exhaust the stack either."""
    pending, seen = [value], 0
    while pending:
        item = pending.pop()
        seen += 1
        if seen > MAX_FRONT_MATTER_VALUES:
            raise InputError(f"{path}: {what} expands to more than {MAX_FRONT_MATTER_VALUES} values "
                             f"(repeated YAML aliases?); remove the '*' references.")
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def too_deep(path: Path, what: str) -> InputError:
    return InputError(f"{path}: {what} is nested too deeply to read; flatten it.")
