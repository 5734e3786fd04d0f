"""`audiobook check`: a freshly built show passes; each way a show breaks is named in
one line; `feed` and `build` refuse to write a feed that fails, with the same lines.

The shows are conftest's (built once per session); each test breaks a copy of one
(``cp -a``, so a versioned MP3 stays a hard link to the MP3, as in a real show).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from mutagen.id3 import ID3
from PIL import Image

from audiobook.settings import read_show_file
from audiobook.show.captions import CaptionError, read_webvtt
from audiobook.show.check import Findings, check_feed
from audiobook.show.feedrules import feed_rules
from conftest import FIELD_NOTES, copy_show, run_cli

PROBLEM = re.compile(r"^(\S.*?): (.+)$")


def check(show: Path, status: int) -> list[str]:
    """The problem lines of `audiobook check SHOW`, which must exit with ``status``."""
    result = run_cli("check", show)
    assert result.returncode == status, result.stdout + result.stderr
    *lines, summary = result.stdout.splitlines()
    assert summary.startswith("audiobook check: "), summary
    assert (f"{len(lines)} problem" in summary) if status else ("passes" in summary and not lines), summary
    return lines


def test_a_freshly_built_show_passes(feed_show):
    assert check(feed_show.show, 0) == []


def test_a_show_with_every_setting_and_an_edition_passes(configured_show):
    assert check(configured_show.show, 0) == []


def _delete_mp3(show: Path) -> None:
    (show / "episodes" / "tipping-point.mp3").unlink()


def _shorter_mp3(show: Path) -> None:
    """The first 30 s, written over the MP3 in place (as ``cp short.mp3 episodes/...`` would)."""
    short = show.parent / "short.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(show / "episodes" / "tipping-point.mp3"), "-t", "30",
                    "-c:a", "libmp3lame", "-b:a", "96k", str(short)], check=True)
    shutil.copyfile(short, show / "episodes" / "tipping-point.mp3")


def _small_cover(show: Path) -> None:
    Image.new("RGB", (600, 600), "teal").save(show / "cover.jpg", "JPEG")


def _move_a_chapter(show: Path) -> None:
    tag = ID3(show / "episodes" / "tipping-point.mp3")
    second = sorted(tag.getall("CHAP"), key=lambda chap: chap.start_time)[1]
    second.start_time += 5000
    tag.save(v2_version=3)


def _repeat_a_guid(show: Path) -> None:
    feed = show / "feed.xml"
    text = feed.read_text(encoding="utf-8")
    first, second = re.findall(r'<guid isPermaLink="false">([^<]+)</guid>', text)
    feed.write_text(text.replace(second, first), encoding="utf-8")


BREAKAGES = [
    ("MP3 deleted", _delete_mp3, r"episodes/tipping-point\.mp3: missing; its record tipping-point\.episode\.json "
                                 r"is still there: build the episode again"),
    ("MP3 shorter", _shorter_mp3, r"episodes/tipping-point\.mp3: \d+ bytes, the feed says \d+"),
    ("cover 600 px", _small_cover, r"cover\.jpg: is 600x600 px; podcast apps need at least 1400x1400"),
    ("CHAP frame moved", _move_a_chapter, r"episodes/tipping-point\.mp3: chapter 2 starts at 00:0\d:\d\d\.\d{3} in "
                                          r"its ID3 tag, 00:0\d:\d\d\.\d{3} in tipping-point\.chapters\.json and "
                                          r"the feed's psc:chapters"),
    ("GUID repeated", _repeat_a_guid, r"feed\.xml: guid [0-9a-f-]{36} is shared by 2 items \(item 'We are at a "
                                      r"tipping point', item 'Field Notes .*'\); each episode needs its own"),
]


@pytest.mark.parametrize("breakage,expected", [(b, e) for _, b, e in BREAKAGES], ids=[i for i, _, _ in BREAKAGES])
def test_each_breakage_is_named_in_one_line(feed_show, tmp_path, breakage, expected):
    show = copy_show(feed_show.show, tmp_path / "show")
    breakage(show)
    lines = check(show, 1)
    assert any(re.fullmatch(re.escape(str(show)) + "/" + expected, line) for line in lines), "\n".join(lines)
    assert all(PROBLEM.match(line) and line.startswith(f"{show}/") for line in lines)


def test_feed_and_build_refuse_a_feed_that_fails_with_the_same_lines(feed_show, tmp_path):
    show = copy_show(feed_show.show, tmp_path / "show")
    chapters = show / "episodes" / "field-notes.chapters.json"
    chapters.write_text(re.sub(r'"startTime": 4\d\.\d+', '"startTime": 40.0', chapters.read_text()), encoding="utf-8")
    expected = check(show, 1)
    assert len(expected) == 1
    assert expected[0].startswith(f"{chapters}: chapter 2 starts at 00:00:40.000 in field-notes.chapters.json, ")
    feed = (show / "feed.xml").read_bytes()
    for command in (["feed", "--show", show], ["build", FIELD_NOTES, "--show", show, "-q"]):
        result = run_cli(*command)
        assert result.returncode == 1, result.stderr
        *lines, error = result.stderr.splitlines()
        assert lines == expected
        assert error.startswith(f"audiobook: error: {show}/feed.xml not written: 1 problem above (the feed.xml "
                                f"there is kept)")
        assert (show / "feed.xml").read_bytes() == feed


def test_edition_files_are_checked_against_the_record(configured_show, tmp_path):
    show = copy_show(configured_show.show, tmp_path / "show")
    m4b = show / "episodes" / "field-notes.m4b"
    m4b.unlink()
    shutil.copyfile(show / "episodes" / "field-notes.mp3", m4b)  # an MP3 under the M4B's name
    lines = check(show, 1)
    assert f"{m4b}: is MP3 audio, its record says audio/mp4" in lines
    assert any(line.startswith(f"{m4b}: ") and "bytes, its record says" in line for line in lines)
    m4b.unlink()
    assert f"{m4b}: missing; the episode's record lists it: rebuild the episode with --force" in check(show, 1)


def test_loudness_off_target_is_named(feed_show, tmp_path):
    show = copy_show(feed_show.show, tmp_path / "show")
    mp3 = show / "episodes" / "tipping-point.mp3"
    quiet = tmp_path / "quiet.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-af", "volume=-8dB", "-c:a", "libmp3lame", "-b:a",
                    "96k", str(quiet)], check=True)
    shutil.copyfile(quiet, mp3)
    assert any(re.fullmatch(rf"{re.escape(str(mp3))}: measures -2\d\.\d LUFS, \d\.\d LU off the -16 LUFS target "
                            r"\(at most 1 LU\)", line) for line in check(show, 1))


def test_word_timings_inside_vtt_cues_pass_and_misplaced_ones_are_named(feed_show, tmp_path):
    """The build's word timestamp tags (<00:00:01.250>word) are WebVTT: in order, inside their cue."""
    show = copy_show(feed_show.show, tmp_path / "show")
    vtt = show / "episodes" / "field-notes.vtt"
    tags = re.findall(r"<(\d\d:\d\d:\d\d\.\d\d\d)>", vtt.read_text(encoding="utf-8"))
    assert len(tags) > 100  # every word after a cue's first is timed
    assert check(show, 0) == []
    vtt.write_text(re.sub(r"<(\d\d:\d\d:\d\d\.\d\d\d)>", "<99:00:00.000>", vtt.read_text(encoding="utf-8"), count=1),
                   encoding="utf-8")
    assert f"{vtt}: cue 1: timestamp tag <99:00:00.000> lies outside the cue or goes back" in check(show, 1)


