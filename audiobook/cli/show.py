"""Commands on the show as a whole: init, feed, serve."""
from __future__ import annotations

from pathlib import Path

import click

from audiobook.cli.base import cli
from audiobook.cli.terminal import Terminal


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
