"""Reading from the web, only where the user asked for it: a feed's URL, and the
pages of its posts when the feed carries only summaries.

Pages are fetched once and kept in the user's cache directory, under the post's
URL and the version the feed gives it (its update time), so a second build of
the same feed fetches only the feed itself, and a post the blog edits is
fetched again.
"""
from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import platformdirs

from audiobook import __version__
from audiobook.errors import InputError
from audiobook.fsutil import atomic_path

USER_AGENT = f"audiobook/{__version__} (+https://pypi.org/project/audiobook/)"
TIMEOUT_SECONDS = 30
MAX_BYTES = 50 * 1024 * 1024  # more than any feed or article page; a guard against endless responses


def kept_pages_dir() -> Path:
    """Where fetched pages are kept (honours XDG_CACHE_HOME)."""
    return platformdirs.user_cache_path("audiobook") / "pages"


def fetch(url: str) -> bytes:
    """The body at ``url``, or InputError saying why not, in one line."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise InputError(f"{url}: the server answered {error.code} {error.reason}; check the address.") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise InputError(f"{url}: cannot be fetched ({reason}); check the address and the network.") from None
    if len(body) > MAX_BYTES:
        raise InputError(f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MB; that is not a feed or an article.")
    return body


def kept_page(url: str, version: str) -> bytes:
    """The page at ``url`` as fetched for this ``version`` of it, fetching it the first time."""
    key = hashlib.sha256(f"{url}\n{version}".encode("utf-8")).hexdigest()[:24]
    path = kept_pages_dir() / f"{key}.html"
    if path.is_file() and path.stat().st_size:
        return path.read_bytes()
    body = fetch(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        partial.write_bytes(body)
    return body