VTT_MISTAKES = [
    ("no header", "1\n00:00:00.000 --> 00:00:01.000\nHi\n", "does not start with the line WEBVTT"),
    ("bad timing", "WEBVTT\n\n00:00.000 -> 00:01.000\nHi\n", "cue 1: bad timing line"),
    ("backwards", "WEBVTT\n\n00:02.000 --> 00:01.000\nHi\n", "cue 1: ends at 1.000 s, not after it starts"),
    ("raw <", "WEBVTT\n\n00:00.000 --> 00:01.000\n1 < 2\n", "cue 1: '<' that starts no WebVTT tag"),
    ("bare &", "WEBVTT\n\n00:00.000 --> 00:01.000\nTom & Jerry\n", "cue 1: a bare '&'"),
    ("timestamp after the cue", "WEBVTT\n\n00:00.000 --> 00:01.000\nA <00:00:02.000>b\n", "lies outside the cue"),
]


@pytest.mark.parametrize("text,message", [(t, m) for _, t, m in VTT_MISTAKES], ids=[i for i, _, _ in VTT_MISTAKES])
def test_vtt_a_player_would_misread_is_refused(text, message):
    with pytest.raises(CaptionError, match=re.escape(message)):
        read_webvtt(text)


def test_vtt_markup_a_player_reads_is_accepted():
    text = ("WEBVTT - with notes\n\nNOTE a comment\n\nintro\n00:00.000 --> 00:02.500 align:start\n"
            "<v Narrator><i>Hello</i> &amp; <00:00:01.250><c.word>welcome</c></v>\n\n"
            "00:00:02.500 --> 00:00:04.000\n<lang en-GB>Colour</lang> &lt;3 &nbsp;\n")
    assert read_webvtt(text) == [(0.0, 2.5), (2.5, 4.0)]


