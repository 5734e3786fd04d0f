"""The command line: help, plan, inspect, voices, and every way a user can get it wrong.

Good paths run through click's CliRunner. Error paths run the real CLI as a
subprocess (``python -m audiobook``), because only ``main()`` is the error
boundary: the exit status, the one stderr line and the absence of a
traceback are only real there. Each bad input is aimed at a show that
already holds an episode with the same stem, which must come through
byte-for-byte unchanged.
"""
from __future__ import annotations

import ctypes
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from audiobook.cli import cli, main
from audiobook.audio.engines import load_engine
from audiobook.audio.engines import pyttsx3_engine
from audiobook.errors import EngineError
from audiobook.pipeline import plan_essay
from conftest import (
    FIELD_NOTES, ROOT, SEED, build_essay, cli_env, parse_vtt, requires_pipeline, run_cli, summary_counts,
    tree_digest, visible_lines,
)

TINY_TEXT = "Quiet harbours wake slowly at dawn.\n\nGulls argue loudly over the morning catch.\n"


def command_names() -> list[str]:
    return sorted(cli.commands)


# --- help --------------------------------------------------------------------------

def test_group_help_lists_every_command(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in command_names():
        assert re.search(rf"^\s+{name}\s", result.output, re.MULTILINE), name


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help_with_an_example(runner, name):
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert f"audiobook {name} " in result.output  # the example runs this very command


@pytest.mark.parametrize("name", command_names())
def test_every_command_appears_in_the_readme(name):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"audiobook {name}" in readme, f"README.md never mentions `audiobook {name}`"


# --- plan ----------------------------------------------------------------------------

def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.parametrize("essay, expected", [
    (SEED, ["Chapter 1: We are at a tipping point", "Harvey winesteen"]),
    (FIELD_NOTES, ["Chapter 1: Why listen at all", "Chapter 4: Notes for the reader",
                   "twelve percent", "nineteen thirty-two", "notes at example dot org", "quote"]),
])
def test_plan_prints_chapters_and_speech_text_and_makes_no_audio(runner, tmp_path, isolated_cache, essay, expected):
    cache_before = _files(isolated_cache)
    result = runner.invoke(cli, ["plan", str(essay), "--show", str(tmp_path / "show")])
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.stdout, text
    script = plan_essay(essay, tmp_path / "show", {}).script
    assert f"{len(script.chapters)} chapters, {len(script.segments)} segments" in result.stdout
    for number, title in enumerate(script.chapters, 1):
        assert f"Chapter {number}: {title}" in result.stdout
    assert not list(tmp_path.iterdir()), "plan wrote files"
    assert _files(isolated_cache) == cache_before, "plan synthesized clips"


def test_plan_title_flag_overrides_front_matter(runner):
    result = runner.invoke(cli, ["plan", str(FIELD_NOTES), "--title", "Another Name", "--show", "/nonexistent"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("Another Name by Maren Okafor-Lindqvist")


# --- inspect and voices ------------------------------------------------------------------

@pytest.mark.e2e
def test_inspect_prints_title_and_chapters_of_a_built_episode(runner, seed_episode):
    result = runner.invoke(cli, ["inspect", str(seed_episode.mp3)])
    assert result.exit_code == 0, result.output
    chapters = json.loads(seed_episode.files.chapters.read_text(encoding="utf-8"))["chapters"]
    assert re.search(r"^Title:\s+We are at a tipping point$", result.stdout, re.MULTILINE)
    assert re.search(rf"^Chapters:\s+{len(chapters)}$", result.stdout, re.MULTILINE)
    listed = [line for line in result.stdout.splitlines() if re.match(r"^\s+\d+\s+\d\d:\d\d\s+\d\d:\d\d\s", line)]
    assert [line.split(None, 3)[3] for line in listed] == [c["title"] for c in chapters]
    record = json.loads(seed_episode.files.record.read_text(encoding="utf-8"))
    assert re.search(r"^Record:\s+tipping-point\.episode\.json \(matches the MP3\)$", result.stdout, re.MULTILINE)
    assert re.search(rf"^GUID:\s+{record['guid']}$", result.stdout, re.MULTILINE)


@pytest.mark.e2e
def test_inspect_says_when_the_record_no_longer_matches(runner, seed_episode, tmp_path):
    copy = tmp_path / "episodes"
    shutil.copytree(seed_episode.files.folder, copy)
    with open(copy / seed_episode.mp3.name, "ab") as mp3:
        mp3.write(b"\0" * 417)  # a frame's worth of padding: still an MP3, no longer the one recorded
    result = runner.invoke(cli, ["inspect", str(copy / seed_episode.mp3.name)])
    assert result.exit_code == 0, result.output
    assert "DIFFERS from the MP3: rebuild it" in result.stdout


@requires_pipeline
def test_voices_lists_the_espeak_us_english_voice(runner):
    result = runner.invoke(cli, ["voices", "--language", "en-us"])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert ["pyttsx3", "gmw/en-us", "en-us"] in [row[:3] for row in rows]
    assert all(row[2].lower().startswith("en-us") for row in rows)


# --- espeak-ng missing ---------------------------------------------------------------------

@pytest.fixture
def no_espeak(monkeypatch):
    """Make loading libespeak-ng fail as it does where the system package is not installed."""
    real_cdll = ctypes.CDLL

    def cdll(name, *args, **kwargs):
        if name and "espeak" in str(name):
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")
        return real_cdll(name, *args, **kwargs)

    monkeypatch.setattr(pyttsx3_engine.ctypes, "CDLL", cdll)


def test_load_engine_says_espeak_ng_is_missing(no_espeak):
    with pytest.raises(EngineError, match="espeak-ng"):
        load_engine("pyttsx3")


def test_voices_says_espeak_ng_is_missing(runner, no_espeak):
    result = runner.invoke(cli, ["voices"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^pyttsx3: not available: .*espeak-ng", result.stdout, re.MULTILINE)
    assert "gmw/" not in result.stdout


def test_build_without_espeak_ng_is_one_line_from_main(no_espeak, tmp_path, capsys):
    essay = tmp_path / "tiny.txt"
    essay.write_text(TINY_TEXT, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["build", str(essay), "--show", str(tmp_path / "show")])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "espeak-ng" in captured.err
    assert not (tmp_path / "show").exists()


# --- a small built show for the good and bad build paths ---------------------------------------

@pytest.fixture(scope="module")
def tiny_show(tmp_path_factory, isolated_cache):
    """A two-sentence essay built once through the real CLI; bad inputs must never touch it."""
    return build_essay(tmp_path_factory.mktemp("tiny"), "tiny", TINY_TEXT)


@pytest.mark.e2e
def test_build_summary_line(tiny_show):
    essay, show, result = tiny_show
    mp3 = show / "episodes" / "tiny.mp3"
    line, published = result.stdout.splitlines()
    assert line.startswith(f"{mp3}: 0:")
    assert published == f"{show / 'index.html'}: site updated"  # no email yet, so no feed
    manifest = json.loads((show / "episodes" / "tiny.episode.json").read_text(encoding="utf-8"))
    chapters = len(manifest["chapters"])
    assert re.search(rf", {chapters} chapters, [\d.]+ KB, -1[56]\.\d LUFS, pyttsx3 voice gmw/en-us; ", line), line
    synthesized, cached = summary_counts(line)
    assert synthesized + cached == len(manifest["segments"])
    cues = parse_vtt((show / "episodes" / "tiny.vtt").read_text(encoding="utf-8"))
    assert any("Gulls argue loudly" in cue.text for cue in cues)


@pytest.mark.e2e
def test_quiet_build_prints_only_the_mp3_path(tiny_show, tmp_path):
    essay, show, _ = tiny_show
    result = run_cli("build", essay, "--show", tmp_path / "show", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'show' / 'episodes' / 'tiny.mp3'}\n"
    assert result.stderr == ""


@pytest.mark.e2e
def test_verbose_build_says_where_each_setting_came_from(tiny_show, tmp_path):
    essay, _, _ = tiny_show
    env = cli_env(AUDIOBOOK_AUTHOR="Env Author")
    result = run_cli("build", essay, "--show", tmp_path / "show", "--verbose", "--rate", "190", "-q",
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "rate = 190 (from --rate)" in result.stderr
    assert "author = 'Env Author' (from AUDIOBOOK_AUTHOR)" in result.stderr
    assert "bitrate = 96 (from built-in default)" in result.stderr


# --- bad input: exit 2, one line on stderr, nothing touched -------------------------------------

def _jpeg(size: int = 1400) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((size, size), 64).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class Case:
    """Arguments (and environment) for one bad run, made in a scratch folder."""

    def __init__(self, scratch: Path, essay: Path, show: Path, plugin: Path) -> None:
        self.scratch, self.essay, self.show, self.plugin = scratch, essay, show, plugin
        self.env: dict[str, str] | None = None
        self.must_not_exist: list[Path] = []

    def bad_essay(self, data: bytes | None) -> Path:
        """A bad file with the good essay's stem, so a late failure would overwrite its episode."""
        path = self.scratch / "bad" / self.essay.name
        path.parent.mkdir(exist_ok=True)
        if data is not None:
            path.write_bytes(data)
        return path

    def build(self, essay: Path | None = None, *extra, show: Path | None = None) -> list:
        return ["build", essay or self.essay, "--show", show or self.show, *extra]

    def file(self, name: str, data: bytes) -> Path:
        path = self.scratch / name
        path.write_bytes(data)
        return path


def _directory_essay(case: Case) -> list:
    path = case.bad_essay(None)
    path.mkdir()
    return case.build(path)


def _show_under_a_file(case: Case) -> list:
    show = case.file("plain-file", b"not a directory\n") / "show"
    return case.build(None, show=show)


def _show_under_proc(case: Case) -> list:
    show = Path("/proc/audiobook-test-show")
    case.must_not_exist.append(show)
    return case.build(None, show=show)


def _no_ffmpeg(case: Case) -> list:
    empty = case.scratch / "empty-path"
    empty.mkdir()
    case.env = cli_env(PATH=str(empty))
    return case.build()


def _mute_engine(jobs: int):
    """A plugin engine that returns no audio: the build fails halfway through encoding."""
    def make(case: Case) -> list:
        case.env = cli_env(PYTHONPATH=os.pathsep.join([str(ROOT), str(case.plugin)]))
        return case.build(None, "--engine", "mute", "--jobs", str(jobs))
    return make


def _bad_env_rate(case: Case) -> list:
    case.env = cli_env(AUDIOBOOK_RATE="fast")
    return case.build()


# name -> (arguments for the bad run, what the one stderr line must say)
BAD_INPUTS = {
    "missing file": (lambda c: c.build(c.scratch / "bad" / c.essay.name), "no such file"),
    "empty file": (lambda c: c.build(c.bad_essay(b"")), "empty"),
    "whitespace only": (lambda c: c.build(c.bad_essay(b" \n\t\n   \r\n\n")), "only whitespace"),
    "binary file": (lambda c: c.build(c.bad_essay(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)),
                    "binary"),
    "not UTF-8": (lambda c: c.build(c.bad_essay("Café society, naïve façades.\n".encode("latin-1"))), "UTF-8"),
    "a directory": (_directory_essay, "directory"),
    "show under a regular file": (_show_under_a_file, "cannot write to the show directory"),
    "show under /proc": (_show_under_proc, "cannot write to the show directory"),
    "ffmpeg missing": (_no_ffmpeg, "ffmpeg not found"),
    "unknown engine": (lambda c: c.build(None, "--engine", "no-such-engine"), "unknown engine"),
    "unknown voice": (lambda c: c.build(None, "--voice", "xx-no-such-voice"), "unknown voice"),
    "engine gives no audio": (_mute_engine(1), "mute gave no audio 3 times for 'Quiet harbours"),
    "engine gives no audio in a worker": (_mute_engine(2), "mute gave no audio 3 times for 'Quiet harbours"),
    "truncated JPEG cover": (lambda c: c.build(None, "--cover", c.file("cover.jpg", _jpeg()[:20_000])),
                             "cover image"),
    "text file named .jpg": (lambda c: c.build(None, "--cover", c.file("cover.jpg", b"this is not a picture\n")),
                             "cover image"),
    "cover too small": (lambda c: c.build(None, "--cover", c.file("small.jpg", _jpeg(300))), "at least 1400 px"),
    "rate too large": (lambda c: c.build(None, "--rate", "5000"), "--rate: must be between"),
    "zero jobs": (lambda c: c.build(None, "--jobs", "0"), "--jobs: must be between"),
    "bad rate in environment": (_bad_env_rate, "AUDIOBOOK_RATE: must be a whole number"),
    "inspect a text file": (lambda c: ["inspect", c.essay], "not a readable MP3"),
    "inspect a missing file": (lambda c: ["inspect", c.scratch / "nothing.mp3"], "not found"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_touches_nothing(tiny_show, mute_plugin, tmp_path, case):
    essay, show, _ = tiny_show
    before = tree_digest(show)
    bad = Case(tmp_path, essay, show, mute_plugin)
    make_args, message = BAD_INPUTS[case]
    args = make_args(bad)
    result = run_cli(*args, cwd=tmp_path, env=bad.env)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = visible_lines(result.stderr)
    assert len(lines) == 1, f"stderr is not one line: {result.stderr!r}"
    assert lines[0].startswith("audiobook: error: ")
    assert message in lines[0], lines[0]
    assert result.stdout == ""
    assert tree_digest(show) == before, "a failed run changed the existing show"
    for path in bad.must_not_exist:
        assert not os.path.lexists(path)


def test_several_essays_share_one_set_of_workers(mute_plugin, tmp_path):
    """`build a.md b.md --jobs 2`: two worker processes for both essays, not two per essay."""
    loads = tmp_path / "loads"
    essays = []
    for name in ("first", "second"):
        essay = tmp_path / f"{name}.md"
        essay.write_text(f"# The {name} essay\n\nOne sentence here. Another one there. And a third.\n",
                         encoding="utf-8")
        essays.append(essay)
    env = cli_env(PYTHONPATH=os.pathsep.join([str(ROOT), str(mute_plugin)]), COUNTED_LOADS=str(loads))
    result = run_cli("build", *essays, "--show", tmp_path / "show", "--engine", "counted", "--jobs", "2",
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:2]] == [
        str(tmp_path / "show" / "episodes" / f"{name}.mp3") for name in ("first", "second")]
    processes = set(loads.read_text().split())
    assert len(processes) == 2 + 1, "two workers for both essays, and this process"
