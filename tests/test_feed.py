"""The podcast feed, read back by clients we did not write: lxml, feedparser,
gPodder's podcastparser, ffprobe, and the shared check_feed.py.

One two-episode show with `audiobook init` defaults (conftest's feed_show) and
one with every Podcasting 2.0 setting (configured_show) are built once per
session through the real CLI; tests that change a show work on a copy of it.
"""
from __future__ import annotations

import dataclasses
import email.utils
import io
import json
import shutil
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path
from types import SimpleNamespace

import feedparser
import podcastparser
import pytest
from lxml import etree
from PIL import Image

from audiobook.errors import ConfigError
from audiobook.settings import read_show_file
from audiobook.show.episodes import load_episodes
from audiobook.show.feed import build_feed, write_feed
from audiobook.show.init import init_show
from audiobook.show.site import write_site
from conftest import BASE, FIELD_NOTES, SHARED_CHECKS, build_essay, run_cli

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
TRICKY = 'Tom & Jerry <live> "quoted" \U0001F399\ufe0f \u05e2\u05d1\u05e8\u05d9\u05ea'
TINY_ESSAY = "A short essay, read aloud.\n\nIt has two paragraphs, and that is all it needs.\n"


def parse(raw: bytes) -> etree._Element:
    return etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))


def items(raw: bytes) -> list[etree._Element]:
    return parse(raw).findall("channel/item")


def local_file(url: str, show: Path) -> Path:
    """The file a URL under BASE is served from (query strings are not part of a file's name)."""
    assert url.startswith(BASE), url
    return show / urllib.parse.unquote(urllib.parse.urlsplit(url).path[len(urllib.parse.urlsplit(BASE).path):])


def cli_ok(*args) -> None:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr


def load_show(show: Path):
    return read_show_file(show).show


def episodes_of(show: Path) -> list:
    episodes, warnings = load_episodes(show)
    assert not warnings
    return episodes


def publish(show: Path) -> bytes:
    return write_feed(load_show(show), episodes_of(show)).read_bytes()


def ffprobe_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, check=True).stdout
    return float(out)


@pytest.fixture(scope="session")
def tricky_show(tmp_path_factory, isolated_cache):
    """A show and an episode both titled with markup characters, quotes, emoji and Hebrew."""
    root = tmp_path_factory.mktemp("tricky")
    init_show(root / "show", title=TRICKY, author="\u05d3\u05df", email="owner@example.com", base_url=BASE)
    _, show, _ = build_essay(root, "tricky", TINY_ESSAY, "--title", TRICKY, "-q")
    return SimpleNamespace(show=show, raw=publish(show))


# --- the two-episode show ---------------------------------------------------------

CHANNEL_TAGS = ["title", "link", "description", "language", "lastBuildDate", "generator",
                "itunes:author", "itunes:owner/itunes:name", "itunes:owner/itunes:email", "itunes:image",
                "itunes:category", "itunes:category/itunes:category", "itunes:explicit", "itunes:type",
                "atom:link", "podcast:guid", "podcast:locked"]
ITEM_TAGS = ["title", "description", "content:encoded", "guid", "pubDate", "enclosure", "itunes:duration",
             "itunes:image", "itunes:explicit", "itunes:episode", "podcast:chapters", "podcast:transcript"]


def test_every_tag_in_its_namespace(feed_show):
    channel = parse(feed_show.raw).find("channel")
    for tag in CHANNEL_TAGS:
        element = channel.find(tag, NS)
        assert element is not None and ((element.text or "").strip() or element.attrib), tag
    assert channel.find("itunes:category", NS).get("text") == "Society & Culture"
    assert channel.find("itunes:category/itunes:category", NS).get("text") == "Documentary"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.find("atom:link", NS).get("rel") == "self"
    assert channel.find("atom:link", NS).get("href") == BASE + "feed.xml"
    assert channel.find("itunes:image", NS).get("href") == BASE + "cover.jpg"
    assert channel.findtext("itunes:owner/itunes:email", namespaces=NS) == "owner@example.com"
    assert len(channel.findtext("description").encode("utf-8")) <= 4000
    for item in channel.findall("item"):
        for tag in ITEM_TAGS:
            assert item.find(tag, NS) is not None, tag
        assert item.find("guid").get("isPermaLink") == "false"
        assert item.find("enclosure").get("type") == "audio/mpeg"
        assert item.find("podcast:chapters", NS).get("type") == "application/json+chapters"
        transcripts = {t.get("type"): t for t in item.findall("podcast:transcript", NS)}
        assert set(transcripts) == {"text/vtt", "application/x-subrip", "text/html"}
        assert transcripts["text/vtt"].get("rel") == "captions"
        assert transcripts["text/html"].get("rel") is None


