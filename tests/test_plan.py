"""plan_script on the real essays and on inputs built to break it."""
from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from audiobook.errors import InputError
from audiobook.models import (
    BODY, CODE, HEADING, INTRO, NARRATOR, OUTRO, QUOTE, QUOTE_ROLE, TEXT, Document, Metadata, Paragraph,
)
from audiobook.text.chapters import balanced_starts
from audiobook.text.plan import (
    PAUSE_AFTER_CHAPTER, PAUSE_AFTER_HEADING, PAUSE_AFTER_PARAGRAPH, PAUSE_AFTER_SENTENCE,
    estimate_seconds, format_plan, plan_script, resolve_title, split_for_speech,
)
from audiobook.text.read import read_document

ROOT = Path(__file__).resolve().parent.parent
FIELD_NOTES = ROOT / "tests" / "fixtures" / "field-notes.md"
SEED = ROOT / "seeds" / "tipping-point.txt"


def plan(path: Path, **options):
    document = read_document(path)
    metadata = replace(document.metadata, title=resolve_title(document), author=document.metadata.author or "A. Writer")
    return document, plan_script(document, metadata, **options)


def document_of(*paragraphs: Paragraph, metadata: Metadata | None = None) -> Document:
    text = "\n\n".join(p.text for p in paragraphs)
    return Document(Path("essay.txt"), metadata or Metadata(), list(paragraphs), text)


def words(text: str) -> list[str]:
    return text.split()


def body(script):
    return [s for s in script.segments if s.kind == BODY]


# --- the real essays ---------------------------------------------------------

def test_field_notes_chapters_come_from_headings_titled_by_front_matter():
    _, script = plan(FIELD_NOTES)
    assert script.chapters == ["Why listen at all", "What the ear forgives", "A small experiment", "Notes for the reader"]
    first_of_chapter = {}
    for segment in body(script):
        first_of_chapter.setdefault(segment.chapter, segment.display)
    assert list(first_of_chapter.values()) == script.chapters  # each chapter opens with its heading


def test_field_notes_roles_code_and_links():
    document, script = plan(FIELD_NOTES)
    quotes = [s for s in script.segments if s.role == QUOTE_ROLE]
    assert [document.paragraphs[s.paragraph].kind for s in quotes] == [QUOTE, QUOTE]
    code = [s for s in script.segments if document.paragraphs[s.paragraph].kind == CODE and s.paragraph >= 0]
    assert len(code) == 1
    assert code[0].display == "[Code example (python), 4 lines, not read aloud]"
    assert "answers" not in code[0].speech
    spoken = " ".join(s.speech for s in script.segments)
    assert "raw notes are messy" in spoken and "http" not in spoken
    assert "notes at example dot org" in spoken
    assert not re.search(r"[\d$%&#*`|~<>]", spoken)


def test_quote_role_can_be_turned_off():
    _, script = plan(FIELD_NOTES, quote_role=False)
    assert {s.role for s in script.segments} == {NARRATOR}


def test_intro_and_outro_frame_the_script():
    _, script = plan(FIELD_NOTES)
    intro, outro = script.segments[0], script.segments[-1]
    assert (intro.kind, intro.chapter, intro.pause_after, intro.paragraph) == (INTRO, 0, 1.0, -1)
    assert intro.speech == ("Field Notes on Listening: Essays, Ears and the third Medium. "
                            "By Maren Okafor-Lindqvist.")
    assert (outro.kind, outro.chapter, outro.pause_after, outro.paragraph) == (OUTRO, 3, 0.0, -1)
    assert outro.speech.startswith("That was Field Notes on Listening")
    assert [s.index for s in script.segments] == list(range(len(script.segments)))


def test_pauses_grow_from_sentence_to_paragraph_to_chapter():
    document, script = plan(FIELD_NOTES)
    segments = body(script)
    for segment, following in zip(segments, segments[1:] + [None]):
        kind = document.paragraphs[segment.paragraph].kind
        if following is None or following.chapter != segment.chapter:
            expected = PAUSE_AFTER_CHAPTER
        elif following.paragraph != segment.paragraph:
            expected = PAUSE_AFTER_HEADING if kind == HEADING else PAUSE_AFTER_PARAGRAPH
        else:
            expected = PAUSE_AFTER_SENTENCE
        assert segment.pause_after == expected, segment.display
    assert PAUSE_AFTER_SENTENCE < PAUSE_AFTER_PARAGRAPH < PAUSE_AFTER_CHAPTER


