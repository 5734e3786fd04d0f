"""Shared fixtures and small readers for the end-to-end and CLI tests.

The readers here (VTT/SRT parsers, ffprobe, ebur128, silencedetect) are
deliberately independent of audiobook's own code: the tests read our output
back the way a listener's app or another tool would.

Two episodes are built once per session and shared: the plain-text seed and
the Markdown field notes; so are two shows with a feed: both essays with
`audiobook init` defaults (``feed_show``), and the field notes with every
Podcasting 2.0 setting and an M4B edition (``configured_show``). Every test
that needs a different episode or show copies what it needs into its own tmp_path.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from audiobook.events import Events

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "tipping-point.txt"
FIELD_NOTES = ROOT / "tests" / "fixtures" / "field-notes.md"
SHARED_CHECKS = ROOT.parent / "shared" / "checks"  # beside the clone, in CI and here
CLI_TIMEOUT = 300  # seconds; a cold seed build takes ~5 s, so this only catches hangs


# --- environment ------------------------------------------------------------

def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite tests/golden/ and the corpus' expected plans from this run's output "
                          "(when a change to the feed, the site or reading is intended)")
    parser.addoption("--whole-corpus", action="store_true",
                     help="build every item of tests/fixtures/corpus/, not one of each dialect")


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """One clip cache per test session, never the user's; no AUDIOBOOK_* from the user's shell.

    Set in os.environ, so CLI subprocesses inherit it too.
    """
    patch = pytest.MonkeyPatch()
    for name in list(os.environ):
        if name.startswith("AUDIOBOOK_"):
            patch.delenv(name)
    root = tmp_path_factory.mktemp("cache")
    patch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
    patch.setenv("AUDIOBOOK_CACHE_DIR", str(root / "clips"))
    # The suite speaks with the always-there voice unless a test asks for Piper.
    patch.setenv("AUDIOBOOK_ENGINE", "pyttsx3")
    yield root / "clips"
    patch.undo()


def tools_missing() -> str | None:
    """Why the real pipeline cannot run here, or None."""
    for tool in ("ffmpeg", "ffprobe"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    from audiobook.audio.engines import engine_class

    return engine_class("pyttsx3").unavailable_reason()


requires_pipeline = pytest.mark.skipif(tools_missing() is not None, reason=f"cannot build: {tools_missing()}")


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return SEED


@pytest.fixture(scope="session")
def field_notes_path() -> Path:
    return FIELD_NOTES


# --- running the real CLI ----------------------------------------------------

def cli_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(overrides)
    return env


def run_cli(*args, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m audiobook ARGS`` as a user would run it: real exit status, real stderr.

    Output is decoded here, not in text mode, which would turn a progress
    bar's carriage returns into line breaks.
    """
    result = subprocess.run(
        [sys.executable, "-m", "audiobook", *map(str, args)],
        cwd=cwd, env=env or cli_env(), capture_output=True, timeout=CLI_TIMEOUT,
    )
    result.stdout = result.stdout.decode("utf-8", "replace")
    result.stderr = result.stderr.decode("utf-8", "replace")
    return result


def build_essay(root: Path, name: str, text: str, *flags: str) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """Write ``text`` to ROOT/NAME.txt and build it into ROOT/show through the real CLI:
    (essay, show, the finished process). Skips the test when the tools are missing."""
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    essay = root / f"{name}.txt"
    essay.write_text(text, encoding="utf-8")
    show = root / "show"
    result = run_cli("build", essay, "--show", show, *flags, cwd=root)
    assert result.returncode == 0, result.stderr
    return essay, show, result


def summary_counts(stdout: str) -> tuple[int, int]:
    """(synthesized, from cache) from the summary line of ``audiobook build``."""
    match = re.search(r"(\d+) synthesized, (\d+) from cache", stdout)
    assert match, f"no summary line in {stdout!r}"
    return int(match.group(1)), int(match.group(2))


def visible_lines(stream: str) -> list[str]:
    """Non-empty lines as a terminal shows them: a carriage return rewrites its line (progress bars)."""
    return [line.rsplit("\r", 1)[-1] for line in stream.split("\n") if line.rsplit("\r", 1)[-1].strip()]


