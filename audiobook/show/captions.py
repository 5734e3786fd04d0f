"""Reading WebVTT and SubRip files back as a player would, for ``audiobook check``.

WebVTT follows https://www.w3.org/TR/webvtt1/: a "WEBVTT" header, blocks
apart by blank lines, NOTE, STYLE and REGION blocks, cues with an optional
identifier, a timing line with settings, and cue text that is markup: the
tags c, i, b, u, ruby, rt, v and lang, timestamp tags (``<00:00:01.250>``,
a karaoke-style word timing, which must lie inside its cue and move
forward), and character references. Each reader returns the cues' times, or
raises CaptionError naming the first cue a player would drop or misread.
"""
from __future__ import annotations

import re

_VTT_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t]+[^\n]*)?")
_VTT_HEADER = re.compile(r"WEBVTT(?:[ \t][^\n]*)?")
_VTT_TAG = re.compile(rf"<(?:/?(?:c|i|b|u|ruby|rt|v|lang)(?:\.[^\s<>./]+)*(?:[ \t][^<>]*)?|{_VTT_TIME})>")
_VTT_TIMESTAMP_TAG = re.compile(rf"<{_VTT_TIME}>")
_REFERENCE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);")
_SRT_TIMING = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d),(\d{3})")
_NOT_CUES = ("NOTE", "STYLE", "REGION")


class CaptionError(ValueError):
    """A transcript a player would misread; the message names the cue."""


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _blocks(text: str) -> list[str]:
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return [block for block in re.split(r"\n{2,}", lines.strip("\n")) if block.strip()]


def read_webvtt(text: str) -> list[tuple[float, float]]:
    """(start, end) of every cue, in order."""
    blocks = _blocks(text)
    if not blocks or not _VTT_HEADER.fullmatch(blocks[0].split("\n")[0]):
        raise CaptionError("does not start with the line WEBVTT")
    cues: list[tuple[float, float]] = []
    for block in blocks[1:]:
        lines = block.split("\n")
        if "-->" not in lines[0] and lines[0].split(" ")[0].split("\t")[0] in _NOT_CUES:
            continue
        if "-->" not in lines[0]:
            lines = lines[1:]  # the cue's identifier
        where = f"cue {len(cues) + 1}"
        timing = _VTT_TIMING.fullmatch(lines[0]) if lines else None
        if timing is None:
            raise CaptionError(f"{where}: bad timing line {(lines or [''])[0][:60]!r}")
        start, end = _seconds(*timing.groups()[:4]), _seconds(*timing.groups()[4:])
        if end <= start:
            raise CaptionError(f"{where}: ends at {end:.3f} s, not after it starts ({start:.3f} s)")
        if cues and start < cues[-1][0]:
            raise CaptionError(f"{where}: starts at {start:.3f} s, before the cue above it")
        _check_cue_text("\n".join(lines[1:]), start, end, where)
        cues.append((start, end))
    return cues


def _check_cue_text(payload: str, start: float, end: float, where: str) -> None:
    if "-->" in payload:
        raise CaptionError(f"{where}: '-->' in its text")
    last = start
    for position, char in enumerate(payload):
        if char == "<":
            tag = _VTT_TAG.match(payload, position)
            if tag is None:
                raise CaptionError(f"{where}: '<' that starts no WebVTT tag (write &lt;): {payload[position:][:30]!r}")
            timestamp = _VTT_TIMESTAMP_TAG.fullmatch(tag.group())
            if timestamp:
                moment = _seconds(*timestamp.groups())
                if not last <= moment <= end:
                    raise CaptionError(f"{where}: timestamp tag {tag.group()} lies outside the cue or goes back")
                last = moment
        elif char == "&" and not _REFERENCE.match(payload, position):
            raise CaptionError(f"{where}: a bare '&' (write &amp;)")


def read_subrip(text: str) -> list[tuple[float, float]]:
    """(start, end) of every SubRip cue: numbered from 1, a timing line, then text."""
    cues: list[tuple[float, float]] = []
    for number, block in enumerate(_blocks(text), 1):
        lines = block.split("\n")
        if lines[0].strip() != str(number):
            raise CaptionError(f"cue {number}: numbered {lines[0][:20]!r}")
        timing = _SRT_TIMING.fullmatch(lines[1].strip()) if len(lines) > 1 else None
        if timing is None or len(lines) < 3:
            raise CaptionError(f"cue {number}: no timing line and text")
        start, end = _seconds(*timing.groups()[:4]), _seconds(*timing.groups()[4:])
        if end <= start:
            raise CaptionError(f"cue {number}: ends at {end:.3f} s, not after it starts ({start:.3f} s)")
        cues.append((start, end))
    return cues
