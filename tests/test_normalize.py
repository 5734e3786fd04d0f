"""speech_text: what the engine is asked to say, case by case."""
from __future__ import annotations

import re

import pytest

from audiobook.text.normalize import speech_text

CASES = [
    # id, display, speech
    ("headline", "Dr. Nguyen earned $4.5M in Q3 \u2014 12% more than 2024",
     "Doctor Nguyen earned four point five million dollars in Q three, twelve percent more than twenty twenty-four"),
    ("hashtag-camelcase", "#MeToo", "hashtag Me Too"),
    ("hashtag-number", "Room #5", "Room number five"),
    ("handle", "ask @jack_dorsey", "ask at jack dorsey"),
    ("email", "notes@example.org", "notes at example dot org"),
    ("url", "see https://www.example.org/notes?x=1.", "see example dot org."),
    ("bare-domain", "on Netflix.com today", "on Netflix dot com today"),
    ("thousands", "1,200 words", "one thousand two hundred words"),
    ("big-thousands", "10,000 hours", "ten thousand hours"),
    ("decimal", "4.5 stars", "four point five stars"),
    ("year-1877", "In 1877, Edison", "In eighteen seventy-seven, Edison"),
    ("year-2024", "since 2024.", "since twenty twenty-four."),
    ("decade-1900s", "the 1900s", "the nineteen hundreds"),
    ("decade-apostrophe", "the '90s and the \u201990s", "the nineties and the nineties"),
    ("year-range", "1990-1995", "nineteen ninety to nineteen ninety-five"),
    ("en-dash-range", "pages 10\u201320.", "pages ten to twenty."),
    ("ordinals", "3rd and 21st", "third and twenty-first"),
    ("pounds", "\u00a320", "twenty pounds"),
    ("euros", "\u20ac3", "three euros"),
    ("one-dollar", "$1", "one dollar"),
    ("dollars-thousand", "$1,000", "one thousand dollars"),
    ("dollars-cents", "$4.99", "four dollars and ninety-nine cents"),
    ("billion-word", "$2 billion", "two billion dollars"),
    ("percent", "12%", "twelve percent"),
    ("time", "at 9:05 a.m.", "at nine oh five A M"),
    ("huge-number", "1234567890123456789", "one two three four five six seven eight nine zero one two three four five six seven eight nine"),
    ("titles", "Mr. and Mrs. Smith met Ms. Jones and Prof. Lee",
     "Mister and Missus Smith met Miz Jones and Professor Lee"),
    ("saint", "the St. Olaf group", "the Saint Olaf group"),
    ("street", "on Main St. today", "on Main Street today"),
    ("latin", "e.g. this, i.e. that, cats vs. dogs", "for example this, that is that, cats versus dogs"),
    ("etc-mid", "bread, etc., and", "bread, et cetera, and"),
    ("etc-end", "bread, etc. Then", "bread, et cetera. Then"),
    ("approx-number", "approx. No. 5", "approximately number five"),
    ("smart-quotes", "\u201cit\u2019s\u201d", "\"it's\""),
    ("em-dash", "radioactive \u2014 denounced", "radioactive, denounced"),
    ("dash-after-bang", "aliens! \u2014 then", "aliens! then"),
    ("ellipsis-mid", "intimacy\u2026 two", "intimacy, two"),
    ("ellipsis-after-colon", "is: \u2026 What", "is: What"),
    ("slash", "24/7 and/or", "twenty-four seven and or"),
    ("ampersand", "Ears & the", "Ears and the"),
    ("markup", "**bold** _it_ `code` a|b ~x~ <tag> # x", "bold it code a b x tag x"),
    ("nbsp-zero-width", "a\u00a0b\u200bc\u2009d\u00ade", "a bc de"),
    ("control", "bell\x07 here\x1b", "bell here"),
    ("symbols-only", "* * * ~ |", ""),
    ("leading-dash", "\u2014 said", "said"),
]


@pytest.mark.parametrize("display,speech", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_speech_text(display, speech):
    assert speech_text(display) == speech


@pytest.mark.parametrize("display,language,speech", [
    ("21 chats", "fr", "vingt et un chats"),
    ("21", "de-DE", "einundzwanzig"),
    ("21", "en-GB", "twenty-one"),
    ("21", "tlh", "twenty-one"),  # Klingon has no num2words: English
], ids=["french", "german-region", "english-region", "unsupported"])
def test_numbers_follow_the_language(display, language, speech):
    assert speech_text(display, language) == speech


ODD_UNICODE = [
    ("emoji", "I \u2764\ufe0f this \U0001F600 a lot"),
    ("family-zwj", "\U0001F469\u200d\U0001F469\u200d\U0001F467 family"),
    ("flags", "\U0001F1FA\U0001F1F8 flag"),
    ("rtl", "\u05e9\u05dc\u05d5\u05dd and \u0645\u0631\u062d\u0628\u0627 \u200f"),
    ("combining", "Zalgo Z\u0351\u036b\u0343a\u0300l\u0301g\u0302o and e\u0301"),
    ("surrogate-like", "x\ufffd y"),
    ("cjk-space", "\u4e2d\u6587\u3000text"),
]


@pytest.mark.parametrize("display", [c[1] for c in ODD_UNICODE], ids=[c[0] for c in ODD_UNICODE])
def test_odd_unicode_does_not_crash_and_leaves_no_invisible_characters(display):
    speech = speech_text(display)
    assert not re.search(r"[\u200b-\u200f\u00a0\u3000\ufe0f\U0001F300-\U0001FAFF]", speech)
    assert speech == speech.strip() and "  " not in speech


def test_no_digits_or_markup_survive_in_the_field_notes_sentences():
    display = ("We read the same 1,200-word essay to 24 listeners; 17 of 24 remembered it, "
               "in the 3rd week of 2026, at 10,000 hours & $1,000.")
    speech = speech_text(display)
    assert not re.search(r"[\d$&%#*_`|~<>]", speech)
