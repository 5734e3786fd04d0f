"""Stage "encode": float PCM on a pipe -> CBR MP3, through ffmpeg's libmp3lame.

ffmpeg writes no tags of its own (tag.py owns them) and runs bit-exact, so the
same PCM always gives the same bytes: a rebuild is byte-identical.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from audiobook.errors import OutputError, ToolMissingError

DEFAULT_BITRATE = 96  # kbit/s, mono speech
# LAME's -q 7 ("fast, ok quality") skips noise-shaping searches that matter for
# music, not for one voice at 96 kbit/s; it encodes twice as fast as the default.
ENCODER_QUALITY = 7


def require_ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if not path:
        raise ToolMissingError("ffmpeg not found; install it (apt-get install ffmpeg) and try again")
    return path


def mp3_command(ffmpeg: str, sample_rate: int, bitrate: int, target: Path) -> list[str]:
    return [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "f32le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
        "-c:a", "libmp3lame", "-b:a", f"{bitrate}k", "-compression_level", str(ENCODER_QUALITY), "-ar", str(sample_rate), "-ac", "1",
        # no ID3 from ffmpeg (mutagen writes v2.3 later), no encoder/version strings
        "-map_metadata", "-1", "-id3v2_version", "0", "-write_id3v1", "0",
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", "mp3", str(target),
    ]


def encode_mp3(
    write_pcm: Callable[[BinaryIO], None],
    target: Path,
    *,
    sample_rate: int,
    bitrate: int = DEFAULT_BITRATE,
) -> None:
    """Run ffmpeg, let ``write_pcm`` stream the program into it, wait for the MP3."""
    command = mp3_command(require_ffmpeg(), sample_rate, bitrate, target)
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
            lines = errors.read().decode("utf-8", "replace").strip().splitlines()
            detail = lines[-1] if lines else f"exit status {status}"
            raise OutputError(f"ffmpeg could not write {target.name}: {detail}")
