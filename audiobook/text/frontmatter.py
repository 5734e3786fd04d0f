"""YAML front matter: the block between '---' lines that static-site generators
put before an essay, read into Metadata.

Only known keys are kept. Dates are typed here, once, from the text as
written (YAML's own timestamps are turned off): a day (``2017-10-19``)
stays a date; a time with a zone (Jekyll's ``2017-10-19 21:33:00 +0200``,
Hugo's ``2017-10-19T21:33:00+02:00``, RFC 2822) becomes an aware datetime
that keeps its zone; a time without a zone is taken as UTC.
"""
from __future__ import annotations

import datetime
import email.utils
import re
from pathlib import Path

import yaml
from frontmatter.default_handlers import YAMLHandler

from audiobook.errors import InputError
from audiobook.models import Metadata

# Front matter keys copied to Metadata as strings; anything else is ignored.
STRING_KEYS = ("title", "author", "description", "language", "image", "link")
# YYYY-MM-DD, then optionally a time and a zone: "T" or spaces between, "Z", "+0200" or "+02:00".
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:(?:T|\s+)(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)"
                        r"\s*(Z|[+-]\d{2}:?\d{2})?)?", re.IGNORECASE)


class _DatesAsWritten(yaml.SafeLoader):
    """YAML that leaves dates as written, for ``essay_date`` to read: PyYAML's own
    timestamps take "2017-10-19" but not Jekyll's "2017-10-19 21:33:00 +0200",
    and fail on "2017-13-45" without naming the key."""


_DatesAsWritten.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def split_front_matter(path: Path, text: str) -> tuple[Metadata, str]:
    """Metadata from a leading YAML block fenced by '---' lines, and the body after it."""
    text = text.strip()
    handler = YAMLHandler()
    if not handler.detect(text):
        return Metadata(), text
    try:
        front, body = handler.split(text)
    except ValueError:  # an opening '---' with no closing one: a thematic break, not front matter
        return Metadata(), text
    try:
        fields = handler.load(front, Loader=_DatesAsWritten) or {}
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
    date = fields.get("date")
    try:
        when = essay_date(date) if date not in (None, "") else None
    except ValueError:
        raise InputError(f"{path}: front matter date {date!r} is not a date; write it like 2017-10-19 "
                         f"or 2017-10-19 21:33:00 +0200.") from None
    return Metadata(**values, date=when, chapter_titles=titles, **tables)


def essay_date(value: object) -> datetime.date | datetime.datetime:
    """A front matter date as a date, or as an aware datetime when it has a time (ValueError if neither)."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return value
    written = str(value).strip()
    match = _DATE_TIME.fullmatch(written)
    if match is None:
        try:  # RFC 2822, as feeds write dates: "Thu, 19 Oct 2017 21:33:00 +0200"
            return essay_date(email.utils.parsedate_to_datetime(written))
        except (TypeError, ValueError, IndexError):
            raise ValueError(written) from None
    day, time, zone = match.groups()
    if time is None:
        return datetime.date.fromisoformat(day)
    hours, rest = time.split(":", 1)
    if not zone or zone.upper() == "Z":
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"  # fromisoformat wants +02:00
    return datetime.datetime.fromisoformat(f"{day}T{int(hours):02d}:{rest}{zone}")


def _as_text(value: object) -> str | None:
    """A front matter value as a stripped string."""
    if value is None:
        return None
    return str(value).strip() or None