def test_seed_gets_even_chapters_at_paragraph_boundaries_titled_by_opening_words():
    document, script = plan(SEED)
    assert 3 <= len(script.chapters) <= 8
    per_chapter = [0] * len(script.chapters)
    starts = {}
    for segment in body(script):
        per_chapter[segment.chapter] += len(segment.display.split())
        starts.setdefault(segment.chapter, segment)
    assert max(per_chapter) <= 1.5 * min(per_chapter), per_chapter
    for chapter, segment in starts.items():
        paragraph = document.paragraphs[segment.paragraph]
        assert paragraph.text.startswith(segment.display)  # a chapter opens at a paragraph's first sentence
        title = script.chapters[chapter]
        assert len(title.rstrip("\u2026").split()) <= 6
        assert paragraph.text.startswith(title.rstrip("\u2026"))
        assert not title.rstrip("\u2026")[-1] in ".,;:!?"
    assert script.chapters[1].endswith("\u2026")


@pytest.mark.parametrize("path", [SEED, FIELD_NOTES], ids=["seed", "field-notes"])
def test_every_word_of_the_essay_reaches_a_transcript_in_order(path):
    document, script = plan(path)
    prose = [s for s in body(script) if document.paragraphs[s.paragraph].kind != CODE]
    shown = words(" ".join(s.display for s in prose))
    assert shown == words(" ".join(p.text for p in document.paragraphs if p.kind != CODE))


def test_sentences_are_stored_on_paragraphs():
    document, _ = plan(SEED)
    assert document.paragraphs[1].sentences[0] == (
        "Three weeks ago, Harvey Weinstein was one of the most powerful men in Hollywood.")
    assert all(p.sentences for p in document.paragraphs)


def test_estimate_and_format_plan():
    _, script = plan(FIELD_NOTES)
    seconds = estimate_seconds(script, 150)
    pauses = sum(s.pause_after for s in script.segments)
    assert seconds == pytest.approx(script.words() / 150 * 60 + pauses)
    text = format_plan(script, 150)
    for title in script.chapters:
        assert title in text
    assert "quote" in text and "Doctor Nguyen" in text


# --- titles --------------------------------------------------------------------

TITLE_CASES = [
    ("front-matter", Metadata(title="Given"), [Paragraph(HEADING, "Heading"), Paragraph(TEXT, "Body.")], "Given"),
    ("first-heading", Metadata(), [Paragraph(TEXT, "Intro."), Paragraph(HEADING, "Heading")], "Heading"),
    ("first-sentence", Metadata(), [Paragraph(TEXT, "Short one. Then more.")], "Short one"),
    ("long-sentence", Metadata(), [Paragraph(TEXT, "One two three four five six seven eight nine ten.")],
     "One two three four five six seven eight"),
    ("long-words", Metadata(), [Paragraph(TEXT, "Incomprehensibilities " * 5)], "Incomprehensibilities Incomprehensibilities"),
]


@pytest.mark.parametrize("metadata,paragraphs,title", [c[1:] for c in TITLE_CASES], ids=[c[0] for c in TITLE_CASES])
def test_resolve_title(metadata, paragraphs, title):
    document = document_of(*paragraphs, metadata=metadata)
    resolved = resolve_title(document)
    assert resolved == title
    assert len(resolved) <= 60


# --- chapters without headings ------------------------------------------------

def paragraphs_of(word_counts):
    return [Paragraph(TEXT, " ".join([f"w{i}"] * n) + ".") for i, n in enumerate(word_counts)]


CHAPTER_CASES = [
    ("tiny-essay", [10, 10, 10, 10], Metadata(), 3),
    ("two-paragraphs", [50, 50], Metadata(), 2),
    ("long-essay-capped", [100] * 60, Metadata(), 8),
    ("front-matter-titles", [100] * 10, Metadata(chapter_titles=["A", "B", "C", "D", "E"]), 5),
    ("more-titles-than-paragraphs", [100] * 2, Metadata(chapter_titles=["A", "B", "C"]), 2),
]


