"""The tag stage read back with clients we did not write: mutagen, eyeD3 and ffprobe."""
from __future__ import annotations

import json
import logging
import shutil
import subprocess

import eyed3
import pytest
from mutagen.id3 import ID3, CTOCFlags

from audiobook.audio.cover import generate_cover
from audiobook.errors import ConfigError, InputError
from audiobook.models import Span
from audiobook.audio.tag import format_tags, iso_639_2, read_tags, tag_episode

RATE = 44100
SECONDS = 6
TOTAL = RATE * SECONDS
ESSAY = "First paragraph of the essay.\n\nSecond paragraph, with ümlauts and “quotes”."

pytestmark = pytest.mark.skipif(not shutil.which("ffmpeg") or not shutil.which("ffprobe"),
                                reason="ffmpeg/ffprobe not installed")

# Titles of differing lengths: mutagen orders frames by size, so this catches CHAP frames out of time order.
CHAPTERS = [
    Span(0, 61_000, "Introduction to a rather long first chapter"),
    Span(61_000, 100_000, "Two"),
    Span(100_000, 150_123, "Third: ümlaut"),
    Span(150_123, 200_000, "4"),
    Span(200_000, TOTAL, "The end"),
]


@pytest.fixture(scope="module")
def cover_jpeg():
    return generate_cover("Tagged Essay", "Ada Lovelace")


def encode_sine(path, *tag_args):
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
                    "-ac", "1", "-ar", str(RATE), "-c:a", "libmp3lame", "-b:a", "96k", *tag_args, str(path)],
                   check=True)
    return path


@pytest.fixture
def mp3(tmp_path):
    return encode_sine(tmp_path / "episode.mp3", "-id3v2_version", "0")


def tag(path, cover_jpeg, **overrides):
    fields = dict(title="Tagged Essay", author="Ada Lovelace", album="Essays Aloud", date="2026-03-14",
                  description="An essay, read aloud.", language="en-GB", lyrics=ESSAY,
                  cover_jpeg=cover_jpeg, chapters=CHAPTERS, sample_rate=RATE,
                  link="https://example.org/essay")
    fields.update(overrides)
    tag_episode(path, **fields)


def ms(samples):
    return round(samples * 1000 / RATE)


def test_mutagen_sees_v23_frames(mp3, cover_jpeg):
    tag(mp3, cover_jpeg)
    id3 = ID3(mp3, translate=False)  # the frames as stored, not upgraded to v2.4
    assert id3.version[:2] == (2, 3)
    assert str(id3["TIT2"]) == "Tagged Essay"
    assert str(id3["TPE1"]) == "Ada Lovelace"
    assert str(id3["TALB"]) == "Essays Aloud"
    assert str(id3["TCON"]) == "Podcast"
    assert (str(id3["TYER"]), str(id3["TDAT"])) == ("2026", "1403")
    assert "TDRC" not in id3
    assert str(id3["TLAN"]) == "eng"
    comm = id3.getall("COMM")[0]
    assert (comm.lang, comm.text[0]) == ("eng", "An essay, read aloud.")
    assert id3.getall("USLT")[0].text == ESSAY
    assert id3.getall("WXXX")[0].url == "https://example.org/essay"
    apic = id3.getall("APIC")[0]
    assert (apic.type, apic.mime, apic.desc, apic.data) == (3, "image/jpeg", "Cover", cover_jpeg)
    assert str(ID3(mp3)["TDRC"]) == "2026-03-14"  # the date survives the v2.3 round trip


def test_mutagen_sees_chapters_in_time_order_with_one_toc(mp3, cover_jpeg):
    tag(mp3, cover_jpeg)
    id3 = ID3(mp3)
    ids = [f"chp{i}" for i in range(len(CHAPTERS))]
    stored_order = [key.split(":")[1] for key in _frame_keys_in_file_order(mp3) if key.startswith("CHAP")]
    assert stored_order == ids
    for chapter_id, span in zip(ids, CHAPTERS):
        chap = id3[f"CHAP:{chapter_id}"]
        assert (chap.start_time, chap.end_time) == (ms(span.start), ms(span.end))
        assert (chap.start_offset, chap.end_offset) == (0xFFFFFFFF, 0xFFFFFFFF)
        assert str(chap.sub_frames["TIT2"]) == span.title
    [toc] = id3.getall("CTOC")
    assert toc.element_id == "toc"
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == ids
    assert str(toc.sub_frames["TIT2"]) == "Chapters"


