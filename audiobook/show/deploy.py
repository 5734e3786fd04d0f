"""Stage "deploy": send the show where listeners fetch it, only what changed, the feed last.

Modelled on Hugo's ``deploy`` (deploy/deploy.go):

- What the target holds is read from the target itself (its listing, and an
  MD5 from the object's metadata where the ETag is not one) and compared with
  the show file by file, by size and then by MD5. Only what differs is sent,
  so deploying an unchanged show sends nothing.
- Uploads go in three groups, each finished before the next begins: the audio,
  sidecars, art and the pages' assets; then the pages; then feed.xml. An app
  never reads an entry whose audio is not there yet, and a deploy killed at any
  moment leaves the previous feed in place; run again, it sends what is missing.
- Headers come from a table of path rules, first match wins (Hugo's matchers):
  a versioned audio path (episodes/<hash>/<stem>.mp3) never changes, so it is
  cached for a year as immutable; everything else, the feed and pages among
  them, for five minutes. Content types come from show/mime.py.
- Files at the target that are not in the show are removed only with
  ``delete``, after the feed is up, and none at all when there are more than
  ``max_deletes`` (Hugo's --maxDeletes: a wrong target must not be emptied).
- ``dry_run`` checks and plans everything and writes nothing.

Before anything is sent, the feed must have been written for the public
address the target is served from (``--base-url`` or podcast.toml), every URL
in it under that address must name a file being deployed, and the target must
be there and ours to write. Never sent: podcast.toml and lexicon.toml (the
show's settings, not for listeners) and hidden files, temp files among them.
"""
from __future__ import annotations

import itertools
import os
import re
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

from audiobook.errors import ConfigError, InputError
from audiobook.events import DeployProgress, Events
from audiobook.settings import FEED_FILE, SHOW_FILE, checks, read_show_file
from audiobook.settings.showfile import DeploySettings
from audiobook.show.mime import content_type
from audiobook.show.record import EPISODES, VERSION_HEX
from audiobook.show.targets import S3_SCHEME, Headers, LocalTarget, Stored, Target, md5_of
from audiobook.text.lexicon import LEXICON_FILE

IMMUTABLE = "public, max-age=31536000, immutable"  # a year: the path changes when the audio does
BRIEF = "public, max-age=300"  # five minutes: a rebuilt episode reaches apps soon
# (path pattern, Cache-Control): the first that matches a file's path in the show wins.
CACHE_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(rf"{EPISODES}/[0-9a-f]{{{VERSION_HEX}}}/[^/]+"), IMMUTABLE),
    (re.compile(r".*"), BRIEF),
)
MAX_DELETES = 256  # Hugo's default cap on removals
WORKERS = 8  # files sent at once within a group
PRIVATE = frozenset({SHOW_FILE, LEXICON_FILE})  # the show's settings, at its top: never deployed


def open_target(url: str, *, endpoint_url: str | None = None, region: str | None = None) -> Target:
    """The target a deploy URL names: ``s3://bucket/prefix``, ``file:///path`` or a directory."""
    if url.startswith(S3_SCHEME):
        bucket, _, prefix = url[len(S3_SCHEME):].partition("/")
        if not bucket:
            raise ConfigError(f"target {url!r} names no bucket; write s3://bucket or s3://bucket/prefix")
        from audiobook.show.s3 import S3Target

        return S3Target(url, bucket, prefix.strip("/"), endpoint_url=endpoint_url, region=region)
    if url.startswith("file://"):
        return LocalTarget(url, Path(url[len("file://"):]))
    if "://" in url:
        raise ConfigError(f"target {url!r}: deploy sends a show to s3://bucket/prefix or to a directory")
    return LocalTarget(url, Path(url))


def cache_control(path: str) -> str:
    return next(rule for pattern, rule in CACHE_RULES if pattern.fullmatch(path))


def upload_group(path: str) -> int:
    """When a file is sent: 0 audio, sidecars, art and assets; 1 the pages; 2 the feed, last."""
    if path == FEED_FILE:
        return 2
    return 1 if path.endswith(".html") else 0


@dataclass(frozen=True)
class LocalFile:
    """A file of the show to deploy; ``path`` is relative to the show, with "/"."""

    path: str
    source: Path
    size: int

    @cached_property
    def md5(self) -> str:
        return md5_of(self.source)

    @property
    def headers(self) -> Headers:
        return Headers(content_type(self.path), cache_control(self.path))


