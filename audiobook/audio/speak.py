"""Stage "speak": a clip for every segment of a script, handed out in script order.

Each clip comes from the cache when it is there; the missing ones are made
by the workers (workers.py) or, without workers, here (clips.py). Every
clip handed out has been read back from the cache and checked.
"""
from __future__ import annotations

import collections
import threading
from concurrent.futures import Future
from typing import Callable, Iterator

import numpy as np

from audiobook.audio.cache import CacheEntry, ClipCache, DamagedClip, clip_key, read_checked
from audiobook.audio.clips import ClipJob, processing_fingerprint, render, render_clip
from audiobook.audio.engines import Engine
from audiobook.audio.workers import ClipWorkers
from audiobook.models import QUOTE_ROLE, Clip, Script

Progress = Callable[[int, int], None]  # (done, total)
Warn = Callable[[str], None]  # one line, for the user
# Clips sent to the workers ahead of the one being mixed: enough to keep a
# cluster busy, few enough that a book's futures do not pile up in memory.
AHEAD = 256


class Speech:
    """Clips for every segment of a script, handed out in order as they are ready.

    Clips found in the cache are ready at once; the missing ones go to the
    workers in script order, at most ``AHEAD`` beyond the clip being mixed
    (a future and its answer per clip of a whole book would pile up in this
    process), or, without workers, are synthesized here one by one as
    iteration reaches them. Mixing and encoding run while synthesis goes on.

    A clip's samples are read from the cache and checked against the entry's
    sidecar as it is handed out; a damaged entry is synthesized again here
    and stored, ``warn`` is told, and the build goes on.
    """

    def __init__(self, script: Script, engine: Engine, voice: str, rate: int, cache: ClipCache,
                 pool: ClipWorkers | None = None, progress: Progress | None = None,
                 quote_voice: str | None = None, warn: Warn | None = None) -> None:
        self.script, self.engine, self.voice, self.rate, self.cache = script, engine, voice, rate, cache
        self.quote_voice = quote_voice or voice
        self.engine_name, self.engine_version = engine.name, engine.version()
        voices = [self.quote_voice if s.role == QUOTE_ROLE else voice for s in script.segments]
        processing = processing_fingerprint()
        self.keys = [clip_key(self.engine_name, self.engine_version, v, rate, s.speech, processing)
                     for v, s in zip(voices, script.segments)]
        self._jobs = {key: ClipJob(key, segment.speech, segment_voice, rate)
                      for key, segment, segment_voice in zip(self.keys, script.segments, voices)}
        self._entries: dict[str, CacheEntry] = {}
        for key in self._jobs:
            if found := cache.get(key):
                self._entries[key] = found
        self._missing = dict.fromkeys(key for key in self._jobs if key not in self._entries)  # in order
        self.synthesized = len(self._missing)
        self.cached = len(script.segments) - self.synthesized
        self._report = progress or (lambda done, total: None)
        self._warn = warn or (lambda message: None)
        self._done = 0
        self._lock = threading.Lock()
        self._report(0, self.synthesized)
        self._futures: dict[str, Future] = {}  # sent to the workers, not yet taken
        self._uses_left = collections.Counter(self.keys)  # entries go once their last use is past
        self._pool = pool
        self._unsent = collections.deque(self._jobs[key] for key in self._missing
                                         if pool is not None and self.synthesized > 1)
        self._send()

    def _send(self) -> None:
        while self._unsent and len(self._futures) < AHEAD:
            job = self._unsent.popleft()
            self._futures[job.key] = future = self._pool.submit(job)
            future.add_done_callback(self._count)

    def _count(self, future: Future | None = None) -> None:
        with self._lock:
            self._done += 1
            self._report(self._done, self.synthesized)

    def _entry(self, key: str) -> CacheEntry:
        if key not in self._entries:
            if key in self._futures:
                self._entries[key] = self._futures.pop(key).result()
                self._send()
            else:
                self._entries[key] = render_clip(self.engine, self._jobs[key], self.cache)
                self._count()
        return self._entries[key]

    def _checked(self, key: str) -> tuple[CacheEntry, np.ndarray, bool]:
        """The key's entry and its samples, verified; whether it was synthesized again."""
        entry = self._entry(key)
        try:
            return entry, read_checked(entry.path, entry.samples, entry.crc32), False
        except DamagedClip as damage:
            rendered = render(self.engine, self._jobs[key])
            self._entries[key] = rendered.store(self.cache, key)
            self._warn(f"cached clip {entry.path} was damaged ({damage}); synthesized it again")
            if key not in self._missing:  # counted as from the cache until now
                self.synthesized, self.cached = self.synthesized + 1, self.cached - 1
                self._count()
            return self._entries[key], rendered.pcm, True

    def __iter__(self) -> Iterator[Clip]:
        fresh = set(self._missing)
        try:
            for segment, key in zip(self.script.segments, self.keys):
                entry, pcm, remade = self._checked(key)
                clip = Clip(segment.index, entry.path, entry.samples, entry.peak,
                            key not in fresh and not remade, entry.crc32, entry.profile, pcm, entry.words)
                del pcm  # the mix lets go of a clip's samples once written; so must this generator
                yield clip
                del clip
                fresh.discard(key)
                self._uses_left[key] -= 1
                if not self._uses_left[key]:
                    self._entries.pop(key)
        finally:
            self._unsent.clear()
            for future in self._futures.values():
                future.cancel()
