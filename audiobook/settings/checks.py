"""Checks of single setting values, the same wherever a value comes from.

Each check takes the value and ``where`` it was written (``--rate``,
``AUDIOBOOK_RATE``, ``show/podcast.toml [build] rate``) and returns the value
in its canonical form, or raises a ConfigError of one line that starts with
that place: the user sees exactly what to fix, and every command that reads
the same value refuses it with the same words.
"""
from __future__ import annotations

import difflib
import re
import urllib.parse
from pathlib import Path
from typing import Callable

from PIL import Image

from audiobook.errors import ConfigError

MIN_ART_SIDE, MAX_ART_SIDE = 1400, 3000  # Apple's range for show and episode art, in pixels

# The longest title, author and description kept; longer ones are cut with an ellipsis. Apple takes
# 4000 characters of description; podcast apps and ID3 readers show about a line of a title or author,
# and 255 characters is where common tag editors and feed validators stop.
# https://podcasters.apple.com/support/823-podcast-requirements
TEXT_CAPS = {"title": 255, "album": 255, "author": 255, "description": 4000}
ELLIPSIS = "\u2026"

CATEGORY_SEPARATOR = ">"
# Apple Podcasts categories and subcategories, as Apple spells them.
# https://podcasters.apple.com/support/1691-apple-podcasts-categories (the 2019 list, current in 2025)
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition",
                         "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
                "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics",
             "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion",
                                "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
                "Natural Sciences", "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel",
                          "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey",
               "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness",
               "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}

_EMAIL = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:.]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def text(value: object, where: str) -> str | None:
    """A string setting: stripped, None when blank; anything but a string is refused."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: must be a quoted string, got {value!r}")
    return value.strip() or None


def capped(text_value: str | None, limit: int) -> str | None:
    """The text, or as much of it as fits in ``limit`` characters ending in "…", cut between words when one is near."""
    if text_value is None or len(text_value) <= limit:
        return text_value
    cut = text_value[:limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def _capped_text(limit: int) -> Callable[[object, str], str | None]:
    return lambda value, where: capped(text(value, where), limit)


def flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: must be true or false, got {value!r}")
    return value


def whole_number(value: object, where: str, low: int, high: int) -> int:
    """An integer in [low, high]; strings of digits count (environment variables are strings)."""
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{where}: must be between {low} and {high}, got {number}")
    return number


def choice(value: object, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{where}: must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _language_setting(value: object, where: str) -> str | None:
    written = text(value, where)
    return language(written, where) if written else None


def _path_setting(value: object, where: str) -> Path | None:
    written = value if isinstance(value, Path) else text(value, where)
    return Path(written) if written else None


def _whole(low: int, high: int) -> Callable[[object, str], int]:
    return lambda value, where: whole_number(value, where, low, high)


EDITIONS = ("m4b", "opus")  # besides the MP3, made by audio/editions.py


def editions(value: object, where: str) -> tuple[str, ...]:
    """Other editions of the audio: a list (podcast.toml, flags) or a comma-separated
    string (environment), each one of EDITIONS; returned in EDITIONS' order, once each."""
    names = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
        raise ConfigError(f"{where}: must be a list of editions, like [\"m4b\", \"opus\"], got {value!r}")
    for name in names:
        if name.lower() not in EDITIONS:
            raise ConfigError(f"{where}: {name!r} is not an edition; the editions are {', '.join(EDITIONS)}"
                              f"{suggestion(name.lower(), EDITIONS)}")
    return tuple(name for name in EDITIONS if name in {given.lower() for given in names})


EXECUTORS = ("local", "dask")
# The rule for each setting of a build, whichever layer gives it (layers.py);
# podcast.toml's [build] and [voices] values are held to it when the file is read.
SETTINGS: dict[str, Callable[[object, str], object]] = {
    **dict.fromkeys(("link", "engine", "voice", "quote_voice", "scheduler", "soundbite"), text),
    **{key: _capped_text(limit) for key, limit in TEXT_CAPS.items()},
    "date": lambda value, where: value,  # typed by the essay's reader, the only layer that sets it
    "language": _language_setting,
    **dict.fromkeys(("cover", "intro_music", "outro_music"), _path_setting),
    "editions": editions,
    "rate": _whole(80, 450),
    "bitrate": _whole(32, 320),
    "jobs": _whole(1, 64),
    "season": _whole(1, 9999),
    "episode": _whole(1, 99999),
    "executor": lambda value, where: choice(value, where, EXECUTORS),
}


def _matching(value: str, pattern: re.Pattern, where: str, what: str) -> str:
    value = value.strip()
    if not pattern.fullmatch(value):
        raise ConfigError(f"{where}: {value!r} is not {what}")
    return value


def email(value: str, where: str = "--email") -> str:
    return _matching(value, _EMAIL, where, "an email address (like you@example.com)")


def language(value: str, where: str = "--language") -> str:
    return _matching(value, _LANGUAGE, where, "a language code (like en or en-GB)")


