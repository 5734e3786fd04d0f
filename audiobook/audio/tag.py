"""Stage "tag": ID3v2.3 text frames, cover art and chapters on the encoded MP3.

Why v2.3 and not mutagen's default v2.4: ffmpeg (and so ffprobe and the
players built on it) has mis-read CHAP frames in v2.4 tags, and other readers
drop the sub-frames (chapter titles) of v2.4 chapters, e.g.
https://github.com/JamesHeinrich/getID3/issues/279 . Chapter frames:
https://mutagen-specs.readthedocs.io/en/latest/id3/id3v2-chapters-1.0.html
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import (APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TLAN, TPE1, USLT, WXXX,
                         CTOCFlags, Encoding, PictureType)
from mutagen.id3._tags import save_frame
from mutagen.mp3 import MP3
from PIL import Image

from audiobook.errors import ConfigError, InputError, OutputError
from audiobook.models import whole_ms
from audiobook.models import Span

GENRE = "Podcast"
TOC_ID = "toc"
TOC_TITLE = "Chapters"
MAX_TOC_ENTRIES = 255  # a CTOC's entry count is one byte
UNKNOWN_LANGUAGE = "und"  # ISO 639-2 "undetermined", for COMM/USLT which must name one
NO_OFFSET = 0xFFFFFFFF  # ID3 chapter spec: byte offsets unused, times are authoritative
FIXED_PADDING = 1024  # the same padding every time, so a re-tag gives identical bytes

# ISO 639-1 (the first part of a BCP 47 tag) -> ISO 639-2/T, as ID3 wants.
# A dict rather than pycountry/langcodes: those are heavy dependencies for
# the few dozen languages our speech engines can voice at all. The /T codes
# match ISO 639-3 and what MusicBrainz Picard writes ("deu", not "ger").
ISO_639_2 = {
    "ar": "ara", "bg": "bul", "ca": "cat", "cs": "ces", "cy": "cym", "da": "dan",
    "de": "deu", "el": "ell", "en": "eng", "eo": "epo", "es": "spa", "et": "est",
    "eu": "eus", "fa": "fas", "fi": "fin", "fr": "fra", "ga": "gle", "gl": "glg",
    "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "id": "ind", "is": "isl",
    "it": "ita", "ja": "jpn", "ka": "kat", "kk": "kaz", "ko": "kor", "lb": "ltz",
    "lt": "lit", "lv": "lav", "ms": "msa", "nb": "nob", "ne": "nep", "nl": "nld",
    "nn": "nno", "no": "nor", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus",
    "sk": "slk", "sl": "slv", "sr": "srp", "sv": "swe", "sw": "swa", "th": "tha",
    "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie", "zh": "zho",
}

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


class _TimeOrderedID3(ID3):
    """ID3 that writes CHAP frames in time order.

    mutagen sorts frames it does not rank by their byte size, which scatters
    chapters; readers that take chapters in file order (ffprobe among them)
    would then list them out of order. Hooks mutagen's private ``_write``,
    which test_tag checks on every run.
    """

    def _write(self, config):
        chapters = sorted(self.getall("CHAP"), key=lambda chap: chap.start_time)
        self.delall("CHAP")
        try:
            others = super()._write(config)
        finally:
            for chap in chapters:
                self.add(chap)
        return others + b"".join(save_frame(chap, config=config) for chap in chapters)


def tag_episode(mp3: Path, *, title: str, author: str, album: str, date: str | None,
                description: str | None, language: str | None, lyrics: str, cover_jpeg: bytes,
                chapters: list[Span], sample_rate: int, link: str | None = None) -> None:
    """Replace whatever tag the MP3 has with ours; the same input always gives the same bytes.

    Chapter times come from the timeline's sample positions (the last span
    ends at the episode's total), rounded to the nearest millisecond.
    """
    mp3 = Path(mp3)
    if not mp3.is_file():  # mutagen would create a file holding only a tag
        raise InputError(f"{mp3} not found: encode the episode before tagging it")
    lang = iso_639_2(language)
    tags = _TimeOrderedID3()
    tags.add(TIT2(encoding=Encoding.UTF16, text=title))
    tags.add(TPE1(encoding=Encoding.UTF16, text=author))
    tags.add(TALB(encoding=Encoding.UTF16, text=album))
    tags.add(TCON(encoding=Encoding.LATIN1, text=GENRE))
    if date:
        tags.add(TDRC(encoding=Encoding.LATIN1, text=_id3_date(date)))
    if description:
        tags.add(COMM(encoding=Encoding.UTF16, lang=lang or UNKNOWN_LANGUAGE, desc="", text=description))
    if lang:
        tags.add(TLAN(encoding=Encoding.LATIN1, text=lang))
    if lyrics:
        tags.add(USLT(encoding=Encoding.UTF16, lang=lang or UNKNOWN_LANGUAGE, desc="", text=lyrics))
    tags.add(APIC(encoding=Encoding.LATIN1, mime="image/jpeg", type=PictureType.COVER_FRONT,
                  desc="Cover", data=cover_jpeg))
    if link:
        tags.add(WXXX(encoding=Encoding.LATIN1, desc="", url=link))
    _add_chapters(tags, chapters, sample_rate)

    # v2.3 has no TDRC: this turns it into TYER + TDAT ("2026", "1403").
    tags.update_to_v23()
    try:
        tags.save(mp3, v1=0, v2_version=3, padding=lambda info: FIXED_PADDING)
    except MutagenError as exc:
        raise OutputError(f"cannot write tags to {mp3} ({exc}): check the file is writable") from exc


def _add_chapters(tags: ID3, chapters: list[Span], sample_rate: int) -> None:
    """CHAP frames chp0, chp1, ... in time order, and one top-level ordered CTOC listing them.

    A CTOC holds at most 255 entries (its entry count is one byte; mutagen
    fails past it), but its entries may be CTOCs themselves (ID3v2 Chapter
    Frame Addendum, 3.2). So a book with more chapters gets a tree: the
    top-level CTOC lists ordered CTOCs of up to 255 chapters each ("Chapters
    1\u2013255", ...), and so on up should even those be more than 255.
    Readers that ignore CTOC, ffmpeg among them, still find every CHAP.
    """
    entries = []  # (element id, first and last chapter number it covers)
    for number, span in enumerate(sorted(chapters, key=lambda span: span.start)):
        element_id = f"chp{number}"
        entries.append((element_id, number + 1, number + 1))
        tags.add(CHAP(element_id=element_id, start_time=whole_ms(span.start, sample_rate),
                      end_time=whole_ms(span.end, sample_rate), start_offset=NO_OFFSET, end_offset=NO_OFFSET,
                      sub_frames=[TIT2(encoding=Encoding.UTF16, text=span.title)]))
    if not entries:
        return
    level = 0
    while len(entries) > MAX_TOC_ENTRIES:
        level += 1
        groups = [entries[i:i + MAX_TOC_ENTRIES] for i in range(0, len(entries), MAX_TOC_ENTRIES)]
        entries = []
        for number, group in enumerate(groups):
            element_id, first, last = f"{TOC_ID}{level}.{number}", group[0][1], group[-1][2]
            tags.add(CTOC(element_id=element_id, flags=CTOCFlags.ORDERED,
                          child_element_ids=[child for child, _, _ in group],
                          sub_frames=[TIT2(encoding=Encoding.UTF16, text=f"{TOC_TITLE} {first}\u2013{last}")]))
            entries.append((element_id, first, last))
    tags.add(CTOC(element_id=TOC_ID, flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                  child_element_ids=[child for child, _, _ in entries],
                  sub_frames=[TIT2(encoding=Encoding.UTF16, text=TOC_TITLE)]))


def iso_639_2(language: str | None) -> str | None:
    """The ISO 639-2 code of a BCP 47 tag ("en-GB" -> "eng"), or None when we do not know it."""
    if not language:
        return None
    return ISO_639_2.get(language.replace("_", "-").split("-")[0].lower())


def _id3_date(date: str) -> str:
    """The YYYY[-MM[-DD]] part of an ISO 8601 date, the most that ID3v2.3's TYER/TDAT can hold."""
    match = _DATE.match(date.strip())
    if not match:
        raise ConfigError(f"date {date!r} is not an ISO 8601 date: write it as YYYY-MM-DD")
    return match.group(0)


def read_tags(mp3: Path) -> dict:
    """What a listener's app will find in the MP3, read back with mutagen, for `audiobook inspect`."""
    mp3 = Path(mp3)
    if not mp3.is_file():
        raise InputError(f"{mp3} not found: give the path of an episode MP3")
    try:
        audio = MP3(mp3)
    except MutagenError as exc:
        raise InputError(f"{mp3} is not a readable MP3 ({exc}): give the path of an episode MP3") from exc
    tags = audio.tags
    if tags is None:
        raise InputError(f"{mp3} has no ID3 tag: run `audiobook build` to make a tagged episode")

    def text(frame_id: str) -> str | None:
        frame = tags.get(frame_id)
        return str(frame) if frame else None

    comments = tags.getall("COMM")
    lyrics = tags.getall("USLT")
    pictures = tags.getall("APIC")
    links = tags.getall("WXXX")
    chapters = sorted(tags.getall("CHAP"), key=lambda chap: chap.start_time)
    return {
        "file": str(mp3),
        "id3_version": "2.%d" % tags.version[1],
        "duration_s": round(audio.info.length, 3),
        "title": text("TIT2"),
        "artist": text("TPE1"),
        "album": text("TALB"),
        "date": text("TDRC"),  # mutagen merges v2.3's TYER + TDAT back into TDRC on load
        "genre": text("TCON"),
        "language": text("TLAN"),
        "description": comments[0].text[0] if comments else None,
        "link": links[0].url if links else None,
        "lyrics_chars": len(lyrics[0].text) if lyrics else 0,
        "cover": _describe_picture(pictures[0].data) if pictures else None,
        "chapters": [(chap.start_time / 1000, chap.end_time / 1000, _chapter_title(chap))
                     for chap in chapters],
    }


def _chapter_title(chap: CHAP) -> str:
    title = chap.sub_frames.get("TIT2")
    return str(title) if title else ""


def _describe_picture(data: bytes) -> dict | str:
    """Size, mode and format of the embedded cover, or why Pillow cannot open it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return {"width": image.width, "height": image.height, "mode": image.mode, "format": image.format}
    except (OSError, SyntaxError, ValueError) as exc:
        return f"unreadable ({exc})"


def format_tags(info: dict, more: list[tuple[str, str]] = ()) -> str:
    """The read_tags dict as text a person can scan: fields first, then the chapter
    table, then ``more`` (label, value) lines aligned with the fields."""
    cover = info["cover"]
    if isinstance(cover, dict):
        cover = f"{cover['width']}x{cover['height']} {cover['mode']} {cover['format']}"
    fields = [
        ("File", info["file"]),
        ("ID3", f"v{info['id3_version']}"),
        ("Duration", _clock(info["duration_s"])),
        ("Title", info["title"]),
        ("Artist", info["artist"]),
        ("Album", info["album"]),
        ("Date", info["date"]),
        ("Genre", info["genre"]),
        ("Language", info["language"]),
        ("Description", info["description"]),
        ("Link", info["link"]),
        ("Lyrics", f"{info['lyrics_chars']} characters" if info["lyrics_chars"] else None),
        ("Cover", cover),
    ]
    width = max(len(label) for label, _ in fields) + 1
    lines = [f"{label + ':':<{width}} {value if value is not None else '-'}" for label, value in fields]
    chapters = info["chapters"]
    lines.append(f"{'Chapters:':<{width}} {len(chapters)}")
    if chapters:
        lines.append(f"  {'#':>3}  {'start':>6}  {'end':>6}  title")
        for number, (start, end, title) in enumerate(chapters, 1):
            lines.append(f"  {number:>3}  {_clock(start):>6}  {_clock(end):>6}  {title}")
    lines += [f"{label + ':':<{width}} {value}" for label, value in more]
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    """mm:ss, with minutes running past 59 for long episodes (podcast apps show it the same way)."""
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"