@pytest.mark.parametrize("counts,metadata,chapters", [c[1:] for c in CHAPTER_CASES], ids=[c[0] for c in CHAPTER_CASES])
def test_chapter_count_without_headings(counts, metadata, chapters):
    metadata = replace(metadata, title="T", author="A")
    script = plan_script(document_of(*paragraphs_of(counts)), metadata)
    assert len(script.chapters) == chapters
    if metadata.chapter_titles and len(metadata.chapter_titles) == chapters:
        assert script.chapters == metadata.chapter_titles


def test_balanced_starts_evens_out_words():
    assert balanced_starts([100, 100, 100, 100, 100, 100], 3) == [0, 2, 4]
    assert balanced_starts([300, 10, 10, 10, 300], 3) == [0, 1, 4]
    assert balanced_starts([1, 1, 1], 3) == [0, 1, 2]


def test_text_before_the_first_heading_gets_the_essay_title():
    prose = "A paragraph long enough to be a chapter of its own, at about five seconds aloud."
    document = document_of(Paragraph(TEXT, prose), Paragraph(HEADING, "Part one"), Paragraph(TEXT, prose))
    script = plan_script(document, Metadata(title="Essay", author="A"))
    assert script.chapters == ["Essay", "Part one"]


# --- long and strange input ---------------------------------------------------

LONG_SENTENCES = [
    ("no-punctuation", " ".join(f"word{i % 7}x" for i in range(2500))[:20000]),
    ("no-spaces", "abcdefghij" * 2000),
    ("only-digits", "7" * 3000),
    ("commas", ", ".join(["some words here"] * 1200)),
    ("numbers", " ".join(["$1,200,000 and 12% of 2024"] * 700)),
]


@pytest.mark.parametrize("sentence", [c[1] for c in LONG_SENTENCES], ids=[c[0] for c in LONG_SENTENCES])
def test_long_sentences_fit_and_keep_every_character(sentence):
    pieces = split_for_speech(sentence, 400)
    assert "".join(pieces) == sentence
    start = time.perf_counter()
    script = plan_script(document_of(Paragraph(TEXT, sentence)), Metadata(title="T", author="A"), max_chars=400)
    assert time.perf_counter() - start < 1.0
    segments = body(script)
    assert all(len(s.speech) <= 400 and len(s.display) <= 400 for s in segments)
    assert "".join(s.display for s in segments).replace(" ", "") == sentence.replace(" ", "")


def test_long_sentences_split_at_clause_boundaries_first():
    sentence = "; ".join(["alpha beta gamma delta"] * 40) + "."
    pieces = split_for_speech(sentence, 100)
    assert all(piece.endswith("; ") for piece in pieces[:-1])


def test_symbol_only_paragraph_keeps_its_display_but_is_not_spoken():
    document = document_of(Paragraph(TEXT, "Before."), Paragraph(TEXT, "* * *"), Paragraph(TEXT, "After."))
    script = plan_script(document, Metadata(title="T", author="A"))
    segments = body(script)
    assert [s.display for s in segments] == ["Before. * * *", "After."]
    assert all(s.speech for s in script.segments)


def test_symbol_only_essay_is_an_input_error():
    with pytest.raises(InputError, match="nothing to read aloud"):
        plan_script(document_of(Paragraph(TEXT, "* * *")), Metadata(title="T", author="A"))


ODD = "Emoji \U0001F600 RTL \u05e9\u05dc\u05d5\u05dd NBSP a\u00a0b ZWJ \U0001F469\u200d\U0001F467 e\u0301 \u200b."


def test_odd_unicode_plans(tmp_path):
    path = tmp_path / "odd.md"
    path.write_text(f"# {ODD}\n\n{ODD} Second sentence.\n\n> {ODD}\n", encoding="utf-8")
    _, script = plan(path)
    assert all(s.speech for s in script.segments)
    assert "\u200b" not in " ".join(s.speech for s in script.segments)


def test_a_piece_of_only_punctuation_is_not_sent_to_the_engine(tmp_path):
    """A closing bracket split off a long sentence once reached espeak alone, which says nothing."""
    essay = tmp_path / "essay.md"
    essay.write_text("It works (see [the docs](https://example.com)).\n\n)\n\nThe end.", encoding="utf-8")
    script = plan_script(read_document(essay), Metadata())
    assert all(re.search(r"\w", segment.speech) for segment in script.segments)
    assert any(segment.display.endswith(")") for segment in script.segments)
