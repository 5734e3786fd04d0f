"""The command group every command registers on, and the options they share."""
from __future__ import annotations

import click

from audiobook import __version__

SHOW_HELP = "Show directory to write into (created if missing)."
ENCODING_HELP = "Read text that is not UTF-8 in this encoding (e.g. cp1252, latin-1)."


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
