"""`audiobook serve`: a real server on a real socket, read by curl, requests and http.client.

The byte-range, HEAD and MIME checks are what podcast apps and browsers rely
on to play and seek; the traversal table is what keeps `serve --host 0.0.0.0`
from handing a phone on the LAN anything outside the show folder. Every case
asserts both a 4xx status and that the secret file's bytes never appear.
"""
from __future__ import annotations

import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.test import Client

from audiobook.errors import AudiobookError, InputError, OutputError
from audiobook.show.serve import MIME_TYPES, make_app, serve

ROOT = Path(__file__).resolve().parent.parent
SECRET = b"TOP-SECRET-do-not-serve-4f1c"
MP3 = "episodes/ep.mp3"
CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")


# --- a small show and a server on it ------------------------------------------

# path in the show -> the media type a client must see (parameters aside)
SHOW_FILES = {
    "feed.xml": "application/rss+xml",
    "index.html": "text/html",
    "cover.jpg": "image/jpeg",
    "style.css": "text/css",
    "player.js": "text/javascript",
    "episodes/ep.mp3": "audio/mpeg",
    "episodes/ep.vtt": "text/vtt",
    "episodes/ep.srt": "application/x-subrip",
    "episodes/ep.chapters.json": "application/json",
    "episodes/ep.json": "application/json",
    "episodes/ep.html": "text/html",
    "episodes/ep.jpg": "image/jpeg",
}
# Text types must name their charset, or browsers guess (and mangle é in a VTT cue).
CHARSET_TYPES = {"application/rss+xml", "text/html", "text/vtt", "text/css", "text/javascript"}


def make_show(root: Path) -> Path:
    """A show folder with every kind of file a build writes, and a secret beside it."""
    show = root / "show"
    rng = random.Random(7)
    for name in SHOW_FILES:
        path = show / name
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 20_000 if name.endswith(".mp3") else 300
        path.write_bytes(f"<{name}>".encode() + rng.randbytes(size))
    (show / "about").mkdir()
    (show / "about" / "index.html").write_text("<p>about this show</p>", encoding="utf-8")
    (show / "empty").mkdir()
    (show / ".hidden.tmp").write_bytes(b"half-written feed")

    outside = root / "outside"
    outside.mkdir()
    (root / "secret.txt").write_bytes(SECRET)
    (outside / "secret.txt").write_bytes(SECRET)
    # Symlinks that lead out of the show, and one that stays inside.
    (show / "episodes" / "leak.mp3").symlink_to(root / "secret.txt")
    (show / "leakdir").symlink_to(outside, target_is_directory=True)
    (show / "latest.mp3").symlink_to(show / MP3)
    return show