FEED_EDITS = [  # (what, pattern, replacement: the first match only, message)
    ("locked maybe", r'(owner="owner@example\.com">)yes<', r"\1maybe<",
     "<podcast:locked> in <channel> breaks the Podcasting 2.0 schema: Element 'podcast:locked': [facet 'enumeration']"),
    ("soundbite in the channel", r"<podcast:medium>",
     '<podcast:soundbite startTime="1" duration="20"/><podcast:medium>',
     "<podcast:soundbite> in <channel>: it belongs in <item>"),
    ("two media", r"(<podcast:medium>podcast</podcast:medium>)", r"\1\1",
     "<podcast:medium> appears 2 times in <channel>; it may appear once"),
    ("unknown tag", r"<podcast:medium>", "<podcast:mediums/><podcast:medium>",
     "<podcast:mediums> in <channel> is no tag of the Podcasting 2.0 namespace"),
    ("category", r'text="Documentary"', 'text="Cooking"',
     "<itunes:category text='Cooking'> is not a subcategory of 'Society & Culture'"),
    ("explicit", r"<itunes:explicit>false<", "<itunes:explicit>no<",
     "<itunes:explicit> is 'no'; Apple Podcasts wants true or false"),
    ("owner email", r"<itunes:email>owner@example\.com<", "<itunes:email>owner<", "'owner' is not an email address"),
    ("itunes namespace", r"http://www\.itunes\.com/dtds/podcast-1\.0\.dtd",
     "http://www.itunes.com/DTDs/Podcast-1.0.dtd",
     "the itunes namespace (http://www.itunes.com/dtds/podcast-1.0.dtd) is not declared on <rss>"),
    ("two description chapters", r"(&lt;ol&gt;)&lt;li&gt;[^&]*&lt;/li&gt;&lt;li&gt;[^&]*&lt;/li&gt;", r"\1",
     "its description lists 2 chapter timestamps; Apple ignores them below 3"),
    ("description chapters not from 00:00", r"(&lt;ol&gt;)&lt;li&gt;[^&]*&lt;/li&gt;", r"\1",
     "its description's first chapter is at 00:0"),
]


@pytest.mark.parametrize("pattern,replacement,message", [e[1:] for e in FEED_EDITS], ids=[e[0] for e in FEED_EDITS])
def test_feed_rules_name_what_an_edit_breaks(feed_show, pattern, replacement, message):
    text, edits = re.subn(pattern, replacement, feed_show.raw.decode("utf-8"), count=1)
    assert edits == 1
    problems = feed_rules(etree.fromstring(text.encode("utf-8")))
    assert any(message in problem for problem in problems), problems


def test_urls_outside_the_show_are_named(feed_show):
    data = feed_show.raw.replace(b"https://example.com/show/episodes/field-notes.vtt", b"https://cdn.example.net/x.vtt")
    findings = Findings(feed_show.show)
    check_feed(read_show_file(feed_show.show).show, data, findings)
    assert [(p.path, p.message) for p in findings.problems] == [
        ("feed.xml", "<podcast:transcript> points at https://cdn.example.net/x.vtt, outside the show's address "
                     "https://example.com/show/")]


def test_not_a_show_is_exit_status_2(tmp_path):
    for folder in (tmp_path / "missing", tmp_path):
        result = run_cli("check", folder)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"audiobook: error: {folder}")