@dataclass(frozen=True)
class Action:
    path: str
    reason: str  # new, changed, --force; "not in the show" for a removal
    file: LocalFile | None = None  # what is uploaded; None for a removal

    @property
    def size(self) -> int:
        return self.file.size if self.file else 0


@dataclass
class Deployment:
    """What a deploy did (or, in a dry run, would do), for the summary."""

    target: str
    uploads: list[Action]  # in the order they are sent
    deletes: list[Action]
    unchanged: int
    kept: int  # files at the target that are not in the show, left there without --delete
    held_back: int  # removals not made: more than max_deletes
    dry_run: bool
    seconds: float = 0.0

    @property
    def bytes(self) -> int:
        return sum(action.size for action in self.uploads)


def deploy_show(show_dir: Path, target: str | None = None, *, endpoint_url: str | None = None,
                base_url: str | None = None, delete: bool = False, max_deletes: int = MAX_DELETES,
                dry_run: bool = False, force: bool = False, events: Events | None = None) -> Deployment:
    """`audiobook deploy`: check, compare, then upload what changed in order, and remove what went.

    ``target`` defaults to podcast.toml's [deploy] target (a directory there is
    relative to the show); ``max_deletes`` -1 lifts the cap. Raises ConfigError
    or DeployError, before anything is written, when the show or target is wrong.
    """
    events = events or Events()
    started = time.monotonic()
    show_dir = Path(show_dir)
    if not show_dir.is_dir():
        raise InputError(f"show directory {show_dir} does not exist; build one with `audiobook build ESSAY --show "
                         f"{show_dir}`")
    show_file = read_show_file(show_dir)
    place = _open(show_dir, show_file.deploy, target, endpoint_url)
    if base_url:
        public, where = checks.base_url(base_url), "--base-url"
    elif show_file.show.base_url:
        public, where = show_file.show.base_url, f"{show_dir / SHOW_FILE} [show] base_url"
    else:
        raise ConfigError(f"no public address for {place.url}: pass --base-url (the URL it is served from) or set "
                          f"base_url under [show] in {show_dir / SHOW_FILE}")
    files = local_files(show_dir, events)
    check_feed(show_dir, files, public, where)
    place.check()
    uploads, extra, unchanged = compare(files, place.listing(), place, force)
    deletes, held_back = _removals(extra, delete, max_deletes, place, events)
    deployment = Deployment(place.url, uploads, deletes, unchanged, 0 if delete else len(extra), held_back, dry_run)
    if not dry_run:
        place.tidy()
        _apply(place, uploads, deletes, events)
    deployment.seconds = time.monotonic() - started
    return deployment


def _open(show_dir: Path, settings: DeploySettings, url: str | None, endpoint_url: str | None) -> Target:
    if endpoint_url:
        checks.base_url(endpoint_url, "--endpoint-url")
    if url is None:
        if not settings.target:
            raise ConfigError(f"no target: pass one (s3://bucket/prefix or a directory) or set target under "
                              f"[deploy] in {show_dir / SHOW_FILE}")
        url = settings.target if "://" in settings.target else str(show_dir / settings.target)
    target = open_target(url, endpoint_url=endpoint_url or settings.endpoint_url, region=settings.region)
    if isinstance(target, LocalTarget):
        if endpoint_url:
            raise ConfigError(f"--endpoint-url is for s3:// targets; {url} is a directory")
        target.refuse_overlap(show_dir)
    return target


def local_files(show_dir: Path, events: Events) -> dict[str, LocalFile]:
    """Every file of the show that is deployed, by its path in the show."""
    real_root = show_dir.resolve()
    found = {}
    for folder, subfolders, names in os.walk(show_dir):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]  # .git, editors' folders
        for name in names:
            source = Path(folder, name)
            path = source.relative_to(show_dir).as_posix()
            if name.startswith(".") or path in PRIVATE or not source.is_file():
                continue
            if source.is_symlink() and not source.resolve().is_relative_to(real_root):
                events.warn(f"{source} links to a file outside the show: not deployed")
                continue
            found[path] = LocalFile(path, source, source.stat().st_size)
    return found


