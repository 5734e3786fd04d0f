"""The orchestrator: essays in, episodes and a published show out.

A build reads as the pipeline does, one stage per package:

    read -> plan (text/) -> speak -> mix and encode -> tag (audio/) -> publish (show/)

This module wires the stages together and owns what holds for a whole
command: the settings layers (podcast.toml, environment and flags, read
once), the choice of engine and the synthesis workers. Everything that can be
refused is checked before synthesis starts, and every file the user keeps is
written under a temporary name and renamed into place, so a failed build
leaves the previous episode as it was. Library code never prints: what a run
has to say goes to an ``Events`` object, which the CLI prints.

The text stages, tagging and the show's publishing (feed, site, server) are
imported where they are used, not at the top: ``build`` forks its synthesis workers before it needs them,
and whatever this process holds at the fork is counted again in every worker
and in every clip's fork (their libraries weigh about 20 MB; with them loaded
first, a cold build's process tree grew from 255 to 330 MB).
"""
from __future__ import annotations

import datetime
import hashlib
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, NamedTuple, Sequence

from audiobook.audio.beds import BedFiles
from audiobook.audio.cache import ClipCache, write_wav
from audiobook.audio.clips import processing_fingerprint, synthesize_checked
from audiobook.audio.cover import fit_cover, generate_cover, load_cover
from audiobook.audio.editions import EditionTags, editions_beside
from audiobook.audio.encode import encode_mp3, require_ffmpeg
from audiobook.audio.engines import Engine, Voice, choose_engine, engine_class, engine_targets, load_engine
from audiobook.audio.memory import release_free_memory
from audiobook.audio.mix import SAMPLE_RATE, Mix, master
from audiobook.audio.speak import Speech
from audiobook.audio.workers import executor
from audiobook.errors import ConfigError, InputError, OutputError
from audiobook.events import Episode, Events
from audiobook.fsutil import atomic_path, remove_stale_temp_files, sha256_file
from audiobook.models import Document, Essay, Script
from audiobook.settings import (Settings, SettingLayers, ShowSettings, from_front_matter, read_layers,
                                read_show_file)
from audiobook.settings.showfile import DEFAULT_AUTHOR
from audiobook.show.record import (Audio, Edition, EngineUsed, EpisodeFiles, EpisodeRecord, RecordError, RecordMissing,
                                   Source, build_key, identity, marks, read_record)

if TYPE_CHECKING:
    from audiobook.show.publish import Publication
    from audiobook.text.sources import Reading

# Settings that say where and how fast a build runs, never what it makes; and the paths of the
# cover and the music, whose bytes the build key hashes (the same art by another path is the same episode).
NOT_WHAT_IT_MAKES = {"jobs", "executor", "scheduler", "cover", "intro_music", "outro_music"}
# File names that say "this folder's page": the folder names the essay.
BUNDLE_STEMS = ("index", "_index", "readme")


class Planned(NamedTuple):
    """An essay read, its settings resolved and its script planned: no audio yet."""

    document: Document
    settings: Settings
    script: Script


def episode_stem(essay: Path) -> str:
    """A URL-safe file name stem from the essay's file name; a page bundle's
    (Hugo, Zola, Astro, Gatsby: ``my-post/index.md``) from its folder's."""
    name = essay.parent.name if essay.stem.lower() in BUNDLE_STEMS and essay.parent.name else essay.stem
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.").lower()
    return stem or "episode"


# --- commands -------------------------------------------------------------------

def build(sources: Sequence[str | Path], show_dir: Path, flags: Mapping[str, object], events: Events | None = None,
          force: bool = False, reading: Reading | None = None, drafts: bool = False,
          before_publishing: Callable[[list[Episode]], None] | None = None) -> tuple[list[Episode], Publication]:
    """Render every essay the sources hold (files; feeds, one essay per post) into the show,
    with one set of synthesis workers, then publish the show. A draft is refused unless ``drafts``;
    ``before_publishing`` (the listening proof) may stop the feed from being written by raising."""
    from audiobook.text.sources import Reading, essays_from

    events = events or Events()
    reading = reading or Reading()
    layers = read_layers(show_dir, flags)
    run = layers.command
    essays = essays_from(sources, reading, events.warn)
    _refuse_shared_stems(essays)
    engine_name = _choose_engine(run.engine, events)
    require_ffmpeg()
    if run.executor == "dask":
        events.note(f"synthesizing on Dask: {run.scheduler or f'a new LocalCluster of {run.jobs} workers'}")
    if show_dir.is_dir():
        remove_stale_temp_files(show_dir)  # what killed builds left would be published with the show
    episodes = []
    with executor(run.executor, engine_name, run.jobs, run.scheduler) as workers:
        engine = load_engine(engine_name)  # once for every essay, and after the workers are forked
        for number, essay in enumerate(essays, 1):
            episode = build_episode(essay, layers, engine, events, workers, force, last=number == len(essays),
                                    encoding=reading.encoding, drafts=drafts)
            events.built(episode)
            episodes.append(episode)
    if before_publishing:
        before_publishing(episodes)
    return episodes, _publish(layers.show, events, require_feed=False)


