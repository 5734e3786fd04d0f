"""The command line: parses options, calls the library, prints results.

Each module here registers its commands on the one group in ``base``.
Only ``main`` turns an AudiobookError into one line on stderr and exit status 2.
"""
from __future__ import annotations

import os
import sys

import click

from audiobook.cli import check, deploy, episodes, proof, show, speech  # noqa: F401  (they register their commands)
from audiobook.cli.base import cli
from audiobook.errors import AudiobookError

__all__ = ["cli", "main"]


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
        for line in getattr(exc, "problems", ()):  # a check that failed: its lines, then what it means
            click.echo(line, err=True)
        click.echo(f"audiobook: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        if os.environ.get("AUDIOBOOK_DEBUG"):
            raise
        click.echo(f"audiobook: error: {exc}", err=True)
        sys.exit(2)
    sys.exit(0)
