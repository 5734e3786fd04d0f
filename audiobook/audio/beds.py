"""Music beds: a piece of music under the spoken opening, another under the closing
(``--intro-music``, ``--outro-music``, or ``[music]`` in podcast.toml).

A bed is any file ffmpeg reads. pydub decodes it (by running ffmpeg) whole into
memory, which is fine for a bed of a minute or two and is why the program
itself never goes through pydub. It is mixed down to mono, resampled to
44.1 kHz with libsoxr and levelled to BED_LUFS, its true peak capped.

Where the beds play:

- the intro bed from the very start: the opening gets MUSIC_LEAD_IN seconds
  of music before the first word (``Beds.lead_in``; mix.plan_timeline lays
  every span out after it, so chapters, cues and word timings move with the
  speech); it is faded out by the time the essay's first word starts;
- the outro bed from the first word of the closing to the end, which it keeps
  going MUSIC_TAIL seconds past the last word (``Beds.tail``), fading out.

While speech plays a bed is DUCK_DB under its own level, so speech stays at
least 12 dB above even a bed's loudest passages; between sentences it comes
back up, on ramps of RAMP seconds that are fully down when a word starts.

``BedTrack`` mixes them into the streamed program: it passes the body straight
through and holds back only the opening and the closing (seconds of audio)
until their speech is in. A bed's energy goes into the program's loudness map
at its fixed level, so the whole program is still levelled to -16 LUFS.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from audiobook.audio.loudness import (FIXED_LEVEL, PEAK_CEILING, SAMPLE_RATE, TARGET_LUFS, LoudnessMap, clip_loudness,
                                      energy_profile, limit_peaks, true_peak)
from audiobook.errors import ConfigError
from audiobook.fsutil import sha256_file
from audiobook.models import INTRO, OUTRO, Script, Segment

if TYPE_CHECKING:
    from audiobook.settings import Settings

BED_LUFS = TARGET_LUFS - 6.0  # a bed at its own level: under the voice's, not competing with it
DUCK_DB = 15.0  # under its own level while speech plays (a bed's loud passages run a few dB over it)
RAMP = 0.4  # seconds a bed takes to go down before a word, and to come back up after one
FADE_OUT = 2.0  # seconds over which a bed fades out where it ends
DECLICK = 0.02  # seconds of fade at a bed file's own start and end, where a cut would click
MUSIC_LEAD_IN = 3.0  # seconds of intro music before the first word
MUSIC_TAIL = 5.0  # seconds of outro music after the last word
MUSIC_SETTINGS = ("intro_music", "outro_music")
# How beds are mixed, for the build key: a change here rebuilds the episodes that have beds.
MIXING = f"{BED_LUFS} {DUCK_DB} {RAMP} {FADE_OUT} {DECLICK} {MUSIC_LEAD_IN} {MUSIC_TAIL}"


def _samples(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE))


def ducking(length: int, speech: list[tuple[int, int]]) -> np.ndarray:
    """A bed's gain over ``length`` samples: DUCK_DB down where ``speech`` (start, end
    spans) plays, ramping in dB over RAMP seconds either side, and fading out over
    the last FADE_OUT seconds."""
    at = np.arange(length, dtype=np.float32)
    distance = np.full(length, np.inf, dtype=np.float32)  # to the nearest speech, 0 inside it
    for start, end in speech:
        distance = np.minimum(distance, np.maximum(start - at, 0) + np.maximum(at - end, 0))
    duck_db = -DUCK_DB * np.clip(1 - distance / _samples(RAMP), 0, 1)
    fade = np.clip((length - at) / _samples(FADE_OUT), 0, 1)
    return (10 ** (duck_db / 20) * fade).astype(np.float32)


@dataclass(frozen=True)
class Bed:
    """A music file made ready to mix (``load_bed``)."""

    samples: np.ndarray  # mono float32 at SAMPLE_RATE, levelled to BED_LUFS

    def under(self, length: int, speech: list[tuple[int, int]]) -> np.ndarray:
        """The bed as it plays for ``length`` samples under ``speech`` (spans from its start);
        silence after its end."""
        music = np.zeros(length, dtype=np.float32)
        count = min(length, self.samples.size)
        music[:count] = self.samples[:count]
        return music * ducking(length, speech)


@dataclass(frozen=True)
class Beds:
    """The beds of one episode, either of which it may do without."""

    intro: Bed | None = None
    outro: Bed | None = None

    @property
    def lead_in(self) -> float | None:
        """Seconds of music before the first word; None without an intro bed."""
        return MUSIC_LEAD_IN if self.intro else None

    @property
    def tail(self) -> float | None:
        """Seconds of music after the last word; None without an outro bed."""
        return MUSIC_TAIL if self.outro else None


NO_BEDS = Beds()


class BedFiles:
    """The music files an episode's settings name, and where each was given (for errors)."""

    def __init__(self, settings: Settings) -> None:
        self._given = {key: (getattr(settings, key), settings.source(key))
                       for key in MUSIC_SETTINGS if getattr(settings, key)}

    def fingerprint(self) -> dict[str, str]:
        """For the build key: each bed's content hash (not its path) and how beds are mixed."""
        return {key: f"{_content_hash(path, where)} {MIXING}" for key, (path, where) in self._given.items()}

    def load(self) -> Beds:
        """Every bed decoded and levelled; ConfigError, one line, for a file ffmpeg cannot read."""
        beds = {key: load_bed(path, where) for key, (path, where) in self._given.items()}
        return Beds(beds.get("intro_music"), beds.get("outro_music"))


