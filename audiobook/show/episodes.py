"""The episodes of a show, as their records describe them: what the feed and the site publish.

Every MP3 in the show's episodes/ folder is an episode; its record says the
rest. An episode whose record is missing or damaged, or whose MP3 changed
after it was built, is left out with one warning that says how to mend it,
and the others are published as usual.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audiobook.show.record import EPISODES, EpisodeFiles, EpisodeRecord, RecordError, RecordMissing, read_record


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
        found.append(PublishedEpisode(record, files))
    found.sort(key=lambda e: (e.record.published, e.files.stem), reverse=True)
    return found, warnings
