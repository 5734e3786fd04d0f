"""Commands that turn essays into episodes: build, plan, inspect."""
from __future__ import annotations

from pathlib import Path

import click

from audiobook.cli.base import ENCODING_HELP, SHOW_HELP, cli
from audiobook.cli.proof import print_reports, proof_options
from audiobook.cli.terminal import Terminal


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
              help="Where clips are synthesized: local workers (default; processes, or for Piper threads "
                   "sharing one model), or a Dask cluster (a LocalCluster of --jobs workers unless "
                   "--scheduler is given). Needs audiobook[cluster].")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler to send synthesis to, e.g. tcp://10.0.0.5:8786 (implies --executor dask "
                   "unless an executor is set); "
                   "its workers need the same versions of audiobook and the engine as this machine.")
@click.option("--edition", "editions", multiple=True, type=click.Choice(["m4b", "opus"]),
              help="Also make this edition of the audio from the same master: m4b (AAC with chapters, for "
                   "audiobook apps) or opus (the smallest file). Repeatable.")
@click.option("--intro-music", type=click.Path(path_type=Path), metavar="FILE",
              help="Music under the spoken opening, ducked under the voice (any format ffmpeg reads).")
@click.option("--outro-music", type=click.Path(path_type=Path), metavar="FILE",
              help="Music under the spoken closing, ducked under the voice, running on after it.")
@click.option("--latest", type=click.IntRange(min=1), metavar="N",
              help="Of each feed, build only the N newest posts.")
@click.option("--drafts", is_flag=True, help="Also build essays marked as drafts in their front matter.")
@click.option("--encoding", metavar="CODEC", help=ENCODING_HELP)
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed since the last build.")
@click.option("--proof", "listen", is_flag=True,
              help="Listen to each episode built with a recogniser before the feed is written "
                   "(see 'audiobook proof'); with --max-wer, a worse episode keeps the feed as it was.")
@proof_options
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary; print only each MP3 path.")
@click.option("--verbose", "-v", is_flag=True, help="Also print every setting and where it came from.")
def build(essays, show, engine, voice, quote_voice, rate, title, author, cover, jobs, executor, scheduler,
          editions, intro_music, outro_music, latest, drafts, encoding, force, listen, proof_model, max_wer, quiet,
          verbose):
    """Render each ESSAY into an episode in the show directory.

    An essay is a text file (.txt), Markdown from any static-site generator
    (.md, front matter in YAML, TOML or JSON), a saved HTML article
    (.html) or an EPUB (.epub). A blog's RSS or Atom feed, as a file or an
    http(s) URL, gives one episode per post; building it again builds only
    new or changed posts.

    Writes episodes/<stem>.mp3 (tagged, with chapters and cover art) and,
    beside it, <stem>.chapters.json, <stem>.vtt, <stem>.srt, <stem>.jpg and
    <stem>.episode.json (its record), and <stem>.m4b and <stem>.opus when
    those editions are asked for; then rewrites the show's feed and web
    pages. Clips are cached, so a rebuild only synthesizes what changed,
    and an episode whose inputs did not change at all is left as it is.

    Several essays share one set of synthesis workers.

    \b
    Examples:
      audiobook build seeds/tipping-point.txt --show show --author "A. Writer"
      audiobook build essays/*.md --executor dask --scheduler tcp://10.0.0.5:8786
      audiobook build https://example.com/feed.xml --latest 5
      audiobook build essay.md --edition m4b --edition opus --intro-music theme.ogg
    """
    from audiobook import pipeline
    from audiobook.text.sources import Reading

    flags = dict(engine=engine, voice=voice, quote_voice=quote_voice, rate=rate, title=title,
                 author=author, cover=cover, jobs=jobs, executor=executor, scheduler=scheduler,
                 editions=editions or None, intro_music=intro_music, outro_music=outro_music)
    terminal = Terminal(quiet, verbose)

    def proof_before_publishing(episodes) -> None:
        from audiobook.show.proof import proof_show

        reports = proof_show(show, tuple(str(episode.mp3) for episode in episodes), proof_model, terminal)
        terminal.close()
        print_reports(reports, max_wer)

    if (proof_model or max_wer is not None) and not listen:
        raise click.UsageError("--proof-model and --max-wer go with --proof")
    if listen:
        from audiobook.audio.listen import require

        require(proof_model)
    try:
        _, publication = pipeline.build(essays, show, flags, terminal, force=force,
                                        reading=Reading(encoding=encoding, latest=latest), drafts=drafts,
                                        before_publishing=proof_before_publishing if listen else None)
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