def _frame_keys_in_file_order(path):
    """Frame ids as laid out in the file: mutagen's dict hides order, so walk the v2.3 frame headers."""
    data = path.read_bytes()
    size = int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big")
    pos, keys = 10, []
    while pos < 10 + size and data[pos] != 0:
        frame_id = data[pos:pos + 4].decode("ascii")
        length = int.from_bytes(data[pos + 4:pos + 8], "big")
        body = data[pos + 10:pos + 10 + length]
        element_id = body.split(b"\0")[0].decode("latin-1")
        keys.append(f"CHAP:{element_id}" if frame_id == "CHAP" else frame_id)
        pos += 10 + length
    return keys


def test_eyed3_sees_the_same_chapters(mp3, cover_jpeg):
    tag(mp3, cover_jpeg)
    logging.getLogger("eyed3").setLevel(logging.ERROR)
    audio = eyed3.load(str(mp3))
    assert audio.tag.version == (2, 3, 0)
    chapters = sorted(audio.tag.chapters, key=lambda chap: chap.times[0])
    assert [c.title for c in chapters] == [span.title for span in CHAPTERS]
    assert [c.times for c in chapters] == [(ms(s.start), ms(s.end)) for s in CHAPTERS]
    [toc] = list(audio.tag.table_of_contents)
    assert toc.toplevel and toc.ordered
    assert [i.decode() for i in toc.child_ids] == [f"chp{i}" for i in range(len(CHAPTERS))]
    assert audio.tag.getBestDate().year == 2026


def test_ffprobe_sees_chapters_and_tags(mp3, cover_jpeg):
    tag(mp3, cover_jpeg)
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-of", "json", str(mp3)],
        check=True, capture_output=True, text=True).stdout)
    chapters = [(float(c["start_time"]), float(c["end_time"]), c["tags"]["title"]) for c in probe["chapters"]]
    assert [title for _, _, title in chapters] == [span.title for span in CHAPTERS]
    for (start, end, _), span in zip(chapters, CHAPTERS):
        assert start == pytest.approx(span.start / RATE, abs=0.001)
        assert end == pytest.approx(span.end / RATE, abs=0.001)
    assert chapters[-1][1] == pytest.approx(float(probe["format"]["duration"]), abs=0.05)
    tags = {key.lower(): value for key, value in probe["format"]["tags"].items()}
    assert {k: tags.get(k) for k in ("title", "artist", "album", "genre", "date")} == {
        "title": "Tagged Essay", "artist": "Ada Lovelace", "album": "Essays Aloud",
        "genre": "Podcast", "date": "2026-03-14"}


def test_retag_gives_identical_bytes_and_replaces_old_tags(tmp_path, mp3, cover_jpeg):
    tag(mp3, cover_jpeg)
    clean = mp3.read_bytes()
    tag(mp3, cover_jpeg)
    assert mp3.read_bytes() == clean

    # ffmpeg's own v2.4 tag, an ID3v1 tag, then one of ours with a big USLT: all gone after a re-tag
    retagged = encode_sine(tmp_path / "old.mp3", "-id3v2_version", "4", "-write_id3v1", "1",
                           "-metadata", "title=Old title", "-metadata", "comment=old")
    tag(retagged, cover_jpeg, title="Older title", lyrics="old " * 5000, link=None)
    tag(retagged, cover_jpeg)
    assert retagged.read_bytes() == clean
    assert clean[-128:-125] != b"TAG"  # no ID3v1


def test_optional_fields_are_left_out(mp3, cover_jpeg):
    tag(mp3, cover_jpeg, date=None, description=None, language=None, link=None, lyrics="")
    id3 = ID3(mp3)
    for absent in ("TDRC", "COMM", "TLAN", "USLT", "WXXX"):
        assert not id3.getall(absent), absent


@pytest.mark.parametrize("date, stored", [
    ("2026-03-14", "2026-03-14"),
    ("2026-03-14T09:30:00+01:00", "2026-03-14"),
    ("2026", "2026"),
])
def test_dates_survive_v23(mp3, cover_jpeg, date, stored):
    tag(mp3, cover_jpeg, date=date)
    assert str(ID3(mp3)["TDRC"]) == stored


def test_bad_date_is_a_config_error(mp3, cover_jpeg):
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        tag(mp3, cover_jpeg, date="the Ides of March")


