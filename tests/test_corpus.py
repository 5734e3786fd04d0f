"""Real posts, as writers keep them, planned as a listener will hear them.

``tests/fixtures/corpus/`` holds posts, pages and feeds from public blog
repositories (provenance and licence in SOURCES.tsv, which also says what a
careful human reader gives as each post's title, author and date). For every
item the plan (title, author, date, chapters, every word to be spoken) is
compared with a checked-in copy in ``corpus/expected/``; when a change to
reading or planning is intended, regenerate the copies and review their diff:

    scripts/test tests/test_corpus.py --regen-golden

Independently of those copies, every item is held to what a listener would
notice: no markup of any dialect spoken, no list number said as a word, no
empty or repeated chapter, three chapters or more when the text has three
sections or more, and the title, author and date a careful reader gives.
"""
from __future__ import annotations

import csv
from datetime import date, datetime
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from audiobook.models import BODY, HEADING, LIST_ITEM
from audiobook.pipeline import plan_essays
from audiobook.text.sources import essays_from
from conftest import ROOT

CORPUS = ROOT / "tests" / "fixtures" / "corpus"
EXPECTED = CORPUS / "expected"
NOT_ITEMS = {"README.md", "SOURCES.tsv"}
PERMISSIVE = {"MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "ISC", "CC0-1.0", "CC-BY-4.0",
              "MIT OR Apache-2.0", "Unlicense", "public-domain"}

# What no listener should hear: markup of every dialect the readers take.
MARKUP = {
    # a field read out starts a segment ("title equals ..."); prose may mention one ("set layout: post")
    "front matter": re.compile(r"^(?:-{3}|\+{3}|(?:title|date|author|layout|tags|draft)\s*[:=]\s)", re.I),
    "Liquid or Jinja tag": re.compile(r"\{%|%\}"),
    "template expression or shortcode": re.compile(r"\{\{|\}\}"),
    "footnote marker": re.compile(r"\[\^[^\]]*\]"),
    "Markdown link or image": re.compile(r"\]\(|!\["),
    "wiki link": re.compile(r"\[\[|\]\]"),
    "heading attributes": re.compile(r"\{[#.][\w-]|\{:"),
    "admonition": re.compile(r"^:::|:::$|^[!?]{3}\s"),
    "table pipe": re.compile(r"\|"),
    "HTML tag or comment": re.compile(r"</?[A-Za-z][\w-]*(?:\s[^>]*)?>|<!--|-->"),
    "Markdown heading or emphasis": re.compile(r"^#{1,6}\s|\*\*|__|`"),
}
LIST_NUMBER = re.compile(r"^\W*(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[.)]\s", re.I)


def sources() -> list[dict[str, str]]:
    with open(CORPUS / "SOURCES.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def items() -> list[dict[str, str]]:
    """The corpus entries that are essays or feeds (not a generator's data file)."""
    return [row for row in sources() if not row["dialect"].endswith("-data")]


ITEMS = items()
IDS = [row["file"] for row in ITEMS]


@lru_cache(maxsize=None)
def planned(file: str):
    """Every episode the item gives (a feed: one per post), planned with the suite's engine."""
    return plan_essays([CORPUS / file], Path("/nonexistent-show"), {})


def summary(plan) -> dict:
    """A plan as the expected copies keep it: what a listener gets, in order."""
    script, settings = plan.script, plan.settings
    chapters = [{"title": title, "spoken": []} for title in script.chapters]
    for segment in script.segments:
        chapters[segment.chapter]["spoken"].append(segment.speech)
    return {"title": settings.title, "author": settings.author,
            "date": settings.date.isoformat() if settings.date else None,
            "description": settings.description, "chapters": chapters}


def expected_path(file: str) -> Path:
    return EXPECTED / f"{file}.json"


def test_every_corpus_file_is_in_sources_with_a_permissive_licence():
    listed = {row["file"] for row in sources()}
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
               if p.is_file() and p.name not in NOT_ITEMS and EXPECTED not in p.parents}
    assert on_disk == listed
    for row in sources():
        made_here = row["repository"] == "(made here)"  # by a script of ours, from public-domain text
        assert made_here or re.fullmatch(r"[0-9a-f]{40}", row["commit"]), row["file"]
        assert not made_here or (ROOT / row["path"]).is_file(), row["file"]
        assert row["licence"] in PERMISSIVE, row["file"]


@pytest.mark.parametrize("row", ITEMS, ids=IDS)
def test_plan_matches_the_checked_in_copy(row, request):
    got = [summary(plan) for plan in planned(row["file"])]
    path = expected_path(row["file"])
    if request.config.getoption("--regen-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.is_file(), "no expected copy: run scripts/test tests/test_corpus.py --regen-golden"
    assert got == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("row", [row for row in ITEMS if row["title"]], ids=[r["file"] for r in ITEMS if r["title"]])
def test_title_author_and_date_are_what_a_careful_reader_gives(row):
    [plan] = planned(row["file"])
    assert plan.settings.title == row["title"]
    # what the essay names, not the show's default author; a handle's case is not a different name
    assert (plan.document.metadata.author or "").casefold() == row["author"].casefold()
    written = row["date"] and (datetime.fromisoformat(row["date"]) if "T" in row["date"]
                               else date.fromisoformat(row["date"]))
    assert (plan.settings.date or "") == written  # the same instant, whatever zone the page shows it in


@pytest.mark.parametrize("row", ITEMS, ids=IDS)
def test_no_markup_and_no_list_number_is_spoken(row):
    for plan in planned(row["file"]):
        for segment in plan.script.segments:
            for what, pattern in MARKUP.items():
                assert not pattern.search(segment.speech), f"{what} spoken: {segment.speech!r}"
            if segment.block == LIST_ITEM:
                assert not LIST_NUMBER.match(segment.speech), f"list number spoken: {segment.speech!r}"


@pytest.mark.parametrize("row", ITEMS, ids=IDS)
def test_chapters_can_be_navigated(row):
    for plan in planned(row["file"]):
        script = plan.script
        titles = script.chapters
        assert all(title.strip() for title in titles)
        assert all(a.casefold() != b.casefold() for a, b in zip(titles, titles[1:])), titles
        spoken = {segment.chapter for segment in script.segments if segment.kind == BODY}
        assert spoken == set(range(len(titles))), "a chapter with nothing of the essay in it"
        sections = sum(1 for p in plan.document.paragraphs if p.kind == HEADING)
        if sections >= 3:
            assert len(titles) >= 3, titles


def test_the_corpus_covers_the_dialects_and_formats():
    dialects = {row["dialect"] for row in ITEMS}
    markdown = dialects - {"html", "feed", "epub"}
    assert len(markdown) >= 8 and {"html", "feed", "epub"} <= dialects, dialects
    assert sum(len(essays_from([CORPUS / row["file"]])) for row in ITEMS) >= 30
