"""Books: a two-hour episode built for real, and chapter frames and transcripts past ten hours.

The two-hour book is the seed's body, eight times over under "# Part N"
headings, read by pyttsx3 at its slowest rate: fast engine settings, since
each sentence is synthesized once and a slow rate needs the fewest clips per
hour. Its chapters and cues are checked against the length of the audio as
ffmpeg decodes it, not against numbers our own code wrote.
"""
from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from mutagen.id3 import ID3

from audiobook.audio.cover import generate_cover
from audiobook.audio.mix import SAMPLE_RATE
from audiobook.models import Span, Timeline
from audiobook.show.transcripts import chapters_json, subrip, webvtt
from audiobook.audio.tag import tag_episode
from conftest import SEED, SHARED_CHECKS, ffprobe, parse_srt, parse_vtt, requires_pipeline, run_cli

PARTS = 9  # each part is about 14 minutes at 90 words per minute
SLOWEST_RATE = 90  # slow, for a long book of few words; the shared checker wants at least 90 wpm of audio
MS = 0.001


def decoded_seconds(mp3) -> float:
    """The audio's real length: every sample ffmpeg decodes, counted as it streams."""
    decoder = subprocess.Popen(["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-"],
                               stdout=subprocess.PIPE)
    size = 0
    while chunk := decoder.stdout.read(1 << 20):
        size += len(chunk)
    assert decoder.wait() == 0
    return size / 2 / SAMPLE_RATE


@pytest.fixture(scope="module")
def two_hour_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("book")
    body = [p.strip() for p in SEED.read_text(encoding="utf-8").split("\n\n") if p.strip()][1:]
    lines = ["---", "title: A two-hour book", "author: The Tests", "---", ""]
    for part in range(1, PARTS + 1):
        lines += [f"# Part {part}", "", *(f"{paragraph}\n" for paragraph in body)]
    essay = root / "book.md"
    essay.write_text("\n".join(lines), encoding="utf-8")
    result = run_cli("build", essay, "--show", root / "show", "--engine", "pyttsx3",
                     "--rate", SLOWEST_RATE, cwd=root)
    assert result.returncode == 0, result.stderr
    episodes = root / "show" / "episodes"
    mp3 = episodes / "book.mp3"
    return SimpleNamespace(
        essay=essay, mp3=mp3, vtt=episodes / "book.vtt", srt=episodes / "book.srt",
        chapters_json=episodes / "book.chapters.json",
        manifest=json.loads((episodes / "book.episode.json").read_text(encoding="utf-8")),
        seconds=decoded_seconds(mp3),
    )


@pytest.mark.e2e
@requires_pipeline
def test_the_book_lasts_two_hours_and_every_tool_agrees(two_hour_book):
    book = two_hour_book
    assert book.seconds >= 2 * 3600
    assert book.manifest["audio"]["samples"] == round(book.seconds * SAMPLE_RATE)
    # ffprobe and mutagen include the encoder's delay and padding: under two MP3 frames.
    assert abs(float(ffprobe(book.mp3)["format"]["duration"]) - book.seconds) < 0.06
    from mutagen.mp3 import MP3

    assert abs(MP3(book.mp3).info.length - book.seconds) < 0.06


@pytest.mark.e2e
@requires_pipeline
def test_the_books_chapters_follow_its_headings_and_end_with_the_audio(two_hour_book):
    book = two_hour_book
    chapters = ffprobe(book.mp3)["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [f"Part {n}" for n in range(1, PARTS + 1)]
    starts = [float(c["start_time"]) for c in chapters]
    ends = [float(c["end_time"]) for c in chapters]
    assert starts[0] == 0 and starts[1:] == ends[:-1]
    assert abs(ends[-1] - book.seconds) <= MS
    assert all(end - start > 10 * 60 for start, end in zip(starts, ends))

    frames = sorted(ID3(book.mp3).getall("CHAP"), key=lambda frame: frame.start_time)
    assert [(f.start_time, f.end_time) for f in frames] == [(round(s * 1000), round(e * 1000))
                                                            for s, e in zip(starts, ends)]
    listed = json.loads(book.chapters_json.read_text(encoding="utf-8"))["chapters"]
    assert [(c["startTime"], c["endTime"]) for c in listed] == list(zip(starts, ends))

    cues = parse_vtt(book.vtt.read_text(encoding="utf-8"))
    headings = [cue for cue in cues if cue.text.startswith("Part ")]
    assert [cue.text for cue in headings] == [f"Part {n}" for n in range(1, PARTS + 1)]
    for chapter_start, heading in zip(starts[1:], headings[1:]):
        assert 0 <= heading.start - chapter_start < 1.5, "a chapter starts just before its heading is read"


@pytest.mark.e2e
@requires_pipeline
def test_the_books_cues_stay_inside_the_audio(two_hour_book):
    book = two_hour_book
    cues = parse_vtt(book.vtt.read_text(encoding="utf-8"))
    assert len(cues) == len(book.manifest["segments"])
    assert all(cue.start < cue.end for cue in cues)
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:]))
    assert cues[-1].end <= book.seconds
    assert book.seconds - cues[-1].end < 2.0  # only the closing pause follows the last words
    assert sum(cue.start >= 3600 for cue in cues) > len(cues) / 3, "cues past the first hour"
    srt = parse_srt(book.srt.read_text(encoding="utf-8"))
    assert [(c.start, c.end) for c in srt] == [(c.start, c.end) for c in cues]


