"""Transcripts and chapters JSON from hand-made timelines, read back with independent parsers."""
from __future__ import annotations

import json
import re

import pytest

from audiobook.models import Span, Timeline
from audiobook.show.transcripts import chapters_json, subrip, webvtt
from conftest import parse_srt, parse_vtt

RATE = 44100
HOUR = 3600 * RATE


def at(seconds: float) -> int:
    return round(seconds * RATE)


def timing_lines(text: str, separator: str) -> list[tuple[str, str]]:
    pattern = re.compile(rf"^(\d\d+:\d\d:\d\d{separator}\d\d\d) --> (\d\d+:\d\d:\d\d{separator}\d\d\d)$")
    return [match.groups() for match in map(pattern.match, text.splitlines()) if match]


def timeline(segments, chapters, total) -> Timeline:
    return Timeline(RATE, total, [Span(at(s), at(e), text=t) for s, e, t in segments],
                    [Span(at(s), at(e), title=t) for s, e, t in chapters])


SHORT = timeline(
    segments=[
        (0.3, 1.5, "Tom & Jerry <live>."),
        (2.0, 3.25, "Cats > dogs --> maybe; a&b &amp; c."),
        (3.6, 61.0126, "Ümlauts, “quotes” and an em dash — all kept."),
    ],
    chapters=[(0.0, 1.8, "One & Only"), (1.8, 62.0, "Zwei <zwei>")],
    total=at(62.0),
)

TEN_HOURS = timeline(
    segments=[(0.5, 1.0, "Start."), (3599.999, 3601.5, "An hour in."), (36_000.25, 36_001.0, "Ten hours in.")],
    chapters=[(0.0, 3599.0, "First"), (3599.0, 36_000.0, "Long middle"), (36_000.0, 36_002.0, "Last")],
    total=at(36_002.0),
)


# Each case: timeline -> expected (start, end) strings of the cue timing lines in VTT
VTT_TIMES = {
    "short": (SHORT, [("00:00:00.300", "00:00:01.500"), ("00:00:02.000", "00:00:03.250"),
                      ("00:00:03.600", "00:01:01.013")]),
    "ten hours": (TEN_HOURS, [("00:00:00.500", "00:00:01.000"), ("00:59:59.999", "01:00:01.500"),
                              ("10:00:00.250", "10:00:01.000")]),
}


@pytest.mark.parametrize("name", list(VTT_TIMES))
def test_vtt_timing_lines(name):
    line, expected = VTT_TIMES[name]
    assert timing_lines(webvtt(line), r"\.") == expected


@pytest.mark.parametrize("name", list(VTT_TIMES))
def test_srt_timing_lines_use_a_comma(name):
    line, expected = VTT_TIMES[name]
    assert timing_lines(subrip(line), ",") == [(start.replace(".", ","), end.replace(".", ",")) for start, end in expected]


@pytest.mark.parametrize("line", [SHORT, TEN_HOURS], ids=["short", "ten hours"])
def test_vtt_reads_back_to_the_timeline(line):
    text = webvtt(line)
    assert text.startswith("WEBVTT\n\n")
    cues = parse_vtt(text)  # raises on unescaped markup or "-->" in a cue
    assert [cue.text for cue in cues] == [span.text for span in line.segments]
    for cue, span in zip(cues, line.segments):
        assert cue.start == pytest.approx(span.start / RATE, abs=0.0005)
        assert cue.end == pytest.approx(span.end / RATE, abs=0.0005)


def test_vtt_escapes_markup_characters():
    text = webvtt(SHORT)
    assert "Tom &amp; Jerry &lt;live&gt;." in text
    assert "a&amp;b &amp;amp; c." in text  # an ampersand written in the essay stays an ampersand
    cue_lines = [row for row in text.splitlines() if row and " --> " not in row]
    assert not any("-->" in row for row in cue_lines)


def test_srt_reads_back_to_the_timeline():
    cues = parse_srt(subrip(TEN_HOURS))
    assert [cue.ident for cue in cues] == ["1", "2", "3"]
    assert [cue.text for cue in cues] == [span.text for span in TEN_HOURS.segments]
    assert cues[-1].start == pytest.approx(36_000.25, abs=0.0005)


@pytest.mark.parametrize("line", [SHORT, TEN_HOURS], ids=["short", "ten hours"])
def test_chapters_json(line):
    document = json.loads(chapters_json(line))
    assert document["version"] == "1.2.0"
    chapters = document["chapters"]
    assert [c["title"] for c in chapters] == [span.title for span in line.chapters]
    for entry, span in zip(chapters, line.chapters):
        assert entry["startTime"] == round(span.start / RATE, 3)
        assert entry["endTime"] == round(span.end / RATE, 3)
    assert chapters[0]["startTime"] == 0
    assert chapters[-1]["endTime"] == pytest.approx(line.duration, abs=0.0005)
    for chapter, following in zip(chapters, chapters[1:]):
        assert chapter["endTime"] == following["startTime"]


def test_chapters_json_keeps_non_ascii_titles_readable():
    line = timeline([(0.1, 0.5, "x")], [(0.0, 1.0, "Über “alles”")], at(1.0))
    text = chapters_json(line)
    assert "Über “alles”" in text
    assert json.loads(text)["chapters"][0]["title"] == "Über “alles”"


def test_times_round_to_the_nearest_millisecond():
    # 22 samples at 44.1 kHz are 0.499 ms, 23 are 0.522 ms
    line = Timeline(RATE, 100_000, [Span(22, 23, text="tick")], [Span(0, 100_000, title="all")])
    assert "00:00:00.000 --> 00:00:00.001" in webvtt(line)
    assert json.loads(chapters_json(line))["chapters"][0]["endTime"] == round(100_000 / RATE, 3)