def _refuse_shared_stems(essays: Sequence[Essay]) -> None:
    """Two essays of one build that would be one episode (notes.md and Notes.md) would overwrite each other."""
    seen: dict[str, Path] = {}
    for essay in essays:
        stem = episode_stem(essay.path)
        other = seen.setdefault(stem, essay.path)
        if other != essay.path:
            raise InputError(f"{other} and {essay.path} would both be episode {stem!r}; "
                             f"rename one, or build them into different shows")


def publish(show_dir: Path, events: Events | None = None, base_url: str | None = None) -> Publication:
    """`audiobook feed`: the feed and the site again, from the episodes already built."""
    return _publish(read_show_file(show_dir).show.served_at(base_url), events or Events(), require_feed=True)


def preview(show_dir: Path, host: str, port: int, events: Events | None = None) -> None:
    """`audiobook serve`: serve the show until interrupted. A show without a base URL
    of its own gets its feed rewritten for the address served, so an app can subscribe."""
    from audiobook.show.serve import serve

    events = events or Events()
    show = read_show_file(show_dir).show

    def ready(url: str) -> None:
        if not show.base_url:
            _publish(show.served_at(url), events, require_feed=False)
        events.note(f"serving {show_dir} at {url} (feed: {url}feed.xml); Ctrl-C stops")

    serve(show_dir, host, port, on_ready=ready)


def inspect_episode(mp3: Path) -> str:
    """`audiobook inspect`: the tags as read back from the MP3, and what its record says."""
    from audiobook.audio.tag import format_tags, read_tags

    tags = read_tags(mp3)
    files = EpisodeFiles(mp3.parent, mp3.stem)
    try:
        record = read_record(files)
    except RecordError as exc:
        return format_tags(tags, [("Record", f"none readable ({exc})")])
    audio = "matches the MP3" if sha256_file(mp3) == record.audio.sha256 else "DIFFERS from the MP3: rebuild it"
    return format_tags(tags, [
        ("Record", f"{files.record.name if files.record.is_file() else files.legacy_record.name} ({audio})"),
        ("GUID", record.guid),
        ("Published", record.published.isoformat()),
        ("Voice", f"{record.engine.name} {record.engine.voice} at {record.engine.rate} words per minute"),
        ("Loudness", f"{record.audio.loudness_lufs:.1f} LUFS"),
        ("Segments", f"{len(record.segments)}, from {record.source.file}"),
    ])


def installed_voices(engine: str | None = None, language: str | None = None) -> list[tuple[str, list[Voice] | str]]:
    """`audiobook voices`: each engine (or just ``engine``) with its voices whose
    language starts with ``language``, or why the engine cannot run here."""
    found: list[tuple[str, list[Voice] | str]] = []
    for name in [engine] if engine else sorted(engine_targets()):
        reason = engine_class(name).unavailable_reason()
        voices = [] if reason else [voice for voice in load_engine(name).voices()
                                    if not language or voice.language.lower().startswith(language.lower())]
        found.append((name, reason or voices))
    return found


def _publish(show: ShowSettings, events: Events, require_feed: bool) -> Publication:
    from audiobook.show.publish import publish_show

    publication = publish_show(show, require_feed)
    for note in publication.notes:
        events.note(note)
    for warning in publication.warnings:
        events.warn(warning)
    return publication


def plan_essays(sources: Sequence[str | Path], show_dir: Path, flags: Mapping[str, object],
                events: Events | None = None, reading: Reading | None = None) -> list[Planned]:
    """`audiobook plan`: what each essay the sources hold (a feed: each post) will be spoken as,
    with the settings a build would use; drafts too."""
    from audiobook.text.sources import Reading, essays_from

    events = events or Events()
    reading = reading or Reading()
    layers = read_layers(show_dir, flags)
    engine_name = _choose_engine(layers.command.engine, events)
    return [_planned(essay, layers, engine_name, reading.encoding, drafts=True)
            for essay in essays_from(sources, reading, events.warn)]


def plan_essay(essay: Path, show_dir: Path, flags: Mapping[str, object], events: Events | None = None) -> Planned:
    """The plan of one essay file (for callers that have one)."""
    [planned] = plan_essays([essay], show_dir, flags, events)
    return planned


