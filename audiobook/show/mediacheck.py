"""The files a feed points at, read back as a listener's app reads them, for
``audiobook check``: audio (its kind by its first bytes, its size, how long
it plays, its loudness, its hash), art, chapters in the three places they
are kept, and transcripts. Each check reports every problem it finds through
``report(path, problem)`` and carries on.

Loudness is measured by ffmpeg's ebur128 filter (dual mono, as for a mono
file), not by our own meter: a second opinion. A measurement is kept in the
user cache directory under the audio's SHA-256, so a show is measured once
per version of each file, not at every publish.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Callable, NamedTuple

from audiobook.audio.cache import cache_beside_clips
from audiobook.audio.encode import measured_loudness
from audiobook.audio.loudness import TARGET_LUFS
from audiobook.display import clock, timestamp
from audiobook.errors import OutputError
from audiobook.fsutil import sha256_file, write_text_atomic
from audiobook.settings import checks
from audiobook.show.captions import CaptionError, read_subrip, read_webvtt

Report = Callable[[Path, str], None]

LOUDNESS_TOLERANCE = 1.0  # LU either side of the target
DURATION_TOLERANCE = 1.0  # seconds: itunes:duration is whole seconds, an MP3's length an estimate
CUE_OVERRUN = 0.5  # seconds a cue may end after the audio (rounding, the encoder's last frame)
# An audio file's kind, from its first bytes, and the types a feed may give it.
AUDIO_KINDS = {"MP3": ("audio/mpeg", "audio/mp3"), "MP4": ("audio/mp4", "audio/x-m4a", "audio/x-m4b", "audio/m4b"),
               "Ogg": ("audio/ogg", "audio/opus")}
CAPTION_READERS = {"text/vtt": read_webvtt, "application/x-subrip": read_subrip, "application/srt": read_subrip,
                   "text/srt": read_subrip}


class Chapters(NamedTuple):
    """One place an episode's chapters are kept: its file, how a person names it, the marks."""

    path: Path
    name: str
    marks: list[tuple[float, str]]  # (start in seconds, title)


def audio_kind(path: Path) -> str | None:
    """MP3, MP4 or Ogg, as the file's first bytes say; None for anything else."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3"
    if head[4:8] == b"ftyp":
        return "MP4"
    return "Ogg" if head[:4] == b"OggS" else None


def check_audio(path: Path, mime: str, length: int | None, seconds: float | None, report: Report,
                sha256: str | None = None) -> float | None:
    """An audio file against what the feed says of it; returns how long it plays (None: it cannot be read)."""
    size = path.stat().st_size
    if length is not None and size != length:
        report(path, f"{size} bytes, the feed says {length}")
    kind = audio_kind(path)
    if kind is None:
        report(path, f"is not MP3, MP4 or Ogg audio, the feed says {mime}")
        return None
    if mime.split(";")[0].strip().lower() not in AUDIO_KINDS[kind]:
        report(path, f"is {kind} audio, the feed says {mime}")
    playing = playing_time(path)
    if playing is None:
        report(path, f"cannot be read as {kind} audio")
        return None
    if seconds is not None and abs(playing - seconds) > DURATION_TOLERANCE:
        report(path, f"plays for {clock(playing)}, the feed says {clock(seconds)}")
    digest = sha256_file(path)
    if sha256 is not None and digest != sha256:
        report(path, "is not the file the feed's integrity hash names (it changed after the feed was written)")
    loudness = kept_loudness(path, digest)
    if abs(loudness - TARGET_LUFS) > LOUDNESS_TOLERANCE:
        report(path, f"measures {loudness:.1f} LUFS, {abs(loudness - TARGET_LUFS):.1f} LU off the "
                     f"{TARGET_LUFS:.0f} LUFS target (at most {LOUDNESS_TOLERANCE:.0f} LU)")
    return playing


def playing_time(path: Path) -> float | None:
    """Seconds of audio, as mutagen reads them from the stream's headers."""
    import mutagen

    try:
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError):
        return None
    length = getattr(getattr(audio, "info", None), "length", None)
    return float(length) if length else None