@pytest.mark.e2e
@requires_pipeline
def test_shared_episode_checker_passes_on_the_book(two_hour_book):
    checker = SHARED_CHECKS / "check_episode.py"
    if not checker.is_file():
        pytest.skip(f"{checker} is absent (the shared checks folder is not mounted here)")
    book = two_hour_book
    result = subprocess.run(
        [sys.executable, str(checker), str(book.mp3), "--text", str(book.essay), "--vtt", str(book.vtt),
         "--chapters-json", str(book.chapters_json), "--min-chapters", str(PARTS)],
        capture_output=True, text=True, timeout=600,
    )
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    assert result.returncode == 0, f"failures: {report.get('failures', result.stdout + result.stderr)}"


# --- past ten hours: chapter frames and transcripts of a long book ---------------------------

HOUR = 3600 * SAMPLE_RATE
LONG_CHAPTERS = [  # (start, end) in hours: the last ends at 11 h 30 min
    (0, 4), (4, 9.999), (9.999, 10.5), (10.5, 11.5),
]


def long_timeline() -> Timeline:
    chapters = [Span(round(a * HOUR), round(b * HOUR), title=f"Book {n}")
                for n, (a, b) in enumerate(LONG_CHAPTERS, 1)]
    segments = [Span(round(a * HOUR) + SAMPLE_RATE, round(b * HOUR) - SAMPLE_RATE, text=f"Words of book {n}.")
                for n, (a, b) in enumerate(LONG_CHAPTERS, 1)]
    return Timeline(sample_rate=SAMPLE_RATE, total=round(LONG_CHAPTERS[-1][1] * HOUR),
                    segments=segments, chapters=chapters)


def test_chapter_frames_past_ten_hours_read_back_with_mutagen_and_ffprobe(tmp_path):
    timeline = long_timeline()
    mp3 = tmp_path / "long.mp3"
    silence = np.zeros(SAMPLE_RATE, np.int16).tobytes()
    subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "-",
                    "-c:a", "libmp3lame", "-b:a", "96k", str(mp3)], input=silence, check=True)
    tag_episode(mp3, title="A long book", author="The Tests", album="Books", date="2026-11-25",
                description="Past ten hours.", language="en", lyrics="",
                cover_jpeg=generate_cover("A long book", "The Tests"),
                chapters=timeline.chapters, sample_rate=SAMPLE_RATE, link=None)
    frames = sorted(ID3(mp3).getall("CHAP"), key=lambda frame: frame.start_time)
    expected_ms = [(round(a * 3600 * 1000), round(b * 3600 * 1000)) for a, b in LONG_CHAPTERS]
    assert [(f.start_time, f.end_time) for f in frames] == expected_ms
    probed = [(round(float(c["start_time"]) * 1000), round(float(c["end_time"]) * 1000))
              for c in ffprobe(mp3)["chapters"]]
    assert probed == expected_ms


def test_transcripts_and_chapter_list_past_ten_hours():
    timeline = long_timeline()
    cues = parse_vtt(webvtt(timeline))
    assert [(c.start, c.end) for c in cues] == [(round(a * 3600 + 1, 3), round(b * 3600 - 1, 3))
                                                for a, b in LONG_CHAPTERS]
    assert "\n10:30:01.000 --> 11:29:59.000\n" in webvtt(timeline)
    assert "\n10:30:01,000 --> 11:29:59,000\n" in subrip(timeline)
    assert [(c.start, c.end) for c in parse_srt(subrip(timeline))] == [(c.start, c.end) for c in cues]
    listed = json.loads(chapters_json(timeline))["chapters"]
    assert [(c["startTime"], c["endTime"]) for c in listed] == [(a * 3600, b * 3600) for a, b in LONG_CHAPTERS]
