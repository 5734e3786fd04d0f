"""Settings in layers, later wins, each value remembering where it came from.

    built-in defaults < the show's podcast.toml < the essay's front matter
                      < AUDIOBOOK_* environment variables < command-line flags

podcast.toml holds a ``[show]`` table (title, author, language, cover, link),
a ``[build]`` table (engine, voice, rate, bitrate, jobs, executor, scheduler)
and a ``[voices]`` table (``quote``: the voice for block quotes). Paths are
resolved where they are written: a cover in podcast.toml relative to the
show, an image in front matter relative to the essay.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from audiobook.errors import ConfigError
from audiobook.models import Metadata

SHOW_FILE = "podcast.toml"
ENV_PREFIX = "AUDIOBOOK_"

DEFAULTS: dict[str, object] = {
    "title": None,
    "author": "Anonymous",
    "album": None,
    "date": None,
    "description": None,
    "language": "en",
    "cover": None,
    "link": None,
    "engine": "auto",  # Piper when installed, else pyttsx3
    "voice": None,
    "quote_voice": None,  # block quotes in another voice of the same engine
    "rate": 175,
    "bitrate": 96,
    "jobs": os.cpu_count() or 1,
    "executor": "local",  # where clips are synthesized: local processes, or "dask"
    "scheduler": None,  # a Dask scheduler's address; none: the dask executor starts a LocalCluster
}
CHOICES = {"executor": ("local", "dask")}
INTEGER_RANGES = {"rate": (80, 450), "bitrate": (32, 320), "jobs": (1, 64)}
PATH_KEYS = {"cover"}
SHOW_KEYS = {"title": "album", "author": "author", "language": "language", "cover": "cover", "link": "link"}
BUILD_KEYS = {"engine", "voice", "rate", "bitrate", "jobs", "executor", "scheduler"}
ENV_KEYS = ("author", "language", "engine", "voice", "quote_voice", "rate", "bitrate", "jobs", "cover",
            "executor", "scheduler")


@dataclass
class Settings:
    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str):
        return self.values[key]

    def describe(self) -> list[str]:
        """One line per setting: value and where it came from (for --verbose)."""
        return [f"{key} = {self.values[key]!r} (from {self.sources[key]})" for key in sorted(self.values)]


def read_toml(path: Path) -> dict:
    """A show file (podcast.toml, lexicon.toml) as a dict; {} when there is none."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or remove it") from exc


def _show_layer(show: Path) -> dict[str, object]:
    data = read_toml(show / SHOW_FILE)
    layer = {SHOW_KEYS[k]: v for k, v in data.get("show", {}).items() if k in SHOW_KEYS}
    layer.update({k: v for k, v in data.get("build", {}).items() if k in BUILD_KEYS})
    if data.get("voices", {}).get("quote"):
        layer["quote_voice"] = data["voices"]["quote"]
    if layer.get("cover"):
        layer["cover"] = show / str(layer["cover"])
    return layer


def _front_matter_layer(metadata: Metadata, essay: Path) -> dict[str, object]:
    layer = {
        "title": metadata.title,
        "author": metadata.author,
        "date": metadata.date,
        "description": metadata.description,
        "language": metadata.language,
        "link": metadata.link,
        "cover": essay.parent / metadata.image if metadata.image else None,
        "quote_voice": metadata.voices.get("quote"),
    }
    return {k: v for k, v in layer.items() if v}


def _env_layer(environ) -> dict[str, object]:
    return {k: environ[ENV_PREFIX + k.upper()] for k in ENV_KEYS if environ.get(ENV_PREFIX + k.upper())}


def _check(key: str, value: object, source: str) -> object:
    if key in INTEGER_RANGES and value is not None:
        low, high = INTEGER_RANGES[key]
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a whole number, got {value!r} (from {source})") from None
        if not low <= number <= high:
            raise ConfigError(f"{key} must be between {low} and {high}, got {number} (from {source})")
        return number
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{key} must be one of {', '.join(CHOICES[key])}, got {value!r} (from {source})")
    if key in PATH_KEYS and value is not None:
        return Path(value)
    return value


def run_settings(show: Path, flags: dict, environ=os.environ) -> Settings:
    """Settings that hold for a whole run (engine, jobs): no essay's front matter."""
    return resolve_settings(show, Path("."), Metadata(), flags, environ)


def resolve_settings(show: Path, essay: Path, metadata: Metadata, flags: dict, environ=os.environ) -> Settings:
    layers = [
        ("built-in default", DEFAULTS),
        (str(show / SHOW_FILE), _show_layer(show)),
        (f"front matter of {essay.name}", _front_matter_layer(metadata, essay)),
        ("environment", _env_layer(environ)),
        ("command line", {k: v for k, v in flags.items() if v is not None}),
    ]
    settings = Settings()
    for source, layer in layers:
        for key, value in layer.items():
            settings.values[key] = _check(key, value, source)
            settings.sources[key] = source
    if settings["scheduler"] and settings.sources["executor"] == layers[0][0]:
        # a scheduler says where to synthesize, unless an executor was chosen explicitly
        settings.values["executor"] = "dask"
        settings.sources["executor"] = f"scheduler from {settings.sources['scheduler']}"
    return settings
