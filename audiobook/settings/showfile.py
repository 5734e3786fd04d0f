"""podcast.toml, the show's settings file, and its one reader (``audiobook init``
writes it: show/init.py).

    [show]    the show itself, as the feed and the site present it; its author,
              language, cover and link are also every episode's defaults, and its
              title every episode's album; the Podcasting 2.0 tags (locked, medium,
              license, funding, txt) and Apple's block and new-feed-url
    [build]   defaults for every build: engine, voice, rate, bitrate, jobs, executor, scheduler, editions
    [voices]  other voices of the engine: quote (block quotes)
    [music]   music beds under the spoken opening and closing: intro, outro (files, relative to the show)
    [deploy]  where ``audiobook deploy`` sends the show: target, endpoint_url, region
              (never credentials: those come the standard AWS ways)

The file is read once per command and checked whole: an unknown table or key
(a typo would otherwise be ignored without a word) or a bad value is one
ConfigError that names the file, the table and the key, so every command
refuses the same file with the same words. Categories are written "Main" or
"Main > Sub" as Apple spells them; matching ignores case.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from audiobook.errors import ConfigError
from audiobook.settings import checks

SHOW_FILE = "podcast.toml"
FEED_FILE = "feed.xml"
COVER_FILE = "cover.jpg"
DEFAULT_AUTHOR = "Anonymous"
DEFAULT_LANGUAGE = "en"
DEFAULT_CATEGORY = "Society & Culture"
SHOW_TYPES = ("episodic", "serial")
# podcast:medium values that fit a show of spoken essays: https://podcastindex.org/namespace/1.0#medium
MEDIUMS = ("podcast", "audiobook")
DEFAULT_FUNDING_TEXT = "Support the show"

# table -> its keys; [show] keys that are also episode settings map to the episode key
# they set ([show] title is each episode's album).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "show": ("title", "author", "email", "description", "language", "category", "explicit", "base_url",
             "cover", "link", "type", "locked", "medium", "license", "license_url", "funding_url",
             "funding_text", "txt", "new_feed_url", "block"),
    "build": ("engine", "voice", "rate", "bitrate", "jobs", "executor", "scheduler", "editions"),
    "voices": ("quote",),
    "music": ("intro", "outro"),
    "deploy": ("target", "endpoint_url", "region"),
}
# A [deploy] key that looks like a secret gets its own refusal: podcast.toml is no place for one.
_CREDENTIAL = re.compile(r"key|secret|token|password|credential", re.IGNORECASE)
EPISODE_DEFAULTS = {("show", "title"): "album", ("show", "author"): "author", ("show", "language"): "language",
                    ("show", "cover"): "cover", ("show", "link"): "link", ("voices", "quote"): "quote_voice",
                    ("music", "intro"): "intro_music", ("music", "outro"): "outro_music",
                    **{("build", key): key for key in KNOWN_KEYS["build"]}}
SHOW_PATHS = ("cover", "intro_music", "outro_music")  # episode settings podcast.toml gives relative to the show


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
    locked: bool = True  # podcast:locked: other platforms may not import the feed without the owner's word
    medium: str = "podcast"  # podcast:medium: or "audiobook"
    license: str | None = None  # podcast:license: an identifier ("CC-BY-4.0") or a licence's name
    license_url: str | None = None  # its full text; worked out for Creative Commons identifiers
    funding_url: str | None = None  # podcast:funding
    funding_text: str = DEFAULT_FUNDING_TEXT
    txt: tuple[tuple[str, str], ...] = ()  # podcast:txt: (purpose, text)
    new_feed_url: str | None = None  # itunes:new-feed-url: where the feed has moved
    block: bool = False  # itunes:block and podcast:block: keep the show out of directories

    @property
    def categories(self) -> tuple[str, ...]:
        """("Society & Culture", "Documentary"): the nesting of itunes:category."""
        return checks.split_category(self.category)

    @property
    def feed_url(self) -> str:
        return self.require_base_url() + FEED_FILE

    def served_at(self, base_url: str | None) -> ShowSettings:
        """These settings with ``base_url`` (a --base-url flag, or the preview server's address) winning."""
        return replace(self, base_url=checks.base_url(base_url)) if base_url else self

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


@dataclass(frozen=True)
class DeploySettings:
    """podcast.toml [deploy]: where ``audiobook deploy`` sends the show by default."""

    target: str | None = None  # s3://bucket/prefix, or a directory (relative to the show's)
    endpoint_url: str | None = None  # the API of an S3-compatible service (R2, B2, Spaces, MinIO)
    region: str | None = None


@dataclass(frozen=True)
class ShowFile:
    """podcast.toml as read and checked: the show, the episode defaults it sets, where it deploys."""

    show: ShowSettings
    # episode setting -> (value as written, where): a layer of every build's settings
    episode_defaults: Mapping[str, tuple[object, str]]
    deploy: DeploySettings = DeploySettings()


def read_toml(path: Path) -> dict:
    """A show file (podcast.toml, lexicon.toml) as a dict; {} when there is none."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or remove it") from exc


def default_title(directory: Path, author: str | None) -> str:
    if author:
        return f"{author} \u2014 Essays"
    name = re.sub(r"[-_]+", " ", Path(directory).resolve().name).strip()
    return name[:1].upper() + name[1:] if name else "Essays"


def default_description(title: str, author: str) -> str:
    return f"Audio editions of essays by {author}." if author else f"Audio editions of {title}."


def _tables(path: Path) -> dict[str, dict]:
    data = read_toml(path)
    for table, values in data.items():
        if table not in KNOWN_KEYS:
            tables = "the tables are [show], [build], [voices], [music] and [deploy]"
            raise ConfigError(f"{path}: unknown table [{table}]{checks.suggestion(table, KNOWN_KEYS, tables)}")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: [{table}] must be a table")
        for key in values:
            if table == "deploy" and _CREDENTIAL.search(key):
                raise ConfigError(f"{path} [deploy] {key}: credentials do not belong in {SHOW_FILE}, which "
                                  f"sits with the show (often in version control); set AWS_ACCESS_KEY_ID and "
                                  f"AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials")
            if key not in KNOWN_KEYS[table]:
                raise ConfigError(f"{path} [{table}]: unknown key {key!r}"
                                  f"{checks.suggestion(key, KNOWN_KEYS[table], 'keys: ' + ', '.join(KNOWN_KEYS[table]))}")
    return {table: data.get(table, {}) for table in KNOWN_KEYS}


def _address(url: str | None, where: str) -> str | None:
    """An absolute http(s) address, kept as written (base_url's rule, without its trailing slash)."""
    if url:
        checks.base_url(url, where)
    return url


def _licence(identifier: str | None, url: str | None, where: str) -> dict[str, str | None]:
    """podcast:license and its URL: given, or a Creative Commons licence's own page."""
    if identifier is None:
        return {"license": None, "license_url": url}
    identifier = checks.short_text(identifier, where)
    url = url or checks.creative_commons_url(identifier)
    if url is None:
        raise ConfigError(f"{where}: {identifier!r} is not a Creative Commons identifier (like CC-BY-4.0 or "
                          f"CC0-1.0); set license_url to the address of its full text")
    return {"license": identifier, "license_url": url}


def read_show_file(directory: Path) -> ShowFile:
    """The show's podcast.toml (defaults when there is none), checked whole.

    The owner email and the base URL may be missing here (the site needs
    neither); the feed asks for them with ``require_email`` / ``require_base_url``.
    """
    directory = Path(directory)
    path = directory / SHOW_FILE
    tables = _tables(path)
    show = tables["show"]

    def where(key: str) -> str:
        return f"{path} [show] {key}"

    def text(key: str) -> str | None:
        return checks.text(show.get(key), where(key))

    author = text("author")
    title = text("title") or default_title(directory, author)
    author = author or DEFAULT_AUTHOR
    email, language, category, cover, link = (text(key) for key in ("email", "language", "category", "cover", "link"))
    base_url = text("base_url")
    show_type = (text("type") or "episodic").lower()
    if show_type not in SHOW_TYPES:
        raise ConfigError(f"{where('type')}: must be \"episodic\" or \"serial\", got {show_type!r}")
    settings = ShowSettings(
        directory=directory,
        title=title,
        author=author,
        email=checks.email(email, where("email")) if email else None,
        description=text("description") or default_description(title, author),
        language=checks.language(language, where("language")) if language else DEFAULT_LANGUAGE,
        category=checks.category(category, where("category")) if category else DEFAULT_CATEGORY,
        explicit=checks.flag(show.get("explicit", False), where("explicit")),
        base_url=checks.base_url(base_url, where("base_url")) if base_url else None,
        cover=checks.art(directory / cover, where("cover")) if cover else None,
        link=_address(link, where("link")),
        type=show_type,
        locked=checks.flag(show.get("locked", True), where("locked")),
        medium=checks.choice(text("medium") or "podcast", where("medium"), MEDIUMS),
        **_licence(text("license"), _address(text("license_url"), where("license_url")), where("license")),
        funding_url=_address(text("funding_url"), where("funding_url")),
        funding_text=checks.short_text(text("funding_text") or DEFAULT_FUNDING_TEXT, where("funding_text")),
        txt=checks.txt_records(show.get("txt", {}), where("txt")),
        new_feed_url=_address(text("new_feed_url"), where("new_feed_url")),
        block=checks.flag(show.get("block", False), where("block")),
    )
    defaults = {}
    for (table, key), setting in EPISODE_DEFAULTS.items():
        if key in tables[table]:
            where_written = f"{path} [{table}] {key}"
            value = checks.SETTINGS[setting](tables[table][key], where_written)
            if value is not None:
                defaults[setting] = (directory / value if setting in SHOW_PATHS else value, where_written)
    deploy = tables["deploy"]
    deploy_settings = DeploySettings(
        target=checks.text(deploy.get("target"), f"{path} [deploy] target"),
        endpoint_url=_address(checks.text(deploy.get("endpoint_url"), f"{path} [deploy] endpoint_url"),
                              f"{path} [deploy] endpoint_url"),
        region=checks.text(deploy.get("region"), f"{path} [deploy] region"),
    )
    return ShowFile(settings, defaults, deploy_settings)