def kept_loudness(path: Path, sha256: str) -> float:
    """The file's integrated loudness (LUFS; -inf when ffmpeg measures none), kept by the audio's hash."""
    kept = cache_beside_clips("loudness") / f"{sha256}.json"
    try:
        return float(json.loads(kept.read_text(encoding="utf-8"))["integrated"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        loudness = measured_loudness(path)
    except OutputError:
        loudness = float("-inf")
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(kept, json.dumps({"integrated": loudness}), durable=False)
    except (OSError, ValueError):  # a cache that cannot be written only costs time
        pass
    return loudness


def check_art(path: Path, report: Report, largest: int | None = None, side: int | None = None) -> None:
    """Podcast art: a square RGB JPEG or PNG of 1400 px (``largest`` at most); a copy
    the feed gives a ``side`` (a podcast:image) need only be that size."""
    if side is None:
        problem = checks.art_problem(path, largest)
        if problem:
            report(path, problem)
        return
    from PIL import Image

    try:
        with Image.open(path) as image:
            size = image.size
    except (OSError, ValueError) as exc:
        report(path, f"cannot be read ({exc})")
        return
    if size != (side, side):
        report(path, f"is {size[0]}x{size[1]} px, the feed says {side}x{side}")


def id3_chapters(mp3: Path) -> list[tuple[float, str]]:
    """The CHAP frames of an MP3's ID3 tag, in time order: (start in seconds, title)."""
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        tag = ID3(mp3)
    except (ID3NoHeaderError, OSError, ValueError):
        return []
    frames = sorted(tag.getall("CHAP"), key=lambda chap: chap.start_time)
    return [(chap.start_time / 1000, str(chap.sub_frames.get("TIT2", ""))) for chap in frames]


def json_chapters(path: Path) -> list[tuple[float, str]]:
    """Podcasting 2.0 chapters JSON (ValueError when it is not)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(float(chapter["startTime"]), str(chapter.get("title", ""))) for chapter in data["chapters"]]


def check_chapters(places: list[Chapters], report: Report) -> None:
    """The same marks in every place: where two places agree, the third is the one named."""
    if len({len(place.marks) for place in places}) > 1:
        report(places[0].path, "chapters disagree: " + ", ".join(f"{len(p.marks)} in {p.name}" for p in places))
        return
    for number, marks in enumerate(zip(*(place.marks for place in places)), 1):
        starts = [round(start * 1000) for start, _ in marks]
        _disagreement(places, starts, f"chapter {number} starts at", lambda ms: timestamp(ms), report)
        _disagreement(places, [title for _, title in marks], f"chapter {number} is titled", repr, report)


def _disagreement(places: list[Chapters], values: list, what: str, show: Callable, report: Report) -> None:
    counts = Counter(values)
    if len(counts) == 1:
        return
    agreed, votes = counts.most_common(1)[0]
    if votes < 2:
        report(places[0].path, f"{what} " + ", ".join(f"{show(v)} in {p.name}" for p, v in zip(places, values)))
        return
    others = " and ".join(place.name for place, value in zip(places, values) if value == agreed)
    for place, value in zip(places, values):
        if value != agreed:
            report(place.path, f"{what} {show(value)} in {place.name}, {show(agreed)} in {others}")


def check_transcript(path: Path, mime: str, seconds: float | None, report: Report) -> None:
    """A transcript parses as its type says, and its cues lie within the audio."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        report(path, "is not UTF-8 text")
        return
    if mime == "text/html":
        import lxml.html

        if not text.strip() or not lxml.html.document_fromstring(text).text_content().strip():
            report(path, "is an HTML transcript without text")
        return
    reader = CAPTION_READERS.get(mime)
    if reader is None:
        report(path, f"is given the type {mime}, which audiobook does not check")
        return
    try:
        cues = reader(text)
    except CaptionError as exc:
        report(path, str(exc))
        return
    if not cues:
        report(path, "has no cues")
    elif seconds is not None and cues[-1][1] > seconds + CUE_OVERRUN:
        report(path, f"its last cue ends at {clock(cues[-1][1])}, after the audio ends ({clock(seconds)})")