def check_feed(show_dir: Path, files: dict[str, LocalFile], public: str, where: str) -> None:
    """Refuse (ConfigError) a feed written for another address than ``public``, or one that
    links a file of the show that is not there: apps would fetch what does not exist."""
    from lxml import etree

    from audiobook.show.feed import ATOM

    feed = show_dir / FEED_FILE
    rewrite = f"audiobook feed --show {show_dir} --base-url {public}"
    if FEED_FILE not in files:
        raise ConfigError(f"{feed} is missing: there is no feed to deploy yet (it needs an owner email, "
                          f"'audiobook init --email you@example.com --force'), then '{rewrite}'")
    try:
        root = etree.fromstring(feed.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{feed} is not well-formed XML ({exc}); rewrite it with '{rewrite}'") from None
    link = root.find(f"channel/{{{ATOM}}}link[@rel='self']")
    written = link.get("href", "") if link is not None else ""
    if written != public + FEED_FILE:
        was = written.removesuffix(FEED_FILE) or "no address"
        raise ConfigError(f"{feed} is written for {was}, but the target is served at {public} ({where}); "
                          f"rewrite it with '{rewrite}', or correct {where}")
    for element in root.iter(tag=etree.Element):
        for url in (*element.attrib.values(), (element.text or "").strip()):
            if url.startswith(public) and _show_path(url[len(public):]) not in files:
                raise ConfigError(f"{feed} links {url}, which is not in the show; rewrite the feed with "
                                  f"'{rewrite}'")


def _show_path(rest: str) -> str:
    """The show's file a URL below the public address names (a folder's is its index.html)."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(rest).path)
    return path + "index.html" if path == "" or path.endswith("/") else path


def compare(files: dict[str, LocalFile], stored: dict[str, Stored], target: Target,
            force: bool = False) -> tuple[list[Action], list[str], int]:
    """(uploads in the order to send them, paths at the target not in the show, files unchanged)."""
    uploads, unchanged = [], 0
    for path, file in files.items():
        reason = _why_send(file, stored.get(path), target, force)
        if reason:
            uploads.append(Action(path, reason, file))
        else:
            unchanged += 1
    uploads.sort(key=lambda action: (upload_group(action.path), action.path))
    return uploads, sorted(set(stored) - set(files)), unchanged


def _why_send(file: LocalFile, stored: Stored | None, target: Target, force: bool) -> str | None:
    if stored is None:
        return "new"
    if force:
        return "--force"
    if stored.size != file.size:
        return "changed"
    if stored.etag == file.md5 or target.stored_md5(file.path) == file.md5:
        return None
    return "changed"


def _removals(extra: list[str], delete: bool, max_deletes: int, target: Target,
              events: Events) -> tuple[list[Action], int]:
    """(the removals to make, how many are held back by the cap)."""
    if not delete or not extra:
        return [], 0
    if max_deletes != -1 and len(extra) > max_deletes:
        events.warn(f"{len(extra)} files at {target.url} are not in the show; removing none of them, as that is "
                    f"more than --max-deletes {max_deletes} (raise it, or -1 for no cap, if they should all go)")
        return [], len(extra)
    return [Action(path, "not in the show") for path in extra], 0


def _apply(target: Target, uploads: list[Action], deletes: list[Action], events: Events) -> None:
    """Send each group of uploads whole before the next, then remove; report every file done."""
    files_total, bytes_total = len(uploads) + len(deletes), sum(action.size for action in uploads)
    started, files_done, bytes_done = time.monotonic(), 0, 0

    def done(kind: str) -> Callable[[Action], None]:
        def report(action: Action) -> None:
            nonlocal files_done, bytes_done
            files_done, bytes_done = files_done + 1, bytes_done + action.size
            events.deployed(DeployProgress(kind, action.path, files_done, files_total, bytes_done, bytes_total,
                                           time.monotonic() - started))
        return report

    for _, group in itertools.groupby(uploads, key=lambda action: upload_group(action.path)):
        _in_parallel(lambda a: target.put(a.path, a.file.source, a.file.headers, a.file.md5), list(group),
                     done("upload"))
    _in_parallel(lambda a: target.delete(a.path), deletes, done("delete"))


def _in_parallel(work: Callable[[Action], None], actions: list[Action], done: Callable[[Action], None]) -> None:
    """``work`` on every action, WORKERS at a time; ``done`` in this thread as each finishes.
    The first failure cancels what has not begun, and is raised once the rest have ended."""
    if not actions:
        return
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="deploy") as pool:
        futures = {pool.submit(work, action): action for action in actions}
        try:
            for future in as_completed(futures):
                future.result()
                done(futures[future])
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
