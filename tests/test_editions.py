"""Editions: the M4B and the Opus of an episode, read back with ffprobe, ffmpeg's
ebur128 and mutagen, and kept up to date by rebuilds like the MP3.

The seed essay is built once for this module with both editions (through the
library); the rebuild cases use a short essay through the real CLI.
"""
from __future__ import annotations

import base64
import io
import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import lxml.html
import mutagen
import numpy as np
import pytest
from mutagen.flac import Picture
from PIL import Image

from audiobook.audio.cover import generate_cover
from audiobook.audio.editions import FORMATS, EditionMaker, EditionTags
from audiobook.audio.mix import ENCODER_LOSS
from audiobook.models import Span
from audiobook.settings import checks
from audiobook.show.init import init_show
from audiobook.show.record import EpisodeFiles, EpisodeRecord, RecordError, read_record
from conftest import SEED, Collected, ebur128, ffprobe, run_cli, sha256, tools_missing

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(tools_missing() is not None, reason=f"{tools_missing()}")]

BASE = "https://example.com/show/"
CHAPTER_TOLERANCE = 0.010  # seconds
SHORT_ESSAY = "# Editions\n\nA short essay, read aloud.\n\nIt ends here, in a second paragraph.\n"


def _mp4_tags(path: Path) -> tuple[str, str, bytes]:
    tags = mutagen.File(path).tags
    return tags["\xa9nam"][0], tags["\xa9ART"][0], bytes(tags["covr"][0])


def _opus_tags(path: Path) -> tuple[str, str, bytes]:
    tags = mutagen.File(path).tags
    picture = Picture(base64.b64decode(tags["metadata_block_picture"][0]))
    return tags["title"][0], tags["artist"][0], picture.data


# format -> (ffprobe's container and codec, mutagen's class, how to read title, author and cover with mutagen)
CASES = {
    "m4b": ("mov,mp4,m4a,3gp,3g2,mj2", "aac", "MP4", _mp4_tags),
    "opus": ("ogg", "opus", "OggOpus", _opus_tags),
}


def test_every_edition_has_a_case_and_a_setting():
    assert set(CASES) == set(FORMATS) == set(checks.EDITIONS)


@pytest.fixture(scope="module")
def seed_editions(tmp_path_factory, isolated_cache):
    from audiobook.pipeline import build

    show = tmp_path_factory.mktemp("editions") / "show"
    init_show(show, title="Essays", author="A. Writer", email="owner@example.com", base_url=BASE)
    events = Collected()
    # espeak-ng: its sharp consonants are what pushes a codec's peaks up (Opus at 32 kbit/s over 0 dBTP)
    (episode,), _ = build([SEED], show, {"editions": ("m4b", "opus"), "engine": "pyttsx3"}, events)
    return SimpleNamespace(show=show, files=episode.files, record=read_record(episode.files), events=events)


def probed_chapters(path: Path) -> list[tuple[float, float, str]]:
    return [(float(c["start_time"]), float(c["end_time"]), c.get("tags", {}).get("title", ""))
            for c in ffprobe(path)["chapters"]]


@pytest.mark.parametrize("name", list(CASES))
def test_the_edition_is_the_codec_and_container_it_says(seed_editions, name):
    container, codec, kind, _ = CASES[name]
    probe = ffprobe(seed_editions.files.edition(name))
    assert probe["format"]["format_name"] == container
    audio = [s for s in probe["streams"] if s["codec_type"] == "audio"]
    assert [(s["codec_name"], s["channels"]) for s in audio] == [(codec, 1)]
    assert type(mutagen.File(seed_editions.files.edition(name))).__name__ == kind


@pytest.mark.parametrize("name", list(CASES))
def test_ffprobe_lists_the_same_chapters_as_the_mp3(seed_editions, name):
    mp3 = probed_chapters(seed_editions.files.mp3)
    edition = probed_chapters(seed_editions.files.edition(name))
    assert len(mp3) >= 3
    assert [title for _, _, title in edition] == [title for _, _, title in mp3]
    for (start, end, _), (mp3_start, mp3_end, _) in zip(edition, mp3):
        assert start == pytest.approx(mp3_start, abs=CHAPTER_TOLERANCE)
        assert end == pytest.approx(mp3_end, abs=CHAPTER_TOLERANCE)


@pytest.mark.parametrize("name", list(CASES))
def test_the_edition_measures_minus_16_lufs_with_its_peaks_under_minus_1(seed_editions, name):
    measured = ebur128(seed_editions.files.edition(name))
    assert measured["integrated"] == pytest.approx(-16.0, abs=1.0)
    assert measured["true_peak"] <= -1.0


