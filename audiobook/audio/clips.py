"""What happens to one clip: synthesized, checked, retried, processed, stored.

Every clip an engine returns is untrusted (pyttsx3's espeak driver sometimes
writes nothing, or a truncated file): it must decode, not be silent, and last
about as long as its words need, or it is synthesized again; after
``ATTEMPTS`` bad tries the build stops with an error naming the segment.
Good clips are trimmed of edge silence (the plan sets the pauses), resampled
to 44.1 kHz, limited to a steady peak-to-loudness ratio, measured (true peak,
loudness energy profile) and stored in the content-addressed cache.

How that processing is done is part of every clip's cache key
(``processing_fingerprint``), so a change to it never reuses stale clips.
"""
from __future__ import annotations

import functools
import platform
import weakref
from dataclasses import dataclass

import numpy as np
from audiobook.audio import loudness
from audiobook.audio.cache import CacheEntry, ClipCache
from audiobook.audio.engines import Engine, Spoken
from audiobook.errors import EngineCrashed, EngineError
from audiobook.audio.loudness import SAMPLE_RATE

ATTEMPTS = 3
EDGE_THRESHOLD = 10 ** (-50 / 20)  # below -50 dBFS counts as silence at a clip's edges
EDGE_KEEP = 0.02  # seconds of the quiet edge kept, so onsets are not clipped
SILENT_PEAK = 10 ** (-40 / 20)  # a clip that never rises above -40 dBFS said nothing
# Peaks above a clip's loudness by more than this are limited, so the whole
# program can reach -16 LUFS with its true peak under the ceiling (mix.py).
CLIP_PEAK_TO_LOUDNESS = 12.0  # dB
RESAMPLE_QUALITY = "HQ"  # libsoxr's recipe
# Bump when process_clip or what it calls in loudness.py changes its output in
# a way the constants in processing_fingerprint do not show; tests/test_clips.py
# pins the output and says when.
PROCESSING_REVISION = 1


@dataclass(frozen=True)
class ClipJob:
    """One clip to make: what a worker, local or on another machine, is sent."""

    key: str
    text: str
    voice: str
    rate: int


def clip_problem(pcm: np.ndarray, sample_rate: int, text: str, rate: int) -> str | None:
    """Why a clip cannot be trusted, or None when it looks like speech of ``text``."""
    if pcm.size == 0:
        return "no audio"
    if np.abs(pcm).max() < SILENT_PEAK * 32768:
        return "silence"
    seconds = pcm.size / sample_rate
    # Long tokens (URLs, a run of letters) take longer than their word count says.
    expected = max(len(text.split()), len(text) / 8, 1) * 60.0 / rate
    if seconds < 0.3 * expected - 0.2:
        return f"{seconds:.2f} s of audio for ~{expected:.1f} s of words (truncated)"
    if seconds > 3.0 * expected + 3.0:
        return f"{seconds:.2f} s of audio for ~{expected:.1f} s of words (runaway)"
    return None


