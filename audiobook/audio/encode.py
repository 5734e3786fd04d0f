"""Stage "encode": float PCM on a pipe -> CBR MP3, through ffmpeg's libmp3lame.

ffmpeg writes no tags of its own (tag.py owns them) and runs bit-exact, so the
same PCM always gives the same bytes: a rebuild is byte-identical. When other
editions are to be made (editions.py), the same ffmpeg also keeps a copy of
the master as FLAC; the MP3's bytes are the same either way.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, NamedTuple

from audiobook.errors import OutputError, ToolMissingError

DEFAULT_BITRATE = 96  # kbit/s, mono speech
# LAME's -q 7 ("fast, ok quality") skips noise-shaping searches that matter for
# music, not for one voice at 96 kbit/s; it encodes twice as fast as the default.
ENCODER_QUALITY = 7
# The master for other editions: 16-bit FLAC, as the clips it is made of are 16-bit
# (a book's float master would take 600 MB an hour; this takes about 100 MB).
MASTER_COPY = ["-c:a", "flac", "-sample_fmt", "s16", "-f", "flac"]


def require_ffmpeg(tool: str = "ffmpeg") -> str:
    """The path of ffmpeg (or of ``tool``, one of its programs: ffprobe)."""
    path = shutil.which(tool)
    if not path:
        raise ToolMissingError(f"{tool} not found; install ffmpeg (apt-get install ffmpeg) and try again")
    return path


def mp3_command(ffmpeg: str, sample_rate: int, bitrate: int, target: Path,
                master_copy: Path | None = None) -> list[str]:
    copy = [*MASTER_COPY, str(master_copy)] if master_copy else []
    return [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
        "-c:a", "libmp3lame", "-b:a", f"{bitrate}k", "-compression_level", str(ENCODER_QUALITY), "-ar", str(sample_rate), "-ac", "1",
        # no ID3 from ffmpeg (mutagen writes v2.3 later), no encoder/version strings
        "-map_metadata", "-1", "-id3v2_version", "0", "-write_id3v1", "0",
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", "mp3", str(target),
        *copy,
    ]


def encode_mp3(
    write_pcm: Callable[[BinaryIO], None],
    target: Path,
    *,
    sample_rate: int,
    bitrate: int = DEFAULT_BITRATE,
    master_copy: Path | None = None,
) -> None:
    """Run ffmpeg, let ``write_pcm`` stream the program into it, wait for the MP3
    (and the ``master_copy``, when one is asked for)."""
    command = mp3_command(require_ffmpeg(), sample_rate, bitrate, target, master_copy)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors)
        try:
            write_pcm(process.stdin)
            process.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early: its exit status and message say why
        except BaseException:
            process.kill()
            process.wait()
            raise
        status = process.wait()
        if status:
            errors.seek(0)
            raise OutputError(f"ffmpeg could not write {target.name}: {_last_line(errors.read(), status)}")


def run_ffmpeg(arguments: list[str], doing: str, stdin: bytes | None = None) -> str:
    """Run ffmpeg with ``arguments`` (after the program's name); return what it logged.
    OutputError names what it was ``doing`` and ffmpeg's last line when it fails."""
    done = subprocess.run([require_ffmpeg(), "-hide_banner", "-nostdin", "-nostats", *arguments], input=stdin,
                          capture_output=True)
    if done.returncode:
        raise OutputError(f"ffmpeg could not {doing}: {_last_line(done.stderr, done.returncode)}")
    return done.stderr.decode("utf-8", "replace")


def _last_line(log: bytes, status: int) -> str:
    lines = log.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"exit status {status}"


class Level(NamedTuple):
    loudness: float  # integrated, LUFS, dual mono
    true_peak: float  # dBTP


def measured_loudness(path: Path) -> float:
    """Integrated loudness (LUFS, dual mono, as the MP3's is measured) of an audio file by
    ffmpeg's ebur128 (`audiobook check`)."""
    return _integrated(_ebur128(path, ""), path)


def measured_level(path: Path) -> Level:
    """Integrated loudness and true peak of an audio file (editions): the true peak's
    oversampling more than doubles the time ebur128 takes, so only asked for here."""
    log = _ebur128(path, ":peak=true")
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", log)
    if not peak:
        raise OutputError(f"ffmpeg measured no true peak in {path.name}")
    return Level(_integrated(log, path), float(peak.group(1)))


def _ebur128(path: Path, options: str) -> str:
    """ffmpeg's ebur128 log of ``path``: only its summary (a book's log of 10 lines per second would be megabytes)."""
    return run_ffmpeg(["-i", str(path), "-af", f"ebur128=framelog=verbose:dualmono=true{options}", "-f", "null", "-"],
                      f"measure the loudness of {path.name}")


def _integrated(log: str, path: Path) -> float:
    found = re.search(r"Integrated loudness:\s+I:\s+(-?[\d.]+) LUFS", log)
    if not found:
        raise OutputError(f"ffmpeg measured no loudness in {path.name}")
    return float(found.group(1))
