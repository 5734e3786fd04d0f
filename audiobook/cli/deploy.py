"""The command that publishes a show: deploy."""
from __future__ import annotations

from pathlib import Path

import click

from audiobook.cli.base import cli
from audiobook.cli.terminal import Terminal
from audiobook.display import clock, human_size
from audiobook.settings import SHOW_FILE

DEFAULT_SHOW = Path("show")


@cli.command()
@click.argument("places", nargs=-1, metavar="[SHOW] [TARGET]")
@click.option("--endpoint-url", metavar="URL",
              help="API address of an S3-compatible service (R2, B2, Spaces, MinIO); default: podcast.toml "
                   "[deploy] endpoint_url, else Amazon S3.")
@click.option("--base-url", metavar="URL",
              help="Public address TARGET is served from; the feed must be written for it "
                   "(default: podcast.toml base_url).")
@click.option("--delete", is_flag=True, help="Also remove files at the target that are not in the show.")
@click.option("--max-deletes", type=click.IntRange(min=-1), default=256, show_default=True, metavar="N",
              help="With --delete, remove nothing when more than N files would go (-1: no cap).")
@click.option("--dry-run", is_flag=True, help="Check everything and list what would be sent and removed; "
                                              "change nothing.")
@click.option("--force", is_flag=True, help="Upload every file, changed or not (after a change of headers).")
@click.option("--quiet", "-q", is_flag=True, help="No progress; only the summary line.")
@click.option("--verbose", "-v", is_flag=True, help="Also print every file as it is uploaded or removed.")
def deploy(places, endpoint_url, base_url, delete, max_deletes, dry_run, force, quiet, verbose):
    """Upload the show to TARGET: changed files only; audio and sidecars first,
    then the pages, feed.xml last.

    TARGET is s3://bucket/prefix (Amazon S3, or any S3-compatible service with
    --endpoint-url) or a directory such as a mounted web root; by default the
    target under [deploy] in podcast.toml. SHOW defaults to ./show; a single
    argument is the SHOW when it holds a podcast.toml, else the TARGET.
    Credentials come the standard AWS ways: AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials; never podcast.toml.

    Every file is compared with what the target holds (size and MD5), and the
    feed must be written for the address the target is served from; nothing
    is sent unless every check passes.

    \b
    Examples:
      audiobook deploy show s3://my-podcast/show --dry-run
      audiobook deploy show s3://my-podcast --endpoint-url https://ACCOUNT.r2.cloudflarestorage.com
      audiobook deploy show /var/www/podcast --delete
    """
    from audiobook.show.deploy import deploy_show

    show, target = _places(places)
    terminal = Terminal(quiet, verbose)
    try:
        deployment = deploy_show(show, target, endpoint_url=endpoint_url, base_url=base_url, delete=delete,
                                 max_deletes=max_deletes, dry_run=dry_run, force=force, events=terminal)
    finally:
        terminal.close()
    if dry_run:
        for action in deployment.uploads:
            headers = action.file.headers
            click.echo(f"would upload {action.path} ({human_size(action.size)}, {headers.content_type}, "
                       f"{headers.cache_control}): {action.reason}")
        for action in deployment.deletes:
            click.echo(f"would remove {action.path}: {action.reason}")
    click.echo(_summary(deployment))


def _places(places: tuple[str, ...]) -> tuple[Path, str | None]:
    """(SHOW, TARGET) from the arguments: both, one of them, or neither."""
    if len(places) > 2:
        raise click.UsageError("give at most SHOW and TARGET")
    if len(places) == 2:
        return Path(places[0]), places[1]
    if len(places) == 1 and "://" not in places[0] and (Path(places[0]) / SHOW_FILE).is_file():
        return Path(places[0]), None
    return DEFAULT_SHOW, places[0] if places else None


def _summary(deployment) -> str:
    """One line: uploaded, unchanged, removed, bytes, time; what was left and why."""
    would = "would be " if deployment.dry_run else ""
    line = (f"{deployment.target}: {len(deployment.uploads)} {would}uploaded ({human_size(deployment.bytes)}), "
            f"{deployment.unchanged} unchanged, {len(deployment.deletes)} {would}removed")
    if not deployment.dry_run:
        seconds = deployment.seconds
        line += f" in {clock(seconds)}" if seconds >= 60 else f" in {seconds:.1f} s"
    if deployment.kept:
        line += f"; {deployment.kept} not in the show left there (--delete removes them)"
    if deployment.held_back:
        line += f"; {deployment.held_back} not in the show left there (more than --max-deletes)"
    return line
