"""The orchestrator: essay file -> tagged MP3 and its sidecars in the show.

Each stage is a module (read, plan, speak, mix, encode, tag, publish); this
module only wires them together. Everything that can be refused is checked
before synthesis starts, and every file the user keeps is written under a
temporary name and renamed into place, so a failed build leaves the previous
episode exactly as it was.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from audiobook import __version__
from audiobook.audio.cache import ClipCache
from audiobook.settings import Settings, resolve_settings, run_settings
from audiobook.audio.cover import generate_cover, load_cover
from audiobook.audio.encode import encode_mp3, require_ffmpeg
from audiobook.show.episodes import EPISODES
from audiobook.audio.engines import choose_engine, engine_class, load_engine
from audiobook.errors import InputError, OutputError
from audiobook.text.lexicon import load_lexicon
from audiobook.audio.memory import release_free_memory
from audiobook.audio.loudness import LoudnessMap
from audiobook.fsutil import atomic_path, write_bytes_atomic, write_text_atomic
from audiobook.audio.mix import (
    SAMPLE_RATE,
    TARGET_LUFS,
    TOLERANCE,
    Mix,
    corrected_gains,
    levelled_gain,
    plan_timeline,
    program_loudness,
    write_program,
)
from audiobook.models import Document, Script
from audiobook.text.plan import plan_script, resolve_description, resolve_title
from audiobook.show.publish import Sidecars, sidecar_texts, span_json
from audiobook.text.read import read_document
from audiobook.text.normalize import speech_text
from audiobook.audio.cache import write_wav
from audiobook.audio.clips import synthesize_checked
from audiobook.audio.speak import Progress, Speech
from audiobook.audio.tag import tag_episode




# Settings that say where and how fast a build runs, never what it makes.
WHERE_NOT_WHAT = {"jobs", "executor", "scheduler"}


@dataclass
class Planned:
    """An essay read, its settings resolved and its script planned: no audio yet."""

    document: Document
    settings: Settings
    script: Script
    previous: dict  # the manifest of an earlier build of this essay, {} if none


@dataclass
class Episode:
    mp3: Path
    sidecars: Sidecars
    duration: float
    chapters: int
    size: int
    loudness: float
    synthesized: int
    cached: int
    engine: str
    voice: str
    up_to_date: bool = False  # nothing changed since the last build: nothing was written


def episode_stem(essay: Path) -> str:
    """A URL-safe file name stem from the essay's file name."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", essay.stem).strip("-.").lower()
    return stem or "episode"


def _previous_manifest(show: Path, essay: Path) -> dict:
    """What an earlier build of this essay recorded ({} if none): its date,
    GUID and publication time must survive every rebuild."""
    try:
        manifest = json.loads((show / EPISODES / f"{episode_stem(essay)}.json").read_text())
        return manifest if isinstance(manifest, dict) else {}
    except (OSError, ValueError):
        return {}


def _identity(previous: dict, date: str) -> tuple[str, str]:
    """(GUID, publication time): kept from the first build; the time moves only
    when the essay's date changes (then to midnight UTC of the new date)."""
    guid = previous.get("guid") or str(uuid.uuid4())
    published = previous.get("published")
    if not published or not str(published).startswith(date):
        today = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        published = today.isoformat() if today.date().isoformat() == date else f"{date}T00:00:00+00:00"
    return guid, published


def _fill_from_text(settings: Settings, document: Document, essay: Path, previous: dict) -> None:
    """Title, description and date the essay did not give, from its text or history."""
    derived = {
        "title": (lambda: resolve_title(document), f"text of {essay.name}"),
        "description": (lambda: resolve_description(document), f"opening of {essay.name}"),
        "date": (lambda: previous.get("date") or datetime.date.today().isoformat(), "first build"),
    }
    for key, (derive, source) in derived.items():
        if not settings[key]:
            settings.values[key], settings.sources[key] = derive(), source


def plan_essay(essay: Path, show: Path, flags: dict) -> Planned:
    document = read_document(essay)
    settings = resolve_settings(show, essay, document.metadata, flags)
    previous = _previous_manifest(show, essay)
    _fill_from_text(settings, document, essay, previous)
    settings.values["engine"], _ = choose_engine(settings["engine"])
    lexicon = load_lexicon(show, document.metadata.lexicon)
    metadata = replace(
        document.metadata,
        title=settings["title"],
        author=settings["author"],
        date=settings["date"],
        description=settings["description"],
        language=settings["language"],
        link=settings["link"],
    )
    script = plan_script(document, metadata, lexicon=lexicon,
                         phonemes=engine_class(settings["engine"]).takes_phonemes)
    return Planned(document, settings, script, previous)


