"""The corpus of real posts, built into one show with the real engine and read
back by the shared episode checker (ffprobe, mutagen, eyeD3, ffmpeg's loudness
and silence detection), as a listener's app would read them.

By default one item of every dialect and format is built, with espeak-ng (the
reading is what is checked here, and Piper takes four times as long), and the
episodes are checked two at a time; the whole corpus, every post of every feed
included, with:

    scripts/test tests/test_corpus_episodes.py --whole-corpus
"""
from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from audiobook.pipeline import episode_stem
from audiobook.text.sources import essays_from
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


def shows(files: list[str]) -> list[list[Path]]:
    """The items in as few shows as can hold them: the same post as a page and as Markdown
    would be one episode twice (a build refuses that), so they go to different shows."""
    groups: list[tuple[set[str], list[Path]]] = []
    for file in files:
        stems = {episode_stem(essay.path) for essay in essays_from([CORPUS / file])}
        group = next((group for group in groups if not stems & group[0]), None)
        if group is None:
            groups.append((set(stems), [CORPUS / file]))
        else:
            group[0].update(stems)
            group[1].append(CORPUS / file)
    return [members for _, members in groups]


@pytest.fixture(scope="module")
def corpus_shows(request, tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("corpus")
    built = []
    for number, essays in enumerate(shows(chosen(request.config.getoption("--whole-corpus")))):
        show = root / f"show-{number}"
        result = run_cli("build", *essays, "--show", show, "--engine", "pyttsx3", "-q", cwd=root)
        assert result.returncode == 0, result.stderr
        built.append(show)
    return built


def test_every_episode_of_the_corpus_passes_the_shared_checker(corpus_shows):
    if not CHECKER.is_file():
        pytest.skip(f"{CHECKER} is absent (the shared checks folder is not mounted here)")
    records = sorted(path for show in corpus_shows for path in (show / "episodes").glob("*.episode.json"))
    assert len(records) >= 12
    with ThreadPoolExecutor(2) as pool:  # two cores; each check is mostly ffmpeg
        results = dict(zip(records, pool.map(checked, records)))
    failures = {}
    for path, result in results.items():
        if result.returncode != 0:
            mp3 = path.with_name(path.name.replace(".episode.json", ".mp3"))
            report = json.loads(result.stdout) if result.stdout.startswith("{") else {}
            failures[str(mp3.relative_to(mp3.parents[2]))] = report.get("failures", result.stdout + result.stderr)
    assert not failures, failures


def checked(record_path: Path) -> subprocess.CompletedProcess:
    """The shared checker's verdict on the episode of one record."""
    record = json.loads(record_path.read_text(encoding="utf-8"))
    mp3 = record_path.with_name(record_path.name.replace(".episode.json", ".mp3"))
    return subprocess.run(
        [sys.executable, str(CHECKER), str(mp3), "--vtt", str(mp3.with_suffix(".vtt")),
         "--chapters-json", str(mp3.with_suffix(".chapters.json")),
         "--min-chapters", str(min(3, len(record["chapters"])))],
        capture_output=True, text=True, timeout=300)
