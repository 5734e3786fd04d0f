"""A new show: ``audiobook init`` writes its podcast.toml, commented, and copies its art.

Every value is checked (by settings.checks, the rules the reader applies)
before anything is written, and the text must parse back as what it was given.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from audiobook.audio.cover import podcast_jpeg
from audiobook.errors import ConfigError
from audiobook.fsutil import write_bytes_atomic, write_text_atomic
from audiobook.settings import checks
from audiobook.settings.showfile import (COVER_FILE, DEFAULT_AUTHOR, DEFAULT_CATEGORY, DEFAULT_LANGUAGE, SHOW_FILE,
                                         default_description, default_title)


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
                           for main, subs in checks.APPLE_CATEGORIES.items())
    return f"""\
# podcast.toml: settings of this show, read by every audiobook command.
# Layers, later wins: this file < an essay's front matter < AUDIOBOOK_* variables < command-line flags.

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

# Podcasting 2.0 (https://podcastindex.org/namespace/1.0) and Apple's directory flags.
# Other platforms may not import this feed without word from the owner email (podcast:locked).
locked = {"true" if values["locked"] else "false"}
# What the feed is (podcast:medium): "podcast", or "audiobook" for a book read chapter by chapter.
medium = {toml_string(values["medium"])}
# The licence of the audio (podcast:license): a Creative Commons identifier, or a name with license_url.
# license = "CC-BY-4.0"
# license_url = "https://example.com/license.html"
# Where listeners can support the show (podcast:funding), and the words apps show beside the link.
# funding_url = "https://example.com/support"
# funding_text = "Support the show"
# Text for other services, by purpose (podcast:txt): Apple's ownership check, a host's verify code.
# txt = {{ applepodcastsverify = "05124" }}
# The feed has moved: its new address, so apps and Apple follow it (itunes:new-feed-url).
# new_feed_url = "https://example.org/show/feed.xml"
# true keeps the show out of Apple Podcasts and other directories (itunes:block, podcast:block).
block = {"true" if values["block"] else "false"}

[build]
# Defaults for 'audiobook build' (see 'audiobook voices'); flags win.
# engine = "pyttsx3"
# voice = "gmw/en-us"
# rate = 175
# bitrate = 96
# executor = "dask"                       # synthesize on Dask (pip install 'audiobook[cluster]')
# scheduler = "tcp://10.0.0.5:8786"       # its scheduler; without one, a LocalCluster
# editions = ["m4b", "opus"]              # also an M4B (audiobook apps) and an Opus file of each episode

[voices]
# Block quotes in another voice of the same engine.
# quote = "gmw/en-gb"

[music]
# Music beds, relative to this folder, any format ffmpeg reads: under the spoken opening
# (with a few seconds of music before the first word) and under the closing, ducked under the voice.
# intro = "intro.ogg"
# outro = "outro.ogg"

[deploy]
# Where 'audiobook deploy' sends the show: an S3-compatible bucket, or a directory (relative to
# this folder). Credentials never go here: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE
# or ~/.aws/credentials. The feed's base_url above must be where the target is served from.
# target = "s3://my-podcast/show"
# endpoint_url = "https://ACCOUNT_ID.r2.cloudflarestorage.com"   # R2, B2, Spaces, MinIO; none for Amazon S3
# region = "auto"
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
    author = (author or "").strip() or DEFAULT_AUTHOR
    title = (title or "").strip() or default_title(directory, author)
    values = {
        "title": title,
        "author": author,
        "email": checks.email(email),
        "description": default_description(title, author),
        "language": checks.language(language) if language else DEFAULT_LANGUAGE,
        "category": checks.category(category) if category else DEFAULT_CATEGORY,
        "explicit": False,
        "base_url": checks.base_url(base_url) if base_url else None,
        "cover": COVER_FILE if cover else None,
        "link": None,
        "type": "episodic",
        "locked": True,
        "medium": "podcast",
        "block": False,
    }
    art = podcast_jpeg(checks.art(Path(cover))) if cover else None
    text = render_show_toml(values)
    parsed = tomllib.loads(text)["show"]  # what we write must read back as what we were given
    assert all(parsed.get(k) == v for k, v in values.items() if v is not None), parsed
    directory.mkdir(parents=True, exist_ok=True)
    if art is not None:
        write_bytes_atomic(directory / COVER_FILE, art)
    write_text_atomic(path, text)
    return path
