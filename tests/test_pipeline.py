"""End to end: essays built with the real engine and ffmpeg, read back with tools we did not write.

ffprobe/ffmpeg (stream, packets, chapters, ebur128 loudness, silencedetect),
mutagen and eyeD3 (ID3 frames), Pillow (cover art), a raw ID3v2.3 frame
walker and an independent WebVTT parser (conftest). No mocks here.
"""
from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from mutagen.id3 import ID3, CTOCFlags
from PIL import Image

from conftest import (
    SEED, SHARED_CHECKS, audio_packet_sizes, ebur128, ffprobe, is_subsequence, parse_srt, parse_vtt,
    run_cli, sha256, silences, summary_counts, tree_digest, words,
)

pytestmark = pytest.mark.e2e

EPISODES = ["seed_episode", "field_notes_episode", "piper_episode"]
SIDECAR_SUFFIXES = [".mp3", ".chapters.json", ".vtt", ".srt", ".episode.json", ".jpg", ".html"]
CHAPTER_CONTIGUITY = 0.001  # seconds: CHAP times are whole milliseconds
PAUSE_BEFORE, PAUSE_AFTER = 0.1, 0.35  # the window check_episode.py allows around a silence


@pytest.fixture(params=EPISODES)
def built(request):
    return request.getfixturevalue(request.param)


def probe_chapters(mp3: Path) -> list[tuple[float, float, str]]:
    """Chapters as ffprobe lists them, in the order it found them in the file."""
    return [(float(c["start_time"]), float(c["end_time"]), c.get("tags", {}).get("title", ""))
            for c in ffprobe(mp3)["chapters"]]


def front_matter(path: Path) -> dict:
    _, block, _ = path.read_text(encoding="utf-8").split("---", 2)
    return yaml.safe_load(block)


def id3v23_frames(mp3: Path) -> list[tuple[str, bytes]]:
    """(frame id, body) of every frame, in file order, walking the tag bytes ourselves."""
    data = mp3.read_bytes()
    assert data[:3] == b"ID3", "no ID3v2 tag at the start of the file"
    assert data[3] == 3, f"ID3v2.{data[3]}, not v2.3"
    assert data[5] & 0xC0 == 0, "unsynchronised tag or extended header: this walker does not handle them"
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    position, end, frames = 10, 10 + size, []
    while position + 10 <= end and data[position:position + 4] != b"\0\0\0\0":
        frame_size = int.from_bytes(data[position + 4:position + 8], "big")
        frames.append((data[position:position + 4].decode("latin-1"), data[position + 10:position + 10 + frame_size]))
        position += 10 + frame_size
    return frames


def raw_chap_start_times(mp3: Path) -> list[int]:
    """Start times (ms) of the CHAP frames in the order their bytes appear in the file."""
    starts = []
    for frame_id, body in id3v23_frames(mp3):
        if frame_id == "CHAP":
            after_id = body.index(b"\0") + 1
            starts.append(int.from_bytes(body[after_id:after_id + 4], "big"))
    return starts


# --- the stream ----------------------------------------------------------------

def test_stream_is_cbr_mono_mp3_at_44_1_khz(built):
    stream, = [s for s in ffprobe(built.mp3)["streams"] if s["codec_type"] == "audio"]
    assert stream["codec_name"] == "mp3"
    assert int(stream["sample_rate"]) == 44100
    assert stream["channels"] == 1
    sizes = audio_packet_sizes(built.mp3)
    assert len(sizes) > 100
    # CBR: every frame the same length, give or take the one padding byte
    assert max(sizes) - min(sizes) <= 1, f"packet sizes range {min(sizes)}..{max(sizes)}: not constant bit rate"


def test_build_leaves_only_the_episode_and_its_sidecars(built):
    stem = built.mp3.name[: -len(".mp3")]
    expected = {stem + suffix for suffix in SIDECAR_SUFFIXES}
    assert {p.name for p in (built.show / "episodes").iterdir()} == expected