@pytest.mark.parametrize("name", list(CASES))
def test_mutagen_reads_title_author_and_cover(seed_editions, name):
    title, author, cover = CASES[name][3](seed_editions.files.edition(name))
    assert (title, author) == (seed_editions.record.title, seed_editions.record.author)
    assert cover == seed_editions.files.art.read_bytes()
    with Image.open(io.BytesIO(cover)) as image:
        assert image.format == "JPEG" and image.width == image.height >= 1400


def test_the_record_describes_each_edition_file(seed_editions):
    record, files = seed_editions.record, seed_editions.files
    assert [edition.format for edition in record.editions] == ["m4b", "opus"]
    for edition in record.editions:
        path = files.edition(edition.format)
        assert (edition.sha256, edition.bytes) == (sha256(path), path.stat().st_size)
        assert edition.mime == FORMATS[edition.format].mime
        assert edition.duration == pytest.approx(float(ffprobe(path)["format"]["duration"]), abs=0.001)
        assert edition.duration == pytest.approx(record.audio.duration, abs=0.05)
        assert edition.bytes < record.audio.bytes  # smaller than the 96 kbit/s MP3
    assert not [path for path in files.folder.iterdir() if path.name.endswith(".part")]  # the master is gone


def test_the_episode_page_offers_every_edition_for_download(seed_editions):
    page = lxml.html.fromstring(seed_editions.files.page.read_bytes())
    links = {a.get("href"): a for a in page.cssselect(".file-list a")}
    for name in CASES:
        link = links[seed_editions.files.edition(name).name]
        assert link.get("download") is not None
        assert link.text_content() == FORMATS[name].label


def test_the_feed_links_each_edition_under_its_own_version(seed_editions):
    files = seed_editions.files
    for edition in seed_editions.record.editions:
        versioned = files.enclosure(edition.sha256, f".{edition.format}")
        assert os.path.samefile(versioned, files.edition(edition.format))


@pytest.mark.parametrize("name", list(CASES))
def test_an_edition_is_never_made_louder_than_its_master(tmp_path, name):
    """A master far under the target with its peaks at the ceiling (clicks): raising it
    to -16 LUFS would clip, so the edition stays at the master's level."""
    clicks = np.zeros(10 * 44100, dtype="<f4")
    clicks[::4410] = 10 ** (-2 / 20)
    master = tmp_path / "master.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "f32le", "-ar", "44100", "-ac", "1", "-i", "pipe:0", "-c:a", "flac",
                    "-sample_fmt", "s16", str(master)], input=clicks.tobytes(), check=True)
    level = ebur128(master)["integrated"]
    tags = EditionTags("Clicks", "A. Writer", "Essays", None, None, "en", generate_cover("Clicks", "A. Writer"),
                       [Span(0, clicks.size, title="All")], 44100)
    EditionMaker(master, {name: tmp_path / f"clicks.{name}"}).make(level - ENCODER_LOSS, tags)
    measured = ebur128(tmp_path / f"clicks.{name}")
    assert measured["integrated"] < level + 1.0 < -16.0
    assert measured["true_peak"] <= -1.0


def test_an_edition_whose_codec_overshoots_the_ceiling_is_made_quieter_by_as_much(tmp_path, monkeypatch):
    """A codec's overshoot shows only once encoded: an edition measured over -1 dBTP is
    encoded again with its gain lowered by the excess."""
    from audiobook.audio import editions
    from audiobook.audio.encode import Level

    clicks = np.zeros(10 * 44100, dtype="<f4")
    clicks[::4410] = 10 ** (-2 / 20)
    master = tmp_path / "master.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "f32le", "-ar", "44100", "-ac", "1", "-i", "pipe:0", "-c:a", "flac",
                    "-sample_fmt", "s16", str(master)], input=clicks.tobytes(), check=True)
    gains, encode, measure = [], editions._encode, editions.measured_level

    def counted(edition, master, target, gain_db, tags):
        gains.append(gain_db)
        encode(edition, master, target, gain_db, tags)

    def overshooting_once(path):
        level = measure(path)
        return Level(level.loudness, 0.3) if len(gains) == 1 else level

    monkeypatch.setattr(editions, "_encode", counted)
    monkeypatch.setattr(editions, "measured_level", overshooting_once)
    tags = EditionTags("Clicks", "A. Writer", "Essays", None, None, "en", generate_cover("Clicks", "A. Writer"),
                       [Span(0, clicks.size, title="All")], 44100)
    level = ebur128(master)["integrated"]
    EditionMaker(master, {"opus": tmp_path / "clicks.opus"}).make(level - ENCODER_LOSS, tags)
    assert len(gains) == 2 and gains[1] == pytest.approx(gains[0] - 1.3)