def prepare_clip(pcm: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """Trim edge silence and resample to 44.1 kHz float32; also where the kept part began."""
    signal = pcm.astype(np.float32)
    signal /= 32768.0
    loud = np.flatnonzero(np.abs(signal) > EDGE_THRESHOLD)
    keep = int(EDGE_KEEP * sample_rate)
    start, end = max(loud[0] - keep, 0), min(loud[-1] + 1 + keep, signal.size)
    signal = signal[start:end]
    if sample_rate != SAMPLE_RATE:
        import soxr

        signal = soxr.resample(signal, sample_rate, SAMPLE_RATE, RESAMPLE_QUALITY)
    signal = np.asarray(signal, dtype=np.float32)  # ours either way: edited in place
    return np.clip(signal, -1.0, 32767 / 32768, out=signal), int(start)


def words_in_clip(words: tuple[tuple[int, int], ...], trimmed: int, sample_rate: int,
                  samples: int) -> tuple[tuple[int, int], ...]:
    """Word starts moved from the engine's audio into the clip's: trimmed, at 44.1 kHz."""
    scale = SAMPLE_RATE / sample_rate
    return tuple((offset, min(max(round((start - trimmed) * scale), 0), samples)) for offset, start in words)


def synthesize_checked(engine: Engine, text: str, voice: str, rate: int) -> Spoken:
    """Synthesize, check the clip, retry; fail loudly if it stays wrong."""
    problem = None
    for _ in range(ATTEMPTS):
        try:
            spoken = engine.speak(text, voice, rate)
        except EngineCrashed as crash:
            problem = str(crash)
            continue
        problem = clip_problem(spoken.pcm, spoken.sample_rate, text, rate)
        if problem is None:
            return spoken
    raise EngineError(
        f"{engine.name} gave {problem} {ATTEMPTS} times for {text[:60]!r}; "
        f"try another voice or engine, or report the text"
    )


@dataclass(frozen=True)
class Rendered:
    """A clip ready for the cache: what a worker on another machine sends back."""

    pcm: np.ndarray  # int16 at SAMPLE_RATE
    peak: float  # true peak, linear
    profile: np.ndarray  # loudness energy per 100 ms block (loudness.energy_profile)
    renderer: str  # what made it (renderer()): the clip's key assumes this machine's
    words: tuple[tuple[int, int], ...] = ()  # (offset in the text, first sample) of each word, when known

    def store(self, cache: ClipCache, key: str) -> CacheEntry:
        return cache.put(key, self.pcm, SAMPLE_RATE, self.peak, self.profile, self.words)


def render(engine: Engine, job: ClipJob) -> Rendered:
    """Synthesize one clip, check it, retry; trim, resample, limit and measure it."""
    spoken = synthesize_checked(engine, job.text, job.voice, job.rate)
    pcm, peak, profile, trimmed = process_clip(spoken.pcm, spoken.sample_rate)
    return Rendered(pcm, peak, profile, renderer(engine),
                    words_in_clip(spoken.words, trimmed, spoken.sample_rate, len(pcm)))


def process_clip(pcm: np.ndarray, sample_rate: int) -> tuple[np.ndarray, float, np.ndarray, int]:
    """A checked clip made ready for the cache: (int16 PCM at 44.1 kHz, true peak, energy
    profile, samples trimmed from its start at the engine's rate)."""
    signal, trimmed = prepare_clip(pcm, sample_rate)
    profile = loudness.energy_profile(signal)
    level = loudness.clip_loudness(profile)
    if np.isfinite(level):
        ceiling = 10 ** ((level + CLIP_PEAK_TO_LOUDNESS - 3.01) / 20)  # dual mono -> dBFS
        limited = loudness.limit_peaks(signal, ceiling)
        if limited is not signal:
            signal, profile = limited, loudness.energy_profile(limited)
    peak = loudness.true_peak(signal)
    signal *= 32768  # in place: a long clip's copies are what a worker's memory peaks on
    np.round(signal, out=signal)
    return np.clip(signal, -32768, 32767, out=signal).astype(np.int16), peak, profile, trimmed


@functools.lru_cache(maxsize=1)
def processing_fingerprint() -> str:
    """How this machine processes clips: the revision of the code, its
    constants, the numeric libraries and the kind of CPU (floating point may
    round differently on another). Part of every clip's cache key."""
    import soxr

    constants = (SAMPLE_RATE, EDGE_THRESHOLD, EDGE_KEEP, CLIP_PEAK_TO_LOUDNESS, RESAMPLE_QUALITY,
                 loudness.PROFILE_BIN, loudness.FILTER_TAIL, loudness.FFT_BLOCK,
                 loudness.TRUE_PEAK_OVERSAMPLING, loudness.OVERSAMPLE_CHUNK, loudness.LIMITER_WINDOW)
    return (f"processing {PROCESSING_REVISION} {constants!r}; numpy {np.__version__}; "
            f"soxr {soxr.__version__}; {platform.machine()}")


_renderers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> renderer(engine)


def renderer(engine: Engine) -> str:
    """What a clip's bytes depend on besides its text, voice and rate: what a
    Dask worker must share with this machine for its clips to be taken. Asked
    of each engine once, and kept no longer than the engine (its model with it)."""
    if engine not in _renderers:
        _renderers[engine] = f"{engine.version()}; {processing_fingerprint()}"
    return _renderers[engine]


def render_clip(engine: Engine, job: ClipJob, cache: ClipCache) -> CacheEntry:
    """Render one clip and store it in the cache."""
    return render(engine, job).store(cache, job.key)