def test_manifest_describes_the_file_on_disk(built):
    manifest = json.loads(built.files.record.read_text(encoding="utf-8"))
    assert manifest["stem"] == built.mp3.stem and manifest["schema"] == 2
    assert manifest["audio"]["sha256"] == sha256(built.mp3)
    assert manifest["audio"]["bytes"] == built.mp3.stat().st_size == built.episode.size
    duration = float(ffprobe(built.mp3)["format"]["duration"])
    assert manifest["audio"]["duration"] == pytest.approx(duration, abs=0.1)
    segments = len(manifest["segments"])
    assert built.episode.synthesized + built.episode.cached == segments
    # progress counts segments reaching the encoder: it ends at every segment
    assert built.progress[-1] == (segments, segments)


# --- chapters ------------------------------------------------------------------

def test_chapters_as_ffprobe_reads_them(built):
    chapters = probe_chapters(built.mp3)
    duration = float(ffprobe(built.mp3)["format"]["duration"])
    assert len(chapters) >= 3
    starts = [start for start, _, _ in chapters]
    assert starts == sorted(starts), "chapters are not in time order in the file"
    assert starts[0] == 0.0
    for (_, end, _), (next_start, _, _) in zip(chapters, chapters[1:]):
        assert abs(end - next_start) <= CHAPTER_CONTIGUITY, f"gap or overlap at {end}..{next_start}"
    assert abs(chapters[-1][1] - duration) <= 0.5, f"last chapter ends at {chapters[-1][1]}, audio lasts {duration}"
    assert all(title.strip() for _, _, title in chapters), chapters


def test_every_chapter_starts_in_a_pause(built):
    found = silences(built.mp3)
    for start, _, title in probe_chapters(built.mp3)[1:]:
        assert any(begin - PAUSE_BEFORE <= start <= end + PAUSE_AFTER for begin, end in found), (
            f"chapter {title!r} starts at {start} s, not in any silence: {found}"
        )


def test_field_notes_chapters_are_titled_from_front_matter(field_notes_episode):
    titles = [title for _, _, title in probe_chapters(field_notes_episode.mp3)]
    assert titles == front_matter(field_notes_episode.essay)["chapters"]


def test_chap_frames_are_in_time_order_in_the_file(built):
    tags = ID3(built.mp3)
    chaps = tags.getall("CHAP")  # mutagen keeps the order it read them in
    assert len(chaps) >= 3
    starts = [chap.start_time for chap in chaps]
    assert starts == sorted(starts)
    assert raw_chap_start_times(built.mp3) == starts
    for chap, following in zip(chaps, chaps[1:]):
        assert chap.end_time == following.start_time
    for chap in chaps:
        assert str(chap.sub_frames["TIT2"]).strip()


def test_ctoc_is_one_ordered_top_level_list_of_every_chapter(built):
    tags = ID3(built.mp3)
    chaps = sorted(tags.getall("CHAP"), key=lambda chap: chap.start_time)
    toc, = tags.getall("CTOC")
    assert toc.flags & CTOCFlags.TOP_LEVEL
    assert toc.flags & CTOCFlags.ORDERED
    assert list(toc.child_element_ids) == [chap.element_id for chap in chaps]
    assert str(toc.sub_frames["TIT2"]).strip()


def test_eyed3_reads_the_same_chapters(built):
    import eyed3

    logging.getLogger("eyed3").setLevel(logging.ERROR)
    mutagen_chapters = [(chap.start_time, chap.end_time, str(chap.sub_frames["TIT2"]))
                        for chap in sorted(ID3(built.mp3).getall("CHAP"), key=lambda chap: chap.start_time)]
    tag = eyed3.load(str(built.mp3)).tag
    assert tag.version[:2] == (2, 3)
    eyed3_chapters = sorted((c.times.start, c.times.end, c.title) for c in tag.chapters)
    assert eyed3_chapters == mutagen_chapters
    toc, = tag.table_of_contents
    assert toc.toplevel and toc.ordered


def test_chapters_json_agrees_with_the_chap_frames(built):
    document = json.loads(built.files.chapters.read_text(encoding="utf-8"))
    assert document["version"]
    chaps = sorted(ID3(built.mp3).getall("CHAP"), key=lambda chap: chap.start_time)
    assert len(document["chapters"]) == len(chaps)
    for entry, chap in zip(document["chapters"], chaps):
        assert abs(entry["startTime"] - chap.start_time / 1000) <= 0.010
        assert abs(entry["endTime"] - chap.end_time / 1000) <= 0.010
        assert entry["title"] == str(chap.sub_frames["TIT2"])