def test_items_newest_first_numbered_from_the_oldest(feed_show):
    found = items(feed_show.raw)
    assert len(found) == 2
    dates = [email.utils.parsedate_to_datetime(item.findtext("pubDate")) for item in found]
    assert dates == sorted(dates, reverse=True)
    assert [item.findtext("itunes:episode", namespaces=NS) for item in found] == ["2", "1"]
    channel = parse(feed_show.raw).find("channel")
    assert email.utils.parsedate_to_datetime(channel.findtext("lastBuildDate")) == dates[0]


def test_feedparser_reads_it_cleanly(feed_show):
    parsed = feedparser.parse(feed_show.raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "Field Notes & Tipping Points"
    records = {e.record.guid: e.record for e in episodes_of(feed_show.show)}
    assert {entry.id for entry in parsed.entries} == set(records)
    for entry in parsed.entries:
        assert entry.title == records[entry.id].title


def test_podcastparser_sees_every_episode(feed_show):
    parsed = podcastparser.parse(BASE + "feed.xml", io.BytesIO(feed_show.raw))
    episodes = {e.record.guid: e for e in episodes_of(feed_show.show)}
    assert len(parsed["episodes"]) == len(episodes) == 2
    for found in parsed["episodes"]:
        episode = episodes[found["guid"]]
        (enclosure,) = found["enclosures"]
        path = local_file(enclosure["url"], feed_show.show)
        assert enclosure["file_size"] == path.stat().st_size == episode.files.mp3.stat().st_size
        assert path.read_bytes() == episode.files.mp3.read_bytes()
        assert found["total_time"] == round(episode.record.audio.duration)
        assert len(found["chapters"]) == len(episode.record.chapters)


def test_enclosures_match_the_files(feed_show):
    for item in items(feed_show.raw):
        enclosure = item.find("enclosure")
        path = local_file(enclosure.get("url"), feed_show.show)
        assert int(enclosure.get("length")) == path.stat().st_size
        assert abs(int(item.findtext("itunes:duration", namespaces=NS)) - ffprobe_duration(path)) <= 1


def test_guids_unique_and_podcast_guid_independent(feed_show):
    guids = [item.findtext("guid") for item in items(feed_show.raw)]
    assert len(set(guids)) == len(guids) == 2
    expected = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "example.com/show/feed.xml")
    assert parse(feed_show.raw).findtext("channel/podcast:guid", namespaces=NS) == str(expected)


def _write_pages(show: Path) -> None:
    write_site(load_show(show), episodes_of(show))


def test_sidecar_urls_map_to_files(feed_show):
    _write_pages(feed_show.show)
    for item in items(feed_show.raw):
        urls = [item.find("podcast:chapters", NS).get("url"), item.find("itunes:image", NS).get("href")]
        urls += [t.get("url") for t in item.findall("podcast:transcript", NS)]
        for url in urls:
            assert local_file(url, feed_show.show).is_file(), url
    cover = local_file(parse(feed_show.raw).find("channel/itunes:image", NS).get("href"), feed_show.show)
    with Image.open(cover) as art:
        assert (art.format, art.mode, art.width == art.height, 1400 <= art.width <= 3000) == ("JPEG", "RGB", True, True)


