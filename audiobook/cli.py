"""The command line: parses options, calls the library, prints results.

Only ``main`` turns an AudiobookError into one line on stderr and exit status 2.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from audiobook import __version__
from audiobook.display import clock, human_size
from audiobook.errors import AudiobookError
from audiobook.events import Events

SHOW_HELP = "Show directory to write into (created if missing)."
ENCODING_HELP = "Read text that is not UTF-8 in this encoding (e.g. cp1252, latin-1)."


class Terminal(Events):
    """Prints what a run says: notes and warnings on stderr, a progress bar per
    essay on stderr (only on a terminal: in a log it would be carriage
    returns), and a summary line per episode on stdout.

    ``quiet`` keeps notes, bars and summaries back (each MP3 path is still
    printed); ``verbose`` adds every setting and where it came from."""

    def __init__(self, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet, self.verbose = quiet, verbose
        self._bars: dict[Path, object] = {}

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
        if self.quiet or total == 0 or not sys.stderr.isatty():
            return
        if essay not in self._bars:
            from tqdm import tqdm

            self._bars[essay] = tqdm(total=total, desc=f"Rendering {essay.name}", unit="segment", file=sys.stderr,
                                     leave=False, dynamic_ncols=True)
        bar = self._bars[essay]
        bar.update(done - bar.n)

    def close(self) -> None:
        """Take down the progress bars (an essay is done, or the run stopped)."""
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audiobook")
def cli() -> None:
    """Turn a written essay into a podcast episode, offline.

    \b
    Typical use:
      audiobook plan essay.md            # see what will be spoken
      audiobook build essay.md           # render show/episodes/essay.mp3
      audiobook inspect show/episodes/essay.mp3
    """


@cli.command()
@click.argument("essays", nargs=-1, required=True, metavar="ESSAY_OR_FEED...")
@click.option("--show", type=click.Path(path_type=Path), default=Path("show"), show_default=True, help=SHOW_HELP)
@click.option("--engine", help="Speech engine: auto (default: piper if installed, else pyttsx3), piper, pyttsx3.")
@click.option("--voice", help="Voice id, name or language of the engine (see 'audiobook voices').")
@click.option("--quote-voice", help="Another voice of the same engine for block quotes.")
@click.option("--rate", type=int, help="Speaking rate in words per minute. Default: 175.")
@click.option("--title", help="Episode title (overrides front matter).")
@click.option("--author", help="Author (overrides front matter and podcast.toml).")
@click.option("--cover", type=click.Path(path_type=Path), help="Cover image, square, at least 1400 px.")
@click.option("--jobs", type=int, help="Parallel synthesis workers. Default: number of cores.")
@click.option("--executor", type=click.Choice(["local", "dask"]),
              help="Where clips are synthesized: local worker processes (default), or a Dask cluster "
                   "(a LocalCluster of --jobs workers unless --scheduler is given). Needs audiobook[cluster].")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler to send synthesis to, e.g. tcp://10.0.0.5:8786 (implies --executor dask "
                   "unless an executor is set); "
                   "its workers need the same versions of audiobook and the engine as this machine.")
@click.option("--latest", type=click.IntRange(min=1), metavar="N",
              help="Of each feed, build only the N newest posts.")
@click.option("--drafts", is_flag=True, help="Also build essays marked as drafts in their front matter.")
@click.option("--encoding", metavar="CODEC", help=ENCODING_HELP)
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed since the last build.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary; print only each MP3 path.")
@click.option("--verbose", "-v", is_flag=True, help="Also print every setting and where it came from.")
def build(essays, show, engine, voice, quote_voice, rate, title, author, cover, jobs, executor, scheduler,
          latest, drafts, encoding, force, quiet, verbose):
    """Render each ESSAY into an episode in the show directory.

    An essay is a text file (.txt), Markdown from any static-site generator
    (.md, front matter in YAML, TOML or JSON), a saved HTML article
    (.html) or an EPUB (.epub). A blog's RSS or Atom feed, as a file or an
    http(s) URL, gives one episode per post; building it again builds only
    new or changed posts.

    Writes episodes/<stem>.mp3 (tagged, with chapters and cover art) and,
    beside it, <stem>.chapters.json, <stem>.vtt, <stem>.srt, <stem>.jpg and
    <stem>.episode.json (its record); then rewrites the show's feed and web
    pages. Clips are cached, so a rebuild only synthesizes what changed,
    and an episode whose inputs did not change at all is left as it is.

    Several essays share one set of synthesis workers.

    \b
    Examples:
      audiobook build seeds/tipping-point.txt --show show --author "A. Writer"
      audiobook build essays/*.md --executor dask --scheduler tcp://10.0.0.5:8786
      audiobook build https://example.com/feed.xml --latest 5
    """
    from audiobook import pipeline
    from audiobook.text.sources import Reading

    flags = dict(engine=engine, voice=voice, quote_voice=quote_voice, rate=rate, title=title,
                 author=author, cover=cover, jobs=jobs, executor=executor, scheduler=scheduler)
    terminal = Terminal(quiet, verbose)
    try:
        _, publication = pipeline.build(essays, show, flags, terminal, force=force,
                                        reading=Reading(encoding=encoding, latest=latest), drafts=drafts)
    finally:
        terminal.close()
    terminal.published(publication, show)


@cli.command()
@click.argument("sources", nargs=-1, required=True, metavar="ESSAY_OR_FEED...")
@click.option("--show", type=click.Path(path_type=Path), default=Path("show"), show_default=True,
              help="Show directory whose podcast.toml applies.")
@click.option("--title", help="Episode title (overrides front matter).")
@click.option("--author", help="Author (overrides front matter).")
@click.option("--rate", type=int, help="Words per minute for the duration estimate.")
@click.option("--latest", type=click.IntRange(min=1), metavar="N", help="Of each feed, plan only the N newest posts.")
@click.option("--encoding", metavar="CODEC", help=ENCODING_HELP)
def plan(sources, show, title, author, rate, latest, encoding):
    """Print the chapters and segments each essay would be spoken as, without audio.

    Shows each segment's speech text after normalisation, its voice role and
    the pause after it, and an estimated duration. A feed is planned post by
    post; drafts are planned too.

    \b
    Examples:
      audiobook plan tests/fixtures/field-notes.md
      audiobook plan https://example.com/feed.xml --latest 1
    """
    from audiobook.pipeline import plan_essays
    from audiobook.text.plan import format_plan
    from audiobook.text.sources import Reading

    flags = dict(title=title, author=author, rate=rate)
    plans = plan_essays(sources, show, flags, Terminal(), Reading(encoding=encoding, latest=latest))
    click.echo("\n\n".join(format_plan(planned.script, planned.settings.rate) for planned in plans))


@cli.command()
@click.argument("mp3", type=click.Path(path_type=Path))
def inspect(mp3):
    """Print the tags and chapters of MP3 as read back from the file, and what
    its record says (GUID, publication time, voice) and whether it still matches.

    \b
    Example:
      audiobook inspect show/episodes/tipping-point.mp3
    """
    from audiobook.pipeline import inspect_episode

    click.echo(inspect_episode(mp3))


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("show"))
@click.option("--title", help="Show title.")
@click.option("--author", help="Show author (also the default author of episodes).")
@click.option("--email", help="Owner email; Apple Podcasts requires one in the feed.")
@click.option("--base-url", help="Public address the show will be served from, e.g. https://example.com/show/.")
@click.option("--category", help="Apple Podcasts category, e.g. 'Arts > Books' (default: Society & Culture).")
@click.option("--language", help="Show language, e.g. en or en-GB.")
@click.option("--cover", type=click.Path(path_type=Path), help="Show art: square JPEG or PNG, 1400-3000 px.")
@click.option("--force", is_flag=True, help="Replace an existing podcast.toml.")
def init(directory, title, author, email, base_url, category, language, cover, force):
    """Write DIRECTORY/podcast.toml (default: ./show), commented, from these flags.

    Every value is checked first; nothing is written if one is wrong, and an
    existing podcast.toml is only replaced with --force.

    \b
    Example:
      audiobook init show --title "Essays, read aloud" --author "Ada Writer" \
        --email ada@example.com --base-url https://example.com/show/ --category "Arts > Books"
    """
    from audiobook.show.init import init_show

    click.echo(f"wrote {init_show(directory, title=title, author=author, email=email, base_url=base_url, category=category, language=language, cover=cover, force=force)}")


@cli.command()
@click.option("--show", type=click.Path(path_type=Path), default=Path("show"), show_default=True,
              help="Show directory.")
@click.option("--base-url", help="Public address of the show (overrides podcast.toml for this run).")
def feed(show, base_url):
    """Rewrite SHOW/feed.xml and the web pages from the episodes already built.

    \b
    Example:
      audiobook feed --show show --base-url https://example.com/show/
    """
    from audiobook.pipeline import publish

    terminal = Terminal()
    terminal.published(publish(show, terminal, base_url), show)


@cli.command()
@click.option("--show", type=click.Path(path_type=Path), default=Path("show"), show_default=True,
              help="Show directory to serve.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 lets a phone on the same network listen.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
def serve(show, host, port):
    """Serve the show for preview, with byte ranges for the audio.

    When podcast.toml sets no base URL, the feed is rewritten for the address
    served, so a podcast app on this machine (or phone) can subscribe to it.

    \b
    Example:
      audiobook serve --show show --host 0.0.0.0 --port 8000
    """
    from audiobook.pipeline import preview

    preview(show, host, port, Terminal())
    click.echo("audiobook: stopped", err=True)


@cli.command()
@click.argument("text")
@click.option("--show", type=click.Path(path_type=Path), default=Path("show"), show_default=True,
              help="Show directory whose lexicon.toml and podcast.toml apply.")
@click.option("--engine", help="Speech engine (default: auto).")
@click.option("--voice", help="Voice id, name or language.")
@click.option("--rate", type=int, help="Words per minute.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("say.wav"), show_default=True,
              help="WAV file to write.")
def say(text, show, engine, voice, rate, out):
    """Speak TEXT once, as a build would, to check a pronunciation by ear.

    Applies speech normalisation and the lexicon (built-in, the show's
    lexicon.toml), prints the text the engine was given and writes a WAV.

    \b
    Example:
      audiobook say "Lupita Nyong'o" && ffplay -autoexit -nodisp say.wav
    """
    from audiobook.pipeline import say_phrase

    speech, path = say_phrase(text, show, dict(engine=engine, voice=voice, rate=rate), out, Terminal())
    click.echo(f"said: {speech}")
    click.echo(f"wrote {path}")


@cli.command()
@click.option("--engine", help="Only this engine.")
@click.option("--language", help="Only voices whose language starts with this, e.g. en.")
def voices(engine, language):
    """List the voices of every installed speech engine.

    \b
    Example:
      audiobook voices --language en
    """
    from audiobook.pipeline import installed_voices

    for name, found in installed_voices(engine, language):
        if isinstance(found, str):
            click.echo(f"{name}: not available: {found}")
            continue
        for voice in found:
            click.echo(f"{name}\t{voice.id}\t{voice.language}\t{voice.name}\t{voice.source}")


@cli.group()
def cache():
    """Where synthesized clips are kept, and how to shrink that store.

    \b
    Example:
      audiobook cache info
      audiobook cache prune --older-than 30
    """


@cache.command("info")
def cache_info():
    """Print where the clip cache is, how many clips it holds and its size.

    \b
    Example:
      audiobook cache info
    """
    from audiobook.audio.cache import ClipCache, cache_stats

    stats = cache_stats(ClipCache())
    click.echo(f"{stats.root}: {stats.clips} clips, {human_size(stats.bytes)}")


@cache.command("prune")
@click.option("--older-than", type=float, default=0, show_default=True, metavar="DAYS",
              help="Only clips not used for this many days (0: every clip).")
def cache_prune(older_than):
    """Delete cached clips; later builds synthesize them again when needed.

    \b
    Example:
      audiobook cache prune --older-than 30
    """
    from audiobook.audio.cache import ClipCache, prune_cache

    removed = prune_cache(ClipCache(), older_than)
    temp = f" and {removed.temp_files} stale temp files" if removed.temp_files else ""
    click.echo(f"removed {removed.clips} clips{temp}, {human_size(removed.bytes)}, from {removed.root}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line on stderr and exit 2 for any error a user can fix."""
    try:
        cli.main(args=argv, prog_name="audiobook", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("audiobook: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AudiobookError as exc:
        click.echo(f"audiobook: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        if os.environ.get("AUDIOBOOK_DEBUG"):
            raise
        click.echo(f"audiobook: error: {exc}", err=True)
        sys.exit(2)
    sys.exit(0)
