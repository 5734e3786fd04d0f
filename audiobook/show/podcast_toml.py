"""Show settings: what a feed says about the show as a whole, from ``podcast.toml``.

``init_show`` writes a commented ``podcast.toml`` (and copies the show's cover
art in as ``cover.jpg``); ``load_show`` reads it back as ``ShowSettings``.
Both check every value first and refuse with one line that says what to do,
so a bad setting never reaches a feed a podcast directory would reject.

The ``[show]`` table is shared with ``config.py``, which reads title (as the
episodes' album), author, language, cover and link from it as defaults for
each episode; the other keys (email, description, category, explicit,
base_url, type, locked) only matter to the feed and the site.

Categories are written ``"Main"`` or ``"Main > Sub"``, exactly as Apple
spells them (``"Society & Culture > Documentary"``); matching is
case-insensitive and the stored value is Apple's spelling.
"""
from __future__ import annotations

import difflib
import re
import tomllib
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from audiobook.settings import DEFAULTS, SHOW_FILE, read_toml
from audiobook.audio.cover import MAX_SIDE, MIN_SIDE, load_cover
from audiobook.errors import ConfigError
from audiobook.fsutil import write_bytes_atomic, write_text_atomic

COVER_FILE = "cover.jpg"
CATEGORY_SEPARATOR = ">"
DEFAULT_CATEGORY = "Society & Culture"
SHOW_TYPES = ("episodic", "serial")

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


@dataclass(frozen=True)
class ShowSettings:
    """Everything the feed and the site need to know about the show itself."""

    directory: Path
    title: str
    author: str
    email: str | None  # the owner's; Apple needs it in the feed, the site does not
    description: str
    language: str  # BCP 47, e.g. "en" or "en-GB"
    category: str  # "Main" or "Main > Sub", Apple's spelling
    explicit: bool
    base_url: str | None  # http(s), always ending in "/": where the show directory is published
    cover: Path | None  # the configured art; None means cover.jpg in the show, or a generated one
    link: str | None  # the show's website
    type: str = "episodic"  # or "serial"
    locked: bool = False  # podcast:locked: ask other platforms not to import the feed

    @property
    def categories(self) -> tuple[str, ...]:
        """("Society & Culture", "Documentary"): the nesting of itunes:category."""
        return split_category(self.category)

    @property
    def feed_url(self) -> str:
        return self.require_base_url() + "feed.xml"

    def require_base_url(self) -> str:
        if not self.base_url:
            raise ConfigError(f"no base URL for the show {self.directory}: pass --base-url "
                              f"https://example.com/show/ or set base_url under [show] in {SHOW_FILE}")
        return self.base_url

    def require_email(self) -> str:
        if not self.email:
            raise ConfigError(f"no owner email for the show {self.directory}: Apple Podcasts requires one "
                              f"in the feed; run 'audiobook init --email you@example.com' or set email "
                              f"under [show] in {SHOW_FILE}")
        return self.email


# --- checking single values ---------------------------------------------------

def _matching(value: str, pattern: re.Pattern, where: str, what: str) -> str:
    value = value.strip()
    if not pattern.fullmatch(value):
        raise ConfigError(f"{where}: {value!r} is not {what}")
    return value


def check_email(email: str, where: str = "--email") -> str:
    return _matching(email, _EMAIL, where, "an email address (like you@example.com)")


def check_base_url(url: str, where: str = "--base-url") -> str:
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


def check_category(category: str, where: str = "--category") -> str:
    """Apple's spelling of "Main" or "Main > Sub"; matching ignores case and spacing."""
    parts = split_category(category)
    lower = {name.lower(): name for name in APPLE_CATEGORIES}
    if len(parts) > 2 or not parts[0]:
        raise ConfigError(f"{where}: {category!r} is not a category; write \"Main\" or \"Main > Sub\", "
                          f"like \"Society & Culture > Documentary\"")
    main = lower.get(parts[0].lower())
    if main is None:
        raise ConfigError(f"{where}: {parts[0]!r} is not an Apple Podcasts category{_suggest(parts[0], APPLE_CATEGORIES)}")
    if len(parts) == 1:
        return main
    subs = {name.lower(): name for name in APPLE_CATEGORIES[main]}
    sub = subs.get(parts[1].lower())
    if sub is None:
        known = ", ".join(APPLE_CATEGORIES[main]) or "none"
        raise ConfigError(f"{where}: {parts[1]!r} is not a subcategory of {main!r} (Apple's are: {known})")
    return f"{main} {CATEGORY_SEPARATOR} {sub}"


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else "; see https://podcasters.apple.com/support/1691"


