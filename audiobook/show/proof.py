"""The listening proof: an episode heard back by a recogniser and compared with its script.

The episode's MP3 (what listeners get) is decoded and heard passage by
passage: a passage is a paragraph of the record's segments (a heading or a
short line joins the paragraph after it, a long paragraph is cut at sentence
ends), so editing one paragraph changes one passage. What a passage was heard
as is kept in the user's cache under the passage's words, timing and the
model; it is reused only when the audio there still has the same loudness
contour (so a clip replaced by silence, or a damaged file, is heard again).

The report (``ProofReport``) goes beside the episode as STEM.proof.json: the
word error rate of the episode and of each chapter, every sentence not heard
as written with its time, and for names and rare words heard wrong a lexicon
entry to try.
"""
from __future__ import annotations

import collections
import hashlib
import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from audiobook.audio.cache import cache_beside_clips
from audiobook.audio.listen import RATE, AudioReader, HeardWord, Recogniser
from audiobook.fsutil import sha256_file, write_text_atomic
from audiobook.show.alignment import SegmentHearing, align, error_rate, normalised
from audiobook.show.record import EpisodeFiles, EpisodeRecord, SegmentMark
from audiobook.show.suggest import Suggestion, suggestions
from audiobook.show.typed import RecordError, no_constant, typed
from audiobook.text.hearing import heard_words

SHORT_PASSAGE = 5.0  # seconds: a heading or a one-line paragraph is heard with the paragraph after it
LONG_PASSAGE = 28.0  # Whisper hears 30 s at a time; a longer paragraph is cut at a sentence end
MARGIN = 0.25  # seconds of audio heard before and after a passage's words, when there is a pause there
ENVELOPE_BLOCK = RATE // 10  # 100 ms
ENVELOPE_FLOOR = -50.0  # dBFS: quieter blocks count as silence
ENVELOPE_TOLERANCE = 1.5  # dB of mean difference that encoding a passage again may make
DIFFERENT_DB, DIFFERENT_RUN = 6.0, 3  # a 300 ms stretch this far apart is other audio
HEARD_AHEAD = 4  # passages (at most 28 s each) heard at once: enough for the workers, little memory
REPORT_SCHEMA = 1

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ChapterScore:
    title: str
    start: float
    words: int
    errors: int
    wer: float


@dataclass(frozen=True)
class Miss:
    """A sentence not heard as written."""

    start: float
    end: float
    chapter: int
    expected: str  # the sentence as written
    heard: str  # the words heard there, normalised
    wrong: tuple[str, ...]  # "written -> heard" for each word that differs


