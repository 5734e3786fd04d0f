"""Words as a listener hears them: the one form in which what was written and
what a recogniser heard are compared (the proof, the benchmark).

Both sides go through the same speech normalisation as the build (numbers,
money, abbreviations, URLs said as words), then lose case, punctuation and
the joins of compounds: "In 1998, Dr. Smith's ten-year-old" and "in
nineteen ninety-eight doctor smith's ten year old" are the same words.
A recogniser writes digits and abbreviations back ("$5", "Dr."), so its
text is normalised exactly as the script's is.
"""
from __future__ import annotations

import re
import unicodedata

from audiobook.text.normalize import speech_text

# Apostrophes inside a word stay ("don't", "smith's"); every other mark splits or goes.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_NOT_WORD = re.compile(r"[^\w']+")
_EDGE_APOSTROPHES = re.compile(r"^'+|'+$")
# British and American spellings a recogniser writes either way.
_SPELLINGS = {"favourite": "favorite", "colour": "color", "behaviour": "behavior", "honour": "honor",
              "labour": "labor", "neighbour": "neighbor", "centre": "center", "theatre": "theater",
              "organisation": "organization", "realise": "realize", "recognise": "recognize",
              "okay": "ok", "alright": "all right"}


def heard_words(text: str, language: str = "en") -> list[str]:
    """``text`` as the words a listener hears, lowercase, without punctuation."""
    spoken = speech_text(text, language).translate(_APOSTROPHES)
    spoken = unicodedata.normalize("NFKC", spoken).lower()
    words = []
    for token in _NOT_WORD.split(spoken.replace("_", " ")):
        token = _EDGE_APOSTROPHES.sub("", token)
        if token:
            words.extend(_SPELLINGS.get(token, token).split())
    return words