def check_language(language: str, where: str = "--language") -> str:
    return _matching(language, _LANGUAGE, where, "a language code (like en or en-GB)")


def check_art(path: Path, where: str = "--cover") -> Path:
    """Apple's rules for show art: a square RGB JPEG or PNG, 1400 px or more on a side.

    Larger than 3000 px is accepted here and scaled down when the art is copied
    into the show as cover.jpg.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{where}: cover image {path} not found")
    try:
        with Image.open(path) as image:
            image.verify()  # reads the whole file: a truncated image fails here, not in a podcast app
        with Image.open(path) as image:
            fmt, mode, (width, height) = image.format, image.mode, image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ConfigError(f"{where}: cover image {path} cannot be read ({exc}); save it as a JPEG or PNG") from exc
    if fmt not in ("JPEG", "PNG"):
        raise ConfigError(f"{where}: cover image {path} is {fmt}; podcast apps need a JPEG or PNG")
    if mode != "RGB":
        raise ConfigError(f"{where}: cover image {path} is in {mode} colour mode; save it as RGB "
                          f"(no transparency, no CMYK or greyscale)")
    if width != height:
        raise ConfigError(f"{where}: cover image {path} is {width}x{height} px; podcast apps need a square image")
    if width < MIN_SIDE:
        raise ConfigError(f"{where}: cover image {path} is {width}x{height} px; podcast apps need at least "
                          f"{MIN_SIDE}x{MIN_SIDE}")
    return path


def cover_jpeg(path: Path) -> bytes:
    """The art as it goes into the show: a JPEG within Apple's size range, untouched when it already is one."""
    with Image.open(path) as image:
        if image.format == "JPEG" and image.mode == "RGB" and image.width <= MAX_SIDE:
            return Path(path).read_bytes()
    return load_cover(path)


# --- podcast.toml ---------------------------------------------------------------

def default_title(directory: Path, author: str | None) -> str:
    if author:
        return f"{author} \u2014 Essays"
    name = re.sub(r"[-_]+", " ", Path(directory).resolve().name).strip()
    return name[:1].upper() + name[1:] if name else "Essays"


def default_description(title: str, author: str) -> str:
    return f"Audio editions of essays by {author}." if author else f"Audio editions of {title}."


