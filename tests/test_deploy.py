"""`audiobook deploy`, against a real S3 API server: moto in server mode on a
loopback port, reached over HTTP by the CLI as a user runs it, and read back
with boto3, requests, feedparser and podcastparser.

A small show (two short essays, spoken by espeak) is built once for the module
with its base URL on the server, and every test deploys a copy of it into a
bucket of its own. The server keeps a log of the requests it answered (and
can be slowed down), which is how the tests count uploads and see their order.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import feedparser
import podcastparser
import pytest
import requests
from lxml import etree

from audiobook.show.deploy import BRIEF, IMMUTABLE, cache_control, compare, local_files, upload_group
from audiobook.show.targets import LocalTarget, Stored
from tests.conftest import Collected, cli_env, run_cli, tools_missing

boto3 = pytest.importorskip("boto3")
moto_app = pytest.importorskip("moto.moto_server.werkzeug_app")

BUCKET, PREFIX = "podcast", "show"  # where the feed's base URL points
ALPHA = "Alpha, a first essay.\n\nIt says a few things, slowly and in order.\n"
BETA = "Beta, a second essay.\n\nIt is short as well, and ends here.\n"
# path suffix -> the media type a client must see (parameters aside), independent of audiobook's table
TYPES = {".mp3": "audio/mpeg", ".xml": "application/rss+xml", ".html": "text/html", ".vtt": "text/vtt",
         ".srt": "application/x-subrip", ".json": "application/json", ".jpg": "image/jpeg", ".css": "text/css",
         ".js": "text/javascript"}
WRITES = ("PUT", "POST", "DELETE")


# --- a real S3 API server ---------------------------------------------------------------

class S3Server:
    """moto's S3 API (the app moto's ThreadedMotoServer runs), served on a loopback port by
    werkzeug; every request is logged as (method, path) on arrival, and writes can be slowed."""

    def __init__(self) -> None:
        from werkzeug.serving import make_server

        self.requests: list[tuple[str, str]] = []
        self.write_delay = 0.0
        app = moto_app.DomainDispatcherApplication(moto_app.create_backend_app)

        def logged(environ, start_response):
            method = environ["REQUEST_METHOD"]
            self.requests.append((method, urllib.parse.unquote(environ["PATH_INFO"])))
            if method in WRITES and self.write_delay:
                time.sleep(self.write_delay)
            return app(environ, start_response)

        class Quiet(moto_app.MotoRequestHandler):
            def log_request(self, *args) -> None:
                pass

        self.server = make_server("127.0.0.1", 0, logged, threaded=True, request_handler=Quiet)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.client = boto3.client("s3", endpoint_url=self.endpoint)

    def bucket(self, name: str, public: bool = False) -> str:
        self.client.create_bucket(Bucket=name)
        if public:  # what a host does for a podcast: anyone may GET the objects
            self.client.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{name}/*"}]}))
        return name

    def objects(self, bucket: str, prefix: str = PREFIX) -> dict[str, dict]:
        """Path under the prefix -> the listing's entry."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
        return {item["Key"][len(prefix) + 1:]: item for page in pages for item in page.get("Contents", [])}

    def writes(self, bucket: str, since: int = 0) -> list[tuple[str, str]]:
        """(method, path under the prefix) of every write to ``bucket`` logged after the first ``since``."""
        root = f"/{bucket}/{PREFIX}/"
        return [(method, path[len(root):]) for method, path in self.requests[since:]
                if method in WRITES and path.startswith(root)]


@pytest.fixture(scope="module")
def s3():
    """The server, and credentials in the environment (the CLI's subprocesses inherit them);
    no shared config or instance metadata of this machine can stand in for them."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/nonexistent/config",
                            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                            "AWS_EC2_METADATA_DISABLED": "true"}.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            patch.delenv(name, raising=False)
        server = S3Server()
        yield server
        server.server.shutdown()


@pytest.fixture(scope="module")
def built(s3, tmp_path_factory, isolated_cache):
    """Two essays built with espeak into a show whose base URL is the server's BUCKET/PREFIX."""
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    from audiobook.pipeline import build
    from audiobook.show.init import init_show

    root = tmp_path_factory.mktemp("deploy")
    show = root / "show"
    init_show(show, title="Deployed", author="Ada", email="ada@example.com",
              base_url=f"{s3.endpoint}/{BUCKET}/{PREFIX}/")
    for name, text in (("alpha", ALPHA), ("beta", BETA)):
        (root / f"{name}.txt").write_text(text, encoding="utf-8")
    build([root / "alpha.txt", root / "beta.txt"], show, {}, Collected())
    return show