class Running:
    def __init__(self, show: Path, url: str, lines: list[str]):
        self.show, self.url, self.lines = show, url, lines
        split = urlsplit(url)
        self.host, self.port = split.hostname, split.port

    def raw(self, method: str, target: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        """Send the request target exactly as given (no client-side normalising)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
            for key, value in (headers or {}).items():
                conn.putheader(key, value)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


def start(show: Path, host: str = "127.0.0.1"):
    """serve() on a free port in a thread; returns (Running, stop)."""
    lines: list[str] = []
    ready = threading.Event()
    stop = threading.Event()
    box: dict = {}

    def run():
        try:
            serve(show, host, 0, on_ready=lambda url: (box.update(url=url), ready.set()),
                  log=lines.append, stop=stop)
        except BaseException as exc:  # surfaced to the test below
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "server did not come up"
    if "error" in box:
        raise box["error"]

    def halt():
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "serve() did not return after stop"

    return Running(show, box["url"], lines), halt


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    show = make_show(tmp_path_factory.mktemp("serve"))
    server, halt = start(show)
    yield server
    halt()


def curl(server: Running, path: str, *args: str) -> tuple[int, dict, bytes]:
    """curl with --path-as-is, so `..` reaches the server as typed."""
    with tempfile.TemporaryDirectory() as tmp:
        head_file, body_file = Path(tmp, "head"), Path(tmp, "body")
        subprocess.run(
            [CURL, "-sS", "--path-as-is", "--max-time", "10", "-D", head_file, "-o", body_file,
             *args, f"http://{server.host}:{server.port}{path}"],
            check=True, timeout=20,
        )
        head_bytes = head_file.read_bytes()
        body = body_file.read_bytes() if body_file.exists() else b""
    if "-I" in args:  # curl --head writes the headers as the "body"; what follows is the real one
        assert body.startswith(head_bytes)
        body = body[len(head_bytes):]
    head = head_bytes.decode("latin-1")
    status_line, *header_lines = head.strip().split("\r\n")
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def with_requests(server: Running, path: str, *, head: bool = False, range_: str | None = None):
    headers = {"Range": range_} if range_ else {}
    method = requests.head if head else requests.get
    r = method(server.url.rstrip("/") + path, headers=headers, timeout=10, allow_redirects=False)
    return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content


def fetch(client: str, server: Running, path: str, *, head: bool = False, range_: str | None = None):
    if client == "curl":
        if CURL is None:
            pytest.skip("curl is not installed")
        args = ["-I"] if head else []
        if range_:
            args += ["-H", f"Range: {range_}"]
        return curl(server, path, *args)
    return with_requests(server, path, head=head, range_=range_)


CLIENTS = ["curl", "requests"]


# --- HEAD and byte ranges -------------------------------------------------------

@pytest.mark.parametrize("client", CLIENTS)
def test_head_of_the_mp3_gives_its_size_and_accepts_ranges(running, client):
    size = (running.show / MP3).stat().st_size
    status, headers, body = fetch(client, running, "/" + MP3, head=True)
    assert status == 200
    assert int(headers["content-length"]) == size
    assert headers["accept-ranges"] == "bytes"
    assert headers["content-type"] == "audio/mpeg"
    assert body == b""


def _ranges(size: int):
    # (Range header, slice of the file, Content-Range)
    return [
        ("bytes=0-99", slice(0, 100), f"bytes 0-99/{size}"),
        ("bytes=-100", slice(size - 100, size), f"bytes {size - 100}-{size - 1}/{size}"),
        ("bytes=1000-1099", slice(1000, 1100), f"bytes 1000-1099/{size}"),
        (f"bytes={size - 100}-", slice(size - 100, size), f"bytes {size - 100}-{size - 1}/{size}"),
        # A range running past the end is cut to the end (RFC 9110 14.1.1).
        (f"bytes={size - 100}-{size + 5000}", slice(size - 100, size), f"bytes {size - 100}-{size - 1}/{size}"),
    ]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("case", range(5))
def test_byte_ranges_give_206_with_exactly_those_bytes(running, client, case):
    data = (running.show / MP3).read_bytes()
    range_, part, content_range = _ranges(len(data))[case]
    status, headers, body = fetch(client, running, "/" + MP3, range_=range_)
    assert status == 206
    assert body == data[part]
    assert len(body) == 100
    assert int(headers["content-length"]) == 100
    assert headers["content-range"] == content_range


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("past", [0, 1, 10_000])
def test_a_range_past_the_end_is_416(running, client, past):
    size = (running.show / MP3).stat().st_size
    status, headers, body = fetch(client, running, "/" + MP3, range_=f"bytes={size + past}-")
    assert status == 416
    assert headers["content-range"] == f"bytes */{size}"
    assert not body.startswith(b"<episodes/ep.mp3>")


def test_whole_file_get_matches_the_file(running):
    status, headers, body = with_requests(running, "/" + MP3)
    assert status == 200
    assert body == (running.show / MP3).read_bytes()
    assert "no-cache" in headers["cache-control"]


def test_a_changed_file_is_revalidated_by_etag(running):
    _, headers, _ = with_requests(running, "/feed.xml", head=True)
    status, _, body = running.raw("GET", "/feed.xml", {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""


# --- MIME types -------------------------------------------------------------------

@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("name", sorted(SHOW_FILES))
def test_every_kind_of_show_file_has_its_mime_type(running, client, name):
    status, headers, _ = fetch(client, running, "/" + name, head=True)
    assert status == 200
    media_type, _, params = headers["content-type"].partition(";")
    assert media_type.strip() == SHOW_FILES[name]
    if media_type in CHARSET_TYPES:
        assert params.strip().lower() == "charset=utf-8"
    else:
        assert params == ""
    assert headers.get("x-content-type-options") == "nosniff"


def test_the_mime_table_covers_every_file_a_show_has():
    suffixes = {"." + name.rsplit(".", 1)[1] for name in SHOW_FILES}
    assert suffixes <= set(MIME_TYPES)


# --- index pages and directories --------------------------------------------------

def test_root_serves_index_html(running):
    status, headers, body = with_requests(running, "/")
    assert status == 200
    assert body == (running.show / "index.html").read_bytes()
    assert headers["content-type"].startswith("text/html")


def test_a_directory_serves_its_index_and_is_redirected_to_its_slash(running):
    status, headers, _ = with_requests(running, "/about")
    assert status == 308 and headers["location"] == "/about/"
    status, _, body = with_requests(running, "/about/")
    assert (status, body) == (200, b"<p>about this show</p>")


@pytest.mark.parametrize("path", ["/empty/", "/episodes/", "/nope.mp3", "/.hidden.tmp", "//evil.example"])
def test_no_listing_no_hidden_files_no_open_redirect(running, path):
    status, headers, _ = running.raw("GET", path)
    assert status == 404
    assert "location" not in headers


def test_a_symlink_that_stays_inside_the_show_is_served(running):
    status, _, body = with_requests(running, "/latest.mp3")
    assert status == 200 and body == (running.show / MP3).read_bytes()


def test_only_get_and_head(running):
    status, headers, _ = running.raw("POST", "/" + MP3)
    assert status == 405
    assert set(headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


# --- never outside the show -------------------------------------------------------

def traversal_targets(server: Running) -> list[str]:
    secret_abs = str(server.show.parent / "secret.txt")
    return [
        "/../secret.txt",
        "/../",
        "/%2e%2e/secret.txt",
        "/%2e%2e/",
        "/%2e%2e%2fsecret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/%2e%2e%2f",
        "/episodes/../../secret.txt",
        "/episodes/%2e%2e/%2e%2e/secret.txt",
        "/episodes/..%2f..%2fsecret.txt",
        "/episodes/../../etc/passwd",
        "/../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        secret_abs,  # "/tmp/.../secret.txt" as a URL path
        "/" + secret_abs,  # "//tmp/...": an absolute path after the slash
        "/%2f" + secret_abs.lstrip("/").replace("/", "%2f"),
        "/etc/passwd",
        "/..%5csecret.txt",
        "/episodes\\..\\..\\secret.txt",
        "/episodes/ep.mp3%00/../../secret.txt",
        "/secret.txt%00.mp3",
        "/episodes/leak.mp3",  # symlink to a file outside
        "/leakdir/secret.txt",  # symlinked directory outside
        "/leakdir/",
        "/latest.mp3/../../secret.txt",
    ]


def assert_refused(status: int, body: bytes):
    assert 400 <= status < 500, status
    assert SECRET not in body
    assert b"root:" not in body  # /etc/passwd


@needs_curl
def test_curl_gets_nothing_outside_the_show(running):
    for target in traversal_targets(running):
        if "\\" in target:
            continue  # curl turns a backslash into %5C; http.client below sends it raw
        status, _, body = curl(running, target)
        assert_refused(status, body)


def test_raw_requests_get_nothing_outside_the_show(running):
    targets = traversal_targets(running) + [
        f"http://{running.host}:{running.port}/../secret.txt",  # absolute-form target
    ]
    for target in targets:
        for method in ("GET", "HEAD"):
            status, _, body = running.raw(method, target)
            assert_refused(status, body)


def test_the_wsgi_app_refuses_traversal_without_a_socket(tmp_path):
    show = make_show(tmp_path)
    client = Client(make_app(show))
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt",
                 "/episodes/leak.mp3", "/leakdir/secret.txt", "/a\x00b", "/..\\secret.txt"]:
        response = client.get(path)
        assert_refused(response.status_code, response.get_data())
        response.close()
    response = client.get("/" + MP3)
    assert response.status_code == 200
    assert response.get_data() == (show / MP3).read_bytes()
    response.close()


# --- logging, errors, stopping ------------------------------------------------------

def test_one_quiet_log_line_per_request(tmp_path):
    server, halt = start(make_show(tmp_path))
    try:
        with_requests(server, "/" + MP3, range_="bytes=0-99")
        with_requests(server, "/nope")
    finally:
        halt()
    assert server.lines == [
        f"127.0.0.1 GET /{MP3} [bytes=0-99] 206",
        "127.0.0.1 GET /nope 404",
    ]


def test_a_port_in_use_is_one_clear_line(tmp_path):
    show = make_show(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(OutputError) as caught:
            serve(show, "127.0.0.1", port, on_ready=lambda url: pytest.fail("must not start"))
    assert str(caught.value) == f"port {port} is in use; try --port {port + 1}"
    assert isinstance(caught.value, AudiobookError)


def test_a_missing_show_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        serve(tmp_path / "nope", "127.0.0.1", 0)
    with pytest.raises(InputError):
        make_app(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        make_app(tmp_path / "file")


def test_all_interfaces_reports_an_address_a_phone_can_use(tmp_path):
    server, halt = start(make_show(tmp_path), host="0.0.0.0")
    try:
        assert server.host != "0.0.0.0"
        assert server.url == f"http://{server.host}:{server.port}/"
        socket.inet_aton(server.host)  # an IPv4 address, not a name
        status, _, _ = with_requests(server, "/" + MP3, head=True)
        assert status == 200
    finally:
        halt()


SIGINT_SCRIPT = """
import sys
from pathlib import Path
from audiobook.show.serve import serve
serve(Path(sys.argv[1]), "127.0.0.1", 0, on_ready=lambda url: print(url, flush=True))
print("audiobook: stopped", file=sys.stderr, flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_ctrl_c_stops_cleanly(tmp_path):
    show = make_show(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SIGINT_SCRIPT, str(show)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.head(url + MP3, timeout=10).status_code == 200
        time.sleep(0.3)  # let the server loop go back to waiting
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "Traceback" not in err.decode()
    assert err.decode().strip().endswith("audiobook: stopped")


# --- a show the pipeline really built ------------------------------------------------

@pytest.mark.e2e
def test_serves_a_built_show(seed_episode, tmp_path):
    show = tmp_path / "show"
    shutil.copytree(seed_episode.show, show, symlinks=True)
    server, halt = start(show)
    try:
        data = seed_episode.mp3.read_bytes()
        mp3_path = "/" + seed_episode.mp3.relative_to(seed_episode.show).as_posix()
        status, headers, body = with_requests(server, mp3_path, range_="bytes=-100")
        assert (status, body) == (206, data[-100:])
        assert headers["content-range"] == f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}"
        served = 0
        for path in sorted(p for p in show.rglob("*") if p.is_file() and not p.name.startswith(".")):
            expected = MIME_TYPES.get(path.suffix.lower())
            if expected is None:
                continue
            status, headers, _ = with_requests(server, "/" + path.relative_to(show).as_posix(), head=True)
            assert status == 200, path
            assert headers["content-type"].split(";")[0] == expected, path
            served += 1
        assert served >= 5
    finally:
        halt()
