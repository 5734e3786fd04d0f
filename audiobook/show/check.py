"""``audiobook check``: the show read as podcast apps and directories read it,
offline, to catch what would break a listener or a directory before it goes out.

Two sets of checks, one line (``path: problem``) each:

- the feed's (``check_feed``): its XML (feedrules.py: RSS, namespaces, the
  Podcasting 2.0 schema, Apple's rules, unique GUIDs and enclosure URLs), every
  URL in it mapped to a file of the show, and each such file read back
  (mediacheck.py: audio, art, chapters, transcripts, loudness). ``build`` and
  ``feed`` run these on the feed they are about to write and refuse it, keeping
  the feed.xml already there, when one fails (``feed_gate``);
- the show's, which ``check_show`` adds: every episode's files against its
  record (an MP3 deleted or changed since it was built, an edition gone or
  changed), and the feed against the episodes.

URLs are mapped to files the way a static host serves them: the feed's own
address (its ``atom:link rel="self"``) less ``feed.xml`` is the show folder.
"""
from __future__ import annotations

import base64
import binascii
import os
import posixpath
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from lxml import etree

from audiobook.errors import CheckFailed, InputError
from audiobook.fsutil import sha256_file
from audiobook.settings import FEED_FILE, SHOW_FILE, ShowSettings, read_show_file
from audiobook.settings.checks import MAX_ART_SIDE
from audiobook.show.feedrules import NS, duration_seconds, feed_rules, item_label
from audiobook.show.mediacheck import (AUDIO_KINDS, Chapters, audio_kind, check_art, check_audio, check_chapters,
                                       check_transcript, id3_chapters, json_chapters)
from audiobook.show.record import (EPISODES, VERSION_HEX, EpisodeFiles, EpisodeRecord, RecordError, RecordMissing,
                                   read_record)

SOUNDBITE_OVERRUN = 0.5  # seconds a soundbite may reach past the audio's end (rounding)


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the show, as in URLs: "feed.xml", "episodes/essay.mp3"
    message: str

    def line(self, show: Path) -> str:
        return f"{Path(show) / self.path}: {self.message}"


@dataclass
class Findings:
    """Problems (each once, in the order found) and the files read."""

    show: Path
    problems: dict[Problem, None] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    episodes: int = 0

    def name(self, path: Path | str) -> str:
        """A file as the show names it; a versioned copy of episodes/NAME by that name."""
        if isinstance(path, str):
            return path
        relative = Path(os.path.relpath(path, self.show)).as_posix()
        parts = relative.split("/")
        if len(parts) == 3 and parts[0] == EPISODES and len(parts[1]) == VERSION_HEX:
            original = self.show / EPISODES / parts[2]
            if original.is_file() and path.is_file() and os.path.samefile(original, path):
                return f"{EPISODES}/{parts[2]}"
        return relative

    def report(self, path: Path | str, message: str) -> None:
        self.problems.setdefault(Problem(self.name(path), message))

    def read(self, path: Path) -> Path:
        self.files.add(self.name(path))
        return path

    def lines(self, show: Path) -> list[str]:
        return [problem.line(show) for problem in self.problems]


def check_show(directory: Path) -> Findings:
    """Everything: the feed.xml the show holds, and its episodes' files against their records.

    InputError (or ConfigError) when ``directory`` is no show at all."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: no such show directory")
    if not any((directory / name).exists() for name in (SHOW_FILE, FEED_FILE, EPISODES)):
        raise InputError(f"{directory}: not a show (no {SHOW_FILE}, {FEED_FILE} or {EPISODES}/); "
                         f"'audiobook init' and 'audiobook build' make one")
    show = read_show_file(directory).show
    findings = Findings(directory)
    guids = _episodes_against_records(directory, findings)
    feed = directory / FEED_FILE
    if not feed.is_file():
        findings.report(FEED_FILE, "missing: the show needs an owner email ('audiobook init --email') "
                                   "and a build, or 'audiobook feed'")
        return findings
    root = check_feed(show, findings.read(feed).read_bytes(), findings)
    if root is not None:
        _feed_against_episodes(root, guids, findings)
    return findings


def feed_gate(show: ShowSettings) -> Callable[[bytes], None]:
    """For ``write_feed``: refuse (CheckFailed, one line per problem) a feed ``check`` would fail."""
    def approve(data: bytes) -> None:
        findings = Findings(show.directory)
        check_feed(show, data, findings)
        if findings.problems:
            count = len(findings.problems)
            raise CheckFailed(f"{show.directory / FEED_FILE} not written: {count} problem{'s' if count > 1 else ''} "
                              f"above (the feed.xml there is kept); mend {'them' if count > 1 else 'it'} and run "
                              f"'audiobook feed' ('audiobook check {show.directory}' lists them again)",
                              tuple(findings.lines(show.directory)))
    return approve


def check_feed(show: ShowSettings, data: bytes, findings: Findings) -> etree._Element | None:
    """The feed's checks (see the module's docstring); returns its root when it parses."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError as exc:
        findings.report(FEED_FILE, f"not well-formed XML ({exc})")
        return None
    for problem in feed_rules(root):
        findings.report(FEED_FILE, problem)
    channel = root.find("channel")
    base = _base(channel, show, findings) if channel is not None else None
    if base is None:
        return root
    files = _Files(show.directory, base, findings)
    for image in channel.findall("itunes:image", NS) + channel.findall("image/url"):
        if path := files.get(image.get("href") or image.text, "itunes:image" if image.tag != "url" else "image"):
            check_art(path, findings.report, largest=MAX_ART_SIDE)
    for image in channel.findall("podcast:image", NS):
        if path := files.get(image.get("href"), "podcast:image"):
            check_art(path, findings.report, side=_number(image.get("width")))
    files.get(channel.findtext("link"), "link", required=False)
    for item in channel.findall("item"):
        findings.episodes += 1
        _check_item(item, files, findings)
    return root


