"""The feed's Podcasting 2.0 tags, read back with lxml against the files they name:
a show with `audiobook init` defaults (feed_show) and one with every setting and
an M4B edition (configured_show), both built once per session (conftest)."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from audiobook.errors import ConfigError, InputError
from audiobook.pipeline import plan_essay
from audiobook.settings import read_show_file
from audiobook.show.episodes import load_episodes
from audiobook.show.feed import build_feed
from audiobook.show.record import Edition, read_record
from conftest import BASE, FIELD_NOTES, copy_show, run_cli, sha256

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}


def channel_of(feed: Path) -> etree._Element:
    return etree.parse(str(feed)).getroot().find("channel")


def local(url: str, show: Path) -> Path:
    assert url.startswith(BASE), url
    return show / urllib.parse.unquote(url[len(BASE):])


def sri(path: Path) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def records_by_guid(show: Path) -> dict:
    episodes, _ = load_episodes(show)
    return {e.record.guid: e.record for e in episodes}


# --- init defaults ------------------------------------------------------------------

def test_channel_is_locked_to_its_owner_with_a_medium_a_host_and_sized_art(feed_show):
    channel = channel_of(feed_show.feed)
    locked = channel.find("podcast:locked", NS)
    assert (locked.text, locked.get("owner")) == ("yes", "owner@example.com")
    assert channel.findtext("podcast:medium", namespaces=NS) == "podcast"
    assert [(p.text, p.get("role")) for p in channel.findall("podcast:person", NS)] == [("A. Writer", "host")]
    images = channel.findall("podcast:image", NS)
    assert [int(i.get("width")) for i in images] == [1400, 600, 300]
    for image in images:
        with Image.open(local(image.get("href"), feed_show.show)) as art:
            assert art.size == (int(image.get("width")), int(image.get("height")))
            assert (art.format, image.get("type"), image.get("aspect-ratio")) == ("JPEG", "image/jpeg", "1/1")
    for tag in ("license", "funding", "txt", "block"):
        assert channel.find(f"podcast:{tag}", NS) is None, tag


def test_each_item_names_its_writer_and_its_voice_and_offers_its_mp3(feed_show):
    records = records_by_guid(feed_show.show)
    for item in channel_of(feed_show.feed).findall("item"):
        record = records[item.findtext("guid")]
        assert item.findtext("podcast:episode", namespaces=NS) == item.findtext("itunes:episode", namespaces=NS)
        assert item.find("podcast:season", NS) is None and item.find("itunes:season", NS) is None
        people = [(p.text, p.get("group"), p.get("role")) for p in item.findall("podcast:person", NS)]
        assert people == [(record.author, "writing", "author"),
                          (f"{record.engine.voice} (pyttsx3 synthetic voice)", None, "narrator")]
        (alternate,) = item.findall("podcast:alternateEnclosure", NS)
        enclosure = item.find("enclosure")
        assert (alternate.get("type"), alternate.get("length"), alternate.get("default")) == \
               (enclosure.get("type"), enclosure.get("length"), "true")
        assert alternate.get("bitrate") == str(record.audio.bitrate_kbps * 1000)
        assert alternate.find("podcast:source", NS).get("uri") == enclosure.get("url")
        integrity = alternate.find("podcast:integrity", NS)
        assert (integrity.get("type"), integrity.get("value")) == ("sri", sri(local(enclosure.get("url"),
                                                                                     feed_show.show)))


def test_soundbite_is_15_to_60_seconds_of_whole_sentences(feed_show):
    records = records_by_guid(feed_show.show)
    for item in channel_of(feed_show.feed).findall("item"):
        record = records[item.findtext("guid")]
        (bite,) = item.findall("podcast:soundbite", NS)
        start, duration = float(bite.get("startTime")), float(bite.get("duration"))
        assert 15 <= duration <= 60
        first = next(s for s in record.segments if abs(s.start - start) < 0.0005)
        assert first.kind == "body" and bite.text == first.display
        assert any(abs(s.end - (start + duration)) < 0.0005 for s in record.segments)


def test_block_gives_both_block_tags(feed_show):
    show = dataclasses.replace(read_show_file(feed_show.show).show, block=True)
    channel = etree.fromstring(build_feed(show, load_episodes(feed_show.show)[0])).find("channel")
    assert channel.findtext("itunes:block", namespaces=NS) == "Yes"
    assert channel.findtext("podcast:block", namespaces=NS) == "yes"


# --- every setting ---------------------------------------------------------------

def test_configured_channel_carries_every_setting(configured_show):
    channel = channel_of(configured_show.feed)
    assert channel.findtext("podcast:medium", namespaces=NS) == "audiobook"
    license_ = channel.find("podcast:license", NS)
    assert (license_.text, license_.get("url")) == ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/")
    funding = channel.find("podcast:funding", NS)
    assert (funding.text, funding.get("url")) == ("Buy the writer a coffee", "https://example.com/support")
    txt = channel.find("podcast:txt", NS)
    assert (txt.text, txt.get("purpose")) == ("S6lpp-7ZCn8-dZfGc-OoyaG", "verify")
    assert channel.findtext("itunes:new-feed-url", namespaces=NS) == "https://example.org/moved/feed.xml"


def test_configured_item_has_its_season_episode_soundbite_and_edition(configured_show):
    (item,) = channel_of(configured_show.feed).findall("item")
    for prefix in ("podcast", "itunes"):
        assert item.findtext(f"{prefix}:season", namespaces=NS) == "2"
        assert item.findtext(f"{prefix}:episode", namespaces=NS) == "7"
    record = read_record(configured_show.files)
    bite = item.find("podcast:soundbite", NS)
    first = next(s for s in record.segments if s.display.startswith("The ear forgives a great deal"))
    assert float(bite.get("startTime")) == pytest.approx(first.start, abs=0.0005)
    assert 15 <= float(bite.get("duration")) <= 60
    mp3, m4b = item.findall("podcast:alternateEnclosure", NS)
    assert mp3.get("default") == "true" and m4b.get("default") is None
    edition = configured_show.edition
    assert (m4b.get("type"), m4b.get("length"), m4b.get("bitrate"), m4b.get("title")) == \
           ("audio/mp4", str(edition.bytes), str(edition.bitrate_kbps * 1000), "M4B audiobook")
    served = local(m4b.find("podcast:source", NS).get("uri"), configured_show.show)
    assert served.parent.name == edition.sha256[:12]
    assert os.path.samefile(served, configured_show.files.edition("m4b"))
    assert m4b.find("podcast:integrity", NS).get("value") == sri(served)


def test_a_changed_edition_gets_a_new_url_and_the_old_one_goes(configured_show, tmp_path):
    show = copy_show(configured_show.show, tmp_path / "show")
    files = dataclasses.replace(configured_show.files, folder=show / "episodes")
    old = files.enclosure(configured_show.edition.sha256, ".m4b")
    m4b = files.edition("m4b")
    m4b.unlink()
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(files.mp3), "-vn", "-c:a", "aac", "-b:a", "64k", "-f", "mp4",
                    str(m4b)], check=True)
    edition = Edition("m4b", "audio/mp4", sha256(m4b), m4b.stat().st_size, 64, configured_show.edition.duration)
    files.record.write_text(dataclasses.replace(read_record(files), editions=(edition,)).to_json(), encoding="utf-8")
    result = run_cli("feed", "--show", show)
    assert result.returncode == 0, result.stderr
    assert not old.exists() and os.path.samefile(files.enclosure(edition.sha256, ".m4b"), m4b)


def test_an_edition_whose_file_is_gone_is_left_out_with_a_warning(configured_show, tmp_path):
    show = copy_show(configured_show.show, tmp_path / "show")
    (show / "episodes" / "field-notes.m4b").unlink()
    result = run_cli("feed", "--show", show)
    assert result.returncode == 0, result.stderr
    assert "warning: field-notes.m4b is left out of the feed: missing" in result.stderr
    (item,) = channel_of(show / "feed.xml").findall("item")
    assert [a.get("type") for a in item.findall("podcast:alternateEnclosure", NS)] == ["audio/mpeg"]


# --- where the settings come from ----------------------------------------------------

def _essay(tmp_path: Path, front_matter: str) -> Path:
    essay = tmp_path / "essay.md"
    essay.write_text(FIELD_NOTES.read_text(encoding="utf-8").replace("---\n", "---\n" + front_matter, 1),
                     encoding="utf-8")
    return essay


def test_front_matter_season_episode_and_soundbite_reach_the_settings(tmp_path):
    front_matter = "season: '3'\nepisode: 12\nsoundbite: Edison recited \u201cMary had a little lamb\u201d\n"
    planned = plan_essay(_essay(tmp_path, front_matter), tmp_path / "show", {})
    assert (planned.settings.season, planned.settings.episode) == (3, 12)
    assert planned.settings.source("season").startswith("front matter of essay.md")


@pytest.mark.parametrize("front_matter,error,message", [
    ("soundbite: words this essay never says\n", InputError, "soundbite 'words this essay never says' is not in"),
    ("season: two\n", InputError, "front matter season 'two' is not a whole number"),
    ("episode: 0\n", ConfigError, "must be between 1 and 99999, got 0"),
])
def test_bad_front_matter_is_one_line(tmp_path, front_matter, error, message):
    with pytest.raises(error, match=message) as caught:
        plan_essay(_essay(tmp_path, front_matter), tmp_path / "show", {})
    assert "\n" not in str(caught.value)