# --- tags and cover ----------------------------------------------------------------

def test_seed_tags(seed_episode):
    manifest = json.loads(seed_episode.files.record.read_text(encoding="utf-8"))
    tags = ID3(seed_episode.mp3)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == manifest["title"] == "We are at a tipping point"
    assert str(tags["TPE1"]) == "Anonymous"
    assert str(tags["TALB"]) == manifest["title"]
    assert str(tags["TCON"]) == "Podcast"
    assert str(tags["TLAN"]) == "eng"
    lyrics, = tags.getall("USLT")
    assert lyrics.text == SEED.read_text(encoding="utf-8").strip()
    comment, = tags.getall("COMM")  # no description given: the essay's opening
    teaser = words(comment.text[0])
    assert len(teaser) >= 5 and teaser == words(SEED.read_text(encoding="utf-8"))[:len(teaser)]


def test_field_notes_tags(field_notes_episode):
    meta = front_matter(field_notes_episode.essay)
    raw = ID3(field_notes_episode.mp3, translate=False)
    assert raw.version[:2] == (2, 3)
    assert str(raw["TYER"]) == "2026"
    tags = ID3(field_notes_episode.mp3)
    assert str(tags["TDRC"]).startswith("2026")
    assert str(tags["TIT2"]) == meta["title"]
    assert str(tags["TPE1"]) == meta["author"]
    assert str(tags["TALB"]) == meta["title"]
    assert str(tags["TCON"]) == "Podcast"
    assert str(tags["TLAN"]) == "eng"
    comment, = tags.getall("COMM")
    assert comment.text[0] == meta["description"].strip()
    lyrics, = tags.getall("USLT")
    assert lyrics.text.startswith("# Why listen at all")
    assert "---" not in lyrics.text.splitlines()[0]


def test_cover_art_is_a_square_rgb_jpeg_podcast_apps_accept(built):
    picture, = ID3(built.mp3).getall("APIC")
    assert picture.type == 3  # front cover
    assert picture.mime == "image/jpeg"
    with Image.open(io.BytesIO(picture.data)) as image:
        assert image.format == "JPEG"
        assert image.mode == "RGB"
        assert image.width == image.height
        assert 1400 <= image.width <= 3000


# --- loudness --------------------------------------------------------------------

def test_loudness_after_encoding(built):
    measured = ebur128(built.mp3)
    assert measured["integrated"] is not None
    assert abs(measured["integrated"] + 16.0) <= 1.0, f"{measured['integrated']} LUFS integrated (target -16 +/- 1)"
    assert measured["true_peak"] is not None and measured["true_peak"] <= -1.0, f"true peak {measured['true_peak']} dBTP"
    # the summary line tells the user a loudness: it must be what the file measures
    assert abs(built.episode.loudness - measured["integrated"]) <= 0.5


# --- transcripts -----------------------------------------------------------------

def test_transcript_cues_are_ordered_and_inside_the_audio(built):
    cues = parse_vtt(built.files.vtt.read_text(encoding="utf-8"))
    duration = float(ffprobe(built.mp3)["format"]["duration"])
    assert cues
    for cue in cues:
        assert 0 <= cue.start < cue.end <= duration, cue
    for cue, following in zip(cues, cues[1:]):
        assert cue.end <= following.start, (cue, following)
    srt = parse_srt(built.files.srt.read_text(encoding="utf-8"))
    assert [(c.start, c.end, c.text) for c in srt] == [(c.start, c.end, c.text) for c in cues]


def test_transcript_holds_every_word_of_the_seed_in_order(seed_episode):
    cues = parse_vtt(seed_episode.files.vtt.read_text(encoding="utf-8"))
    source = words(SEED.read_text(encoding="utf-8"))
    spoken = words(" ".join(cue.text for cue in cues))
    ok, matched = is_subsequence(source, spoken)
    assert ok, f"transcript loses the essay after word {matched}: {source[matched:matched + 8]}"


