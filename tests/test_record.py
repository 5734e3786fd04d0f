"""The episode record and the names of an episode's files: round trips, refusals, release 0.1's records."""
from __future__ import annotations

import dataclasses
import datetime
import json

import pytest

from audiobook.show.record import (SCHEMA, Audio, ChapterMark, EngineUsed, EpisodeFiles, EpisodeRecord, RecordError,
                                   SegmentMark, Source, identity)
from conftest import ROOT

RELEASE_0_1 = ROOT / "tests" / "fixtures" / "release-0.1" / "harbour.json"
UTC = datetime.timezone.utc
PARIS = datetime.timezone(datetime.timedelta(hours=2))


def record(**changes) -> EpisodeRecord:
    made = EpisodeRecord(
        stem="notes.chapters", title='Tom & "Jerry" \U0001F399 עברית', author="A. Writer", album="Essays",
        date="2017-10-19", description="About things.", language="en-GB", link=None, guid="guid-1",
        published=datetime.datetime(2017, 10, 19, 21, 33, tzinfo=PARIS), build_key="k" * 64,
        source=Source("notes.chapters.md", "0" * 64), engine=EngineUsed("pyttsx3", "1.0", "gmw/en", "gmw/en-gb", 175),
        audio=Audio("a" * 64, 12345, 61.5, 44100, 2712150, 96, -16.02, "c" * 64),
        chapters=(ChapterMark(0.0, 30.0, "One"), ChapterMark(30.0, 61.5, "Two")),
        segments=(SegmentMark(0.3, 2.0, "Intro.", "Intro.", 0, -1, "intro", "", "narrator", 1.0),
                  SegmentMark(3.0, 5.5, "One", "One", 0, 0, "body", "heading", "narrator", 0.8),
                  SegmentMark(6.3, 9.0, "A quote.", "A quote.", 0, 1, "body", "quote", "quote", 1.5)))
    return dataclasses.replace(made, **changes)


def test_a_record_round_trips_through_json():
    original = record()
    text = original.to_json()
    assert json.loads(text)["schema"] == SCHEMA
    assert EpisodeRecord.from_json(text, "notes.chapters") == original
    assert EpisodeRecord.from_json(text, "notes.chapters").published.utcoffset() == datetime.timedelta(hours=2)


REFUSED = {
    "not JSON": ("{", "not JSON"),
    "a list": ("[]", "not a JSON object"),
    "a newer schema": (lambda d: d.update(schema=SCHEMA + 1), f"schema {SCHEMA + 1}"),
    "a missing field": (lambda d: d.pop("guid"), "record.guid is missing"),
    "a wrong type": (lambda d: d["audio"].update(bytes="12345"), "record.audio.bytes should be int, not str"),
    "a bool for a number": (lambda d: d["engine"].update(rate=True), "record.engine.rate should be int"),
    "a time without a zone": (lambda d: d.update(published="2017-10-19T21:33:00"), "no time zone"),
    "an unreadable time": (lambda d: d.update(published="Jekyll"), "not an ISO 8601 time"),
    "a segment not an object": (lambda d: d["segments"].append(3), "record.segments[3] is not an object"),
    "another episode's record": (lambda d: d.update(stem="other"), "record of episode 'other'"),
    "a day that is not one": (lambda d: d.update(date="2017-13-45"), "record.date is not a day"),
    "a hash that is a path": (lambda d: d["audio"].update(sha256="../../../../etc/" + "0" * 48),
                              "record.audio.sha256 is not a sha256"),
    "NaN": ('{"schema": 2, "audio": {"duration": NaN}}', "NaN is not a number a record holds"),
    "release 0.1 with a pause that is text": (lambda d: [d.pop("schema"), d["segments"][1].update(pause_after="x")],
                                              "not a record of release 0.1"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_damaged_record_is_refused_saying_where(case):
    damage, message = REFUSED[case]
    if isinstance(damage, str):
        text = damage
    else:
        data = json.loads(record().to_json())
        damage(data)
        text = json.dumps(data)
    with pytest.raises(RecordError, match=message.replace("[", r"\[").replace("]", r"\]")):
        EpisodeRecord.from_json(text, "notes.chapters")


def test_no_file_suffix_ends_another_so_no_stem_takes_anothers_files(tmp_path):
    files = EpisodeFiles.of(tmp_path, "x")
    names = [p.name[1:] for p in (files.mp3, files.record, files.chapters, files.vtt, files.srt, files.art, files.page)]
    for one in names:
        for other in names:
            assert one == other or not one.endswith(other), (one, other)
    dotted = EpisodeFiles.of(tmp_path, "x.chapters")
    all_files = lambda f: {f.mp3, f.record, f.chapters, f.vtt, f.srt, f.art, f.page}  # noqa: E731
    assert not all_files(files) & all_files(dotted)
    assert files.url_path(files.enclosure("0123456789abcdef")) == "episodes/0123456789ab/x.mp3"


def test_a_release_0_1_record_is_read_with_its_paragraphs():
    old = json.loads(RELEASE_0_1.read_text(encoding="utf-8"))
    migrated = EpisodeRecord.from_json(RELEASE_0_1.read_text(encoding="utf-8"), "harbour")
    assert (migrated.guid, migrated.published) == (old["guid"], datetime.datetime(2024, 5, 1, tzinfo=UTC))
    assert [s.display for s in migrated.segments] == [s["display"] for s in old["segments"]]
    body = [(s.paragraph, s.block) for s in migrated.segments if s.kind == "body"]
    # "# Morning", two sentences, a quote, "# Evening", two sentences
    assert body == [(0, "heading"), (1, "text"), (1, "text"), (2, "quote"), (3, "heading"), (4, "text"), (4, "text")]


NOW = datetime.datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
JEKYLL = datetime.datetime(2017, 10, 19, 21, 33, tzinfo=PARIS)
# (previous record's date and time, the essay's date) -> (day, publication time)
IDENTITIES = {
    "first build, no date": (None, None, ("2026-12-03", NOW)),
    "first build, a day": (None, datetime.date(2017, 10, 19),
                           ("2017-10-19", datetime.datetime(2017, 10, 19, tzinfo=UTC))),
    "first build, today": (None, datetime.date(2026, 12, 3), ("2026-12-03", NOW)),
    "first build, a time and zone": (None, JEKYLL, ("2017-10-19", JEKYLL)),
    "rebuild keeps the first build's time": (("2026-11-30", datetime.datetime(2026, 11, 30, 9, tzinfo=UTC)), None,
                                             ("2026-11-30", datetime.datetime(2026, 11, 30, 9, tzinfo=UTC))),
    "rebuild, same day given": (("2026-11-30", datetime.datetime(2026, 11, 30, 9, tzinfo=UTC)),
                                datetime.date(2026, 11, 30),
                                ("2026-11-30", datetime.datetime(2026, 11, 30, 9, tzinfo=UTC))),
    "rebuild, the date moved": (("2026-11-30", datetime.datetime(2026, 11, 30, 9, tzinfo=UTC)),
                                datetime.date(2026, 11, 1), ("2026-11-01", datetime.datetime(2026, 11, 1, tzinfo=UTC))),
}


@pytest.mark.parametrize("case", list(IDENTITIES))
def test_identity_keeps_the_guid_and_the_first_publication(case):
    before, date, expected = IDENTITIES[case]
    previous = record(date=before[0], published=before[1]) if before else None
    guid, day, published = identity(previous, date, NOW)
    assert (day, published) == expected
    assert guid == "guid-1" if previous else len(guid) == 36
