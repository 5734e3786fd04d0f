"""Commands about voices and what they said: say, voices, cache."""
from __future__ import annotations

from pathlib import Path

import click

from audiobook.cli.base import cli
from audiobook.cli.terminal import Terminal
from audiobook.display import human_size


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
