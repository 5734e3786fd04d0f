"""Chapters a listener can navigate: plan_script's chapter rules, one Markdown essay per rule."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from mutagen.id3 import ID3

from audiobook.models import BODY, INTRO, OUTRO
from audiobook.text.chapters import MIN_CHAPTER_WORDS, balanced_starts
from audiobook.text.plan import plan_script, resolve_title
from audiobook.text.read import read_document
from conftest import SHARED_CHECKS, cli_env, ffprobe, run_cli, tools_missing

# 16 spoken words: a chapter of this alone is long enough to navigate to.
PROSE = "A paragraph long enough to be worth a chapter of its own, heard in six seconds."


def long_paragraph(name: str) -> str:
    """About 96 words, its opening words naming it: chapters cut here are titled "Name begins here and then goes…"."""
    return f"{name} begins here and then goes on" + " with words that fill the time" * 15 + "."


def essay(*blocks: str, title: str | None = "Essay") -> str:
    front = f"---\ntitle: {title}\n---\n\n" if title else ""
    return front + "\n\n".join(blocks) + "\n"


# id, Markdown, chapter titles, text shown in no body segment (a heading that is not read)
CASES = [
    ("headings-make-chapters-at-every-depth",
     essay("# One", PROSE, "## Two", PROSE, "### Three", PROSE),
     ["One", "Two", "Three"], None),
    ("opening-text-titled-by-the-essay",
     essay(PROSE, "## Part one", PROSE),
     ["Essay", "Part one"], None),
    ("opening-text-introduces-a-first-heading-that-is-the-title",
     essay(PROSE, "# Heading", PROSE, title=None),
     ["Introduction", "Heading"], None),
    ("first-heading-repeating-the-title-is-not-read",
     essay("# *ESSAY*!", PROSE, "## Part one", PROSE),
     ["Introduction", "Part one"], "ESSAY"),
    ("title-heading-alone-leaves-an-essay-without-headings",
     essay("# Essay", PROSE),
     ["A paragraph long enough to be…"], "Essay"),
    ("title-heading-after-prose-is-read",
     essay(PROSE, "# Essay", PROSE),
     ["Introduction", "Essay"], None),
    ("heading-then-subheading-is-one-chapter",
     essay("## Part one", "### The crossing", PROSE, "## Part two", PROSE),
     ["Part one: The crossing", "Part two"], None),
    ("bare-headings-in-a-row-are-one-chapter",
     essay("# Part I", "## Chapter 1", "### Scene 1", PROSE, "## Chapter 2", PROSE),
     ["Part I: Chapter 1: Scene 1", "Chapter 2"], None),
    ("question-heading-joins-without-a-colon",
     essay("## Why?", "### Because", PROSE, "## Next", PROSE),
     ["Why? Because", "Next"], None),
    ("short-chapter-joins-the-next",
     essay("## Setting out", "We left at dawn.", "## The road", PROSE, "## Arrival", PROSE),
     ["Setting out: The road", "Arrival"], None),
    ("short-last-chapter-joins-the-one-before",
     essay("## First", PROSE, "## Second", PROSE, "## Thanks", "Thanks for reading."),
     ["First", "Second"], None),
    ("short-opening-text-joins-the-first-heading",
     essay("Hello there.", "## First", PROSE, "## Second", PROSE),
     ["First", "Second"], None),
    ("same-title-twice-in-a-row-is-one-chapter",
     essay("## Notes", PROSE, "## notes.", PROSE, "## Other", PROSE),
     ["Notes", "Other"], None),
    ("same-title-apart-stays-two-chapters",
     essay("## Notes", PROSE, "## Other", PROSE, "## Notes", PROSE),
     ["Notes", "Other", "Notes"], None),
    ("long-essay-with-one-heading-gets-three",
     essay("## Only", *map(long_paragraph, ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"])),
     ["Only", "Gamma begins here and then goes…", "Epsilon begins here and then goes…"], None),
    ("long-first-of-two-chapters-is-cut",
     essay("## One", *map(long_paragraph, ["Alpha", "Beta", "Gamma", "Delta"]), "## Two", long_paragraph("Eta")),
     ["One", "Gamma begins here and then goes…", "Two"], None),
    ("short-essay-keeps-two-chapters",
     essay("## One", long_paragraph("Alpha"), "## Two", long_paragraph("Beta")),
     ["One", "Two"], None),
    ("cut-never-before-code",
     essay("## Only", long_paragraph("Alpha"), long_paragraph("Beta"), "```\nprint(1)\n```",
           long_paragraph("Gamma"), long_paragraph("Delta"), long_paragraph("Epsilon")),
     ["Only", "Gamma begins here and then goes…", "Delta begins here and then goes…"], None),
]


def plan_markdown(tmp_path, source: str):
    path = tmp_path / "essay.md"
    path.write_text(source, encoding="utf-8")
    document = read_document(path)
    metadata = replace(document.metadata, title=resolve_title(document), author="A. Writer")
    return document, plan_script(document, metadata)


@pytest.mark.parametrize("source,titles,unread", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_chapter_rules(tmp_path, source, titles, unread):
    _, script = plan_markdown(tmp_path, source)
    assert script.chapters == titles
    shown = " ".join(s.display for s in script.segments if s.kind == BODY)
    if unread is not None:
        assert unread not in shown


@pytest.mark.parametrize("source", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_every_chapter_is_worth_navigating_to(tmp_path, source):
    document, script = plan_markdown(tmp_path, source)
    body = [s for s in script.segments if s.kind == BODY]
    assert [s.chapter for s in body] == sorted(s.chapter for s in body)
    assert sorted({s.chapter for s in body}) == list(range(len(script.chapters)))  # none empty
    assert (script.segments[0].kind, script.segments[0].chapter) == (INTRO, 0)
    assert (script.segments[-1].kind, script.segments[-1].chapter) == (OUTRO, len(script.chapters) - 1)
    for earlier, later in zip(script.chapters, script.chapters[1:]):
        assert earlier.casefold() != later.casefold()
    if len(script.chapters) > 1:
        for chapter in range(len(script.chapters)):
            spoken = sum(len(s.speech.split()) for s in body if s.chapter == chapter)
            assert spoken >= MIN_CHAPTER_WORDS, script.chapters[chapter]
    for chapter in range(len(script.chapters)):  # and opens at the start of a paragraph
        first = next(s for s in body if s.chapter == chapter)
        assert document.paragraphs[first.paragraph].text.startswith(first.display)


def test_front_matter_chapter_titles_name_the_chapters_when_they_match(tmp_path):
    source = essay("## One", PROSE, "## Two", PROSE).replace("title: Essay", "title: Essay\nchapters: [Uno, Dos]")
    _, script = plan_markdown(tmp_path, source)
    assert script.chapters == ["Uno", "Dos"]


BOOK_HEADINGS = [f"Chapter {number}" for number in range(1, 301)]
BOOK = essay(*(f"## {heading}\n\n{PROSE}" for heading in BOOK_HEADINGS), title="A Long Book")


def test_a_book_keeps_every_heading_as_a_chapter(tmp_path):
    _, script = plan_markdown(tmp_path, BOOK)
    assert script.chapters == BOOK_HEADINGS


@pytest.mark.e2e
@pytest.mark.skipif(tools_missing() is not None, reason=f"{tools_missing()}")
def test_a_book_of_300_headings_builds_with_every_chapter_in_its_tags(tmp_path, mute_plugin):
    """More chapters than one CTOC can list: ffprobe, mutagen and the shared checker see all 300."""
    book = tmp_path / "book.md"
    book.write_text(BOOK, encoding="utf-8")
    env = cli_env(PYTHONPATH=os.pathsep.join([cli_env()["PYTHONPATH"], str(mute_plugin)]))
    result = run_cli("build", book, "--show", tmp_path / "show", "--engine", "counted", "-q", env=env)
    assert result.returncode == 0, result.stderr
    episodes = tmp_path / "show" / "episodes"
    mp3 = episodes / "book.mp3"
    assert [c["tags"]["title"] for c in ffprobe(mp3)["chapters"]] == BOOK_HEADINGS
    chaps = sorted(ID3(mp3).getall("CHAP"), key=lambda chap: chap.start_time)
    assert [str(chap.sub_frames["TIT2"]) for chap in chaps] == BOOK_HEADINGS
    checker = SHARED_CHECKS / "check_episode.py"
    if checker.is_file():
        checked = subprocess.run([sys.executable, str(checker), str(mp3), "--chapters-json",
                                  str(episodes / "book.chapters.json"), "--min-chapters", "300"],
                                 capture_output=True, text=True, timeout=600)
        # The checker wants the top-level CTOC to list every CHAP itself, which no valid tag
        # can do past 255 chapters; test_tag walks the CTOC tree instead.
        failures = set(json.loads(checked.stdout)["failures"]) - {"CTOC children do not match CHAP frames"}
        assert not failures, checked.stdout + checked.stderr


BALANCED_CASES = [
    ("any-paragraph", [100] * 6, 3, None, [0, 2, 4]),
    ("only-at-candidates", [100] * 6, 3, [3, 5], [0, 3, 5]),
    ("fewer-candidates-than-cuts", [100] * 6, 3, [4], [0, 4]),
    ("no-candidates", [100] * 6, 3, [], [0]),
    ("zero-is-no-cut", [100] * 3, 3, [0, 1, 2], [0, 1, 2]),
]


@pytest.mark.parametrize("counts,count,candidates,starts", [c[1:] for c in BALANCED_CASES],
                         ids=[c[0] for c in BALANCED_CASES])
def test_balanced_starts_cuts_only_at_candidates(counts, count, candidates, starts):
    assert balanced_starts(counts, count, candidates) == starts
