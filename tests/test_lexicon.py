"""The pronunciation lexicon: its rules, its layers, and that it changes what is spoken.

"What is spoken" is shown with phonemizers we did not write: espeak-ng's own
command line (`espeak-ng -q -x --ipa`) for the respellings pyttsx3 is given,
and Piper's phonemizer for the IPA that Piper is given.
"""
from __future__ import annotations

import shutil
import subprocess
import wave

import pytest

from audiobook.errors import ConfigError
from audiobook.text.lexicon import BUILTIN, Lexicon, load_lexicon
from audiobook.text.normalize import speech_text
from conftest import cli_env, piper_missing, run_cli

SENTENCE = "Harvey Weinstein spoke with Mariame Kaba."


def test_builtin_names_are_respelled():
    said = load_lexicon(Path_nowhere()).apply(speech_text(SENTENCE))
    assert "winesteen" in said and "Weinstein" not in said
    assert "Mariame Kaba" in said  # no entry helped these: the engine's own reading stays


def test_every_builtin_entry_is_one_a_proof_showed_to_help():
    assert set(BUILTIN) == {"Weinstein"}  # see the comment above BUILTIN before adding one


def Path_nowhere():
    from pathlib import Path

    return Path("/nonexistent-show")


@pytest.mark.parametrize("entries, text, expected", [
    ({"us": "uss"}, "Tell US about us.", "Tell uss about uss."),           # lowercase entry: any case
    ({"US": "you ess"}, "Tell US about us.", "Tell you ess about us."),    # capitalised entry: exact case
    ({"Kab": "x"}, "Kaban and Kab.", "Kaban and x."),                      # whole words only
    ({"New York": "noo york", "New": "nyoo"}, "New York is New.", "noo york is nyoo."),  # longest first
], ids=["lowercase-any-case", "capital-exact", "whole-word", "longest-first"])
def test_matching_rules(entries, text, expected):
    assert load_lexicon(Path_nowhere(), entries).apply(text) == expected


def test_layers_builtin_then_show_then_front_matter(tmp_path):
    (tmp_path / "lexicon.toml").write_text('[words]\nKaba = "cabbah"\nShira = { say = "shyrah" }\n',
                                           encoding="utf-8")
    lexicon = load_lexicon(tmp_path, {"Shira": "sheera"})
    assert lexicon.apply("Kaba") == "cabbah"            # show beats built-in
    assert lexicon.apply("Shira") == "sheera"           # front matter beats show
    assert lexicon.apply("Weinstein") == BUILTIN["Weinstein"]["say"]


def test_phonemes_go_to_engines_that_take_them():
    lexicon = load_lexicon(Path_nowhere(), {"Lupita": {"ipa": "luːpˈiːtə"}})
    assert lexicon.apply("Weinstein", phonemes=True) == f"[[{BUILTIN['Weinstein']['ipa']}]]"
    assert lexicon.apply("Weinstein", phonemes=False) == BUILTIN["Weinstein"]["say"]
    assert lexicon.apply("Lupita", phonemes=False) == "Lupita"  # no respelling: the engine reads the word


@pytest.mark.parametrize("table", [{"Kaba": {}}, {"Kaba": 3}, ["Kaba"]], ids=["empty", "number", "list"])
def test_bad_entries_are_config_errors(table):
    with pytest.raises(ConfigError):
        load_lexicon(Path_nowhere(), table)


def test_bad_lexicon_toml_is_a_config_error(tmp_path):
    (tmp_path / "lexicon.toml").write_text("[words\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lexicon.toml"):
        load_lexicon(tmp_path)


def _espeak_ipa(text: str) -> str:
    return subprocess.run(["espeak-ng", "-q", "-v", "en-us", "--ipa", text],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")
def test_a_respelling_changes_espeaks_pronunciation():
    plain = speech_text(SENTENCE)
    respelled = Lexicon({}).apply(plain)
    assert respelled == plain
    respelled = load_lexicon(Path_nowhere()).apply(plain)
    before, after = _espeak_ipa(plain), _espeak_ipa(respelled)
    assert before != after
    unstressed = str.maketrans("", "", "ˈˌ")  # stress moves with the sentence around it
    assert _espeak_ipa("winesteen").translate(unstressed) in after.translate(unstressed)


def test_ipa_changes_pipers_phonemes():
    if piper_missing():
        pytest.skip(f"Piper is not installed: {piper_missing()}")
    from audiobook.audio.engines import load_engine

    voice = load_engine("piper")._voice("joe-us")
    plain = speech_text("Harvey Weinstein spoke.")
    with_entry = load_lexicon(Path_nowhere()).apply(plain, phonemes=True)
    before = "".join(voice.phonemize(plain)[0])
    after = "".join(voice.phonemize(with_entry)[0])
    assert before != after
    assert BUILTIN["Weinstein"]["ipa"] in after and BUILTIN["Weinstein"]["ipa"] not in before


@pytest.mark.e2e
def test_say_writes_a_wav_of_the_phrase_after_the_lexicon(tmp_path):
    out = tmp_path / "say.wav"
    result = run_cli("say", "Harvey Weinstein", "--engine", "pyttsx3", "--out", str(out), cwd=tmp_path,
                     env=cli_env())
    assert result.returncode == 0, result.stderr
    assert "winesteen" in result.stdout and str(out) in result.stdout
    with wave.open(str(out)) as wav:
        assert wav.getnframes() / wav.getframerate() > 0.4