# --- rebuilds ----------------------------------------------------------------------

def test_rebuild_of_an_unchanged_essay_is_identical_and_all_cached(seed_episode, tmp_path):
    show = tmp_path / "show"
    shutil.copytree(seed_episode.show, show)
    segments = len(json.loads(seed_episode.files.record.read_text(encoding="utf-8"))["segments"])
    # nothing changed: the episode is left as it is (the CLI adds the web pages)
    episode_files = {name: digest for name, digest in tree_digest(show).items()}
    result = run_cli("build", SEED, "--show", show, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert summary_counts(result.stdout) == (0, segments)
    before = tree_digest(show)
    assert {name: before[name] for name in episode_files} == episode_files
    # rendered again from the cached clips: the very same bytes
    result = run_cli("build", SEED, "--show", show, "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert summary_counts(result.stdout) == (0, segments)
    assert sha256(show / "episodes" / seed_episode.mp3.name) == sha256(seed_episode.mp3)
    assert tree_digest(show) == before


def _edit_paragraph(text: str, index: int, replacements: dict[str, str]) -> str:
    paragraphs = text.split("\n\n")
    for old, new in replacements.items():
        assert paragraphs[index].count(old) == 1, old
        paragraphs[index] = paragraphs[index].replace(old, new)
    return "\n\n".join(paragraphs)


def test_editing_one_paragraph_resynthesizes_only_that_paragraph(seed_episode, tmp_path):
    from audiobook.pipeline import plan_essay

    essay = tmp_path / SEED.name  # same stem: the rebuild replaces the same episode
    # paragraph 5: same number of words, so chapters and everything else stay put
    essay.write_text(_edit_paragraph(SEED.read_text(encoding="utf-8"), 4,
                                     {"freaking out": "panicking now", "much muck": "much mud"}), encoding="utf-8")
    show = tmp_path / "show"
    shutil.copytree(seed_episode.show, show)

    old = plan_essay(SEED, show, {}).script.segments
    new_plan = plan_essay(essay, show, {})
    old_speech = {segment.speech for segment in old}
    changed = [segment for segment in new_plan.script.segments if segment.speech not in old_speech]
    paragraph = new_plan.document.paragraphs[4]
    assert changed and {segment.paragraph for segment in changed} == {4}
    assert 1 <= len(changed) <= len(paragraph.sentences)

    result = run_cli("build", essay, "--show", show, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert summary_counts(result.stdout) == (len(changed), len(new_plan.script.segments) - len(changed))
    rebuilt = show / "episodes" / seed_episode.mp3.name
    assert sha256(rebuilt) != sha256(seed_episode.mp3)
    cues = parse_vtt((show / "episodes" / seed_episode.files.vtt.name).read_text(encoding="utf-8"))
    assert any("panicking now" in cue.text for cue in cues)


# --- the shared checker ------------------------------------------------------------

def test_shared_episode_checker_passes(seed_episode):
    checker = SHARED_CHECKS / "check_episode.py"
    if not checker.is_file():
        pytest.skip(f"{checker} is absent (the shared checks folder is not mounted here)")
    result = subprocess.run(
        [sys.executable, str(checker), str(seed_episode.mp3), "--text", str(SEED),
         "--vtt", str(seed_episode.files.vtt), "--chapters-json", str(seed_episode.files.chapters),
         "--min-chapters", "3"],
        capture_output=True, text=True, timeout=300,
    )
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    assert result.returncode == 0, f"failures: {report.get('failures', result.stdout + result.stderr)}"


@pytest.mark.parametrize("essay,stem", [
    ("essays/Field Notes.md", "field-notes"),
    ("content/posts/low-tide/index.md", "low-tide"),  # a page bundle: Hugo, Zola, Astro, Gatsby
    ("content/posts/_index.md", "posts"),
    ("index.md", "index"),
])
def test_episode_stem_names_a_page_bundle_by_its_folder(essay, stem):
    from audiobook.pipeline import episode_stem

    assert episode_stem(Path(essay)) == stem
