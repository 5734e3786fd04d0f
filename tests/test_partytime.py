"""Podcast Index's own feed parser, podcast-partytime (npm, run under node), on our feeds:
the golden feed (a show with `audiobook init` defaults) and a show with every setting.

What partytime reports per Podcasting 2.0 phase (``pc20support``) is what Podcast
Index credits a feed with. scripts/test installs the package into .node/; the test
is skipped only when node itself is missing, and fails when the package is.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

NODE = shutil.which("node")
PARTYTIME = ROOT / ".node" / "node_modules" / "podcast-partytime"
GOLDEN_FEED = ROOT / "tests" / "golden" / "feed.xml"
PARSE = """
const { parseFeed } = require(process.argv[1]);
const feed = parseFeed(require("fs").readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(feed));
"""

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed; podcast-partytime runs under node")


def partytime(feed: Path) -> dict:
    """The feed as partytime parses it (its FeedObject, as JSON)."""
    if not (PARTYTIME / "package.json").is_file():
        pytest.fail(f"podcast-partytime is not installed in {PARTYTIME}: scripts/test installs it "
                    f"(npm install --prefix .node podcast-partytime@5)")
    result = subprocess.run([NODE, "-e", PARSE, str(PARTYTIME), str(feed)], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "LOG": "silent"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def reported(parsed: dict) -> dict[int, set[str]]:
    return {int(phase): set(tags) for phase, tags in parsed["pc20support"].items()}


def test_init_defaults_give_locked_person_soundbite_and_medium():
    parsed = partytime(GOLDEN_FEED)
    support = reported(parsed)
    assert {"locked", "soundbite", "transcript", "chapters"} <= support[1]
    assert {"person", "episode"} <= support[2]
    assert {"guid", "alternateEnclosure"} <= support[3]
    assert "medium" in support[4]
    assert (parsed["locked"], parsed["podcastOwner"], parsed["medium"]) == (True, "owner@example.com", "podcast")


def test_every_setting_is_reported_in_its_phase(configured_show):
    parsed = partytime(configured_show.feed)
    support = reported(parsed)
    assert {"locked", "funding", "transcript", "chapters", "soundbite"} <= support[1]
    assert {"person", "season", "episode"} <= support[2]
    assert {"license", "guid", "alternateEnclosure"} <= support[3]
    assert "medium" in support[4]
    assert "txt" in support[6]
    assert parsed["podcastTxt"] == [{"value": "S6lpp-7ZCn8-dZfGc-OoyaG", "purpose": "verify"}]
    assert parsed["medium"] == "audiobook"
    assert parsed["license"] == {"identifier": "CC-BY-4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
    assert parsed["podcastFunding"] == [{"message": "Buy the writer a coffee", "url": "https://example.com/support"}]
    (item,) = parsed["items"]
    assert (item["podcastSeason"]["number"], item["podcastEpisode"]["number"]) == (2, 7)
    assert {(p["name"], p["role"]) for p in item["podcastPeople"]} >= {("Maren Okafor-Lindqvist", "Author")}
    assert "Narrator" in {p["role"] for p in item["podcastPeople"]}
    (bite,) = item["podcastSoundbites"]
    assert bite["title"].startswith("The ear forgives a great deal") and 15 <= bite["duration"] <= 60
    mp3, m4b = item["alternativeEnclosures"]
    assert (mp3["type"], mp3["default"], m4b["type"], m4b["default"]) == ("audio/mpeg", True, "audio/mp4", False)
    assert m4b["length"] == configured_show.edition.bytes and m4b["integrity"]["type"] == "sri"
    assert m4b["source"][0]["uri"].endswith(f"/episodes/{configured_show.edition.sha256[:12]}/field-notes.m4b")
