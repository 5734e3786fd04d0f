"""Pronunciation lexicon: words the engines say wrong, and how to say them.

Layers, later wins: the built-in list < the show's ``lexicon.toml`` < the
essay's front matter (``lexicon:``). An entry maps a word to a respelling
(``say``) and/or to IPA phonemes (``ipa``), which Piper takes inline as
``[[...]]``; an engine that takes no phonemes (pyttsx3) gets the respelling.

Matching is by whole word, after speech normalisation. Case rule: an entry
written all in lowercase matches the word in any case; an entry with a
capital matches only that exact spelling (so "US" does not catch "us").

    # lexicon.toml
    [words]
    "Nyong'o" = { say = "nee-yong-go", ipa = "nˈjɔːŋɡoʊ" }
    Mariame = "mahree-ahm"          # a plain string is a respelling (lowercase for espeak)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from audiobook.settings import read_toml
from audiobook.errors import ConfigError
from audiobook.text.normalize import speech_text

LEXICON_FILE = "lexicon.toml"

# Only entries a listening proof showed to help (`audiobook proof`, Whisper tiny.en, on
# builds of the seed with the entry and without it): "Weinstein" was heard right 9
# times of 9 with it from Piper (7 without) and 8 of 9 from espeak-ng (7 without). The
# entries once here for Lupita, Nyong'o, Mariame, Kaba and Shira made no name heard
# better, and Piper's IPA for Lupita and Kaba made them heard worse: gone. Respellings
# are lowercase (espeak spells capitals out as letters).
BUILTIN = {
    "Weinstein": {"say": "winesteen", "ipa": "wˈaɪnstiːn"},
}


@dataclass(frozen=True)
class Entry:
    word: str
    say: str | None = None
    ipa: str | None = None

    def replacement(self, phonemes: bool) -> str:
        if phonemes and self.ipa:
            return f"[[{self.ipa}]]"
        return self.say or self.word


def _entries(source: str, table: object) -> dict[str, Entry]:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: the lexicon must map words to respellings")
    entries = {}
    for word, value in table.items():
        if isinstance(value, str):
            value = {"say": value}
        if not isinstance(value, dict) or not (value.get("say") or value.get("ipa")):
            raise ConfigError(f"{source}: entry {word!r} needs a respelling (say) or phonemes (ipa)")
        if not all(isinstance(value.get(key, ""), str) for key in ("say", "ipa")):
            raise ConfigError(f"{source}: entry {word!r}: say and ipa must be quoted text")
        entries[str(word)] = Entry(str(word), value.get("say"), value.get("ipa"))
    return entries


class Lexicon:
    def __init__(self, entries: dict[str, Entry]) -> None:
        # Speech text is normalised before the lexicon applies ("#MeToo" becomes
        # "hashtag Me Too"), so each word also matches in its normalised spelling.
        entries = {**{speech_text(word): entry for word, entry in entries.items()}, **entries}
        self.entries = {word: entry for word, entry in entries.items() if word.strip()}
        entries = self.entries
        alternatives = sorted(entries, key=len, reverse=True)  # longest first: "New York" before "New"
        self._pattern = re.compile(
            r"(?<![\w'’-])(" + "|".join(map(re.escape, alternatives)) + r")(?![\w'’-])", re.IGNORECASE
        ) if alternatives else None
        self._lower = {word.lower(): entry for word, entry in entries.items() if word == word.lower()}

    def _entry(self, found: str) -> Entry | None:
        return self.entries.get(found) or self._lower.get(found.lower())

    def has(self, word: str) -> bool:
        """Whether ``word`` has an entry (by the same case rule as matching)."""
        return self._entry(word) is not None

    def apply(self, speech: str, phonemes: bool = False) -> str:
        """The speech text with every lexicon word replaced."""
        if self._pattern is None:
            return speech

        def replace(match: re.Match) -> str:
            entry = self._entry(match.group(0))
            return entry.replacement(phonemes) if entry else match.group(0)

        return self._pattern.sub(replace, speech)


def load_lexicon(show: Path, front_matter: object = None) -> Lexicon:
    """Built-in < show's lexicon.toml < the essay's front matter."""
    entries = _entries("built-in lexicon", BUILTIN)
    path = show / LEXICON_FILE
    entries.update(_entries(str(path), read_toml(path).get("words", {})))
    if front_matter:
        entries.update(_entries("front matter 'lexicon'", front_matter))
    return Lexicon(entries)