def _content_hash(path: Path, where: str) -> str:
    try:
        return sha256_file(path)
    except OSError as error:
        raise _unreadable(path, where, error) from None


def _unreadable(path: Path, where: str, error: OSError) -> ConfigError:
    return ConfigError(f"{where}: cannot read the music file {path} ({error.strerror or error})")


def load_bed(path: Path, where: str) -> Bed:
    """A music file as a bed: mono, 44.1 kHz, at BED_LUFS with its true peak under the ceiling."""
    import soxr

    with warnings.catch_warnings():  # pydub imports audioop, deprecated in 3.11 (audioop-lts from 3.13)
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment
        from pydub.exceptions import CouldntDecodeError

    try:
        audio = AudioSegment.from_file(path)
    except CouldntDecodeError as error:  # its message ends with ffmpeg's own last line
        detail = str(error).strip().splitlines()[-1] if str(error).strip() else "not audio"
        raise ConfigError(f"{where}: ffmpeg cannot read {path} as audio ({detail})") from None
    except OSError as error:
        raise _unreadable(path, where, error) from None
    frames = np.asarray(audio.get_array_of_samples(), dtype=np.float32).reshape(-1, audio.channels)
    mono = frames.mean(axis=1) / (1 << (8 * audio.sample_width - 1))
    if audio.frame_rate != SAMPLE_RATE:
        mono = soxr.resample(mono, audio.frame_rate, SAMPLE_RATE, quality="HQ")
    level = clip_loudness(energy_profile(mono)) if mono.size else float("-inf")
    if not np.isfinite(level):
        raise ConfigError(f"{where}: {path} is silent; give a music file with sound in it")
    gain = min(10 ** ((BED_LUFS - level) / 20), PEAK_CEILING / max(true_peak(mono), 1e-9))
    edge = min(_samples(DECLICK), mono.size // 2)
    fade = np.linspace(0, 1, edge, endpoint=False, dtype=np.float32)
    mono = (mono * np.float32(gain)).astype(np.float32)
    mono[:edge] *= fade
    mono[mono.size - edge:] *= fade[::-1]
    return Bed(mono)


@dataclass
class _Held:
    """A stretch of the program kept back until the speech over its bed is known."""

    bed: Bed
    start: int  # sample of the program where it begins
    blocks: list[np.ndarray] = field(default_factory=list)


class BedTrack:
    """The program's sink with the beds mixed in. ``write`` takes the program as
    mix.write_program streams it (32-bit float PCM); ``speech`` is told where each
    segment's speech lies before its samples come; ``close`` ends the program.

    The opening is held back from the start until the essay's first word, the
    closing from its first word (or, in a script without one, the last word's end)
    to the end; everything else passes straight through."""

    def __init__(self, sink: BinaryIO, script: Script, beds: Beds, meter: LoudnessMap | None = None) -> None:
        self._sink, self._beds, self._meter = sink, beds, meter
        self._last_segment = script.segments[-1] if script.segments else None
        self._position = 0
        self._held = _Held(beds.intro, 0) if beds.intro else None
        self._opening = True  # no word of the essay yet
        self._outro_from: int | None = None  # where the outro bed starts, once known
        self._spans: list[tuple[int, int]] = []  # where the opening and the closing are spoken

    def speech(self, segment: Segment, start: int, end: int) -> None:
        if self._opening and segment.kind != INTRO:
            self._opening = False
            self._release()
        if segment.kind in (INTRO, OUTRO):
            self._spans.append((start, end))
        if self._beds.outro is not None and self._outro_from is None and not self._opening:
            if segment.kind == OUTRO:
                self._outro_from = start
            elif segment is self._last_segment:
                self._outro_from = end

    def write(self, data) -> None:
        samples = np.frombuffer(data, dtype="<f4")
        if self._held is None and self._outro_from is not None and self._position >= self._outro_from:
            self._held = _Held(self._beds.outro, self._position)
        if self._held is not None:
            self._held.blocks.append(samples)
        else:
            self._sink.write(data)
        self._position += samples.size

    def close(self) -> None:
        """Write what is still held back: the closing with its bed."""
        self._release()

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        program = np.concatenate(held.blocks) if held.blocks else np.zeros(0, dtype=np.float32)
        end = held.start + program.size
        speech = [(max(start, held.start) - held.start, min(stop, end) - held.start)
                  for start, stop in self._spans if stop > held.start and start < end]
        music = held.bed.under(program.size, speech)
        if self._meter is not None and music.size:
            self._meter.add(FIXED_LEVEL, held.start, energy_profile(music))
        self._sink.write(limit_peaks(program + music, PEAK_CEILING).astype("<f4", copy=False).data)