def test_check_feed_passes(feed_show):
    if not (SHARED_CHECKS / "check_feed.py").is_file():
        pytest.skip(f"the shared checks are not beside this clone ({SHARED_CHECKS})")
    result = subprocess.run([sys.executable, str(SHARED_CHECKS / "check_feed.py"), str(feed_show.feed),
                             "--root", str(feed_show.show), "--base", BASE, "--min-items", "2"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["failures"] == [] and report["items"] == 2 and report["podcastparser_episodes"] == 2


def test_unchanged_show_rewrites_an_identical_feed(feed_show):
    assert publish(feed_show.show) == feed_show.raw


# --- rebuilding -----------------------------------------------------------------

def _copy(show: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "show"
    shutil.copytree(show, copy)
    return copy


def _item_by_guid(raw: bytes) -> dict[str, bytes]:
    return {item.findtext("guid"): etree.tostring(item, method="c14n") for item in items(raw)}


def test_forced_rebuild_keeps_guids_and_items(feed_show, tmp_path):
    show = _copy(feed_show.show, tmp_path)
    cli_ok("build", FIELD_NOTES, "--show", show, "--force", "-q")
    before, after = _item_by_guid(feed_show.raw), _item_by_guid(publish(show))
    assert list(before) == list(after)  # same GUIDs, same order
    for guid, item in before.items():
        assert after[guid] == item


def test_changed_audio_gets_a_new_enclosure_url_and_keeps_its_guid(feed_show, tmp_path):
    show = _copy(feed_show.show, tmp_path)
    essay = tmp_path / "field-notes.md"  # same stem: the same episode, edited
    essay.write_text(FIELD_NOTES.read_text(encoding="utf-8") + "\nOne more sentence, added later.\n",
                     encoding="utf-8")
    cli_ok("build", essay, "--show", show, "-q")
    before, after = _item_by_guid(feed_show.raw), _item_by_guid(publish(show))
    assert list(before) == list(after)
    changed = [guid for guid in before if before[guid] != after[guid]]
    assert len(changed) == 1  # the other episode's item is untouched
    old = etree.fromstring(before[changed[0]]).find("enclosure").get("url")
    new = etree.fromstring(after[changed[0]]).find("enclosure").get("url")
    assert old != new
    assert local_file(new, show).is_file()
    assert not local_file(old, show).exists()  # the stale version is pruned
    assert local_file(new, show).stat().st_size == int(etree.fromstring(after[changed[0]]).find("enclosure").get("length"))


# --- text that must survive ---------------------------------------------------------

def test_tricky_title_round_trips_through_a_real_build(tricky_show):
    root = parse(tricky_show.raw)
    assert root.findtext("channel/title") == TRICKY
    assert root.findtext("channel/item/title") == TRICKY
    parsed = feedparser.parse(tricky_show.raw)
    assert not parsed.bozo
    assert parsed.feed.title == TRICKY and parsed.entries[0].title == TRICKY
    assert podcastparser.parse(BASE + "feed.xml", io.BytesIO(tricky_show.raw))["episodes"][0]["title"] == TRICKY


TEXTS = [
    ("markup", "Tom & Jerry <live> </title> &amp; ]]> <![CDATA[x]]>", None),
    ("quotes", "\"double\" and 'single' and \u201ccurly\u201d", None),
    ("emoji", "\U0001F399\ufe0f \U0001F469\u200d\U0001F52C podcasting", None),
    ("right to left", "\u05e2\u05d1\u05e8\u05d9\u05ea \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u200fmixed", None),
    ("control characters are dropped", "bell\x07 and\x0b tab", "bell and tab"),
]


@pytest.mark.parametrize("what,text,expected", TEXTS, ids=[t[0] for t in TEXTS])
def test_text_round_trips(feed_show, what, text, expected):
    show = dataclasses.replace(load_show(feed_show.show), title=text, author=text, description=text)
    episodes = [dataclasses.replace(e, record=dataclasses.replace(e.record, title=text, description=text))
                for e in episodes_of(feed_show.show)]
    raw = build_feed(show, episodes)
    want = expected if expected is not None else text
    root = parse(raw)
    assert root.findtext("channel/title") == want
    assert root.findtext("channel/itunes:author", namespaces=NS) == want
    assert root.findtext("channel/item/title") == want
    assert root.findtext("channel/item/description") == want
    parsed = feedparser.parse(raw)
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == [want, want]


def test_long_description_is_cut_to_4000_bytes(feed_show):
    show = dataclasses.replace(load_show(feed_show.show), description="\u00e9" * 3000)
    text = parse(build_feed(show, [])).findtext("channel/description")
    assert len(text.encode("utf-8")) <= 4000 and text.startswith("\u00e9" * 1000)


def test_empty_show_is_a_valid_feed(tmp_path):
    init_show(tmp_path, email="owner@example.com", base_url=BASE)
    raw = write_feed(load_show(tmp_path), []).read_bytes()
    assert not feedparser.parse(raw).bozo
    assert items(raw) == []


# --- refusing bad settings, writing nothing ---------------------------------------------

def test_missing_email_writes_nothing(tmp_path):
    (tmp_path / "podcast.toml").write_text(f'[show]\nbase_url = "{BASE}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="email"):
        write_feed(load_show(tmp_path), [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["podcast.toml"]


def test_missing_or_bad_base_url_writes_nothing(tmp_path):
    init_show(tmp_path, email="owner@example.com")
    with pytest.raises(ConfigError, match="--base-url"):
        write_feed(load_show(tmp_path), [])
    with pytest.raises(ConfigError, match="http"):
        write_feed(load_show(tmp_path).served_at("example.com/show"), [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["podcast.toml"]


@pytest.mark.parametrize("size", [(1000, 1000), (1600, 1400)], ids=["too small", "not square"])
def test_bad_art_in_the_show_writes_nothing(tmp_path, size):
    init_show(tmp_path, email="owner@example.com", base_url=BASE)
    Image.new("RGB", size, "white").save(tmp_path / "cover.jpg")
    with pytest.raises(ConfigError, match="cover.jpg"):
        write_feed(load_show(tmp_path), [])
    assert not (tmp_path / "feed.xml").exists()


def test_generated_cover_only_when_the_show_has_none(tmp_path):
    init_show(tmp_path, email="owner@example.com", base_url=BASE, title="Generated Art")
    write_feed(load_show(tmp_path), [])
    with Image.open(tmp_path / "cover.jpg") as art:
        assert (art.format, art.mode, art.size) == ("JPEG", "RGB", (1400, 1400))
    mine = tmp_path / "cover.jpg"
    Image.new("RGB", (1500, 1500), "red").save(mine)
    before = mine.read_bytes()
    write_feed(load_show(tmp_path), [])
    assert mine.read_bytes() == before  # the user's own art is kept
