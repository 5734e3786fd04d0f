"""Speech normalisation: display text -> the words a TTS engine should say.

espeak-ng (behind pyttsx3) reads symbols literally ("dollar four point five
M"), spells out odd Unicode, and pauses in the wrong places. These rules
rewrite the text so the engine says words, in a fixed order:

    characters -> web names -> abbreviations -> numbers -> symbols -> tidy

Each step is a table of (compiled regex, replacement) pairs applied in order.
Number words come from num2words in the essay's language when it has one
(else English); the other spoken words ("percent", "dot", "Doctor") are
English.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache
from typing import Callable

from num2words import CONVERTER_CLASSES, num2words

# num2words cannot say longer numbers (and nobody wants it to): read digits.
MAX_NUMBER_DIGITS = 15

DIGIT_WORDS = "zero one two three four five six seven eight nine".split()

# symbol: (one, many, hundredth one, hundredth many)
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
}

SCALES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion", "t": "trillion"}


# --- characters -------------------------------------------------------------

CHARACTER_RULES: list[tuple[re.Pattern[str], str]] = [
    # invisible: zero-width space/joiners, direction marks and isolates, word joiner, BOM, soft hyphen
    (re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]"), ""),
    (re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\n\r\f\v]"), " "),  # odd spaces -> space
    (re.compile(r"[\x00-\x1f\x7f-\x9f]"), ""),  # remaining control characters
    (re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0E\uFE0F\U000E0000-\U000E007F]"), " "),  # emoji: espeak names them unpredictably
    (re.compile(r"[\u2018\u2019\u201a\u201b\u2032]"), "'"),  # curly single quotes, prime
    (re.compile(r"[\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033]"), '"'),  # curly double quotes, guillemets
    (re.compile(r"[\u2010\u2011]"), "-"),  # Unicode hyphens
    (re.compile(r"\u2026|\.{3,}"), "\u2026"),  # one ellipsis character, made a pause with the symbols
]


# --- web names --------------------------------------------------------------

def _split_words(name: str) -> str:
    """'BlackLivesMatter2020' -> 'Black Lives Matter 2020'; 'snake_case' -> 'snake case'."""
    name = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", name)
    return re.sub(r"[_\s]+", " ", name).strip()


def _say_dotted(name: str) -> str:
    """'example.org' -> 'example dot org'."""
    return " dot ".join(_split_words(part) for part in name.split(".") if part)


def _say_url(match: re.Match[str]) -> str:
    host = re.sub(r"^www\.", "", match["host"], flags=re.IGNORECASE)
    return _say_dotted(host)


def _say_email(match: re.Match[str]) -> str:
    return f"{_say_dotted(match['user'])} at {_say_dotted(match['domain'])}"


WEB_RULES = [
    # URL with a scheme or www.: say only the domain
    (re.compile(r"\b(?:https?://|www\.)(?P<host>[\w.-]+\w)(?:[:/?#][^\s\"'<>()]*[^\s\"'<>().,;:!?])?", re.IGNORECASE), _say_url),
    # email address
    (re.compile(r"\b(?P<user>[\w.+-]+)@(?P<domain>[\w-]+(?:\.[\w-]+)+)\b"), _say_email),
    # @handle
    (re.compile(r"(?<![\w@])@(\w+)"), lambda m: f"at {_split_words(m[1])}"),
    # #hashtag (a # before a number is "number", handled below)
    (re.compile(r"(?<![\w&#])#([^\W\d]\w*)"), lambda m: f"hashtag {_split_words(m[1])}"),
    # bare domain with a common top-level domain, and any path after it (Markdown's bare links)
    (re.compile(r"\b(?P<host>[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|edu|gov|io|co|uk|de|fr|info|dev|app))\b"
                r"(?:/(?:[^\s\"'<>()]*[^\s\"'<>().,;:!?])?)?", re.IGNORECASE), _say_url),
]


# --- abbreviations ----------------------------------------------------------

def _keep_case(word: str) -> Callable[[re.Match[str]], str]:
    """Replacement that capitalises `word` when the abbreviation was capitalised."""
    return lambda match: word[0].upper() + word[1:] if match[0][0].isupper() else word


# Titles are matched case-sensitively as written ("Dr." not "dr."); Latin
# abbreviations in any case, keeping a leading capital.
ABBREVIATION_RULES = [
    (re.compile(r"\bDr\.(?=\s)"), "Doctor"),
    (re.compile(r"\bMrs\.(?=\s)"), "Missus"),
    (re.compile(r"\bMr\.(?=\s)"), "Mister"),
    (re.compile(r"\bMs\.(?=\s)"), "Miz"),
    (re.compile(r"\bProf\.(?=\s)"), "Professor"),
    (re.compile(r"\bSt\.(?=\s+[A-Z])"), "Saint"),  # St. Olaf
    (re.compile(r"\bSt\.(?=\s|$)"), "Street"),  # Main St.
    (re.compile(r"\bJr\.(?=\s|,|$)"), "Junior"),
    (re.compile(r"\bSr\.(?=\s|,|$)"), "Senior"),
    (re.compile(r"\bNo\.\s*(?=\d)"), "number "),  # No. 5
    (re.compile(r"(?<![\w&])#\s?(?=\d)"), "number "),  # #5
    (re.compile(r"\bvs?\.(?=\s)", re.IGNORECASE), _keep_case("versus")),
    (re.compile(r"\be\.\s?g\.", re.IGNORECASE), _keep_case("for example")),
    (re.compile(r"\bi\.\s?e\.", re.IGNORECASE), _keep_case("that is")),
    (re.compile(r"\betc\.(?=\s+[A-Z]|\s*$)", re.IGNORECASE), _keep_case("et cetera.")),  # ends the sentence
    (re.compile(r"\betc\.", re.IGNORECASE), _keep_case("et cetera")),
    (re.compile(r"\bapprox\.", re.IGNORECASE), _keep_case("approximately")),
    (re.compile(r"\b([ap])\.\s?m\.", re.IGNORECASE), lambda m: f"{m[1].upper()} M"),
]


# --- numbers ----------------------------------------------------------------

@lru_cache(maxsize=None)
def _num2words_language(language: str) -> str:
    """The num2words code for a BCP 47 tag: 'en-GB' -> 'en', 'pt-BR' -> 'pt_BR', unknown -> 'en'."""
    tag = language.replace("-", "_")
    for candidate in (tag, tag.split("_")[0]):
        if candidate in CONVERTER_CLASSES:
            return candidate
    return "en"


@lru_cache(maxsize=4096)
def say_number(digits: str, language: str = "en", to: str = "cardinal") -> str:
    """Words for a number written with digits ('1,200', '4.5', '21'), without commas."""
    digits = digits.replace(",", "")
    if len(digits.replace(".", "")) > MAX_NUMBER_DIGITS:
        return " ".join(DIGIT_WORDS[int(d)] if d.isdigit() else "point" for d in digits)
    value = Decimal(digits) if "." in digits else int(digits)
    lang = _num2words_language(language)
    try:
        words = num2words(value, lang=lang, to=to)
    except (NotImplementedError, OverflowError, ValueError):
        words = num2words(value, lang="en", to=to)
    return words.replace(",", "")


def _plural(words: str) -> str:
    """'nineteen ninety' -> 'nineteen nineties'."""
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _say_time(match: re.Match[str], language: str) -> str:
    hour, minute = match[1], match[2]
    if minute == "00":
        return f"{say_number(hour, language)} o'clock"
    minute_words = say_number(minute.lstrip("0"), language)
    return f"{say_number(hour, language)} {'oh ' if minute.startswith('0') else ''}{minute_words}"


def _say_money(match: re.Match[str], language: str) -> str:
    one, many, cent, cents = CURRENCIES[match["symbol"]]
    amount, scale = match["amount"], (match["scale"] or "").strip().lower()
    if scale:
        return f"{say_number(amount, language)} {SCALES.get(scale, scale)} {many}"
    whole, _, fraction = amount.replace(",", "").partition(".")
    spoken = f"{say_number(whole, language)} {one if whole == '1' else many}"
    if len(fraction) == 2 and int(fraction):
        spoken += f" and {say_number(fraction.lstrip('0'), language)} {cent if fraction == '01' else cents}"
    elif fraction:
        spoken = f"{say_number(amount, language)} {many}"
    return spoken


NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"  # 1,200.50 or 1200 or 4.5

NumberRule = tuple[re.Pattern[str], Callable[[re.Match[str], str], str]]

NUMBER_RULES: list[NumberRule] = [
    # $4.5M, £20, €3, $1,000, $4.99
    (re.compile(rf"(?P<symbol>[$£€¥])\s?(?P<amount>{NUMBER})(?P<scale>(?:bn|mn|[kmbt]|\s?(?:thousand|million|billion|trillion))\b)?", re.IGNORECASE),
     _say_money),
    # 12%, 4.5 %
    (re.compile(rf"({NUMBER})\s?%"), lambda m, lang: f"{say_number(m[1], lang)} percent"),
    # 1990-1995, 10 – 20: a range (not a date, phone number or dash between clauses)
    (re.compile(r"(?<![\d.,-])(\d{1,4})(?:-|\s?\u2013\s?)(\d{1,4})(?!\d|[.,]\d|-)"), lambda m, lang: f"{m[1]} to {m[2]}"),
    # 1990s, 1900s, '90s, 80s
    (re.compile(r"\b(1[1-9]\d0|20\d0)'?s\b"), lambda m, lang: _plural(say_number(m[1], lang, "year"))),
    (re.compile(r"(?:'|\b)([1-9]0)'?s\b"), lambda m, lang: _plural(say_number(m[1], lang))),
    # 10:30 -> ten thirty, 9:05 -> nine oh five, 7:00 -> seven o'clock
    (re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b"), _say_time),
    # 3rd, 21st, 4th
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE), lambda m, lang: say_number(m[1], lang, "ordinal")),
    # Q3 -> Q 3, 3D -> 3 D: digits glued to letters are read as separate words
    (re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])"), lambda m, lang: " "),
    # a year-like four-digit number (no thousands separator): 1877, 2024
    (re.compile(r"(?<![\d.,])(1[1-9]\d\d|20\d\d)(?![\d.,]\d)"), lambda m, lang: say_number(m[1], lang, "year")),
    # any other number, with separators or decimals
    (re.compile(rf"(?<![\d.,])(?:{NUMBER})(?!,\d)"), lambda m, lang: say_number(m[0], lang)),
]


# --- symbols and tidying ----------------------------------------------------

SYMBOL_RULES = [
    (re.compile(r"\s*&\s*"), " and "),  # ampersand
    (re.compile(r"\s*[\u2014\u2013\u2015]\s*|\s+--?\s+|--"), ", "),  # em/en dash, spaced hyphen -> pause
    (re.compile(r"\s*\u2026\s*"), ", "),  # ellipsis -> pause
    (re.compile(r"(?<=\w)/(?=\w)"), " "),  # 24/7, and/or: espeak would say "slash"
    (re.compile(r"[*_#`|~<>^\\{}\[\]]"), " "),  # stray markup
]

TIDY_RULES = [
    (re.compile(r" {2,}"), " "),  # runs of spaces
    (re.compile(r" +(?=[,.;:!?)])"), ""),  # no space before punctuation
    (re.compile(r"\( *\)"), ""),  # brackets emptied by the steps above
    (re.compile(r"(?<=[,.;:!?]),+"), ""),  # a pause right after punctuation adds nothing
    (re.compile(r",+ *(?=[.;:!?])"), ""),  # a pause right before stronger punctuation neither
    (re.compile(r"^[\s,.;:]+"), ""),  # nothing to pause for at the start
    (re.compile(r"[\s,;:]+$"), ""),  # a dangling pause at the end
]


def _apply(rules, text: str) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def speech_text(text: str, language: str = "en") -> str:
    """What the engine should say for `text`: words instead of digits, symbols and markup."""
    language = language or "en"
    text = unicodedata.normalize("NFC", text)
    text = _apply(CHARACTER_RULES, text)
    text = _apply(WEB_RULES, text)
    text = _apply(ABBREVIATION_RULES, text)
    for pattern, say in NUMBER_RULES:
        text = pattern.sub(lambda match: say(match, language), text)
    text = _apply(SYMBOL_RULES, text)
    return _apply(TIDY_RULES, text).strip()