PODCAST_TEXT_CAP = 128  # what the Podcasting 2.0 namespace asks of a tag's text (aggregators cut the rest)
TXT_CAP = 4000  # podcast:txt's own limit
_CREATIVE_COMMONS = re.compile(r"CC-(BY(?:-NC)?(?:-SA|-ND)?)-([1-4]\.[05])", re.IGNORECASE)


def short_text(value: str, where: str, limit: int = PODCAST_TEXT_CAP) -> str:
    """Text a Podcasting 2.0 tag carries: refused past its limit rather than cut where nobody sees."""
    if len(value) > limit:
        raise ConfigError(f"{where}: {len(value)} characters; the Podcasting 2.0 namespace allows {limit}")
    return value


def creative_commons_url(identifier: str) -> str | None:
    """The deed of a Creative Commons licence named as SPDX does ("CC-BY-NC-4.0", "CC0-1.0"), else None."""
    if identifier.upper() == "CC0-1.0":
        return "https://creativecommons.org/publicdomain/zero/1.0/"
    match = _CREATIVE_COMMONS.fullmatch(identifier)
    return f"https://creativecommons.org/licenses/{match[1].lower()}/{match[2]}/" if match else None


def txt_records(value: object, where: str) -> tuple[tuple[str, str], ...]:
    """podcast:txt records from a table of purpose = "text" (Apple's applepodcastsverify, a host's verify)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a table of purpose = \"text\", like "
                          f"txt = {{ applepodcastsverify = \"05124\" }}")
    records = []
    for purpose, record in value.items():
        written = text(record, f"{where}.{purpose}")
        if written:
            records.append((short_text(purpose, f"{where}: purpose"),
                            short_text(written, f"{where}.{purpose}", TXT_CAP)))
    return tuple(records)


def base_url(url: str, where: str = "--base-url") -> str:
    """An absolute http(s) URL, returned with exactly one trailing slash."""
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL; write it in full, "
                          f"like https://example.com/show/")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: {url!r} has a query or fragment; give the folder the show is served from")
    return url.rstrip("/") + "/"


def split_category(category: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in category.split(CATEGORY_SEPARATOR))


def category(value: str, where: str = "--category") -> str:
    """Apple's spelling of "Main" or "Main > Sub"; matching ignores case and spacing."""
    parts = split_category(value)
    lower = {name.lower(): name for name in APPLE_CATEGORIES}
    if len(parts) > 2 or not parts[0]:
        raise ConfigError(f"{where}: {value!r} is not a category; write \"Main\" or \"Main > Sub\", "
                          f"like \"Society & Culture > Documentary\"")
    main = lower.get(parts[0].lower())
    if main is None:
        raise ConfigError(f"{where}: {parts[0]!r} is not an Apple Podcasts category"
                          f"{suggestion(parts[0], APPLE_CATEGORIES, 'see https://podcasters.apple.com/support/1691')}")
    if len(parts) == 1:
        return main
    subs = {name.lower(): name for name in APPLE_CATEGORIES[main]}
    sub = subs.get(parts[1].lower())
    if sub is None:
        known = ", ".join(APPLE_CATEGORIES[main]) or "none"
        raise ConfigError(f"{where}: {parts[1]!r} is not a subcategory of {main!r} (Apple's are: {known})")
    return f"{main} {CATEGORY_SEPARATOR} {sub}"


def suggestion(word: str, choices, otherwise: str = "") -> str:
    """"; did you mean 'x'?" for the closest choice, else "; " + otherwise (or nothing)."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; {otherwise}" if otherwise else ""


def art(path: Path, where: str = "--cover") -> Path:
    """Apple's rules for show art: a square RGB JPEG or PNG, 1400 px or more on a side.

    Larger than 3000 px is accepted here and scaled down when the art goes into
    the show (``audio.cover.podcast_jpeg``).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{where}: cover image {path} not found")
    problem = art_problem(path)
    if problem:
        raise ConfigError(f"{where}: cover image {path} {problem}")
    return path


def art_problem(path: Path, largest: int | None = None) -> str | None:
    """What keeps an image from being podcast art ("is 600x600 px; podcast apps need at least
    1400x1400"), or None; ``largest`` holds it to a largest side too (Apple's 3000 px)."""
    try:
        with Image.open(path) as image:
            image.verify()  # reads the whole file: a truncated image fails here, not in a podcast app
        with Image.open(path) as image:
            fmt, mode, (width, height) = image.format, image.mode, image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return f"cannot be read ({exc}); save it as a JPEG or PNG"
    if fmt not in ("JPEG", "PNG"):
        return f"is {fmt}; podcast apps need a JPEG or PNG"
    if mode != "RGB":
        return f"is in {mode} colour mode; save it as RGB (no transparency, no CMYK or greyscale)"
    if width != height:
        return f"is {width}x{height} px; podcast apps need a square image"
    if width < MIN_ART_SIDE:
        return f"is {width}x{height} px; podcast apps need at least {MIN_ART_SIDE}x{MIN_ART_SIDE}"
    if largest and width > largest:
        return f"is {width}x{height} px; Apple Podcasts takes at most {largest}x{largest}"
    return None