# --- kept up to date by rebuilds --------------------------------------------------------

def build_cli(essay: Path, show: Path, *flags: str) -> str:
    result = run_cli("build", essay, "--show", show, *flags)
    assert result.returncode == 0, result.stderr
    return result.stdout


def version_files(show: Path) -> set[str]:
    return {path.relative_to(show / "episodes").as_posix() for path in (show / "episodes").glob("*/*")}


def test_rebuilds_keep_the_editions_up_to_date(tmp_path):
    show = tmp_path / "show"
    init_show(show, title="Notes", author="A. Writer", email="owner@example.com", base_url=BASE)
    essay = tmp_path / "short.md"
    essay.write_text(SHORT_ESSAY, encoding="utf-8")
    files = EpisodeFiles.of(show, "short")

    out = build_cli(essay, show, "--edition", "opus", "--edition", "m4b")
    assert "editions: m4b" in out and ", opus" in out
    built = {name: (sha256(files.edition(name)), files.edition(name).stat().st_mtime_ns) for name in CASES}
    versions = version_files(show)
    assert versions >= {f"{sha256(files.edition(name))[:12]}/short.{name}" for name in CASES}
    checked = run_cli("check", show)  # the editions as the feed's validator reads them
    assert checked.returncode == 0, checked.stdout + checked.stderr

    again = run_cli("build", essay, "--show", show, "--edition", "m4b", "--edition", "opus", "--verbose")
    assert "(up to date, not rewritten)" in again.stdout
    assert "editions = ('m4b', 'opus') (from --edition)" in again.stderr
    assert {name: (sha256(files.edition(name)), files.edition(name).stat().st_mtime_ns) for name in CASES} == built

    files.edition("opus").unlink()  # until rebuilt, the feed and the page leave it out, with a warning
    published = run_cli("feed", "--show", show)
    assert published.returncode == 0 and "short.opus is left out of the feed: missing" in published.stderr
    assert "short.opus" not in files.page.read_text(encoding="utf-8")
    assert "(up to date" not in build_cli(essay, show, "--edition", "m4b", "--edition", "opus")
    assert {name: sha256(files.edition(name)) for name in CASES} == {name: built[name][0] for name in CASES}
    assert version_files(show) == versions

    build_cli(essay, show, "--edition", "m4b")  # opus turned off: its file, record entry, link and version go
    assert not files.edition("opus").exists()
    assert [edition.format for edition in read_record(files).editions] == ["m4b"]
    assert "short.opus" not in files.page.read_text(encoding="utf-8")
    assert version_files(show) == {v for v in versions if not v.endswith(".opus")}


def test_an_unknown_edition_is_refused_before_any_work(tmp_path):
    essay = tmp_path / "short.md"
    essay.write_text(SHORT_ESSAY, encoding="utf-8")
    result = run_cli("build", essay, "--show", tmp_path / "show", "--edition", "mp4")
    assert result.returncode == 2 and "'mp4' is not one of 'm4b', 'opus'" in result.stderr
    (tmp_path / "show").mkdir()
    (tmp_path / "show" / "podcast.toml").write_text('[build]\neditions = ["m4a"]\n', encoding="utf-8")
    result = run_cli("build", essay, "--show", tmp_path / "show")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"audiobook: error: {tmp_path / 'show' / 'podcast.toml'} [build] editions: 'm4a' is not an edition; "
        f"the editions are m4b, opus; did you mean 'm4b'?"]
    assert not (tmp_path / "show" / "episodes").exists()


@pytest.mark.parametrize("change, message", [
    (lambda edition: {**edition, "format": "../../feed"}, r"editions\[0\]\.format is not a file suffix"),
    (lambda edition: {**edition, "sha256": "../" + "0" * 61}, r"editions\[0\]\.sha256 is not a sha256"),
])
def test_a_record_whose_edition_could_name_another_file_is_refused(seed_editions, change, message):
    data = json.loads(seed_editions.files.record.read_text(encoding="utf-8"))
    data["editions"][0] = change(data["editions"][0])
    with pytest.raises(RecordError, match=message):
        EpisodeRecord.from_json(json.dumps(data), seed_editions.files.stem)
