"""Finding a passage an essay's front matter quotes (its soundbite) among the
sentences it is spoken as: by the plan, which refuses a quote that is not there,
and by the feed, which starts the soundbite where the quote does."""
from __future__ import annotations

from typing import Sequence

_QUOTES = str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")


def _comparable(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split()).casefold()


def passage_span(displays: Sequence[str], passage: str) -> tuple[int, int] | None:
    """The first and last of the segments (by display text) that hold ``passage``, first
    occurrence; case, spacing and curly quotes do not matter. None when it is not there."""
    wanted = _comparable(passage)
    starts, joined = [], ""
    for display in displays:
        starts.append(len(joined))
        joined += _comparable(display) + " "
    found = joined.find(wanted) if wanted else -1
    if found < 0:
        return None
    last = found + len(wanted) - 1
    return (max(i for i, start in enumerate(starts) if start <= found),
            max(i for i, start in enumerate(starts) if start <= last))

