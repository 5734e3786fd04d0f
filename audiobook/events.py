"""How a run tells its caller what happens, as it happens, and what it made.

The library never prints; it calls these methods. The CLI subclasses
``Events`` to print (progress bars, summaries, warnings on stderr); a library
caller or a test may collect instead. This module imports nothing heavy, so
the CLI can use it without loading the pipeline for ``--help``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audiobook.settings import Settings
    from audiobook.show.record import EpisodeFiles


class Events:
    """What a run has to say, as it happens; this base class keeps quiet.

    The CLI subclasses it to print (progress bars, summaries, warnings);
    library callers and tests may collect instead.
    """

    def note(self, message: str) -> None:
        """Something worth knowing: which engine was chosen, and why."""

    def warn(self, message: str) -> None:
        """Something went wrong and was dealt with (a damaged cached clip made again)."""

    def settings(self, essay: Path, settings: Settings) -> None:
        """The settings an essay is built with, before any work (for --verbose)."""

    def progress(self, essay: Path, done: int, total: int) -> None:
        """Segments of ``essay`` that reached the encoder."""

    def listening(self, mp3: Path, done: int, total: int) -> None:
        """Passages of ``mp3`` a proof has heard."""

    def built(self, episode: Episode) -> None:
        """One essay is done (or was already up to date)."""

    def deployed(self, progress: DeployProgress) -> None:
        """A deploy uploaded or removed one more file."""


@dataclass
class Episode:
    """What one build made, for the summary line."""

    mp3: Path
    files: EpisodeFiles
    duration: float
    chapters: int
    size: int
    loudness: float
    synthesized: int
    cached: int
    engine: str
    voice: str
    up_to_date: bool = False  # nothing changed since the last build: nothing was written
    editions: dict[str, int] = field(default_factory=dict)  # other files of the audio: format -> bytes


@dataclass(frozen=True)
class DeployProgress:
    """How far a deploy is, each time one more file is uploaded or removed."""

    action: str  # "upload" or "delete"
    path: str  # the file's path in the show, and under the target
    files_done: int
    files_total: int
    bytes_done: int  # uploaded so far
    bytes_total: int  # to upload in all
    elapsed: float  # seconds since the first upload began

    @property
    def seconds_left(self) -> float | None:
        """The time the rest will take at the rate so far (by bytes); None before a byte is sent."""
        if self.bytes_done <= 0 or self.elapsed <= 0:
            return None
        return (self.bytes_total - self.bytes_done) * self.elapsed / self.bytes_done
