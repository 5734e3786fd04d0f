"""Stage "publish": the show's feed and site, from every episode it holds.

``publish_show`` gathers every episode of the show first, then writes the
feed and the site from them (plan everything, then write). The feed goes
last, and only when ``audiobook check`` would pass it (check.feed_gate): a
feed that fails is not written, the one there stays. An episode's own files
are written by ``episodes.write_episode`` when it is built.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audiobook.fsutil import remove_stale_temp_files
from audiobook.settings import ShowSettings
from audiobook.show.check import feed_gate
from audiobook.show.episodes import load_episodes
from audiobook.show.feed import write_feed
from audiobook.show.site import write_site

DEFAULT_BASE_URL = "http://127.0.0.1:8000/"  # what `audiobook serve` answers on by default


@dataclass
class Publication:
    feed: Path | None
    notes: list[str]  # what the user should know: no feed yet, a default base URL
    warnings: list[str]  # episodes left out, and why


def publish_show(show: ShowSettings, require_feed: bool = False) -> Publication:
    """Rewrite the site and the feed from every episode the show holds.

    Settings are checked before anything is written. Without an owner email
    (Apple requires one) there is no feed yet, unless ``require_feed`` makes
    that an error; without a base URL the feed points at the local server.
    """
    episodes, warnings = load_episodes(show.directory)
    remove_stale_temp_files(show.directory)  # of runs killed mid-write: they would be uploaded with the show
    if not (show.email or require_feed):
        write_site(show, episodes)
        return Publication(None, ["no feed.xml yet: the show needs an owner email "
                                  "(audiobook init --email you@example.com)"], warnings)
    show.require_email()
    served = show.served_at(show.base_url or DEFAULT_BASE_URL)
    approve = feed_gate(served)

    def ready(data: bytes) -> None:  # the art and audio are in place: the pages, then the check
        write_site(show, episodes)
        approve(data)

    feed = write_feed(served, episodes, ready)
    notes = [] if show.base_url else [
        f"feed.xml points at {DEFAULT_BASE_URL}; set the public address with "
        f"'audiobook init --base-url URL --force' or 'audiobook feed --base-url URL'"]
    return Publication(feed, notes, warnings)
