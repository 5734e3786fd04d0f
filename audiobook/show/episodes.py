"""The episodes of a show: each one's files written when it is built
(``write_episode``), and all of them read back for the feed and the site.

``write_episode`` puts an episode's art, chapters and transcripts in place and
its record last, so a record always describes files that are there. It stays
clear of the feed's and the site's libraries, which a build loads only to
publish, once synthesis is over.

Every MP3 in the show's episodes/ folder is an episode; its record says the
rest. An episode whose record is missing or damaged, or whose MP3 changed
after it was built, is left out with one warning that says how to mend it,
and the others are published as usual; so is an edition (M4B, Opus) whose
file is missing or changed, the episode keeping its other files.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from audiobook.audio.editions import FORMATS
from audiobook.fsutil import write_bytes_atomic, write_text_atomic
from audiobook.models import Timeline
from audiobook.show.record import (EPISODES, EpisodeFiles, EpisodeRecord, RecordError, RecordMissing, read_record,
                                   remove_legacy_record)
from audiobook.show.transcripts import chapters_json, subrip, webvtt


@dataclass(frozen=True)
class PublishedEpisode:
    record: EpisodeRecord
    files: EpisodeFiles


def load_episodes(show: Path) -> tuple[list[PublishedEpisode], list[str]]:
    """Every intact episode of the show, newest first (ties broken by stem), and a
    warning for each one left out."""
    found, warnings = [], []
    folder = Path(show) / EPISODES
    for mp3 in sorted(folder.glob("*.mp3")) if folder.is_dir() else []:
        files = EpisodeFiles(folder, mp3.stem)
        try:
            record = read_record(files)
        except RecordMissing:
            warnings.append(f"{mp3.name} is left out of the feed and the site: it has no record "
                            f"({files.record.name}); build the episode again")
            continue
        except RecordError as exc:
            warnings.append(f"{mp3.name} is left out of the feed and the site: its record {exc}; restore it, "
                            f"or delete it and build the episode again (it will get a new GUID)")
            continue
        size = mp3.stat().st_size
        if size != record.audio.bytes:
            warnings.append(f"{mp3.name} is left out of the feed and the site: it is {size} bytes, its record "
                            f"says {record.audio.bytes}; it changed after it was built, rebuild it with --force")
            continue
        found.append(PublishedEpisode(_with_intact_editions(record, files, warnings), files))
    found.sort(key=lambda e: (e.record.published, e.files.stem), reverse=True)
    return found, warnings


def _with_intact_editions(record: EpisodeRecord, files: EpisodeFiles, warnings: list[str]) -> EpisodeRecord:
    """The record without the editions whose file is gone or changed, each with a warning."""
    intact = []
    for edition in record.editions:
        path = files.edition(edition.format)
        size = path.stat().st_size if path.is_file() else None
        if size == edition.bytes:
            intact.append(edition)
        else:
            found = "missing" if size is None else f"{size} bytes, its record says {edition.bytes}"
            warnings.append(f"{path.name} is left out of the feed: {found}; rebuild the episode with --force")
    return record if len(intact) == len(record.editions) else replace(record, editions=tuple(intact))


def write_episode(files: EpisodeFiles, record: EpisodeRecord, timeline: Timeline, cover: bytes) -> None:
    """The episode's sidecars, each written atomically; the record last, then the editions it no longer has go."""
    write_bytes_atomic(files.art, cover)
    write_text_atomic(files.chapters, chapters_json(timeline))
    write_text_atomic(files.vtt, webvtt(timeline))
    write_text_atomic(files.srt, subrip(timeline))
    write_text_atomic(files.record, record.to_json())
    remove_legacy_record(files)
    for name in FORMATS.keys() - {edition.format for edition in record.editions}:  # turned off since the last build
        files.edition(name).unlink(missing_ok=True)

