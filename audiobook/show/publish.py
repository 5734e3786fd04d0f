"""Stage "publish": the files that travel with an episode, all from the timeline.

Podcasting 2.0 chapters JSON, WebVTT and SRT transcripts, and a manifest that
records what was built from what. Times come only from the Timeline, so the
chapter marks in the MP3, the JSON chapters and the cues always agree.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from audiobook.display import timestamp
from audiobook.fsutil import remove_stale_temp_files
from audiobook.models import Span, Timeline

CHAPTERS_VERSION = "1.2.0"  # https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/chapters/jsonChapters.md


def chapters_json(timeline: Timeline) -> str:
    chapters = [
        {
            "startTime": timeline.ms(c.start) / 1000,
            "endTime": timeline.ms(c.end) / 1000,
            "title": c.title,
        }
        for c in timeline.chapters
    ]
    return json.dumps({"version": CHAPTERS_VERSION, "chapters": chapters}, ensure_ascii=False, indent=2) + "\n"


def _cues(timeline: Timeline) -> list[tuple[int, int, str]]:
    return [(timeline.ms(s.start), timeline.ms(s.end), s.text) for s in timeline.segments]


def _vtt_text(text: str) -> str:
    # WebVTT cue text is markup: & and < must be escaped, and "-->" may not appear.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(timeline: Timeline) -> str:
    blocks = ["WEBVTT"]
    for number, (start, end, text) in enumerate(_cues(timeline), 1):
        blocks.append(f"{number}\n{timestamp(start)} --> {timestamp(end)}\n{_vtt_text(text)}")
    return "\n\n".join(blocks) + "\n"


def subrip(timeline: Timeline) -> str:
    blocks = [
        f"{number}\n{timestamp(start, ',')} --> {timestamp(end, ',')}\n{text}"
        for number, (start, end, text) in enumerate(_cues(timeline), 1)
    ]
    return "\n\n".join(blocks) + "\n"


@dataclass
class Sidecars:
    """Paths of the files that share the MP3's stem."""

    chapters: Path
    vtt: Path
    srt: Path
    manifest: Path

    @classmethod
    def beside(cls, mp3: Path) -> "Sidecars":
        return cls(
            chapters=mp3.with_suffix(".chapters.json"),
            vtt=mp3.with_suffix(".vtt"),
            srt=mp3.with_suffix(".srt"),
            manifest=mp3.with_suffix(".json"),
        )


def span_json(timeline: Timeline, span: Span, **extra) -> dict:
    return {"start": timeline.ms(span.start) / 1000, "end": timeline.ms(span.end) / 1000, **extra}


def sidecar_texts(timeline: Timeline, manifest: dict) -> dict[str, str]:
    """Sidecar attribute name -> file contents."""
    return {
        "chapters": chapters_json(timeline),
        "vtt": webvtt(timeline),
        "srt": subrip(timeline),
        "manifest": json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
    }


# --- the show: site and feed, from every episode's manifest ------------------------------

DEFAULT_BASE_URL = "http://127.0.0.1:8000/"  # what `audiobook serve` answers on by default


@dataclass
class Publication:
    pages: list[Path]
    feed: Path | None
    note: str | None  # what the user should know (no feed yet, a default base URL)


def publish_show(show: Path, base_url: str | None = None, require_feed: bool = False) -> Publication:
    """Rewrite the site and the feed from every episode the show holds.

    Settings are checked before anything is written. Without an owner email
    (Apple requires one) there is no feed yet, unless ``require_feed`` makes
    that an error; without a base URL the feed points at the local server.
    """
    from audiobook.show.episodes import load_episodes
    from audiobook.show.feed import write_feed
    from audiobook.show.podcast_toml import load_show
    from audiobook.show.site import write_site

    settings = load_show(show, base_url)
    episodes = load_episodes(show)
    remove_stale_temp_files(show)  # of runs killed mid-write: they would be uploaded with the show
    url = settings.base_url or DEFAULT_BASE_URL
    feed, note = None, "no feed.xml yet: the show needs an owner email (audiobook init --email you@example.com)"
    if settings.email or require_feed:
        settings.require_email()
        feed = write_feed(show, settings, episodes, base_url=url)  # checks everything before writing
        note = None if settings.base_url else (
            f"feed.xml points at {url}; set the public address with "
            f"'audiobook init --base-url URL --force' or 'audiobook feed --base-url URL'")
    pages = write_site(show, settings.title, episodes, settings.description)
    return Publication(pages, feed, note)
