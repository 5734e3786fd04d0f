"""Transcripts and chapters that travel with an episode, all from its timeline.

Podcasting 2.0 chapters JSON, WebVTT (one cue per sentence, each word
timed with a timestamp tag) and SubRip (sentence by sentence). Times come only from the
Timeline, rounded to whole milliseconds as the CHAP frames are, so the
chapter marks in the MP3, the JSON chapters and the cues always agree.
"""
from __future__ import annotations

import json

from audiobook.display import timestamp
from audiobook.models import Timeline
from audiobook.text.wordmap import display_words

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


def _timed_words(start: int, end: int, text: str, starts: list[int]) -> str:
    """Cue text with a WebVTT timestamp tag before each word that starts after the
    one before it (tags must rise strictly, inside the cue); the text between words as written."""
    out, last, copied = [], start, 0
    for number, word in enumerate(display_words(text)):
        at = starts[number] if number < len(starts) else last
        out.append(_vtt_text(text[copied:word.start()]))
        if last < at < end:
            out.append(f"<{timestamp(at)}>")
            last = at
        out.append(_vtt_text(word.group()))
        copied = word.end()
    out.append(_vtt_text(text[copied:]))
    return "".join(out)


def webvtt(timeline: Timeline) -> str:
    """One cue per segment; each word in it timed where the engine said it starts."""
    blocks = ["WEBVTT"]
    for number, span in enumerate(timeline.segments, 1):
        start, end = timeline.ms(span.start), timeline.ms(span.end)
        text = (_timed_words(start, end, span.text, [timeline.ms(at) for at in span.words]) if span.words
                else _vtt_text(span.text))
        blocks.append(f"{number}\n{timestamp(start)} --> {timestamp(end)}\n{text}")
    return "\n\n".join(blocks) + "\n"


def subrip(timeline: Timeline) -> str:
    blocks = [
        f"{number}\n{timestamp(start, ',')} --> {timestamp(end, ',')}\n{text}"
        for number, (start, end, text) in enumerate(_cues(timeline), 1)
    ]
    return "\n\n".join(blocks) + "\n"
