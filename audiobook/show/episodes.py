"""The episodes of a show, as their manifests describe them: what publish reads.

A build writes ``episodes/<stem>.json`` beside each MP3; the feed, the site
and the server work from these records, never from the audio.
"""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

from audiobook.errors import InputError

EPISODES = "episodes"


@dataclass
class PublishedEpisode:
    stem: str
    mp3: Path
    title: str
    author: str
    description: str
    date: str  # YYYY-MM-DD, from front matter or the first build
    language: str
    link: str | None
    guid: str  # set at the first build, never changed
    published: datetime.datetime  # aware (UTC); from front matter date or the first build
    duration: float  # seconds, from the timeline
    size: int  # bytes of the MP3
    sha256: str  # of the MP3: a changed audio gets a new enclosure URL
    chapters: list[dict] = field(default_factory=list)  # {"start", "end", "title"} in seconds
    segments: list[dict] = field(default_factory=list)  # {"start", "end", "display", ...}

    def sidecar(self, suffix: str) -> Path:
        """``.chapters.json``, ``.vtt``, ``.srt``, ``.jpg`` (episode art) ... beside the MP3."""
        return self.mp3.with_name(self.stem + suffix)


def page_name(episode: PublishedEpisode) -> str:
    """The episode page's path relative to the show, written by the site; the
    feed links it as the episode's link and its HTML transcript."""
    return f"{EPISODES}/{episode.stem}.html"


def _episode(manifest_path: Path) -> PublishedEpisode:
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    stem = manifest_path.name[: -len(".json")]
    audio = data["audio"]
    return PublishedEpisode(
        stem=stem,
        mp3=manifest_path.with_name(audio["file"]),
        title=data["title"],
        author=data["author"],
        description=data.get("description") or "",
        date=data.get("date") or "",
        language=data.get("language") or "en",
        link=data.get("link"),
        guid=data["guid"],
        published=datetime.datetime.fromisoformat(data["published"]),
        duration=float(audio["duration"]),
        size=int(audio["bytes"]),
        sha256=audio["sha256"],
        chapters=data.get("chapters", []),
        segments=data.get("segments", []),
    )


def load_episodes(show: Path) -> list[PublishedEpisode]:
    """Every built episode of the show, newest first (ties broken by stem)."""
    found = []
    for manifest in sorted((show / EPISODES).glob("*.json")):
        if manifest.name.endswith(".chapters.json"):
            continue
        try:
            episode = _episode(manifest)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{manifest}: not an episode manifest ({exc}); rebuild that episode") from exc
        if episode.mp3.is_file():
            found.append(episode)
    return sorted(found, key=lambda e: (e.published, e.stem), reverse=True)
