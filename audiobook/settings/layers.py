"""The settings of a build, in layers, later wins, each value knowing where it came from.

    built-in defaults < the show's podcast.toml < the essay's front matter
                      < AUDIOBOOK_* environment variables < command-line flags

``read_layers`` reads and checks everything but the essay, once per command;
``SettingLayers.resolve`` puts an essay's front matter in its place and returns
the frozen ``Settings`` the pipeline runs on. A value is checked by the same
rule whichever layer gave it, and an error names the place to fix it
(``--rate``, ``AUDIOBOOK_RATE``, ``show/podcast.toml [build] rate``).
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

from audiobook.models import Metadata
from audiobook.settings import checks
from audiobook.settings.showfile import DEFAULT_AUTHOR, DEFAULT_LANGUAGE, ShowFile, ShowSettings, read_show_file

DEFAULT = "built-in default"
ENV_PREFIX = "AUDIOBOOK_"

Layer = Mapping[str, tuple[object, str]]  # setting -> (value as given, where it was given)


@dataclass(frozen=True)
class Settings:
    """What one essay is built with; ``sources`` says where each value came from."""

    title: str | None = None
    author: str = DEFAULT_AUTHOR
    album: str | None = None  # the show's title; the episode's own when the show has none
    date: datetime.date | datetime.datetime | None = None  # a datetime carries its zone
    description: str | None = None
    language: str = DEFAULT_LANGUAGE
    cover: Path | None = None
    link: str | None = None
    engine: str = "auto"  # Piper when installed, else pyttsx3
    voice: str | None = None
    quote_voice: str | None = None  # block quotes in another voice of the same engine
    rate: int = 175  # words per minute
    bitrate: int = 96  # kbit/s
    editions: tuple[str, ...] = ()  # other files of the same audio: "m4b", "opus" (audio/editions.py)
    intro_music: Path | None = None  # a music bed under the spoken opening (audio/beds.py)
    outro_music: Path | None = None  # and one under the closing
    jobs: int = min(os.cpu_count() or 1, 64)
    executor: str = "local"  # where clips are synthesized: local processes, or "dask"
    scheduler: str | None = None  # a Dask scheduler; none: the dask executor starts a LocalCluster
    season: int | None = None  # the feed's season and episode numbers (front matter only)
    episode: int | None = None
    soundbite: str | None = None  # opening words of the passage the feed offers as a soundbite
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def source(self, key: str) -> str:
        return self.sources.get(key, DEFAULT)

    def values(self) -> dict[str, object]:
        """Every setting's value, by name."""
        return {key: getattr(self, key) for key in KEYS}

    def describe(self) -> list[str]:
        """One line per setting: its value and where it came from (for --verbose)."""
        return [f"{key} = {getattr(self, key)!r} (from {self.source(key)})" for key in sorted(KEYS)]

    def derive(self, key: str, value: object, source: str) -> Settings:
        """These settings with a value the build worked out itself (a title from the text)."""
        return replace(self, **{key: value}, sources={**self.sources, key: source})


KEYS = tuple(f.name for f in fields(Settings) if f.name != "sources")


FLAG_NAMES = {"editions": "--edition"}  # a flag given once per value, named in the singular
ENV_KEYS = ("author", "language", "engine", "voice", "quote_voice", "rate", "bitrate", "jobs", "cover",
            "executor", "scheduler", "editions")


# How the front matter layer names itself in Settings.sources.
FRONT_MATTER = "front matter of"


def from_front_matter(settings: Settings, key: str) -> bool:
    """Whether the essay's front matter gave this setting (its cover is then fitted, not refused)."""
    return settings.source(key).startswith(FRONT_MATTER)


def _front_matter(essay: Path, metadata: Metadata) -> Layer:
    where = f"{FRONT_MATTER} {essay.name}"
    given = {
        "title": metadata.title,
        "author": metadata.author,
        "date": metadata.date,
        "description": metadata.description,
        "language": metadata.language,
        "link": metadata.link,
        "cover": essay.parent / metadata.image if metadata.image else None,  # written relative to the essay
        "quote_voice": metadata.voices.get("quote"),
        "season": metadata.season,
        "episode": metadata.episode,
        "soundbite": metadata.soundbite,
    }
    return {key: (value, f"{where} ({key if key != 'cover' else 'image'})")
            for key, value in given.items() if value is not None}


@dataclass(frozen=True)
class SettingLayers:
    """Every layer but the essay's, read and checked once per command."""

    show_file: ShowFile
    environment: Layer
    flags: Layer
    command: Settings  # what holds for the whole command: every layer but an essay's


    @property
    def show(self) -> ShowSettings:
        return self.show_file.show

    def resolve(self, essay: Path | None = None, metadata: Metadata | None = None) -> Settings:
        """The settings of one essay (of none: what holds for the whole command)."""
        front_matter = _front_matter(essay, metadata) if essay and metadata else {}
        values: dict[str, object] = {}
        sources: dict[str, str] = {}
        for layer in (self.show_file.episode_defaults, front_matter, self.environment, self.flags):
            for key, (value, where) in layer.items():
                checked = checks.SETTINGS[key](value, where)
                if checked is not None:
                    values[key], sources[key] = checked, where
        if values.get("scheduler") and "executor" not in values:
            # a scheduler says where to synthesize, unless an executor was chosen explicitly
            values["executor"], sources["executor"] = "dask", f"scheduler from {sources['scheduler']}"
        return Settings(**values, sources=sources)


def read_layers(show_dir: Path, flags: Mapping[str, object], environ: Mapping[str, str] = os.environ) -> SettingLayers:
    """podcast.toml, AUDIOBOOK_* variables and flags, checked before any work starts."""
    environment = {key: (environ[ENV_PREFIX + key.upper()], ENV_PREFIX + key.upper())
                   for key in ENV_KEYS if environ.get(ENV_PREFIX + key.upper())}
    given = {key: (value, FLAG_NAMES.get(key, "--" + key.replace("_", "-")))
             for key, value in flags.items() if value is not None}
    layers = SettingLayers(read_show_file(show_dir), environment, given, Settings())
    return replace(layers, command=layers.resolve())  # a bad variable or flag stops the command here
