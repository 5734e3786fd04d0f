"""The corpus of real posts, built into one show with the real engine and read
back by the shared episode checker (ffprobe, mutagen, eyeD3, ffmpeg's loudness
and silence detection), as a listener's app would read them.

By default one item of every dialect and format is built (a few minutes on
two cores); the whole corpus, every post of every feed included, with:

    scripts/test tests/test_corpus_episodes.py --whole-corpus
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED_CHECKS, run_cli, tools_missing
from test_corpus import CORPUS, ITEMS

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(tools_missing() is not None, reason=f"{tools_missing()}")]
CHECKER = SHARED_CHECKS / "check_episode.py"


def chosen(whole: bool) -> list[str]:
    """Every item, or the first of each dialect (a feed gives all its posts either way)."""
    seen: set[str] = set()
    files = []
    for row in ITEMS:
        if whole or row["dialect"] not in seen:
            seen.add(row["dialect"])
            files.append(row["file"])
    return files


@pytest.fixture(scope="module")
def corpus_show(request, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    show = root / "show"
    files = chosen(request.config.getoption("--whole-corpus"))
    result = run_cli("build", *(CORPUS / file for file in files), "--show", show, "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    return show


def test_every_episode_of_the_corpus_passes_the_shared_checker(corpus_show):
    if not CHECKER.is_file():
        pytest.skip(f"{CHECKER} is absent (the shared checks folder is not mounted here)")
    records = sorted((corpus_show / "episodes").glob("*.episode.json"))
    assert len(records) >= 12
    failures = {}
    for path in records:
        record = json.loads(path.read_text(encoding="utf-8"))
        mp3 = path.with_name(path.name.replace(".episode.json", ".mp3"))
        result = subprocess.run(
            [sys.executable, str(CHECKER), str(mp3), "--vtt", str(mp3.with_suffix(".vtt")),
             "--chapters-json", str(mp3.with_suffix(".chapters.json")),
             "--min-chapters", str(min(3, len(record["chapters"])))],
            capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            report = json.loads(result.stdout) if result.stdout.startswith("{") else {}
            failures[mp3.name] = report.get("failures", result.stdout + result.stderr)
    assert not failures, failures
