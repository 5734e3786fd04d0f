"""Golden files: the feed and the site of a small show, compared with checked-in copies.

The show is built through the real CLI from the two fixtures (the seed essay,
dated, and the Markdown field notes) with the test plugin's ``counted``
engine, which says every text as a tone as long as its words need: no speech
engine's version can change the result, and ffmpeg encodes bit-exact. Only
what is random by design is masked before comparing: the GUIDs (uuid4 at an
episode's first build) and the audio's version in enclosure paths.

When a change to the feed or the site is intended, regenerate the copies and
review their diff like code:

    scripts/test tests/test_golden.py --regen-golden
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from audiobook.show.init import init_show
from conftest import FIELD_NOTES, ROOT, SEED, cli_env, run_cli, tools_missing

GOLDEN = ROOT / "tests" / "golden"
SEED_DATE = "2026-01-05"  # the seed has no date of its own; with one, its pubDate does not depend on today
MASKS = [
    (re.compile(r"(<guid isPermaLink=\"false\">)[0-9a-f-]{36}(</guid>)"), r"\1GUID\2"),
    (re.compile(r"episodes/[0-9a-f]{12}/"), "episodes/AUDIO-VERSION/"),
    (re.compile(r'(type="sri" value=")sha256-[A-Za-z0-9+/=]+(")'), r"\1AUDIO-HASH\2"),
]

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(tools_missing() is not None, reason=f"{tools_missing()}")]


def masked(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture(scope="module")
def golden_show(tmp_path_factory, mute_plugin) -> Path:
    root = tmp_path_factory.mktemp("golden")
    show = root / "show"
    init_show(show, title="Essays & Notes", author="A. Writer", email="owner@example.com",
              base_url="https://example.com/show/", category="Arts > Books")
    seed = root / SEED.name
    seed.write_text(f"---\ndate: {SEED_DATE}\n---\n" + SEED.read_text(encoding="utf-8"), encoding="utf-8")
    env = cli_env(PYTHONPATH=os.pathsep.join([str(ROOT), str(mute_plugin)]))
    result = run_cli("build", seed, FIELD_NOTES, "--show", show, "--engine", "counted", "-q", env=env)
    assert result.returncode == 0, result.stderr
    return show


def published_files(show: Path) -> list[str]:
    """The feed and every page of the site, relative to the show (the static files
    are the package's own, copied as they are)."""
    return ["feed.xml", "index.html", *sorted(f"episodes/{p.name}" for p in (show / "episodes").glob("*.html"))]


def test_the_golden_copies_are_exactly_the_published_files(golden_show, request):
    if request.config.getoption("--regen-golden"):
        for stale in (p for p in GOLDEN.rglob("*") if p.is_file()):
            stale.unlink()
        for name in published_files(golden_show):
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_text(masked((golden_show / name).read_text(encoding="utf-8")), encoding="utf-8")
    kept = sorted(str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file())
    assert kept == sorted(published_files(golden_show))


@pytest.mark.parametrize("name", ["feed.xml", "index.html", "episodes/tipping-point.html",
                                  "episodes/field-notes.html"])
def test_published_file_matches_its_golden_copy(golden_show, name):
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    actual = masked((golden_show / name).read_text(encoding="utf-8"))
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"tests/golden/{name}", f"built {name}", n=2))
        pytest.fail(f"{name} differs from its golden copy (if intended: scripts/test tests/test_golden.py "
                    f"--regen-golden, then review the diff):\n{diff[:6000]}")