def say_phrase(text: str, show_dir: Path, flags: Mapping[str, object], out: Path,
               events: Events | None = None) -> tuple[str, Path]:
    """`audiobook say`: one phrase spoken as a build would (normalisation, lexicon,
    engine, checks) into a WAV file, to check a pronunciation by ear."""
    from audiobook.text.lexicon import load_lexicon
    from audiobook.text.normalize import speech_text

    layers = read_layers(show_dir, flags)
    settings = layers.command
    engine = load_engine(_choose_engine(settings.engine, events or Events()))
    voice = engine.resolve_voice(settings.voice, settings.language)
    speech = load_lexicon(layers.show.directory).apply(speech_text(text, settings.language), engine.takes_phonemes)
    if not speech.strip():
        raise InputError("nothing to say: give some words")
    spoken = synthesize_checked(engine, speech, voice, settings.rate)
    with atomic_path(out) as partial:
        write_wav(partial, spoken.pcm, spoken.sample_rate)
    return speech, out


# --- one essay --------------------------------------------------------------------

def build_episode(essay: Essay, layers: SettingLayers, engine: Engine, events: Events, workers=None,
                  force: bool = False, last: bool = True, encoding: str | None = None,
                  drafts: bool = False) -> Episode:
    """Render one essay, unless its episode is already built from the same inputs.

    ``last`` says no essay follows, so the workers can go once its speech is done."""
    from audiobook.audio.tag import tag_episode
    from audiobook.show.episodes import write_episode

    document, settings, script = _planned(essay, layers, engine.name, encoding, drafts)          # read, plan
    events.settings(essay.path, settings)
    voice = engine.resolve_voice(settings.voice, settings.language)
    quote_voice = engine.resolve_voice(settings.quote_voice, settings.language) if settings.quote_voice else voice
    cover = _cover(settings, events)
    files = EpisodeFiles.of(layers.show.directory, episode_stem(essay.path))
    _prepare_output(files.folder)
    previous = _previous_record(files)
    used = EngineUsed(engine.name, engine.version(), voice, quote_voice, settings.rate)
    music = BedFiles(settings)
    key = build_key({k: v for k, v in settings.values().items() if k not in NOT_WHAT_IT_MAKES} | music.fingerprint(),
                    used, processing_fingerprint(), cover, document.text, script)
    release_free_memory()  # a book's plan and build key leave megabytes of freed heap behind
    if not force and previous and (episode := _unchanged(files, previous, key, len(script.segments))):
        return episode
    guid, day, published = identity(previous, settings.date, _now())
    beds = music.load()  # a music file ffmpeg cannot read stops the build here, before any synthesis
    speech = Speech(script, engine, voice, settings.rate, ClipCache(), workers,                  # speak
                    quote_voice=quote_voice, warn=events.warn)
    with (atomic_path(files.mp3) as partial,
          editions_beside(files.mp3, {name: files.edition(name) for name in settings.editions}) as editions):
        mixed = master(script, speech, lambda write: encode_mp3(write, partial, sample_rate=SAMPLE_RATE,  # mix
                                                                 bitrate=settings.bitrate, master_copy=editions.master),
                       progress=lambda done, total: events.progress(essay.path, done, total),
                       speech_done=workers.shutdown if workers is not None and last else None, beds=beds)
        tags = EditionTags(title=settings.title, author=settings.author, album=settings.album or settings.title,  # tag
                           date=day, description=settings.description, language=settings.language,
                           cover_jpeg=cover, chapters=mixed.timeline.chapters, sample_rate=SAMPLE_RATE)
        tag_episode(partial, **vars(tags), lyrics=document.text, link=settings.link)
        made = tuple(Edition(**vars(edition)) for edition in editions.make(mixed.loudness, tags))
        record = _record(files, settings, document, script, mixed, used, cover, partial, key,
                         (guid, day, published), made)
    write_episode(files, record, mixed.timeline, cover)                                      # publish
    return Episode(files.mp3, files, mixed.timeline.duration, len(mixed.timeline.chapters), record.audio.bytes,
                   mixed.loudness, speech.synthesized, speech.cached, engine.name, voice,
                   editions={edition.format: edition.bytes for edition in made})


def _choose_engine(name: str, events: Events) -> str:
    chosen, why = choose_engine(name)
    if why:
        events.note(why)
    return chosen