MUTE_PLUGIN = '''
import os
import time

import numpy as np
from audiobook.audio.engines import Engine, Voice


class MuteEngine(Engine):
    """A third-party engine that never says anything."""

    name = "mute"

    def version(self):
        return "mute 1.0"

    def voices(self):
        return [Voice("hush", "Hush", "en-us", "mute-plugin")]

    def default_voice(self, language):
        return "hush"

    def synthesize(self, text, voice, rate):
        return np.zeros(0, np.int16), 22050


class CountedEngine(MuteEngine):
    """Says every text as a tone, and notes each process that loads it in $COUNTED_LOADS."""

    name = "counted"

    def __init__(self):
        if os.environ.get("COUNTED_LOADS"):
            with open(os.environ["COUNTED_LOADS"], "a") as loads:
                loads.write(f"{os.getpid()}\\n")

    def version(self):
        return "counted 1.0"

    def synthesize(self, text, voice, rate):
        seconds = max(len(text.split()), 1) * 60.0 / rate
        time = np.arange(int(seconds * 22050)) / 22050
        return (8000 * np.sin(2 * np.pi * 220 * time)).astype(np.int16), 22050


class SlowEngine(CountedEngine):
    """Notes its loads as CountedEngine does, then takes ten minutes over every clip."""

    name = "slow"

    def version(self):
        return "slow 1.0"

    def synthesize(self, text, voice, rate):
        time.sleep(600)
        return super().synthesize(text, voice, rate)
'''


@pytest.fixture(scope="session")
def mute_plugin(tmp_path_factory) -> Path:
    """A folder holding an installed-looking plugin distribution (dist-info with entry points
    for three engines: ``mute``, which says nothing, ``counted``, which notes its loads, and
    ``slow``, which notes its loads and never finishes a clip in a test's time).

    Put it on PYTHONPATH and ``importlib.metadata`` finds the ``mute`` engine
    in the ``audiobook.audio.engines`` group, exactly as for a pip-installed plugin.
    """
    root = tmp_path_factory.mktemp("plugin")
    (root / "audiobook_mute.py").write_text(MUTE_PLUGIN, encoding="utf-8")
    info = root / "audiobook_mute-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: audiobook-mute\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[audiobook.engines]\nmute = audiobook_mute:MuteEngine\n"
                                           "counted = audiobook_mute:CountedEngine\n"
                                           "slow = audiobook_mute:SlowEngine\n",
                                           encoding="utf-8")
    return root


