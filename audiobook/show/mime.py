"""The Content-Type of every kind of file a show holds: one table for the
preview server (serve.py) and for deploying (deploy.py), so a file is sent
with the same type from a laptop as from the public host.

Explicit, because the system's mime.types differs between machines and often
lacks .vtt, .srt and .m4b, and feed.xml must be RSS, not text/xml.
"""
from __future__ import annotations

import mimetypes
import os

MIME_TYPES: dict[str, str] = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".m4b": "audio/mp4",  # the audiobook edition (an M4B is an MP4 with chapters)
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".xml": "application/rss+xml",  # the only XML in a show is its feed
    ".rss": "application/rss+xml",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",  # also .chapters.json; JSON takes no charset
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".toml": "application/toml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}


def mime_type(name: str) -> str:
    """The media type of a file by its name; application/octet-stream when unknown."""
    suffix = os.path.splitext(name)[1].lower()
    if suffix in MIME_TYPES:
        return MIME_TYPES[suffix]
    guessed, encoding = mimetypes.guess_type(name)
    # A .gz served with its inner type would be unpacked by the browser.
    if guessed is None or encoding is not None:
        return "application/octet-stream"
    return guessed


def content_type(name: str) -> str:
    """The Content-Type header for a file: its media type, with "; charset=utf-8" for
    text and XML (everything a show writes is UTF-8), as werkzeug adds it when serving."""
    media = mime_type(name)
    if media.startswith("text/") or media.endswith("+xml"):
        return f"{media}; charset=utf-8"
    return media
