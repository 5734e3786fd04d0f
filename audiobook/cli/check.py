"""`audiobook check`: the show as podcast apps and directories will read it."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from audiobook.cli.base import cli


@cli.command()
@click.argument("show", type=click.Path(path_type=Path), default=Path("show"))
def check(show):
    """Check SHOW (default: ./show) offline, as apps and directories will read it.

    Reads feed.xml and every file it points at: the feed's structure (RSS, the
    itunes and podcast namespaces, the Podcasting 2.0 schema), Apple's rules
    (art, category, explicit, owner email, unique GUIDs and enclosure URLs),
    enclosure sizes and types, durations, loudness (-16 LUFS, within 1 LU),
    chapters (ID3, JSON and the feed agree), transcripts, and each episode's
    files against its record. Prints one line per problem, then a summary;
    exits 1 when there are problems, 0 when there are none. `build` and `feed`
    run the same checks and do not write a feed that fails them.

    \b
    Example:
      audiobook check show
    """
    from audiobook.show.check import check_show

    findings = check_show(show)
    for line in findings.lines(show):
        click.echo(line)
    count = len(findings.problems)
    read = f"{findings.episodes} episode{'s' if findings.episodes != 1 else ''} and {len(findings.files)} files read"
    if count:
        click.echo(f"audiobook check: {count} problem{'s' if count > 1 else ''} in {show} ({read})")
        sys.exit(1)
    click.echo(f"audiobook check: {show} passes ({read})")
