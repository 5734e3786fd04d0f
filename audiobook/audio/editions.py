"""Other editions of an episode, made from the MP3's own master: M4B (AAC in MP4,
for audiobook apps) and Opus (in Ogg, the smallest file). ``--edition m4b``,
``--edition opus``, or ``editions = [...]`` under [build] in podcast.toml.

No second synthesis and no second mix: while the program streams into the
MP3's encoder, the same ffmpeg keeps a copy of it as FLAC in a scratch file
beside the episode (encode.encode_mp3's ``master_copy``), and each edition is
encoded from that copy by ffmpeg, streaming, at the gain that brings the
master to the target less what its codec loses of what K-weighting counts
(``encoder_loss``, as mix.ENCODER_LOSS is LAME's). Its loudness is measured
after encoding (ffmpeg's ebur128) and, should it miss the target by more than
mix.TOLERANCE, it is encoded once more with the gain corrected, as the MP3
path does; so is an edition whose codec pushed its true peak over -1 dBTP,
made quieter by as much. Then mutagen tags it:

- M4B: AAC-LC in MP4 (ffmpeg's ipod muxer, the index first so a player can
  start before the download ends) with the chapters ffmpeg writes from an
  ffmetadata list (a QuickTime chapter track, which Apple's players read, and
  a Nero chpl box, which most others do); title, author, album, date,
  description and cover (covr) from mutagen.
- Opus: Ogg Opus, with chapters as Vorbis comments CHAPTER001=HH:MM:SS.mmm
  and CHAPTER001NAME (https://wiki.xiph.org/Chapter_Extension), written by
  mutagen rather than ffmpeg, whose 5.1 Ogg muxer numbers them from 000 and
  puts some a second late; the cover as a METADATA_BLOCK_PICTURE.

Every edition is written under a temp name and renamed into place with the
MP3, so only a build that succeeded whole replaces them (``editions_beside``).
"""
from __future__ import annotations

import base64
import contextlib
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping

from audiobook.audio.encode import measured_level, require_ffmpeg, run_ffmpeg
from audiobook.audio.loudness import TARGET_LUFS
from audiobook.audio.mix import ENCODER_LOSS, TOLERANCE
from audiobook.display import timestamp
from audiobook.errors import OutputError
from audiobook.fsutil import atomic_path, scratch_path, sha256_file
from audiobook.models import Span, whole_ms

MEDIA_KIND_AUDIOBOOK = 2  # MP4 "stik": how Apple's apps file it
# An edition is never made louder than the master, whose true peak sits at the ceiling that keeps
# a lossy file's under -1 dBTP (mix.PEAK_CEILING); where the MP3 fell short of -16 LUFS, so do they.
MAX_GAIN_DB = 0.0
PEAK_AFTER_ENCODING = -1.0  # dBTP: every edition's ceiling, as the MP3's


@dataclass(frozen=True)
class EditionTags:
    """What an edition is tagged with: the MP3's tags (tag.tag_episode) but its lyrics and link."""

    title: str
    author: str
    album: str
    date: str | None
    description: str | None
    language: str | None
    cover_jpeg: bytes
    chapters: list[Span]
    sample_rate: int

    def chapter_ms(self) -> list[tuple[int, int, str]]:
        """(start, end, title) of each chapter in whole milliseconds, as the MP3's CHAP frames have them."""
        return [(whole_ms(c.start, self.sample_rate), whole_ms(c.end, self.sample_rate), c.title)
                for c in self.chapters]


@dataclass(frozen=True)
class EncodedEdition:
    """One edition as made: what the episode's record keeps of it (show.record.Edition)."""

    format: str
    mime: str
    sha256: str
    bytes: int
    bitrate_kbps: int
    duration: float  # seconds, as ffprobe reads the file


# mutagen and tag.py (Pillow) are imported where they are used: the pipeline imports this module
# before it forks its synthesis workers, which would each carry them (see pipeline.py).

def _tag_m4b(path: Path, tags: EditionTags) -> None:
    from mutagen.mp4 import MP4, MP4Cover

    from audiobook.audio.tag import GENRE

    mp4 = MP4(path)
    if mp4.tags is None:
        mp4.add_tags()
    mp4.tags.update({"\xa9nam": [tags.title], "\xa9ART": [tags.author], "aART": [tags.author],
                     "\xa9alb": [tags.album], "\xa9gen": [GENRE], "stik": [MEDIA_KIND_AUDIOBOOK],
                     "covr": [MP4Cover(tags.cover_jpeg, imageformat=MP4Cover.FORMAT_JPEG)]})
    for key, value in (("\xa9day", tags.date), ("desc", tags.description)):
        if value:
            mp4.tags[key] = [value]
    mp4.save()


def _tag_opus(path: Path, tags: EditionTags) -> None:
    from mutagen.flac import Picture
    from mutagen.id3 import PictureType
    from mutagen.oggopus import OggOpus

    from audiobook.audio.tag import GENRE

    opus = OggOpus(path)
    opus.tags.clear()
    comments = [("TITLE", tags.title), ("ARTIST", tags.author), ("ALBUM", tags.album), ("GENRE", GENRE),
                ("DATE", tags.date), ("DESCRIPTION", tags.description), ("LANGUAGE", tags.language)]
    for number, (start, _, title) in enumerate(tags.chapter_ms(), 1):
        comments += [(f"CHAPTER{number:03d}", timestamp(start)), (f"CHAPTER{number:03d}NAME", title)]
    picture = Picture()
    picture.type, picture.mime, picture.desc = PictureType.COVER_FRONT, "image/jpeg", "Cover"
    picture.data = tags.cover_jpeg
    comments.append(("METADATA_BLOCK_PICTURE", base64.b64encode(picture.write()).decode("ascii")))
    opus.tags.extend((key, value) for key, value in comments if value)
    opus.save()


