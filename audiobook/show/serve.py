"""Serve a show directory over HTTP for preview, and for a phone on the LAN.

Podcast apps and browsers fetch audio with HEAD and byte-range requests
(they seek; Apple's players will not play audio from a server that ignores
``Range``).
We do not parse ``Range`` ourselves: werkzeug's ``send_file(...,
conditional=True)`` implements RFC 9110 ranges (206 with Content-Range,
suffix ranges, 416 when unsatisfiable), HEAD, ETag and If-Modified-Since, and
its development server is threaded, which matters when a player opens several
range requests at once.

What is ours is the path check. A URL path becomes a file only if every
segment is a plain name (no ``..``, no backslash, no NUL, no leading dot),
and only if the file's real path, after following symlinks, lies inside the
real show directory. Everything else is 404; nothing outside the show is
ever read.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.security import safe_join
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.utils import redirect, send_file
from werkzeug.wrappers import Request

from audiobook.errors import ConfigError, InputError, OutputError
from audiobook.show.mime import MIME_TYPES, mime_type

__all__ = ["MIME_TYPES", "make_app", "open_server", "serve"]

INDEX = "index.html"

Log = Callable[[str], None]
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def _check_show_dir(show_dir: Path) -> str:
    if not show_dir.exists():
        raise InputError(
            f"show directory {show_dir} does not exist; "
            f"build one with `audiobook build ESSAY --show {show_dir}`"
        )
    if not show_dir.is_dir():
        raise InputError(f"{show_dir} is not a directory; pass the show folder with --show")
    return os.path.realpath(show_dir)


def _url_segments(path: str) -> list[str] | None:
    """The URL path as plain name segments, or None if any is unsafe.

    The path is already percent-decoded (so ``%2e%2e`` and ``%2f`` arrive
    here as ``..`` and ``/``). Empty segments (``//``) are dropped.
    """
    segments = []
    for segment in path.split("/"):
        if not segment:
            continue
        if (
            segment.startswith(".")  # "..", ".", and hidden or temp files
            or "\\" in segment
            or "\x00" in segment
            or any(ord(c) < 0x20 or c == "\x7f" for c in segment)
        ):
            return None
        segments.append(segment)
    return segments


def _inside(real_root: str, real_path: str) -> bool:
    return real_path == real_root or real_path.startswith(real_root.rstrip(os.sep) + os.sep)


def make_app(show_dir: Path) -> WSGIApp:
    """A WSGI app serving ``show_dir`` read-only: GET and HEAD, with ranges.

    ``/`` and any directory serve their ``index.html``; a directory asked
    for without its trailing slash is redirected to it, so the page's
    relative links resolve. Raises InputError if the folder is missing.
    """
    real_root = _check_show_dir(Path(show_dir))

    def resolve(segments: list[str]) -> str | None:
        joined = safe_join(real_root, *segments)  # second opinion on the segments
        if joined is None:
            return None
        real = os.path.realpath(joined)
        if not _inside(real_root, real):
            return None  # a symlink that leads out of the show
        return real

    def respond(request: Request):
        if request.method not in ("GET", "HEAD"):
            return MethodNotAllowed(valid_methods=["GET", "HEAD"])
        segments = _url_segments(request.path)
        if segments is None:
            return NotFound()
        target = resolve(segments)
        if target is None:
            return NotFound()
        if os.path.isdir(target):
            if not request.path.endswith("/"):
                # Built from the checked segments, so it always starts with
                # exactly one "/" (never "//host", an open redirect).
                return redirect(quote("/" + "/".join(segments) + "/"), code=308)
            target = resolve([*segments, INDEX])
            if target is None:
                return NotFound()
        if not os.path.isfile(target):
            return NotFound()
        try:
            response = send_file(
                target,
                request.environ,
                mimetype=mime_type(target),
                conditional=True,  # Range/206/416, ETag, If-Modified-Since
                max_age=None,  # -> Cache-Control: no-cache: revalidate, so rebuilds show at once
            )
        except OSError:
            return NotFound()  # vanished or unreadable between the check and the open
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def app(environ, start_response):
        request = Request(environ)
        try:
            response = respond(request)
        except HTTPException as exc:  # send_file raises 416 for an unsatisfiable Range
            response = exc
        if isinstance(response, HTTPException):
            response = response.get_response(environ)
            response.cache_control.no_store = True
        return response(environ, start_response)

    return app


def _control_escaped(text: str) -> str:
    return "".join(c if 0x20 <= ord(c) != 0x7F else f"\\x{ord(c):02x}" for c in text)


class _QuietHandler(WSGIRequestHandler):
    """One short line per request, to the server's ``log`` callable."""

    server: _ShowServer

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not hasattr(self, "command") or not hasattr(self, "path"):
            self.log_message("bad request line")
            return
        code = getattr(code, "value", code)
        range_ = self.headers.get("Range") if self.headers else None
        extra = f" [{range_}]" if range_ else ""
        self.server.say(
            _control_escaped(f"{self.address_string()} {self.command} {self.path}{extra} {code}")
        )

    def log_error(self, format: str, *args) -> None:
        self.log_message(format, *args)

    def log_message(self, format: str, *args) -> None:
        try:
            message = format % args
        except (TypeError, ValueError):
            message = format
        self.server.say(_control_escaped(f"{self.address_string()} {message}"))


class _ShowServer(ThreadedWSGIServer):
    """werkzeug's threaded server, logging through ``say`` instead of its logger.

    Threaded because a player opens several range requests at once; one
    slow phone must not stall the page. (werkzeug closes every connection
    after its response, so there is no keep-alive to tune.)
    """

    def __init__(self, host: str, port: int, app: WSGIApp, say: Log, fd: int) -> None:
        self.say = say
        super().__init__(host, port, app, _QuietHandler, fd=fd)

    def log(self, type: str, message: str, *args) -> None:
        try:
            message = message % args if args else message
        except (TypeError, ValueError):
            pass
        self.say(message)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _bind(host: str, port: int) -> socket.socket:
    """Bind and listen ourselves, so a busy port is an OutputError.

    werkzeug's server prints to stderr and calls ``sys.exit(1)`` when it
    cannot bind; handing it a ready socket (``fd=``) avoids that.
    """
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is out of range; use 1-65535")
    try:
        infos = socket.getaddrinfo(
            host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP,
            socket.AI_PASSIVE,
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--host {host!r} is not an address or known host name ({exc})") from exc
    # IPv4 first for a name like "localhost" that has both.
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, type_, proto, _, address = infos[0]
    sock = socket.socket(family, type_, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # allow TIME_WAIT, not a live listener
        if family == socket.AF_INET6 and host == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            other = port + 1 if port < 65535 else 8000
            raise OutputError(f"port {port} is in use; try --port {other}") from exc
        if exc.errno == errno.EACCES:
            raise OutputError(
                f"not allowed to listen on port {port}; try a port above 1023, e.g. --port 8000"
            ) from exc
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(
                f"--host {host} is not an address of this machine; "
                "use 127.0.0.1, or 0.0.0.0 to be reachable from the network"
            ) from exc
        raise OutputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def _lan_address(family: socket.AddressFamily) -> str:
    """This machine's address on the network, for a 0.0.0.0 / :: listener.

    Connecting a UDP socket sends nothing; it only asks the kernel which
    interface would route to a private address.
    """
    probe = "fd31:f903:5ab5:1::1" if family == socket.AF_INET6 else "10.253.155.219"
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.connect((probe, 58162))
            return s.getsockname()[0]
        except OSError:
            return "::1" if family == socket.AF_INET6 else "127.0.0.1"


def _base_url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    if host in ("0.0.0.0", "::"):
        # "::" is bound dual-stack above; a phone on Wi-Fi most likely has IPv4.
        host = _lan_address(socket.AF_INET)
    if ":" in host:
        host = f"[{host.split('%')[0]}]"
    return f"http://{host}:{port}/"


def open_server(
    show_dir: Path, host: str = "127.0.0.1", port: int = 8000, log: Log | None = None
) -> tuple[BaseWSGIServer, str]:
    """Listen on ``host:port`` and return the (not yet running) server and its base URL.

    Call ``serve_forever()`` on it, and ``shutdown()`` from another thread
    to stop it. ``port=0`` picks a free port; the URL names the real one.
    """
    app = make_app(show_dir)
    sock = _bind(host, port)
    try:
        # werkzeug picks the socket family from the host string, so give it
        # the numeric address we bound, not a name like "localhost".
        bound_host, bound_port = sock.getsockname()[:2]
        server = _ShowServer(bound_host, bound_port, app, log or _stderr, fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate (socket.fromfd dups)
    return server, _base_url(host, server.socket)


def serve(
    show_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str], None] | None = None,
    *,
    log: Log | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve the show until Ctrl-C (or until ``stop`` is set); print nothing.

    ``on_ready`` gets the base URL (``http://127.0.0.1:8000/``) once the
    socket listens; for ``0.0.0.0`` it names this machine's LAN address, the
    one a phone would use. Each request is one line to ``log`` (stderr by
    default). Returns normally on Ctrl-C, so the CLI can say it stopped.
    Raises InputError for a missing show, OutputError for a busy port.
    """
    server, url = open_server(show_dir, host, port, log)
    watcher = None
    if stop is not None:
        watcher = threading.Thread(
            target=lambda: (stop.wait(), server.shutdown()), name="serve-stop", daemon=True
        )
    try:
        if on_ready is not None:
            on_ready(url)
        if watcher is not None:
            watcher.start()
        server.serve_forever(poll_interval=0.2)  # werkzeug's swallows KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if watcher is not None and stop is not None and watcher.is_alive():
            stop.set()
            watcher.join(timeout=2)