@pytest.fixture
def show(built, tmp_path) -> Path:
    """This test's own copy of the built show."""
    return Path(shutil.copytree(built, tmp_path / "show"))


def deploy(s3, show: Path, bucket: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli("deploy", show, f"s3://{bucket}/{PREFIX}", "--endpoint-url", s3.endpoint, *args, env=env)


def deployable(show: Path) -> dict[str, Path]:
    """What a deploy must send: every file of the show but podcast.toml and hidden (temp) files."""
    return {path.relative_to(show).as_posix(): path for path in show.rglob("*")
            if path.is_file() and path.name != "podcast.toml"
            and not any(part.startswith(".") for part in path.relative_to(show).parts)}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def assert_target_equals_show(s3, bucket: str, show: Path) -> None:
    stored = s3.objects(bucket)
    local = deployable(show)
    assert set(stored) == set(local)
    for path, item in stored.items():
        assert item["ETag"].strip('"') == md5(local[path]), path


def assert_feed_last(writes: list[tuple[str, str]]) -> None:
    puts = [path for method, path in writes if method == "PUT"]
    assert puts[-1] == "feed.xml" and puts.count("feed.xml") == 1
    pages = [i for i, path in enumerate(puts) if path.endswith(".html")]
    others = [i for i, path in enumerate(puts) if not path.endswith((".html", "feed.xml"))]
    assert not pages or not others or max(others) < min(pages), puts


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("audiobook: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# --- headers, order, comparison: rules alone ----------------------------------------------

def test_versioned_audio_is_immutable_and_everything_else_brief():
    assert cache_control("episodes/0123456789ab/essay.mp3") == IMMUTABLE
    for path in ("feed.xml", "index.html", "episodes/essay.html", "episodes/essay.mp3", "episodes/essay.vtt",
                 "episodes/0123456789ab.mp3", "episodes/notahexfolder/essay.mp3"):
        assert cache_control(path) == BRIEF, path
    assert "immutable" in IMMUTABLE and "immutable" not in BRIEF


def test_feed_goes_after_the_pages_which_go_after_everything_else():
    order = sorted(["feed.xml", "index.html", "episodes/a.html", "episodes/a.mp3", "cover.jpg", "static/site.css"],
                   key=lambda path: (upload_group(path), path))
    assert order[-1] == "feed.xml" and set(order[-3:-1]) == {"index.html", "episodes/a.html"}


class FakeTarget(LocalTarget):
    """A listing given by the test; an MD5 only where the test says one is in the metadata."""

    def __init__(self, md5s: dict[str, str]) -> None:
        super().__init__("fake", Path("/nonexistent"))
        self.md5s = md5s

    def stored_md5(self, path: str) -> str | None:
        return self.md5s.get(path)


def test_compare_sends_what_is_new_or_differs_and_trusts_an_md5_in_metadata(tmp_path):
    for name, text in {"feed.xml": "feed", "index.html": "page", "a.mp3": "audio", "b.vtt": "cues",
                       "c.json": "json!", "podcast.toml": "settings", ".x.part": "temp"}.items():
        (tmp_path / name).write_text(text)
    files = local_files(tmp_path, Collected())
    assert set(files) == {"feed.xml", "index.html", "a.mp3", "b.vtt", "c.json"}
    stored = {"a.mp3": Stored(5, files["a.mp3"].md5),  # same ETag: unchanged
              "b.vtt": Stored(4, "0" * 32 + "-2"),  # a multipart ETag, right MD5 in metadata: unchanged
              "c.json": Stored(5, "f" * 32),  # same size, another MD5: changed
              "index.html": Stored(99, None),  # another size: changed
              "gone.mp3": Stored(1, None)}
    uploads, extra, unchanged = compare(files, stored, FakeTarget({"b.vtt": files["b.vtt"].md5}))
    assert [(a.path, a.reason) for a in uploads] == [("c.json", "changed"), ("index.html", "changed"),
                                                    ("feed.xml", "new")]
    assert extra == ["gone.mp3"] and unchanged == 2


# --- against the server ---------------------------------------------------------------------

def test_first_deploy_sends_every_file_with_its_type_and_cache_control(s3, show):
    bucket = s3.bucket("first")
    (show / "episodes" / ".alpha.mp3.x1y2z3.part").write_bytes(b"a temp file of a killed build")
    result = deploy(s3, show, bucket)
    assert result.returncode == 0, result.stderr
    local = deployable(show)
    assert f"{len(local)} uploaded" in result.stdout and "0 unchanged" in result.stdout
    assert_target_equals_show(s3, bucket, show)
    assert_feed_last(s3.writes(bucket))
    versioned = [path for path in local if path.count("/") == 2 and path.endswith(".mp3")]
    assert len(versioned) == 2
    for path in local:
        head = s3.client.head_object(Bucket=bucket, Key=f"{PREFIX}/{path}")
        assert head["ContentType"].split(";")[0] == TYPES[Path(path).suffix], path
        cache = head["CacheControl"]
        if path in versioned:
            assert "immutable" in cache and "max-age=31536000" in cache
        else:
            assert "immutable" not in cache and 0 < int(cache.split("max-age=")[1].split(",")[0]) <= 600, path


def test_second_deploy_of_an_unchanged_show_writes_nothing(s3, show):
    bucket = s3.bucket("second")
    assert deploy(s3, show, bucket).returncode == 0
    since = len(s3.requests)
    result = deploy(s3, show, bucket)
    assert result.returncode == 0, result.stderr
    assert s3.writes(bucket, since) == []
    assert f"0 uploaded (0 B), {len(deployable(show))} unchanged, 0 removed" in result.stdout


def test_after_a_rebuild_only_the_changed_files_go_pages_next_and_the_feed_last(s3, show, tmp_path):
    from audiobook.pipeline import build

    bucket = s3.bucket("rebuilt")
    assert deploy(s3, show, bucket).returncode == 0
    before = {path: md5(file) for path, file in deployable(show).items()}
    essay = tmp_path / "alpha.txt"
    essay.write_text(ALPHA + "\nAnd now it says one thing more.\n", encoding="utf-8")
    build([essay], show, {}, Collected())
    changed = {path for path, file in deployable(show).items() if before.get(path) != md5(file)}
    since = len(s3.requests)
    result = deploy(s3, show, bucket)
    assert result.returncode == 0, result.stderr
    writes = s3.writes(bucket, since)
    assert {path for _, path in writes} == changed
    assert {"feed.xml", "index.html", "episodes/alpha.mp3", "episodes/alpha.html"} <= changed
    assert all("alpha" in path for path in changed - {"feed.xml", "index.html"}), changed
    assert_feed_last(writes)


def test_delete_removes_a_deleted_episodes_files_within_the_cap(s3, show):
    from audiobook.pipeline import publish

    bucket = s3.bucket("deleted")
    assert deploy(s3, show, bucket).returncode == 0
    for path in (show / "episodes").glob("beta.*"):
        path.unlink()
    publish(show)  # the feed and pages without beta; its audio version is pruned
    gone = {path for path in s3.objects(bucket) if "beta" in path}
    assert len(gone) >= 7

    kept = deploy(s3, show, bucket)
    assert kept.returncode == 0 and f"{len(gone)} not in the show left there" in kept.stdout
    assert gone <= set(s3.objects(bucket))

    since = len(s3.requests)
    dry = deploy(s3, show, bucket, "--delete", "--dry-run")
    assert dry.returncode == 0 and s3.writes(bucket, since) == []
    assert {line.split()[2].rstrip(":") for line in dry.stdout.splitlines() if line.startswith("would remove")} == gone

    capped = deploy(s3, show, bucket, "--delete", "--max-deletes", "2")
    assert capped.returncode == 0 and "more than --max-deletes 2" in capped.stderr
    assert gone <= set(s3.objects(bucket))

    removed = deploy(s3, show, bucket, "--delete")
    assert removed.returncode == 0 and f"{len(gone)} removed" in removed.stdout
    assert_target_equals_show(s3, bucket, show)


def test_a_deploy_killed_part_way_and_run_again_leaves_the_target_equal_to_the_show(s3, show):
    bucket = s3.bucket("killed")
    s3.write_delay = 0.25
    try:
        process = subprocess.Popen([sys.executable, "-m", "audiobook", "deploy", str(show), f"s3://{bucket}/{PREFIX}",
                                    "--endpoint-url", s3.endpoint], env=cli_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not s3.writes(bucket) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.4)  # the first uploads are through, most are not
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        s3.write_delay = 0.0
    time.sleep(0.5)  # requests the server had begun finish
    partial = s3.objects(bucket)
    assert partial and "feed.xml" not in partial  # an app still sees no feed, so no entry without audio
    assert len(partial) < len(deployable(show))
    result = deploy(s3, show, bucket)
    assert result.returncode == 0, result.stderr
    assert_target_equals_show(s3, bucket, show)


def test_the_deployed_feed_parses_and_every_url_in_it_is_on_the_server(s3, show):
    bucket = s3.bucket(BUCKET, public=True)
    assert deploy(s3, show, bucket).returncode == 0
    base = f"{s3.endpoint}/{BUCKET}/{PREFIX}/"
    response = requests.get(base + "feed.xml", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/rss+xml")
    raw = response.content

    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == 2
    episodes = podcastparser.parse(base + "feed.xml", io.BytesIO(raw))["episodes"]
    assert len(episodes) == 2 and all(len(episode["enclosures"]) == 1 for episode in episodes)

    urls = {value for element in etree.fromstring(raw).iter(tag=etree.Element)
            for value in (*element.attrib.values(), (element.text or "").strip()) if value.startswith(base)}
    enclosures = {enclosure["url"] for episode in episodes for enclosure in episode["enclosures"]}
    assert enclosures <= urls and len(urls) >= 10
    local = deployable(show)
    for url in urls:
        if url.endswith("/"):  # the show's page: a static host serves a folder's index.html
            url += "index.html"
        path = urllib.parse.unquote(url[len(base):])
        got = requests.get(url, timeout=10)
        assert got.status_code == 200, url
        assert got.content == local[path].read_bytes(), url

    for url in enclosures:
        data = local[urllib.parse.unquote(url[len(base):])].read_bytes()
        ranged = requests.get(url, headers={"Range": "bytes=1000-4095"}, timeout=10)
        assert ranged.status_code == 206 and ranged.content == data[1000:4096]
        assert ranged.headers["Content-Range"] == f"bytes 1000-4095/{len(data)}"
        assert ranged.headers["Content-Type"] == "audio/mpeg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("case", ["no bucket", "wrong endpoint", "no credentials", "another base URL"])
def test_refused_in_one_line_before_anything_is_sent(s3, show, case):
    args, env = [], None
    bucket = "no-such-bucket" if case == "no bucket" else s3.bucket("refused-" + case.replace(" ", "-"))
    if case == "wrong endpoint":
        args = ["--endpoint-url", f"http://127.0.0.1:{free_port()}"]
    if case == "no credentials":
        env = cli_env(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="")
    if case == "another base URL":
        args = ["--base-url", "https://cdn.example.com/podcast/"]
    since = len(s3.requests)
    result = run_cli("deploy", show, f"s3://{bucket}/{PREFIX}", "--endpoint-url", s3.endpoint, *args, env=env)
    line = one_error_line(result)
    assert {"no bucket": "does not exist", "wrong endpoint": "cannot reach", "no credentials": "no credentials",
            "another base URL": "https://cdn.example.com/podcast/"}[case] in line
    assert [request for request in s3.requests[since:] if request[0] in WRITES] == []


def test_podcast_toml_names_the_target_and_never_holds_credentials(s3, show):
    bucket = s3.bucket("from-toml")
    toml = show / "podcast.toml"
    settings = toml.read_text(encoding="utf-8")
    assert "\n[deploy]\n" in settings  # audiobook init writes the table, its keys commented out
    toml.write_text(settings.replace("\n[deploy]\n", f'\n[deploy]\ntarget = "s3://{bucket}/{PREFIX}"\n'
                                                     f'endpoint_url = "{s3.endpoint}"\n'), encoding="utf-8")
    result = run_cli("deploy", show)
    assert result.returncode == 0, result.stderr
    assert_target_equals_show(s3, bucket, show)

    toml.write_text(settings.replace("\n[deploy]\n", '\n[deploy]\naws_secret_access_key = "hunter2"\n'),
                    encoding="utf-8")
    assert "credentials do not belong" in one_error_line(run_cli("deploy", show))


def test_a_directory_target_gets_the_same_files_atomically_and_incrementally(s3, show, tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "old.html").write_text("a page of another time")
    first = run_cli("deploy", show, www)
    assert first.returncode == 0, first.stderr
    local = deployable(show)
    assert "1 not in the show left there" in first.stdout
    on_disk = {path: file for path, file in deployable(www).items() if path != "old.html"}
    assert {path: md5(file) for path, file in on_disk.items()} == {path: md5(file) for path, file in local.items()}
    times = {path: file.stat().st_mtime_ns for path, file in on_disk.items()}

    toml = show / "podcast.toml"  # now named in podcast.toml, relative to the show
    toml.write_text(toml.read_text(encoding="utf-8").replace("\n[deploy]\n", '\n[deploy]\ntarget = "../www"\n'),
                    encoding="utf-8")
    again = run_cli("deploy", show, "--delete")
    assert again.returncode == 0, again.stderr
    assert f"0 uploaded (0 B), {len(local)} unchanged, 1 removed" in again.stdout
    assert not (www / "old.html").exists()
    assert {path: file.stat().st_mtime_ns for path, file in deployable(www).items()} == times

    inside = run_cli("deploy", show, show / "episodes")
    assert "overlap" in one_error_line(inside)