def load_show(show_dir: Path, base_url: str | None = None) -> ShowSettings:
    """The show's settings from its podcast.toml (defaults when there is none), checked.

    ``base_url`` (a command-line flag) wins over the file. The owner email and
    the base URL may be missing here (the site needs neither); the feed asks
    for them with ``require_email`` / ``require_base_url``.
    """
    show_dir = Path(show_dir)
    path = show_dir / SHOW_FILE
    table = read_toml(path).get("show", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [show] must be a table")

    def where(key: str) -> str:
        return f"{path} [show] {key}"

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{where(key)} must be a quoted string, got {value!r}")
        return value.strip() or None

    def flag(key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{where(key)} must be true or false, got {value!r}")
        return value

    author = text("author")
    title = text("title") or default_title(show_dir, author)
    author = author or str(DEFAULTS["author"])
    email = text("email")
    language = text("language")
    category = text("category")
    cover = text("cover")
    show_type = (text("type") or "episodic").lower()
    if show_type not in SHOW_TYPES:
        raise ConfigError(f"{where('type')} must be \"episodic\" or \"serial\", got {show_type!r}")
    link = text("link")
    if link:
        check_base_url(link, where("link"))  # same rule: an absolute http(s) address
    if base_url:
        url = check_base_url(base_url, "--base-url")
    elif url := text("base_url"):
        url = check_base_url(url, where("base_url"))
    return ShowSettings(
        directory=show_dir,
        title=title,
        author=author,
        email=check_email(email, where("email")) if email else None,
        description=text("description") or default_description(title, author),
        language=check_language(language, where("language")) if language else str(DEFAULTS["language"]),
        category=check_category(category, where("category")) if category else DEFAULT_CATEGORY,
        explicit=flag("explicit", False),
        base_url=url,
        cover=check_art(show_dir / cover, where("cover")) if cover else None,
        link=link,
        type=show_type,
        locked=flag("locked", False),
    )


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _commented(value: str | None, key: str, example: str) -> str:
    return f"{key} = {toml_string(value)}" if value else f"# {key} = {toml_string(example)}"


def render_show_toml(values: dict) -> str:
    """podcast.toml with a comment for every key; unset optional keys are left commented out."""
    categories = "\n".join(f"#   {main}" + (f": {', '.join(subs)}" if subs else "")
                           for main, subs in APPLE_CATEGORIES.items())
    return f"""\
# podcast.toml: settings of this show, read by 'audiobook build', 'feed' and 'site'.
# Layers, later wins: this file < an essay's front matter < command-line flags.

[show]
# The show's name in podcast apps (also each episode's album tag).
title = {toml_string(values["title"])}
# Who makes the show; also the default author of each episode.
author = {toml_string(values["author"])}
# The owner's email: Apple Podcasts requires it in the feed (itunes:owner) to verify the show.
email = {toml_string(values["email"])}
# What the show is about: at most 4000 bytes; podcast apps show it on the show's page.
description = {toml_string(values["description"])}
# Language of the show, as a BCP 47 code: en, en-GB, de, fr ...
language = {toml_string(values["language"])}
# Apple Podcasts category, "Main" or "Main > Sub", spelled as Apple does:
# https://podcasters.apple.com/support/1691-apple-podcasts-categories
{categories}
category = {toml_string(values["category"])}
# true if any episode has explicit content (itunes:explicit).
explicit = {"true" if values["explicit"] else "false"}
# Where this folder is published: feed.xml and episodes/ are served under it.
{_commented(values["base_url"], "base_url", "https://example.com/show/")}
# Show art, relative to this folder: a square RGB JPEG or PNG, 1400-3000 px. Without one,
# a title card is drawn as cover.jpg. Also each episode's art unless its front matter has an image.
{_commented(values["cover"], "cover", COVER_FILE)}
# The show's website, if it has one besides this folder.
{_commented(values["link"], "link", "https://example.com/")}
# "episodic" (newest first) or "serial" (listened to in order).
type = {toml_string(values["type"])}

[build]
# Defaults for 'audiobook build' (see 'audiobook voices'); flags win.
# engine = "pyttsx3"
# voice = "gmw/en-us"
# rate = 175
# bitrate = 96
# executor = "dask"                       # synthesize on Dask (pip install 'audiobook[cluster]')
# scheduler = "tcp://10.0.0.5:8786"       # its scheduler; without one, a LocalCluster
"""


def init_show(directory: Path, *, title: str | None = None, author: str | None = None,
              email: str | None = None, base_url: str | None = None, category: str | None = None,
              language: str | None = None, cover: Path | None = None, force: bool = False) -> Path:
    """Write a commented podcast.toml into directory (created if missing) and return its path.

    Every value is checked before anything is written; an existing podcast.toml
    is replaced only with ``force``. A cover image is copied in as cover.jpg.
    """
    directory = Path(directory)
    path = directory / SHOW_FILE
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists: edit it, or pass --force to replace it")
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory")
    if not email or not email.strip():
        raise ConfigError("no owner email: Apple Podcasts requires one in the feed; pass --email you@example.com")
    author = (author or "").strip() or str(DEFAULTS["author"])
    title = (title or "").strip() or default_title(directory, author)
    values = {
        "title": title,
        "author": author,
        "email": check_email(email),
        "description": default_description(title, author),
        "language": check_language(language) if language else str(DEFAULTS["language"]),
        "category": check_category(category) if category else DEFAULT_CATEGORY,
        "explicit": False,
        "base_url": check_base_url(base_url) if base_url else None,
        "cover": COVER_FILE if cover else None,
        "link": None,
        "type": "episodic",
    }
    art = cover_jpeg(check_art(Path(cover))) if cover else None
    text = render_show_toml(values)
    parsed = tomllib.loads(text)["show"]  # what we write must read back as what we were given
    assert all(parsed.get(k) == v for k, v in values.items() if v is not None), parsed
    directory.mkdir(parents=True, exist_ok=True)
    if art is not None:
        write_bytes_atomic(directory / COVER_FILE, art)
    write_text_atomic(path, text)
    return path