@dataclass(frozen=True)
class ProofReport:
    stem: str
    audio_sha256: str  # of the MP3 that was heard
    model: str  # hash of the recogniser's model files
    words: int
    errors: int
    wer: float
    chapters: tuple[ChapterScore, ...]
    misses: tuple[Miss, ...]
    suggestions: tuple[Suggestion, ...]
    passages: int
    heard_now: int  # passages transcribed in this run (the rest were unchanged)
    seconds: float  # how long the proof took
    schema: int = REPORT_SCHEMA

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ProofReport:
        try:
            data = json.loads(text, parse_constant=no_constant)
        except ValueError as exc:
            raise RecordError(f"not JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
            raise RecordError("not a proof report this audiobook reads")
        return typed(cls, data, "proof")


@dataclass(frozen=True)
class Passage:
    """Segments heard together, and the stretch of audio they are heard in."""

    segments: tuple[int, ...]
    start: float
    end: float

    def key(self, record: EpisodeRecord, model: str) -> str:
        """What the passage says, and by which voice and model. Not its times: they are kept
        in whole milliseconds and move by one when everything before them moves; whether
        the audio is still what was heard is the loudness contour's check."""
        said = [record.segments[index].speech for index in self.segments]
        engine = record.engine
        payload = [model, record.language, engine.name, engine.version, engine.voice, engine.quote_voice, engine.rate,
                   said]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def passages(segments: tuple[SegmentMark, ...], total: float) -> list[Passage]:
    """The record's segments grouped into passages, in time order, not overlapping."""
    groups: list[list[int]] = []
    for index, mark in enumerate(segments):
        if groups:
            current = groups[-1]
            first, last = segments[current[0]], segments[current[-1]]
            same_paragraph = mark.paragraph == last.paragraph and mark.kind == last.kind
            if ((same_paragraph or last.end - first.start < SHORT_PASSAGE)
                    and mark.end - first.start <= LONG_PASSAGE):
                current.append(index)
                continue
        groups.append([index])
    bounds = []
    for number, group in enumerate(groups):
        first, last = segments[group[0]], segments[group[-1]]
        before = segments[groups[number - 1][-1]].end if number else first.start - 2 * MARGIN
        after = segments[groups[number + 1][0]].start if number + 1 < len(groups) else last.end + 2 * MARGIN
        start = max(first.start - MARGIN, (before + first.start) / 2, 0.0)
        end = min(last.end + MARGIN, (last.end + after) / 2, total)
        bounds.append(Passage(tuple(group), round(start, 3), round(end, 3)))
    return bounds


def envelope(audio: np.ndarray) -> list[float]:
    """Loudness contour, dBFS per 100 ms, to tell whether a passage's audio is what was heard before."""
    blocks = audio[: audio.size // ENVELOPE_BLOCK * ENVELOPE_BLOCK].reshape(-1, ENVELOPE_BLOCK)
    power = np.mean(np.square(blocks, dtype=np.float64), axis=1)
    return [round(float(value), 1) for value in np.maximum(10 * np.log10(power + 1e-12), ENVELOPE_FLOOR)]


def same_sound(kept: list[float], now: list[float]) -> bool:
    """Whether two contours are one passage's audio, encoded again at most: close on
    average, and nowhere apart for DIFFERENT_RUN blocks in a row (a word gone quiet)."""
    if not kept or not now or abs(len(kept) - len(now)) > 1:
        return False
    apart = [abs(a - b) > DIFFERENT_DB for a, b in zip(kept, now)]
    runs = any(all(apart[index:index + DIFFERENT_RUN]) for index in range(len(apart) - DIFFERENT_RUN + 1))
    return not runs and sum(abs(a - b) for a, b in zip(kept, now)) / len(apart) <= ENVELOPE_TOLERANCE


class HeardPassages:
    """What passages were heard as, kept in the user's cache; verified on every read."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_beside_clips("proofs")

    def get(self, key: str, contour: list[float]) -> list[HeardWord] | None:
        try:
            data = json.loads((self.root / key[:2] / f"{key}.json").read_text(encoding="utf-8"))
            if not same_sound(data["envelope"], contour):
                return None
            return [HeardWord(float(s), float(e), str(t), float(p)) for s, e, t, p in data["words"]]
        except (OSError, ValueError, KeyError, TypeError, ArithmeticError):
            return None

    def put(self, key: str, contour: list[float], words: list[HeardWord]) -> None:
        path = self.root / key[:2] / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"envelope": contour, "words": [[w.start, w.end, w.text, w.probability] for w in words]}
        write_text_atomic(path, json.dumps(data, ensure_ascii=False), durable=False)


def proof_episode(files: EpisodeFiles, record: EpisodeRecord, recogniser: Recogniser, heard_sha256: str,
                  kept: HeardPassages | None = None, progress: Progress | None = None,
                  say_show: Path | None = None) -> ProofReport:
    """Hear the episode's MP3 (whose hash is ``heard_sha256``), compare it with its record's
    script, write and return the report."""
    began = time.monotonic()
    kept = kept or HeardPassages()
    progress = progress or (lambda done, total: None)
    language = record.language or "en"
    plan = passages(record.segments, record.audio.duration)
    hearings: list[SegmentHearing] = []
    heard_now = 0
    progress(0, len(plan))
    keys = [passage.key(record, recogniser.identity) for passage in plan]
    with AudioReader(files.mp3) as reader:
        pieces = reader.spans([(p.start, p.end) for p in plan])
        for number, (passage, words, fresh) in enumerate(_heard(plan, keys, pieces, recogniser, kept, language), 1):
            heard_now += fresh
            expected = [heard_words(record.segments[index].display, language) for index in passage.segments]
            hearings += align(expected, normalised(words, passage.start, language))
            progress(number, len(plan))
    report = _report(record, files, hearings, recogniser.identity, len(plan), heard_now,
                     time.monotonic() - began, say_show, heard_sha256)
    write_text_atomic(files.proof, report.to_json())
    return report


def _heard(plan: list[Passage], keys: list[str], pieces: Iterator[np.ndarray], recogniser: Recogniser,
           kept: HeardPassages, language: str) -> Iterator[tuple[Passage, list[HeardWord], bool]]:
    """Each passage of ``plan`` in order, with the words heard in its piece of audio and
    whether it was heard now (not kept): on the recogniser's workers, at most ``HEARD_AHEAD``
    passages waiting at a time, so a book's audio is never all in memory."""
    waiting: collections.deque = collections.deque()
    with ThreadPoolExecutor(recogniser.workers, thread_name_prefix="proof") as pool:
        for passage, key, audio in zip(plan, keys, pieces):
            contour = envelope(audio)
            words = kept.get(key, contour)
            waiting.append((passage, key, contour,
                            words if words is not None else pool.submit(recogniser.transcribe, audio, language)))
            while len(waiting) > HEARD_AHEAD or (waiting and not isinstance(waiting[0][3], Future)):
                yield _taken(waiting.popleft(), kept)
        while waiting:
            yield _taken(waiting.popleft(), kept)


def _taken(entry: tuple, kept: HeardPassages) -> tuple[Passage, list[HeardWord], bool]:
    """(passage, words, heard now) of a waiting passage; what was heard now is kept."""
    passage, key, contour, words = entry
    if not isinstance(words, Future):
        return passage, words, False
    words = words.result()
    kept.put(key, contour, words)
    return passage, words, True


def _report(record: EpisodeRecord, files: EpisodeFiles, hearings: list[SegmentHearing], model: str,
            count: int, heard_now: int, seconds: float, say_show: Path | None, heard_sha256: str) -> ProofReport:
    words = sum(len(h.expected) for h in hearings)
    errors = sum(h.errors for h in hearings)
    chapters = []
    for number, chapter in enumerate(record.chapters):
        mine = [h for h, mark in zip(hearings, record.segments) if mark.chapter == number]
        chapter_words, chapter_errors = sum(len(h.expected) for h in mine), sum(h.errors for h in mine)
        chapters.append(ChapterScore(chapter.title, chapter.start, chapter_words, chapter_errors,
                                     error_rate(chapter_errors, chapter_words)))
    misses = tuple(
        Miss(mark.start, mark.end, mark.chapter, mark.display, " ".join(word.text for word in hearing.heard),
             tuple(f"{written or '(nothing)'} -> {said or '(nothing)'}" for written, said in hearing.wrong))
        for mark, hearing in zip(record.segments, hearings) if hearing.errors)
    return ProofReport(record.stem, heard_sha256, model, words, errors, error_rate(errors, words),
                       tuple(chapters), misses, suggestions(record, hearings, say_show or files.folder.parent),
                       count, heard_now, round(seconds, 2))


def read_report(files: EpisodeFiles) -> ProofReport | None:
    """The episode's last proof, or None when there is none or it cannot be read."""
    try:
        return ProofReport.from_json(files.proof.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, RecordError):
        return None


def episodes_named(show: Path, names: tuple[str, ...]) -> list[EpisodeFiles]:
    """The episodes ``names`` mean: MP3 paths, episode stems, or (none) every episode of the show."""
    from audiobook.errors import InputError
    from audiobook.show.record import EPISODES

    if not names:
        found = sorted((show / EPISODES).glob("*.episode.json"))
        if not found:
            raise InputError(f"{show}: no episodes to proof (build one first, or give --show)")
        return [EpisodeFiles.of(show, path.name[: -len(".episode.json")]) for path in found]
    chosen = []
    for name in names:
        path = Path(name)
        if path.suffix.lower() == ".mp3" and path.parent.name == EPISODES:
            chosen.append(EpisodeFiles(path.parent, path.stem))
        elif EpisodeFiles.of(show, name).record.is_file():
            chosen.append(EpisodeFiles.of(show, name))  # an episode's name may hold a dot: v1.2-notes
        else:
            chosen.append(EpisodeFiles.of(show, path.stem if path.suffix else name))
    return chosen


def proof_show(show: Path, names: tuple[str, ...], model: Path | None, events) -> list[ProofReport]:
    """`audiobook proof`: hear each named episode and write its report."""
    from audiobook.audio.listen import model_dir
    from audiobook.errors import InputError
    from audiobook.show.record import read_record

    chosen = episodes_named(show, names)
    records, hashes = [], []
    for files in chosen:
        try:
            records.append(read_record(files))
        except RecordError as exc:
            raise InputError(f"{files.mp3}: no episode to proof ({exc})") from None
        if not files.mp3.is_file():
            raise InputError(f"{files.mp3}: missing; build the episode again")
        hashes.append(sha256_file(files.mp3))  # once: a book's MP3 is hundreds of MB
        if hashes[-1] != records[-1].audio.sha256:
            events.warn(f"{files.mp3}: not the audio its record describes (changed since the build); "
                        f"heard as it is now, against the record's script")
    recogniser = Recogniser(model_dir(model))
    reports = []
    for files, record, heard in zip(chosen, records, hashes):
        reports.append(proof_episode(files, record, recogniser, heard, progress=lambda done, total, mp3=files.mp3:
                                     events.listening(mp3, done, total), say_show=show))
    return reports