# --- files ------------------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root (dot files included)."""
    root = Path(root)
    return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def words(text: str) -> list[str]:
    """Words as check_episode.py counts them: ASCII letters, digits, apostrophes."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return [w.lower() for w in re.findall(r"[A-Za-z0-9']+", text)]


def is_subsequence(needle: list, haystack: list) -> tuple[bool, int]:
    """Whether needle appears in haystack in order; also how many of needle matched."""
    it = iter(haystack)
    matched = 0
    for item in needle:
        for candidate in it:
            if candidate == item:
                matched += 1
                break
        else:
            return False, matched
    return True, matched


# --- transcripts (independent parsers) ---------------------------------------

@dataclass
class Cue:
    start: float
    end: float
    text: str
    ident: str | None = None
    words: list[tuple[float, str]] = field(default_factory=list)  # VTT: each word and when it starts


_VTT_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?$")
_VTT_TIMESTAMP_TAG = re.compile(rf"<{_VTT_TIME}>")
_SRT_TIMING = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d),(\d{3})$")


def _seconds(hours, minutes, seconds, millis) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def parse_vtt(text: str) -> list[Cue]:
    """A strict-enough WebVTT reader: header, blank-line separated cues, escaped payload.

    Raises ValueError where a browser's parser would drop or misread a cue:
    a missing header, a bad timing line, "-->" in the payload, a raw "<" or a
    bare "&" (cue text is markup), a timestamp tag outside its cue or not after
    the one before it. Each word gets the time of the timestamp tag before it
    (the cue's start before the first tag).
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    blocks = re.split(r"\n{2,}", text.strip("\n"))
    if not re.fullmatch(r"WEBVTT(?:[ \t][^\n]*)?(?:\n[^\n]+)*", blocks[0]):
        raise ValueError(f"not WebVTT: {blocks[0][:40]!r}")
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        ident = None
        if "-->" not in lines[0]:
            ident, lines = lines[0], lines[1:]
        if not lines:
            raise ValueError(f"cue without timing: {block!r}")
        timing = _VTT_TIMING.match(lines[0])
        if not timing:
            raise ValueError(f"bad cue timing line: {lines[0]!r}")
        payload = "\n".join(lines[1:])
        if "-->" in payload:
            raise ValueError(f"'-->' inside cue text: {payload!r}")
        start, end = _seconds(*timing.groups()[:4]), _seconds(*timing.groups()[4:])
        words, at = [], start
        for number, piece in enumerate(_VTT_TIMESTAMP_TAG.split(payload)[::5]):
            if number:
                tag = _VTT_TIMESTAMP_TAG.findall(payload)[number - 1]
                tagged = _seconds(*tag)
                if not at < tagged < end or (number == 1 and tagged <= start):
                    raise ValueError(f"timestamp tag {tag} out of order or outside its cue: {payload!r}")
                at = tagged
            if "<" in piece:
                raise ValueError(f"unescaped '<' in cue text: {payload!r}")
            words += [(at, word) for word in piece.split()]
        if re.search(r"&(?!(?:amp|lt|gt|nbsp|lrm|rlm);)", payload):
            raise ValueError(f"bare '&' in cue text: {payload!r}")
        cues.append(Cue(start, end, html.unescape(_VTT_TIMESTAMP_TAG.sub("", payload)), ident,
                        [(time, html.unescape(word)) for time, word in words]))
    return cues


def parse_srt(text: str) -> list[Cue]:
    """SubRip: numbered blocks, HH:MM:SS,mmm --> HH:MM:SS,mmm, then text lines."""
    cues = []
    for number, block in enumerate(re.split(r"\n{2,}", text.replace("\r\n", "\n").strip("\n")), 1):
        lines = block.split("\n")
        if lines[0] != str(number):
            raise ValueError(f"SRT cue {number} is numbered {lines[0]!r}")
        timing = _SRT_TIMING.match(lines[1])
        if not timing:
            raise ValueError(f"bad SRT timing line: {lines[1]!r}")
        cues.append(Cue(_seconds(*timing.groups()[:4]), _seconds(*timing.groups()[4:]),
                        "\n".join(lines[2:]), lines[0]))
    return cues


# --- ffmpeg / ffprobe ---------------------------------------------------------

def ffprobe(path: Path, *extra: str) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_chapters", *extra,
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def audio_packet_sizes(path: Path) -> list[int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=size",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )
    return [int(packet["size"]) for packet in json.loads(out.stdout)["packets"]]


def _ffmpeg_filter_log(path: Path, audio_filter: str) -> str:
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", audio_filter, "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    return out.stderr


def ebur128(path: Path) -> dict[str, float | None]:
    """Integrated loudness (LUFS) and true peak (dBTP), dual mono, as ffmpeg measures them."""
    log = _ffmpeg_filter_log(path, "ebur128=peak=true:dualmono=true")
    summary = log[log.rfind("Summary:"):]

    def grab(label: str) -> float | None:
        match = re.search(label + r":\s+(-?[\d.]+|-inf)", summary)
        return float(match.group(1)) if match and match.group(1) != "-inf" else None

    return {"integrated": grab(r"\bI"), "true_peak": grab(r"\bPeak")}


def silences(path: Path, noise_db: int = -45, min_seconds: float = 0.15) -> list[tuple[float, float]]:
    log = _ffmpeg_filter_log(path, f"silencedetect=noise={noise_db}dB:d={min_seconds}")
    starts = [float(x) for x in re.findall(r"silence_start: (-?[\d.]+)", log)]
    ends = [float(x) for x in re.findall(r"silence_end: (-?[\d.]+)", log)]
    return list(zip(starts, ends))


# --- episodes built once per session -----------------------------------------

class Collected(Events):
    """What a run said, kept for the test to look at."""

    def __init__(self) -> None:
        self.progress_reports: list[tuple[int, int]] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def progress(self, essay: Path, done: int, total: int) -> None:
        self.progress_reports.append((done, total))


def _build(essay: Path, show: Path, flags: dict | None = None) -> SimpleNamespace:
    from audiobook.pipeline import build

    events = Collected()
    started = time.monotonic()
    (episode,), _ = build([essay], show, flags or {}, events)
    return SimpleNamespace(
        essay=essay,
        show=show,
        mp3=episode.mp3,
        files=episode.files,
        episode=episode,
        progress=events.progress_reports,
        warnings=events.warnings,
        seconds=time.monotonic() - started,
    )


@pytest.fixture(scope="session")
def seed_episode(tmp_path_factory, isolated_cache):
    """seeds/tipping-point.txt built with the real engine and ffmpeg, defaults only."""
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    return _build(SEED, tmp_path_factory.mktemp("seed") / "show")


@pytest.fixture(scope="session")
def field_notes_episode(tmp_path_factory, isolated_cache):
    """tests/fixtures/field-notes.md (front matter, headings, quotes, code) built once."""
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    return _build(FIELD_NOTES, tmp_path_factory.mktemp("field-notes") / "show")


def piper_missing() -> str | None:
    from audiobook.audio.engines import engine_class

    return engine_class("piper").unavailable_reason()


@pytest.fixture(scope="session")
def piper_episode(tmp_path_factory, isolated_cache):
    """field-notes.md spoken by the real Piper voice (the neural extra)."""
    if tools_missing() or piper_missing():
        pytest.skip(f"cannot build with Piper: {tools_missing() or piper_missing()}")
    return _build(FIELD_NOTES, tmp_path_factory.mktemp("piper") / "show", {"engine": "piper"})


# --- shows with a feed, built once per session ------------------------------------

BASE = "https://example.com/show/"


def copy_show(show: Path, target: Path) -> Path:
    """A copy of a show, its hard links kept (a versioned MP3 stays the MP3), as ``cp -a`` makes it."""
    subprocess.run(["cp", "-a", str(show), str(target)], check=True)
    return target


@pytest.fixture(scope="session")
def feed_show(tmp_path_factory, isolated_cache):
    """init + build of both essays through the CLI, with `audiobook init`'s defaults: a two-episode show."""
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    from audiobook.show.init import init_show

    show = tmp_path_factory.mktemp("feed") / "show"
    init_show(show, title="Field Notes & Tipping Points", author="A. Writer", email="owner@example.com",
              base_url=BASE, category="Society & Culture > Documentary")
    result = run_cli("build", SEED, FIELD_NOTES, "--show", show, "-q")
    assert result.returncode == 0, result.stderr
    return SimpleNamespace(show=show, feed=show / "feed.xml", raw=(show / "feed.xml").read_bytes())


# Every Podcasting 2.0 setting podcast.toml has, for configured_show.
CONFIGURED_SHOW = """
license = "CC-BY-4.0"
funding_url = "https://example.com/support"
funding_text = "Buy the writer a coffee"
txt = { verify = "S6lpp-7ZCn8-dZfGc-OoyaG" }  # partytime skips a txt of digits only (read as a number)
new_feed_url = "https://example.org/moved/feed.xml"
"""
CONFIGURED_FRONT_MATTER = "season: 2\nepisode: 7\nsoundbite: The ear forgives a great deal\n"
EDITION_KBPS = 48


@pytest.fixture(scope="session")
def configured_show(tmp_path_factory, isolated_cache, mute_plugin):
    """The field notes (season, episode and soundbite in front matter) in a show with every
    Podcasting 2.0 setting, built by the fast ``counted`` engine, plus an M4B edition made
    here by ffmpeg from the MP3 (until builds make editions) and listed in the record."""
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    from mutagen.mp4 import MP4

    from audiobook.show.init import init_show
    from audiobook.show.record import Edition, EpisodeFiles, read_record

    root = tmp_path_factory.mktemp("configured")
    show = root / "show"
    toml = init_show(show, title="Essays, Read Aloud", author="A. Writer", email="owner@example.com",
                     base_url=BASE, category="Arts > Books")
    settings = toml.read_text(encoding="utf-8").replace('medium = "podcast"', 'medium = "audiobook"')
    toml.write_text(settings.replace("\n[build]", CONFIGURED_SHOW + "\n[build]"), encoding="utf-8")
    essay = root / "field-notes.md"
    essay.write_text(FIELD_NOTES.read_text(encoding="utf-8").replace("---\n", "---\n" + CONFIGURED_FRONT_MATTER, 1),
                     encoding="utf-8")
    env = cli_env(PYTHONPATH=os.pathsep.join([str(ROOT), str(mute_plugin)]))
    result = run_cli("build", essay, "--show", show, "--engine", "counted", "-q", env=env)
    assert result.returncode == 0, result.stderr
    files = EpisodeFiles.of(show, "field-notes")
    m4b = files.edition("m4b")
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(files.mp3), "-vn", "-c:a", "aac", "-b:a", f"{EDITION_KBPS}k",
                    "-f", "mp4", str(m4b)], check=True)
    edition = Edition("m4b", "audio/mp4", sha256(m4b), m4b.stat().st_size, EDITION_KBPS,
                      round(MP4(m4b).info.length, 3))
    files.record.write_text(replace(read_record(files), editions=(edition,)).to_json(), encoding="utf-8")
    result = run_cli("feed", "--show", show, env=env)
    assert result.returncode == 0, result.stderr
    return SimpleNamespace(show=show, feed=show / "feed.xml", files=files, edition=edition, essay=essay)
