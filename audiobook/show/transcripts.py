"""Transcripts and chapters that travel with an episode, all from its timeline.

Podcasting 2.0 chapters JSON, WebVTT and SubRip. Times come only from the
Timeline, rounded to whole milliseconds as the CHAP frames are, so the
chapter marks in the MP3, the JSON chapters and the cues always agree.
"""
from __future__ import annotations

import json

from audiobook.display import timestamp
from audiobook.models import Timeline

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