@pytest.mark.parametrize("bcp47, code", [
    ("en", "eng"), ("en-GB", "eng"), ("de-CH", "deu"), ("fr", "fra"), ("pt_BR", "por"),
    ("zh-Hant-TW", "zho"), ("HE", "heb"), ("tlh", None), ("", None), (None, None),
])
def test_iso_639_2(bcp47, code):
    assert iso_639_2(bcp47) == code


def test_read_tags_and_format(mp3, cover_jpeg):
    tag(mp3, cover_jpeg)
    info = read_tags(mp3)
    assert info["id3_version"] == "2.3"
    assert (info["title"], info["artist"], info["album"], info["date"], info["genre"], info["language"]) == (
        "Tagged Essay", "Ada Lovelace", "Essays Aloud", "2026-03-14", "Podcast", "eng")
    assert info["description"] == "An essay, read aloud."
    assert info["lyrics_chars"] == len(ESSAY)
    assert info["cover"] == {"width": 1400, "height": 1400, "mode": "RGB", "format": "JPEG"}
    assert info["chapters"] == [(ms(s.start) / 1000, ms(s.end) / 1000, s.title) for s in CHAPTERS]
    json.dumps(info)  # `inspect --json` must be able to print it

    text = format_tags(info)
    assert "Title:" in text and "Tagged Essay" in text
    assert "1400x1400 RGB JPEG" in text
    rows = [line.split(None, 3) for line in text.splitlines()]
    assert ["2", "00:01", "00:02", "Two"] in rows
    assert ["5", "00:04", "00:06", "The end"] in rows


def test_read_tags_rejects_missing_and_non_mp3(tmp_path, mp3):
    not_mp3 = tmp_path / "notes.mp3"
    not_mp3.write_text("just some text, not audio\n" * 50)
    for path, expected in [(tmp_path / "missing.mp3", "not found"), (not_mp3, "not a readable MP3"),
                           (mp3, "no ID3 tag")]:
        with pytest.raises(InputError, match=expected) as caught:
            read_tags(path)
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_tagging_a_missing_file_does_not_create_it(tmp_path, cover_jpeg):
    missing = tmp_path / "missing.mp3"
    with pytest.raises(InputError, match="not found"):
        tag(missing, cover_jpeg)
    assert not missing.exists()


def test_a_book_of_300_chapters_keeps_them_all_under_a_ctoc_tree(tmp_path, cover_jpeg):
    """A CTOC lists at most 255 entries, so 300 chapters need a top-level CTOC of CTOCs."""
    book = tmp_path / "book.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "302",
                    "-q:a", "9", "-id3v2_version", "0", str(book)], check=True)
    titles = [f"Chapter {number}" for number in range(1, 301)]
    spans = [Span(n * RATE, (n + 1) * RATE if n < 299 else 302 * RATE, title) for n, title in enumerate(titles)]
    tag(book, cover_jpeg, chapters=spans[::-1])  # given in any order, written in time order
    ids = [f"chp{n}" for n in range(300)]

    id3 = ID3(book)
    assert [str(c.sub_frames["TIT2"]) for c in sorted(id3.getall("CHAP"), key=lambda c: c.start_time)] == titles
    assert [key.split(":")[1] for key in _frame_keys_in_file_order(book) if key.startswith("CHAP")] == ids
    tocs = {toc.element_id: toc for toc in id3.getall("CTOC")}
    [top] = [toc for toc in tocs.values() if toc.flags & CTOCFlags.TOP_LEVEL]
    assert all(toc.flags & CTOCFlags.ORDERED and len(toc.child_element_ids) <= 255 for toc in tocs.values())

    def leaves(element_id):
        return [leaf for child in tocs[element_id].child_element_ids
                for leaf in (leaves(child) if child in tocs else [child])]
    assert leaves(top.element_id) == ids
    assert [str(tocs[child].sub_frames["TIT2"]) for child in top.child_element_ids] == [
        "Chapters 1\u2013255", "Chapters 256\u2013300"]

    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(book)],
                                      check=True, capture_output=True, text=True).stdout)
    assert [c["tags"]["title"] for c in probe["chapters"]] == titles
    assert [round(float(c["start_time"])) for c in probe["chapters"]] == list(range(300))

    logging.getLogger("eyed3").setLevel(logging.ERROR)
    assert [c.title for c in sorted(eyed3.load(str(book)).tag.chapters, key=lambda c: c.times[0])] == titles

    info = read_tags(book)
    assert [title for _, _, title in info["chapters"]] == titles
    assert "Chapters:    300" in format_tags(info)
    assert ["300", "04:59", "05:02", "Chapter 300"] in [line.split(None, 3) for line in format_tags(info).splitlines()]