def _prepare_output(show: Path) -> Path:
    """Create the episodes folder and prove it is writable, before any synthesis."""
    episodes = show / EPISODES
    try:
        episodes.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=episodes).close()
    except OSError as exc:
        raise OutputError(f"cannot write to the show directory {show}: {exc.strerror or exc}") from exc
    return episodes


def _cover(planned: Planned) -> bytes:
    cover = planned.settings["cover"]
    if cover:
        return load_cover(cover)
    return generate_cover(planned.settings["title"], planned.settings["author"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(planned: Planned, speech: Speech, mixed: Mix, mp3: Path, name: str, cover: bytes) -> dict:
    """What the build made; ``mp3`` is the file written so far, ``name`` its name once in place."""
    timeline, settings, script = mixed.timeline, planned.settings, planned.script
    return {
        "generator": f"audiobook {__version__}",
        "title": settings["title"],
        "author": settings["author"],
        "album": settings["album"] or settings["title"],
        "date": settings["date"],
        "description": settings["description"],
        "language": settings["language"],
        "link": settings["link"],
        "source": {
            "file": planned.document.source.name,
            "sha256": hashlib.sha256(planned.document.text.encode("utf-8")).hexdigest(),
        },
        "engine": {"name": speech.engine_name, "version": speech.engine_version,
                   "voice": speech.voice, "quote_voice": speech.quote_voice, "rate": speech.rate},
        "audio": {
            "file": name,
            "sha256": _sha256(mp3),
            "bytes": mp3.stat().st_size,
            "duration": round(timeline.duration, 3),
            "sample_rate": timeline.sample_rate,
            "samples": timeline.total,
            "bitrate_kbps": settings["bitrate"],
            "loudness_lufs": round(mixed.loudness, 2),
            "cover_sha256": hashlib.sha256(cover).hexdigest(),
        },
        "chapters": [span_json(timeline, c, title=c.title) for c in timeline.chapters],
        "segments": [
            span_json(timeline, span, chapter=seg.chapter, kind=seg.kind, role=seg.role,
                      display=seg.display, speech=seg.speech, pause_after=seg.pause_after)
            for seg, span in zip(script.segments, timeline.segments)
        ],
    }


def _art(mp3: Path) -> Path:
    """The episode's cover art beside it, for feeds and pages (the MP3 has it too)."""
    return mp3.with_suffix(".jpg")


def _build_key(planned: Planned, engine, voices: list, cover: bytes) -> str:
    """A hash of everything that shapes the episode's bytes."""
    inputs = {
        "generator": __version__,
        "engine": [engine.name, engine.version(), voices],
        "settings": {k: str(v) for k, v in sorted(planned.settings.values.items()) if k not in WHERE_NOT_WHAT},
        "cover": hashlib.sha256(cover).hexdigest(),
        "text": planned.document.text,
        "chapters": planned.script.chapters,
        "segments": [[s.kind, s.chapter, s.role, s.display, s.speech, s.pause_after]
                     for s in planned.script.segments],
    }
    return hashlib.sha256(json.dumps(inputs, ensure_ascii=False).encode("utf-8")).hexdigest()


def _unchanged(mp3: Path, sidecars: Sidecars, build_key: str, planned: Planned) -> Episode | None:
    """The episode already on disk, when it was built from exactly these inputs and is intact."""
    try:
        manifest = json.loads(sidecars.manifest.read_text(encoding="utf-8"))
        if manifest.get("build_key") != build_key or _sha256(mp3) != manifest["audio"]["sha256"]:
            return None
        if not all(path.is_file() for path in (sidecars.chapters, sidecars.vtt, sidecars.srt, _art(mp3))):
            return None
        audio = manifest["audio"]
        return Episode(mp3=mp3, sidecars=sidecars, duration=audio["duration"],
                       chapters=len(manifest["chapters"]), size=audio["bytes"],
                       loudness=audio["loudness_lufs"], synthesized=0,
                       cached=len(planned.script.segments), engine=manifest["engine"]["name"],
                       voice=manifest["engine"]["voice"], up_to_date=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def build_episode(essay: Path, show: Path, flags: dict, progress: Progress | None = None,
                  pool=None, last: bool = True, force: bool = False,
                  on_settings: Callable[[Settings], None] | None = None,
                  warn: Callable[[str], None] | None = None) -> Episode:
    """Render one essay, unless its episode is already built from the same inputs.

    ``last`` says no essay follows, so the synthesis workers can go once its
    speech is done; ``force`` rebuilds even an up-to-date episode;
    ``on_settings`` sees the resolved settings before any work (for --verbose);
    ``warn`` is told what went wrong and was mended (a damaged cached clip)."""
    planned = plan_essay(essay, show, flags)
    if on_settings:
        on_settings(planned.settings)
    settings = planned.settings
    require_ffmpeg()
    engine = load_engine(settings["engine"])
    voice = engine.resolve_voice(settings["voice"], settings["language"])
    quote_voice = engine.resolve_voice(settings["quote_voice"], settings["language"]) if settings["quote_voice"] else None
    cover = _cover(planned)
    episodes = _prepare_output(show)

    mp3 = episodes / f"{episode_stem(essay)}.mp3"
    sidecars = Sidecars.beside(mp3)
    build_key = _build_key(planned, engine, [voice, quote_voice], cover)
    release_free_memory()  # a book's plan and build key leave megabytes of freed heap behind
    if not force and (episode := _unchanged(mp3, sidecars, build_key, planned)):
        return episode
    speech = Speech(planned.script, engine, voice, settings["rate"], ClipCache(), pool,
                    quote_voice=quote_voice, warn=warn)
    with atomic_path(mp3) as partial:
        release = pool.shutdown if pool is not None and last else None
        mixed = _encode(planned.script, speech, partial, settings["bitrate"], progress, release)
        tag_episode(
            partial,
            title=settings["title"],
            author=settings["author"],
            album=settings["album"] or settings["title"],
            date=settings["date"],
            description=settings["description"],
            language=settings["language"],
            lyrics=planned.document.text,
            cover_jpeg=cover,
            chapters=mixed.timeline.chapters,
            sample_rate=SAMPLE_RATE,
            link=settings["link"],
        )
        manifest = _manifest(planned, speech, mixed, partial, mp3.name, cover)
        manifest["build_key"] = build_key
        manifest["guid"], manifest["published"] = _identity(planned.previous, settings["date"])
    write_bytes_atomic(_art(mp3), cover)
    for name, text in sidecar_texts(mixed.timeline, manifest).items():
        write_text_atomic(getattr(sidecars, name), text)
    return Episode(
        mp3=mp3,
        sidecars=sidecars,
        duration=mixed.timeline.duration,
        chapters=len(mixed.timeline.chapters),
        size=os.path.getsize(mp3),
        loudness=mixed.loudness,
        synthesized=speech.synthesized,
        cached=speech.cached,
        engine=speech.engine_name,
        voice=speech.voice,
    )


def _encode(script: Script, speech: Speech, target: Path, bitrate: int, progress: Progress | None,
            speech_done=None) -> Mix:
    """Encode while synthesis runs; write once more in the rare case levelling
    missed the loudness target by more than the tolerance. Progress counts the
    segments that reached the encoder, so it covers synthesis and encoding."""
    streamed, meter = {}, LoudnessMap()

    def first_pass(sink):
        streamed["clips"], streamed["gains"] = write_program(script, speech, levelled_gain, sink, progress,
                                                             meter)

    encode_mp3(first_pass, target, sample_rate=SAMPLE_RATE, bitrate=bitrate)
    if speech_done:
        speech_done()  # local workers' memory goes before the whole-program measurement
    clips, gains = streamed["clips"], streamed["gains"]
    timeline = plan_timeline(script, clips)
    loudness = program_loudness(timeline, gains, meter)
    if abs(loudness - TARGET_LUFS) > TOLERANCE:
        gains = corrected_gains(clips, gains, loudness)
        encode_mp3(lambda sink: write_program(script, clips, lambda i, clip: gains[i], sink),
                   target, sample_rate=SAMPLE_RATE, bitrate=bitrate)
        loudness = program_loudness(timeline, gains, meter)
    return Mix(timeline, gains, loudness)


def say_phrase(text: str, show: Path, flags: dict, out: Path) -> tuple[str, Path]:
    """Speak one phrase as a build would (normalisation, lexicon, engine, checks)
    into a WAV file, so a user can check a pronunciation by ear."""
    settings = run_settings(show, flags)
    engine = load_engine(choose_engine(settings["engine"])[0])
    voice = engine.resolve_voice(settings["voice"], settings["language"])
    speech = load_lexicon(show).apply(speech_text(text, settings["language"] or "en"), engine.takes_phonemes)
    if not speech.strip():
        raise InputError("nothing to say: give some words")
    pcm, sample_rate = synthesize_checked(engine, speech, voice, settings["rate"])
    with atomic_path(out) as partial:
        write_wav(partial, pcm, sample_rate)
    return speech, out
