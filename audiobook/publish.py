"""Stage "publish": the files that travel with an episode, all from the timeline.

Podcasting 2.0 chapters JSON, WebVTT and SRT transcripts, and a manifest that
records what was built from what. Times come only from the Timeline, so the
chapter marks in the MP3, the JSON chapters and the cues always agree.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from audiobook.models import Span, Timeline

CHAPTERS_VERSION = "1.2.0"  # https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/chapters/jsonChapters.md


def _ms(timeline: Timeline, samples: int) -> int:
    """Whole milliseconds, the resolution of ID3 CHAP frames."""
    return round(samples * 1000 / timeline.sample_rate)


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def chapters_json(timeline: Timeline) -> str:
    chapters = [
        {
            "startTime": _ms(timeline, c.start) / 1000,
            "endTime": _ms(timeline, c.end) / 1000,
            "title": c.title,
        }
        for c in timeline.chapters
    ]
    return json.dumps({"version": CHAPTERS_VERSION, "chapters": chapters}, ensure_ascii=False, indent=2) + "\n"


def _cues(timeline: Timeline) -> list[tuple[int, int, str]]:
    return [(_ms(timeline, s.start), _ms(timeline, s.end), s.text) for s in timeline.segments]


def _vtt_text(text: str) -> str:
    # WebVTT cue text is markup: & and < must be escaped, and "-->" may not appear.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(timeline: Timeline) -> str:
    blocks = ["WEBVTT"]
    for number, (start, end, text) in enumerate(_cues(timeline), 1):
        blocks.append(f"{number}\n{_clock(start, '.')} --> {_clock(end, '.')}\n{_vtt_text(text)}")
    return "\n\n".join(blocks) + "\n"


def subrip(timeline: Timeline) -> str:
    blocks = [
        f"{number}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}"
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
    return {"start": _ms(timeline, span.start) / 1000, "end": _ms(timeline, span.end) / 1000, **extra}


def sidecar_texts(timeline: Timeline, manifest: dict) -> dict[str, str]:
    """Sidecar attribute name -> file contents."""
    return {
        "chapters": chapters_json(timeline),
        "vtt": webvtt(timeline),
        "srt": subrip(timeline),
        "manifest": json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
    }