def _base(channel: etree._Element, show: ShowSettings, findings: Findings) -> str | None:
    """The address the show folder is served at, from the feed's self link."""
    link = channel.find("atom:link[@rel='self']", NS)
    href = link.get("href", "") if link is not None else ""
    if not href.endswith("/" + FEED_FILE):
        return None  # feedrules names a missing self link
    base = href[: -len(FEED_FILE)]
    if show.base_url and base != show.base_url:
        findings.report(FEED_FILE, f"written for {base}, but {SHOW_FILE} says base_url = {show.base_url!r}; "
                                   f"run 'audiobook feed'")
    return base


@dataclass
class _Files:
    """The show's files, as the feed's URLs name them."""

    show: Path
    base: str
    findings: Findings

    def get(self, url: str | None, tag: str, required: bool = True) -> Path | None:
        """The file ``url`` serves; None (and a problem, when ``required`` or under the show) when none does."""
        if not url:
            return None
        if not url.startswith(self.base):
            if required:
                self.findings.report(FEED_FILE, f"<{tag}> points at {url}, outside the show's address {self.base}")
            return None
        served = urllib.parse.unquote(urllib.parse.urlsplit(url[len(self.base):]).path)
        relative = posixpath.normpath(served + "index.html" if not served or served.endswith("/") else served)
        path = self.show / relative
        if relative.startswith(("../", "/")) or relative == ".." or not path.resolve().is_relative_to(
                self.show.resolve()):
            self.findings.report(FEED_FILE, f"<{tag}> points at {url}, outside the show")
            return None
        if not path.is_file():
            self.findings.report(relative, f"missing; the feed's <{tag}> points at it")
            return None
        return self.findings.read(path)


def _check_item(item: etree._Element, files: _Files, findings: Findings) -> None:
    declared = duration_seconds(item.findtext("itunes:duration", namespaces=NS))
    enclosure = item.find("enclosure")
    mp3, playing = None, None
    if enclosure is not None and (mp3 := files.get(enclosure.get("url"), "enclosure")):
        playing = check_audio(mp3, enclosure.get("type", ""), _number(enclosure.get("length")), declared,
                              findings.report)
    for alternate in item.findall("podcast:alternateEnclosure", NS):
        for source in alternate.findall("podcast:source", NS):
            if path := files.get(source.get("uri"), "podcast:source"):
                check_audio(path, alternate.get("type", ""), _number(alternate.get("length")), declared,
                            findings.report, _sri_sha256(alternate.find("podcast:integrity", NS)))
    if art := files.get(_attribute(item, "itunes:image", "href"), "itunes:image"):
        check_art(art, findings.report, largest=MAX_ART_SIDE)
    files.get(item.findtext("link"), "link", required=False)
    if mp3 is not None:
        _chapters(item, mp3, files, findings)
    for transcript in item.findall("podcast:transcript", NS):
        if path := files.get(transcript.get("url"), "podcast:transcript"):
            check_transcript(path, transcript.get("type", ""), playing, findings.report)
    for bite in item.findall("podcast:soundbite", NS):
        end = (_number(bite.get("startTime"), float) or 0) + (_number(bite.get("duration"), float) or 0)
        if playing is not None and end > playing + SOUNDBITE_OVERRUN:
            findings.report(FEED_FILE, f"{item_label(item)}: its soundbite ends at {end:.1f} s, "
                                       f"after the audio ({playing:.1f} s)")