@dataclass(frozen=True)
class EditionFormat:
    name: str  # the file's suffix, and the format the record names
    mime: str
    label: str  # how the episode's page offers it
    bitrate: int  # kbit/s, mono
    encoder_loss: float  # LU the codec takes off the master (measured on the seed essay)
    ffmpeg: tuple[str, ...]  # codec, chapter and container options
    tag: Callable[[Path, EditionTags], None]


FORMATS: dict[str, EditionFormat] = {
    # The fast AAC coder: a quarter of the time of the default (twoloop), no loss one hears in a voice at
    # 64 kbit/s. Opus keeps its full complexity: below 7, libopus leaves its speech modes and the file doubles.
    "m4b": EditionFormat("m4b", "audio/mp4", "M4B audiobook (AAC, with chapters)", 64, 0.0,
                         ("-c:a", "aac", "-aac_coder", "fast", "-map_chapters", "1",
                          "-movflags", "+faststart", "-f", "ipod"), _tag_m4b),
    # Opus at 48 kbit/s: at 32 its overshoot on espeak-ng's sharp consonants came and went
    # between +0.8 and -2.8 dBTP with the filtering before it; at 48 it stays near -2.8.
    "opus": EditionFormat("opus", "audio/ogg", "Opus audio (smallest)", 48, 0.3,
                          ("-c:a", "libopus", "-ar", "48000", "-map_chapters", "-1", "-f", "ogg"), _tag_opus),
}


class EditionMaker:
    """The editions one build makes, each into its temp file (see ``editions_beside``)."""

    def __init__(self, master: Path | None, partials: Mapping[str, Path]) -> None:
        self.master = master  # where the MP3's encoder is to copy the master; None when no edition is made
        self._partials = partials

    def make(self, mp3_loudness: float, tags: EditionTags) -> tuple[EncodedEdition, ...]:
        """Encode, check and tag every edition from the master the MP3's encoder copied,
        whose MP3 measures ``mp3_loudness``; the editions side by side (ffmpeg's encoders use one core)."""
        with ThreadPoolExecutor(max(len(self._partials), 1)) as pool:
            return tuple(pool.map(lambda item: _make(FORMATS[item[0]], self.master, item[1], mp3_loudness, tags),
                                  self._partials.items()))


@contextlib.contextmanager
def editions_beside(mp3: Path, targets: Mapping[str, Path]) -> Iterator[EditionMaker]:
    """An EditionMaker for ``targets`` (format -> its file's path), its scratch master beside ``mp3``.
    On the way out, without an error, every edition is renamed into place; the master always goes."""
    with contextlib.ExitStack() as stack:
        master = stack.enter_context(scratch_path(mp3.with_suffix(".master.flac"))) if targets else None
        partials = {name: stack.enter_context(atomic_path(path)) for name, path in targets.items()}
        yield EditionMaker(master, partials)


def _make(edition: EditionFormat, master: Path, target: Path, mp3_loudness: float,
          tags: EditionTags) -> EncodedEdition:
    gain = min(TARGET_LUFS - (mp3_loudness + ENCODER_LOSS) + edition.encoder_loss, MAX_GAIN_DB)  # master: MP3 + loss
    _encode(edition, master, target, gain, tags)
    level = measured_level(target)
    # The codec's own overshoot is only known once encoded: an edition over the ceiling is made quieter by it.
    corrected = min(gain + TARGET_LUFS - level.loudness, MAX_GAIN_DB, gain + PEAK_AFTER_ENCODING - level.true_peak)
    if (abs(level.loudness - TARGET_LUFS) > TOLERANCE or level.true_peak > PEAK_AFTER_ENCODING) and corrected != gain:
        _encode(edition, master, target, corrected, tags)
    edition.tag(target, tags)
    return EncodedEdition(edition.name, edition.mime, sha256_file(target), target.stat().st_size, edition.bitrate,
                          _duration(target))


def _encode(edition: EditionFormat, master: Path, target: Path, gain_db: float, tags: EditionTags) -> None:
    """Encode the edition from the master with ``gain_db``."""
    run_ffmpeg(["-y", "-i", str(master), "-f", "ffmetadata", "-i", "pipe:0", "-map", "0:a", "-map_metadata", "1",
                "-af", f"volume={gain_db:.2f}dB", "-ac", "1", "-b:a", f"{edition.bitrate}k", *edition.ffmpeg,
                "-fflags", "+bitexact", "-flags:a", "+bitexact", str(target)],
               f"write the {edition.name} edition", stdin=_ffmetadata(tags))


def _ffmetadata(tags: EditionTags) -> bytes:
    """The chapters as ffmpeg's metadata file (https://ffmpeg.org/ffmpeg-formats.html#Metadata-1)."""
    lines = [";FFMETADATA1"]
    for start, end, title in tags.chapter_ms():
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={start}", f"END={end}",
                  "title=" + re.sub(r"([=;#\\\n])", r"\\\1", title)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _duration(path: Path) -> float:
    probe = subprocess.run([require_ffmpeg("ffprobe"), "-v", "error", "-show_entries", "format=duration",
                            "-of", "csv=p=0", str(path)], capture_output=True, text=True)
    try:
        return round(float(probe.stdout), 3)
    except ValueError:
        raise OutputError(f"ffprobe cannot read the duration of {path.name}: {probe.stderr.strip()}") from None
