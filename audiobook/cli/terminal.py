"""How a run talks to a person at a terminal."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from audiobook.display import clock, human_size
from audiobook.events import Events


class Terminal(Events):
    """Prints what a run says: notes and warnings on stderr, a progress bar per
    essay on stderr (only on a terminal: in a log it would be carriage
    returns), and a summary line per episode on stdout.

    ``quiet`` keeps notes, bars and summaries back (each MP3 path is still
    printed); ``verbose`` adds every setting and where it came from."""

    def __init__(self, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet, self.verbose = quiet, verbose
        self._bars: dict[Path, object] = {}
        self._status = False  # a deploy's status line is on the screen

    def note(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"audiobook: {message}", err=True)

    def warn(self, message: str) -> None:
        click.echo(f"audiobook: warning: {message}", err=True)

    def settings(self, essay: Path, settings) -> None:
        if self.verbose:
            for line in settings.describe():
                click.echo(f"  {line}", err=True)

    def progress(self, essay: Path, done: int, total: int) -> None:
        self._bar(essay, f"Rendering {essay.name}", "segment", done, total)

    def listening(self, mp3: Path, done: int, total: int) -> None:
        self._bar(mp3, f"Listening to {mp3.name}", "passage", done, total)

    def _bar(self, key: Path, description: str, unit: str, done: int, total: int) -> None:
        if self.quiet or total == 0 or not sys.stderr.isatty():
            return
        if key not in self._bars:
            from tqdm import tqdm

            self._bars[key] = tqdm(total=total, desc=description, unit=unit, file=sys.stderr,
                                   leave=False, dynamic_ncols=True)
        bar = self._bars[key]
        bar.update(done - bar.n)

    def close(self) -> None:
        """Take down the progress bars and status line (an essay is done, or the run stopped)."""
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
        if self._status:
            click.echo("\r\x1b[K", nl=False, err=True)
            self._status = False

    def deployed(self, progress) -> None:
        """One status line, rewritten in place: files and bytes done, time left; with verbose, a line a file."""
        if self.verbose:
            self.close()
            click.echo(f"audiobook: {'uploaded' if progress.action == 'upload' else 'removed'} {progress.path}",
                       err=True)
        if self.quiet or not sys.stderr.isatty():
            return
        left = progress.seconds_left
        click.echo(f"\rDeploying: {progress.files_done}/{progress.files_total} files, "
                   f"{human_size(progress.bytes_done)} of {human_size(progress.bytes_total)}"
                   + (f", {clock(left)} left" if left is not None else "") + "\x1b[K", nl=False, err=True)
        self._status = True

    def built(self, episode) -> None:
        self.close()
        if self.quiet:
            click.echo(str(episode.mp3))
            return
        click.echo(
            f"{episode.mp3}: {clock(episode.duration)}, {episode.chapters} chapter{'' if episode.chapters == 1 else 's'}, "
            f"{human_size(episode.size)}, {episode.loudness:.1f} LUFS, "
            f"{episode.engine} voice {episode.voice}; "
            f"segments: {episode.synthesized} synthesized, {episode.cached} from cache"
            + (f"; editions: {', '.join(f'{name} {human_size(size)}' for name, size in episode.editions.items())}"
               if episode.editions else "")
            + (" (up to date, not rewritten)" if episode.up_to_date else "")
        )

    def published(self, publication, show: Path) -> None:
        """The feed and the site were written."""
        if self.quiet:
            return
        if publication.feed:
            click.echo(f"{publication.feed}: feed updated, with the site at {show / 'index.html'}")
        else:
            click.echo(f"{show / 'index.html'}: site updated")
