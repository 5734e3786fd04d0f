"""How times and sizes are written: for people (the CLI, the web page) and for
players and transcripts (WebVTT, SubRip, Podlove chapters). One place, so a
duration reads the same in the terminal as on the page."""
from __future__ import annotations


def clock(seconds: float) -> str:
    """2:37, 1:02:03: whole seconds, hours only when there are any."""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def timestamp(ms: int, separator: str = ".") -> str:
    """HH:MM:SS.mmm (WebVTT, Podlove chapters) or, with ",", HH:MM:SS,mmm (SubRip)."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def human_size(size: float) -> str:
    """512 B, 12.3 KB, 5.6 MB, 1.2 GB (powers of 1000)."""
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{size} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
