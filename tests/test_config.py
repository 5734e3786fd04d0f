"""Settings in layers: defaults < podcast.toml < front matter < AUDIOBOOK_* < flags, with sources."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from audiobook.errors import ConfigError
from audiobook.settings import read_layers
from audiobook.pipeline import plan_essay
from audiobook.text.read import read_document

PODCAST_TOML = """\
[show]
title = "The Show"
author = "Show Author"
language = "de"
cover = "art/cover.png"

[build]
voice = "toml-voice"
rate = 150
bitrate = 128
engine = "pyttsx3"
"""

ESSAY = """\
---
title: Front Matter Title
author: Front Matter Author
language: en-GB
image: pictures/essay.jpg
---
An essay with a front matter block, and one paragraph of text to read.
"""

ENVIRONMENT = {"AUDIOBOOK_VOICE": "env-voice", "AUDIOBOOK_RATE": "160", "AUDIOBOOK_LANGUAGE": "fr"}
FLAGS = {"rate": 170, "title": "Flag Title", "author": None, "voice": None}


@pytest.fixture
def layered(tmp_path):
    show = tmp_path / "show"
    show.mkdir()
    (show / "podcast.toml").write_text(PODCAST_TOML, encoding="utf-8")
    (show / "art").mkdir()
    Image.new("RGB", (1400, 1400), "white").save(show / "art" / "cover.png")
    essay = tmp_path / "essays" / "essay.md"
    essay.parent.mkdir()
    essay.write_text(ESSAY, encoding="utf-8")
    return show, essay


def settings_of(show: Path, essay: Path, flags=FLAGS, environ=ENVIRONMENT):
    return read_layers(show, flags, environ=environ).resolve(essay, read_document(essay).metadata)


# key -> (value, where it must come from); "toml ..." and "front matter ..." are filled in below
WINNERS = {
    "rate": (170, "--rate"),                          # every layer sets it: the flag wins
    "title": ("Flag Title", "--title"),               # front matter < flag
    "voice": ("env-voice", "AUDIOBOOK_VOICE"),        # podcast.toml < environment; the flag is None
    "language": ("fr", "AUDIOBOOK_LANGUAGE"),         # podcast.toml < front matter < environment
    "author": ("Front Matter Author", "front matter (author)"),  # podcast.toml < front matter; the flag is None
    "bitrate": (128, "toml [build] bitrate"),         # default < podcast.toml
    "album": ("The Show", "toml [show] title"),       # [show] title is the album
    "engine": ("pyttsx3", "toml [build] engine"),
    "jobs": (os.cpu_count() or 1, "built-in default"),
}


@pytest.mark.parametrize("key", list(WINNERS))
def test_later_layers_win_and_say_where_a_value_came_from(layered, key):
    show, essay = layered
    settings = settings_of(show, essay)
    value, source = WINNERS[key]
    source = source.replace("toml", str(show / "podcast.toml")).replace("front matter", f"front matter of {essay.name}")
    assert getattr(settings, key) == value
    assert settings.source(key) == source
    assert f"{key} = {value!r} (from {source})" in settings.describe()


def test_paths_are_resolved_where_they_are_written(layered):
    show, essay = layered
    plain = essay.with_name("plain.txt")
    plain.write_text("No front matter here, only text.\n", encoding="utf-8")
    assert settings_of(show, plain, flags={}, environ={}).cover == show / "art" / "cover.png"
    assert settings_of(show, essay, flags={}, environ={}).cover == essay.parent / "pictures" / "essay.jpg"
    assert settings_of(show, essay, flags={}, environ={"AUDIOBOOK_COVER": "/tmp/x.png"}).cover == Path("/tmp/x.png")


def test_plan_essay_reads_the_real_environment(layered, monkeypatch):
    show, essay = layered
    monkeypatch.setenv("AUDIOBOOK_AUTHOR", "Env Author")
    monkeypatch.setenv("AUDIOBOOK_RATE", "200")
    planned = plan_essay(essay, show, {"rate": None})
    assert planned.settings.author == "Env Author"
    assert planned.settings.rate == 200
    assert planned.settings.source("rate") == "AUDIOBOOK_RATE"
    assert planned.script.metadata.author == "Env Author"  # what the intro says


def test_without_any_layer_the_defaults_hold(tmp_path):
    essay = tmp_path / "essay.txt"
    essay.write_text("Just text.\n", encoding="utf-8")
    settings = settings_of(tmp_path / "no-show", essay, flags={}, environ={})
    assert (settings.rate, settings.bitrate, settings.engine, settings.author) == (175, 96, "auto", "Anonymous")
    assert {settings.source(key) for key in settings.values()} == {"built-in default"}


# --- bad values --------------------------------------------------------------------------------

# name -> (podcast.toml [build] lines, environment, flags, what the error must say)
BAD_VALUES = {
    "rate flag too large": ("", {}, {"rate": 5000}, "between 80 and 450"),
    "rate flag just too small": ("", {}, {"rate": 79}, "between 80 and 450"),
    "jobs flag too large": ("", {}, {"jobs": 65}, "between 1 and 64"),
    "rate in environment not a number": ("", {"AUDIOBOOK_RATE": "fast"}, {}, "whole number"),
    "jobs in environment zero": ("", {"AUDIOBOOK_JOBS": "0"}, {}, "between 1 and 64"),
    "bitrate in toml zero": ("bitrate = 0", {}, {}, "between 32 and 320"),
    "rate in toml a word": ('rate = "quick"', {}, {}, "whole number"),
    "rate in toml a fraction": ("rate = 150.5", {}, {}, "whole number"),
    "jobs in toml a boolean": ("jobs = true", {}, {}, "whole number"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_integer_values_are_config_errors_naming_their_source(tmp_path, case):
    toml, environ, flags, message = BAD_VALUES[case]
    show = tmp_path / "show"
    show.mkdir()
    (show / "podcast.toml").write_text(f"[build]\n{toml}\n", encoding="utf-8")
    essay = tmp_path / "essay.txt"
    essay.write_text("Just text.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as error:
        settings_of(show, essay, flags=flags, environ=environ)
    where = (f"--{next(iter(flags))}" if flags else next(iter(environ)) if environ
             else f"{show / 'podcast.toml'} [build] {toml.split()[0]}")
    assert str(error.value).startswith(f"{where}: ")


@pytest.mark.parametrize("value", [80, 450])
def test_the_ends_of_a_range_are_allowed(tmp_path, value):
    essay = tmp_path / "essay.txt"
    essay.write_text("Just text.\n", encoding="utf-8")
    assert settings_of(tmp_path, essay, flags={"rate": value}, environ={}).rate == value


def test_a_broken_podcast_toml_is_a_config_error(tmp_path):
    (tmp_path / "podcast.toml").write_text("[build\nrate = 150\n", encoding="utf-8")
    essay = tmp_path / "essay.txt"
    essay.write_text("Just text.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="podcast.toml"):
        settings_of(tmp_path, essay, flags={}, environ={})
