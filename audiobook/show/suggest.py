"""Lexicon entries to try for names and rare words a proof heard wrong.

A suggestion is a starting point for the ear, not a verdict: a respelling
cut into syllables the way espeak-ng and Piper read English spellings, the
line for lexicon.toml, and the `audiobook say` command that auditions it.
When the word already has a lexicon entry, the entry itself may be what
hurts, and the suggestion says so.
"""
from __future__ import annotations

import functools
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audiobook.show.init import toml_string
from audiobook.text.hearing import heard_words
from audiobook.text.lexicon import load_lexicon

if TYPE_CHECKING:
    from audiobook.show.alignment import SegmentHearing
    from audiobook.show.record import EpisodeRecord

MAX_SUGGESTIONS = 20
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
# Spellings English readers say another way than a name's own language means them.
_SOUNDS = [(re.compile(pattern), sound) for pattern, sound in (
    (r"ph", "f"), (r"(?<=[aeiou])s(?=[aeiou])", "z"), (r"qu", "kw"), (r"c(?=[eiy])", "s"), (r"c", "k"),
    (r"g(?=[ei])", "j"), (r"(?:ey|y|ie|i)$", "ee"),
    (r"(?:(?<=[aeiouy][^aeiouy])|(?<=[aeiouy][^aeiouy]{2}))(?<![ei])e$", ""),  # silent after a vowel's syllable
    (r"o$", "oh"), (r"a$", "ah"), (r"x", "ks"))]
_SYLLABLE = re.compile(r"[^aeiouy]*[aeiouy]+(?:[^aeiouy]*$|[^aeiouy](?=[^aeiouy]))?")


@dataclass(frozen=True)
class Suggestion:
    word: str  # as written
    heard: str  # what the recogniser heard instead
    respelling: str
    lexicon_line: str  # for the show's lexicon.toml, under [words]
    say: str  # the command that auditions it
    note: str  # why: a name or rare word, or an entry that may hurt


def respell(word: str) -> str:
    """A syllable-by-syllable respelling of ``word`` to audition: "Argento" -> "ar-jen-toh"."""
    sound = word.lower().replace("’", "'")
    for pattern, replacement in _SOUNDS:
        sound = pattern.sub(replacement, sound)
    syllables = _SYLLABLE.findall(sound)
    return "-".join(syllables) if "".join(syllables) == sound else sound


def _written_form(display: str, word: str, language: str) -> str | None:
    """The token of ``display`` that reads as the normalised ``word``, as written."""
    for token in _TOKEN.findall(display):
        if heard_words(token, language) == [word]:
            return token.strip("'’-")
    return None


def _is_name_or_rare(token: str, display: str, known: bool) -> bool:
    """Capitalised where a sentence does not begin, not plain ASCII, or already in the lexicon."""
    if known or not token.replace("’", "'").isascii():
        return True
    if not token[:1].isupper():
        return False
    found = re.search(r"(?<![\w'’-])" + re.escape(token), display)
    before = display[: found.start()].rstrip().rstrip("\"'“‘(") if found else ""
    return bool(before) and before[-1] not in ".!?:…"


@functools.cache
def _sound(word: str, language: str) -> str | None:
    """How espeak-ng (the phonemizer of both engines) says ``word``, in its phoneme
    mnemonics; None when espeak-ng is not there to ask."""
    try:
        said = subprocess.run(["espeak-ng", "-q", "-x", "-v", language.lower(), word],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return said.stdout.strip() if said.returncode == 0 and said.stdout.strip() else None


def _sounds_alike(written: str, heard: str, language: str) -> bool:
    """Whether the recogniser heard the written word's own sound and spelt it another way
    ("Stephens" as "stevens", "Bret" as "brett"): no respelling changes what is heard."""
    sound = _sound(written, language)
    return sound is not None and sound == _sound(heard, language)


def suggestions(record: EpisodeRecord, hearings: list[SegmentHearing], show: Path) -> tuple[Suggestion, ...]:
    """One suggestion per name or rare word heard wrong, most frequent first; none for a
    word heard as another spelling of the sound it was said with, or whose respelling
    would be the word again."""
    language = record.language or "en"
    lexicon = load_lexicon(show)
    found: dict[str, Suggestion] = {}
    counts: dict[str, int] = {}
    for mark, hearing in zip(record.segments, hearings):
        for written, said in hearing.wrong or ():
            token = _written_form(mark.display, written, language) if written and said else None
            if token is None:
                continue
            known = lexicon.has(token)
            if not _is_name_or_rare(token, mark.display, known) or _sounds_alike(token, said, language):
                continue
            respelling = respell(token)
            if not known and respelling.replace("-", "") == token.lower():
                continue  # read as it is written already: nothing to try
            counts[token] = counts.get(token, 0) + 1
            if token in found:
                continue
            note = (f"{token} has a lexicon entry; it may be what is heard wrong: try the engine's own reading"
                    if known else f"{token} is a name or rare word")
            found[token] = Suggestion(token, said or "(nothing)", respelling,
                                      f"{toml_string(token)} = {toml_string(respelling)}",
                                      f"audiobook say {shlex.quote(respelling)} --show {shlex.quote(str(show))}", note)
    ranked = sorted(found, key=lambda token: -counts[token])
    return tuple(found[token] for token in ranked[:MAX_SUGGESTIONS])
