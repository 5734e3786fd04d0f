"""Which episodes a show publishes, tried through the real CLI as a user would meet it:
an essay named like a sidecar, a Jekyll date, a damaged record, a record of release 0.1.

Feeds are read back with feedparser; every build speaks with the real pyttsx3.
"""
from __future__ import annotations

import email.utils
import json
import shutil
from pathlib import Path

import feedparser
import lxml.html
import pytest

from audiobook.show.init import init_show
from conftest import ROOT, cli_env, run_cli, sha256, tools_missing

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(tools_missing() is not None, reason=f"{tools_missing()}")]

BASE = "https://example.com/show/"
RELEASE_0_1 = ROOT / "tests" / "fixtures" / "release-0.1"


def new_show(root: Path) -> Path:
    show = root / "show"
    init_show(show, title="Notes", author="A. Writer", email="owner@example.com", base_url=BASE)
    return show


def essay(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path


def ok(*args) -> tuple[str, str]:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def feed_entries(show: Path) -> list:
    parsed = feedparser.parse((show / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed.entries


def test_an_essay_named_like_a_sidecar_is_published(tmp_path):
    show = new_show(tmp_path)
    plain = essay(tmp_path, "notes.md", "# Notes\n\nThe plain notes, in one sentence.\n")
    dotted = essay(tmp_path, "notes.chapters.md", "# Chapters\n\nNotes about chapters, in one sentence.\n")
    ok("build", plain, dotted, "--show", show, "-q")
    assert sorted(entry.title for entry in feed_entries(show)) == ["Chapters", "Notes"]
    for stem in ("notes", "notes.chapters"):
        assert (show / "episodes" / f"{stem}.html").is_file()
        chapters = json.loads((show / "episodes" / f"{stem}.chapters.json").read_text(encoding="utf-8"))
        assert chapters["version"] == "1.2.0"  # each episode kept its own chapters file
    index = lxml.html.fromstring((show / "index.html").read_bytes())
    assert {a.get("href") for a in index.cssselect("h3 a")} == {"episodes/notes.html", "episodes/notes.chapters.html"}


def test_a_jekyll_date_becomes_the_pubdate_and_survives_rebuilds(tmp_path):
    show = new_show(tmp_path)
    post = essay(tmp_path, "2017-10-19-harbour.md",
                 "---\ntitle: Harbour\ndate: 2017-10-19 21:33:00 +0200\n---\nThe harbour wakes slowly at dawn.\n")
    ok("build", post, "--show", show, "-q")
    (entry,) = feed_entries(show)
    assert email.utils.parsedate_to_datetime(entry.published).isoformat() == "2017-10-19T19:33:00+00:00"
    record = json.loads((show / "episodes" / "2017-10-19-harbour.episode.json").read_text(encoding="utf-8"))
    assert (record["date"], record["published"]) == ("2017-10-19", "2017-10-19T21:33:00+02:00")
    ok("build", post, "--show", show, "--force", "-q")
    ok("feed", "--show", show)
    (again,) = feed_entries(show)
    assert (again.id, again.published) == (entry.id, entry.published)


def test_one_damaged_record_leaves_the_others_in_the_feed_with_one_warning(tmp_path):
    show = new_show(tmp_path)
    first = essay(tmp_path, "first.txt", "The first essay, in one sentence.\n")
    second = essay(tmp_path, "second.txt", "The second essay, in one sentence.\n")
    ok("build", first, second, "--show", show, "-q")
    (show / "episodes" / "first.episode.json").write_text('{"schema": 2, "title": ', encoding="utf-8")
    stdout, stderr = ok("feed", "--show", show)
    assert [entry.title for entry in feed_entries(show)] == ["The second essay, in one sentence"]
    warnings = [line for line in stderr.splitlines() if line]
    assert len(warnings) == 1, stderr
    assert warnings[0].startswith("audiobook: warning: first.mp3 is left out of the feed and the site: ")
    assert "first.episode.json" in warnings[0] and "restore it, or delete it" in warnings[0]
    third = essay(tmp_path, "third.txt", "The third essay, in one sentence.\n")
    _, stderr = ok("build", third, "--show", show, "-q")  # another build is not blocked either
    assert stderr.count("warning") == 1 and len(feed_entries(show)) == 2
    # building over the damaged record would hand the episode a new GUID: refused, in one line
    refused = run_cli("build", first, "--show", show, "-q")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "holds the episode's GUID" in refused.stderr and "restore it, or delete it" in refused.stderr
    (show / "episodes" / "first.episode.json").unlink()  # the user's choice: a new identity
    ok("build", first, "--show", show, "-q")
    assert len(feed_entries(show)) == 3


def test_a_record_of_release_0_1_is_published_then_replaced_keeping_its_guid(tmp_path):
    show = new_show(tmp_path)
    source = tmp_path / "harbour.md"
    shutil.copy(RELEASE_0_1 / "harbour.md", source)
    ok("build", source, "--show", show, "-q")
    episodes = show / "episodes"
    old = json.loads((RELEASE_0_1 / "harbour.json").read_text(encoding="utf-8"))
    new = json.loads((episodes / "harbour.episode.json").read_text(encoding="utf-8"))
    # the show as release 0.1 left it: the same MP3, described by its STEM.json record
    # (its times those of this build's audio: today's engine speaks a little differently)
    old["audio"].update(bytes=(episodes / "harbour.mp3").stat().st_size, sha256=sha256(episodes / "harbour.mp3"),
                        duration=new["audio"]["duration"], samples=new["audio"]["samples"])
    for kept, now in [*zip(old["chapters"], new["chapters"]), *zip(old["segments"], new["segments"])]:
        kept.update(start=now["start"], end=now["end"])
    (episodes / "harbour.episode.json").unlink()
    (episodes / "harbour.json").write_text(json.dumps(old), encoding="utf-8")
    _, stderr = ok("feed", "--show", show)
    assert "warning" not in stderr
    (entry,) = feed_entries(show)
    assert entry.id == old["guid"]
    page = lxml.html.fromstring((episodes / "harbour.html").read_bytes())
    assert [b.text_content() for b in page.cssselect(".transcript-body blockquote")] == ["The sea keeps no calendar."]
    assert [h.text_content() for h in page.cssselect(".transcript-body h3")] == ["Morning", "Evening"]
    ok("build", source, "--show", show, "-q")  # the next build writes the new record, same identity
    assert not (episodes / "harbour.json").exists()
    record = json.loads((episodes / "harbour.episode.json").read_text(encoding="utf-8"))
    assert (record["guid"], record["published"]) == (old["guid"], old["published"])
    assert [entry.id for entry in feed_entries(show)] == [old["guid"]]


def test_plan_build_and_feed_refuse_a_bad_podcast_toml_with_the_same_words(tmp_path):
    show = tmp_path / "show"
    show.mkdir()
    text = essay(tmp_path, "essay.txt", "One sentence to plan.\n")
    for toml, expected in (('[show]\nemail = "nobody"\n', "[show] email: 'nobody' is not an email address"),
                           ("[build]\nrate = 5000\n", "[build] rate: must be between 80 and 450, got 5000"),
                           ('[show]\ntilte = "Typo"\n', "unknown key 'tilte'; did you mean 'title'?")):
        (show / "podcast.toml").write_text(toml, encoding="utf-8")
        answers = [run_cli(*args, env=cli_env()) for args in (("plan", text, "--show", show),
                                                              ("build", text, "--show", show),
                                                              ("say", "hello", "--show", show, "--out", tmp_path / "s.wav"),
                                                              ("feed", "--show", show))]
        assert {a.returncode for a in answers} == {2}
        assert len({a.stderr for a in answers}) == 1, [a.stderr for a in answers]
        assert expected in answers[0].stderr and answers[0].stderr.count("\n") == 1
    assert not (show / "episodes").exists() and not (tmp_path / "s.wav").exists()


def test_two_essays_that_would_be_one_episode_are_refused_before_any_work(tmp_path):
    show = new_show(tmp_path)
    (tmp_path / "drafts").mkdir()
    first = essay(tmp_path, "Notes.md", "The first notes.\n")
    second = essay(tmp_path / "drafts", "notes.md", "Other notes.\n")
    result = run_cli("build", first, second, "--show", show)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "would both be episode 'notes'" in result.stderr
    assert not (show / "episodes").exists()