def _planned(essay: Essay, layers: SettingLayers, engine_name: str, encoding: str | None = None,
             drafts: bool = False) -> Planned:
    """The essay read, its settings resolved (the title and description it does
    not give taken from its text) and its script planned. A draft is refused unless ``drafts``."""
    from audiobook.text.lexicon import load_lexicon
    from audiobook.text.plan import plan_script, resolve_description, resolve_title
    from audiobook.text.frontmatter import refuse_draft
    from audiobook.text.read import read_document

    document = essay.document or read_document(essay.path, encoding)
    if not drafts:
        refuse_draft(essay.path, document.metadata)
    settings = layers.resolve(essay.path, document.metadata).derive("engine", engine_name, "the engine chosen for this run")
    if not settings.title:
        settings = settings.derive("title", resolve_title(document), f"text of {essay.path.name}")
    if not settings.description:
        settings = settings.derive("description", resolve_description(document), f"opening of {essay.path.name}")
    spoken_author = None if settings.author == DEFAULT_AUTHOR else settings.author  # nobody says "by Anonymous"
    metadata = replace(document.metadata, title=settings.title, author=spoken_author, date=settings.date,
                       description=settings.description, language=settings.language, link=settings.link)
    script = plan_script(document, metadata, lexicon=load_lexicon(layers.show.directory, document.metadata.lexicon),
                         phonemes=engine_class(engine_name).takes_phonemes)
    return Planned(document, settings, script)


def _cover(settings: Settings, events: Events) -> bytes:
    """The episode's art: the one given, a title card when none is. An image from the
    essay's front matter was made for the web (a social card): it is fitted to a
    podcast's square with a warning, or replaced by a title card with a warning when
    it is not there or not a picture Pillow reads, where art given for the podcast
    would be refused."""
    if not settings.cover:
        return generate_cover(settings.title, settings.author)
    if not from_front_matter(settings, "cover"):
        return load_cover(settings.cover)
    try:
        cover, warning = fit_cover(settings.cover)
    except ConfigError as error:  # not there (kept where only the site builder looks), or SVG, AVIF...
        events.warn(f"{error} (from the {settings.source('cover')}); the episode gets a title card")
        return generate_cover(settings.title, settings.author)
    if warning:
        events.warn(warning)
    return cover


def _prepare_output(folder: Path) -> None:
    """Create the episodes folder and prove it is writable, before any synthesis."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise OutputError(f"cannot write to the show directory {folder.parent}: {exc.strerror or exc}") from exc


def _previous_record(files: EpisodeFiles) -> EpisodeRecord | None:
    """What an earlier build of this essay recorded: its GUID and publication time
    survive every rebuild. A record that is there but unreadable stops the build:
    building over it would give the episode a new GUID, a second copy in every app."""
    try:
        return read_record(files)
    except RecordMissing:
        return None
    except RecordError as exc:
        raise InputError(f"{exc}: it holds the episode's GUID and publication time; restore it, or delete it "
                         f"to build the episode anew under a new GUID") from None


def _unchanged(files: EpisodeFiles, previous: EpisodeRecord, key: str, segments: int) -> Episode | None:
    """The episode on disk, when it was built from exactly these inputs and is intact."""
    audio = [(files.mp3, previous.audio.sha256), *((files.edition(e.format), e.sha256) for e in previous.editions)]
    on_disk = (files.chapters, files.vtt, files.srt, files.art, *(path for path, _ in audio))
    if previous.build_key != key or not all(path.is_file() for path in on_disk):
        return None
    if any(sha256_file(path) != sha256 for path, sha256 in audio):
        return None
    return Episode(files.mp3, files, previous.audio.duration, len(previous.chapters), previous.audio.bytes,
                   previous.audio.loudness_lufs, 0, segments, previous.engine.name, previous.engine.voice,
                   editions={edition.format: edition.bytes for edition in previous.editions}, up_to_date=True)


def _record(files: EpisodeFiles, settings: Settings, document: Document, script: Script, mixed: Mix,
            used: EngineUsed, cover: bytes, mp3: Path, key: str,
            when: tuple[str, str, datetime.datetime], editions: tuple[Edition, ...]) -> EpisodeRecord:
    """The record of what this build made; ``mp3`` is the file written so far."""
    guid, day, published = when
    chapters, segments = marks(script, mixed.timeline)
    timeline = mixed.timeline
    return EpisodeRecord(
        stem=files.stem, title=settings.title, author=settings.author, album=settings.album or settings.title,
        date=day, description=settings.description or "", language=settings.language, link=settings.link,
        guid=guid, published=published, build_key=key,
        source=Source(document.source.name, hashlib.sha256(document.text.encode("utf-8")).hexdigest()),
        engine=used,
        audio=Audio(sha256=sha256_file(mp3), bytes=mp3.stat().st_size, duration=round(timeline.duration, 3),
                    sample_rate=timeline.sample_rate, samples=timeline.total, bitrate_kbps=settings.bitrate,
                    loudness_lufs=round(mixed.loudness, 2), cover_sha256=hashlib.sha256(cover).hexdigest()),
        chapters=chapters, segments=segments, season=settings.season, episode=settings.episode,
        soundbite=settings.soundbite, editions=editions)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