def _chapters(item: etree._Element, mp3: Path, files: _Files, findings: Findings) -> None:
    """The chapters of the MP3's ID3 tag, of the chapters JSON and of the feed's psc:chapters agree."""
    places = [Chapters(mp3, "its ID3 tag", id3_chapters(mp3))]
    if json_file := files.get(_attribute(item, "podcast:chapters", "url"), "podcast:chapters"):
        try:
            places.append(Chapters(json_file, json_file.name, json_chapters(json_file)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            findings.report(json_file, f"is not Podcasting 2.0 chapters JSON ({exc})")
    marks = item.findall("psc:chapters/psc:chapter", NS)
    if marks:
        places.append(Chapters(files.show / FEED_FILE, "the feed's psc:chapters",
                               [(duration_seconds(mark.get("start")) or 0.0, mark.get("title", "")) for mark in marks]))
    if len(places) > 1:
        check_chapters(places, findings.report)


def _attribute(item: etree._Element, tag: str, name: str) -> str | None:
    element = item.find(tag, NS)
    return element.get(name) if element is not None else None


def _number(text: str | None, kind: type = int):
    try:
        return kind(text) if text is not None else None
    except ValueError:
        return None


def _sri_sha256(integrity: etree._Element | None) -> str | None:
    """The SHA-256 (hex) an SRI integrity value names, if it names one."""
    value = integrity.get("value", "") if integrity is not None and integrity.get("type") == "sri" else ""
    if not value.startswith("sha256-"):
        return None
    try:
        return base64.b64decode(value[len("sha256-"):], validate=True).hex()
    except (binascii.Error, ValueError):
        return "not a sha256"


# --- the show's episodes ---------------------------------------------------------

def _episodes_against_records(show: Path, findings: Findings) -> dict[str, tuple[str, bool]]:
    """Each episode's files against its record; GUID -> (the record's name, whether its MP3 is intact)."""
    folder = show / EPISODES
    if not folder.is_dir():
        return {}
    stems = {path.stem for path in folder.glob("*.mp3")} | {path.name[: -len(".episode.json")]
                                                           for path in folder.glob("*.episode.json")}
    guids = {}
    for stem in sorted(stems):
        files = EpisodeFiles(folder, stem)
        try:
            record = read_record(files)
        except RecordMissing:
            findings.report(files.mp3, f"has no record ({files.record.name}): it is left out of the feed; "
                                       f"build the episode again")
            continue
        except RecordError as exc:
            findings.report(files.record, str(exc).removeprefix(f"{files.record}: "))
            continue
        guids[record.guid] = (findings.name(files.record), _audio_matches(files, record, findings))
        for edition in record.editions:
            _edition_matches(files.edition(edition.format), edition.mime, edition.bytes, findings)
    return guids


def _audio_matches(files: EpisodeFiles, record: EpisodeRecord, findings: Findings) -> bool:
    mp3 = files.mp3
    if not mp3.is_file():
        findings.report(mp3, f"missing; its record {files.record.name} is still there: build the episode again")
        return False
    size = findings.read(mp3).stat().st_size
    if size != record.audio.bytes:
        findings.report(mp3, f"{size} bytes, its record says {record.audio.bytes}: it changed after it was built; "
                             f"rebuild it with --force")
        return False
    if sha256_file(mp3) != record.audio.sha256:
        findings.report(mp3, "is not the audio its record describes (it changed after it was built); "
                             "rebuild it with --force")
        return False
    return True


def _edition_matches(path: Path, mime: str, size: int, findings: Findings) -> None:
    if not path.is_file():
        findings.report(path, "missing; the episode's record lists it: rebuild the episode with --force")
        return
    kind = audio_kind(findings.read(path))
    if path.stat().st_size != size:
        findings.report(path, f"{path.stat().st_size} bytes, its record says {size}; rebuild the episode with --force")
    if kind is None or mime not in AUDIO_KINDS[kind]:
        findings.report(path, f"is {kind or 'not'} audio, its record says {mime}")


def _feed_against_episodes(root: etree._Element, guids: dict[str, tuple[str, bool]], findings: Findings) -> None:
    """Every intact episode is in the feed, and every item is an episode of the show."""
    listed = {(item.findtext("guid") or "").strip(): item for item in root.iter("item")}
    for guid, (record, intact) in guids.items():
        if intact and guid not in listed:
            findings.report(record, "its episode is not in feed.xml; run 'audiobook feed'")
    for guid, item in listed.items():
        if guid not in guids:
            findings.report(FEED_FILE, f"{item_label(item)} (guid {guid}) is no episode of the show")
