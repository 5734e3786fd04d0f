"""The clip cache: content addressing, atomic entries, and the `cache` commands."""
from __future__ import annotations

import os
import time

import numpy as np

from audiobook.audio.cache import ClipCache, cache_stats, clip_key, prune_cache
from conftest import cli_env, run_cli


def _fill(cache: ClipCache, count: int) -> list[str]:
    keys = [clip_key("fake", "1", "v", 175, f"text {n}") for n in range(count)]
    for key in keys:
        cache.put(key, np.zeros(4410, np.int16), 44100, 0.1, [0.0])
    return keys


def test_the_key_changes_with_every_input():
    base = ("fake", "1", "v", 175, "text")
    variants = [("other", "1", "v", 175, "text"), ("fake", "2", "v", 175, "text"),
                ("fake", "1", "w", 175, "text"), ("fake", "1", "v", 176, "text"),
                ("fake", "1", "v", 175, "text.")]
    assert len({clip_key(*base)} | {clip_key(*v) for v in variants}) == 1 + len(variants)


def test_stats_count_clips_and_bytes(tmp_path):
    cache = ClipCache(tmp_path / "clips")
    assert cache_stats(cache).clips == 0
    _fill(cache, 3)
    stats = cache_stats(cache)
    assert stats.clips == 3 and stats.bytes > 3 * 4410 * 2


def test_entries_are_not_synced_to_disk(tmp_path, monkeypatch):
    """A torn entry is caught by its checksum; syncing thousands of them would cost more."""
    synced = []
    monkeypatch.setattr(os, "fsync", synced.append)
    _fill(ClipCache(tmp_path / "clips"), 2)
    assert synced == []


def test_prune_removes_only_clips_unused_for_long(tmp_path):
    cache = ClipCache(tmp_path / "clips")
    old, recent = _fill(cache, 2)
    month_ago = time.time() - 31 * 86400
    os.utime(cache._wav(old).with_suffix(".json"), (month_ago, month_ago))
    removed = prune_cache(cache, older_than_days=30)
    assert removed.clips == 1
    assert cache.get(old) is None and cache.get(recent) is not None


def test_using_a_clip_keeps_it(tmp_path):
    cache = ClipCache(tmp_path / "clips")
    key, = _fill(cache, 1)
    month_ago = time.time() - 31 * 86400
    os.utime(cache._wav(key).with_suffix(".json"), (month_ago, month_ago))
    assert cache.get(key) is not None  # a hit marks it used now
    assert prune_cache(cache, older_than_days=30).clips == 0


def test_cache_commands(tmp_path):
    env = cli_env(AUDIOBOOK_CACHE_DIR=str(tmp_path / "clips"))
    _fill(ClipCache(tmp_path / "clips"), 2)
    info = run_cli("cache", "info", cwd=tmp_path, env=env)
    assert info.returncode == 0 and f"{tmp_path / 'clips'}: 2 clips" in info.stdout
    pruned = run_cli("cache", "prune", cwd=tmp_path, env=env)
    assert pruned.returncode == 0 and "removed 2 clips" in pruned.stdout
    assert cache_stats(ClipCache(tmp_path / "clips")).clips == 0


def test_prune_removes_the_temp_files_of_dead_runs_and_says_so(runner, tmp_path, monkeypatch):
    from audiobook import fsutil
    from audiobook.cli import cli

    monkeypatch.setattr(fsutil, "STALE_AFTER", 0.0)  # an unlocked temp file is a dead run's at once
    monkeypatch.setenv("AUDIOBOOK_CACHE_DIR", str(tmp_path / "clips"))
    cache = ClipCache(tmp_path / "clips")
    key, = _fill(cache, 1)
    left = cache._wav(key).parent / f".{key}.wav.k9x2ab7q.part"  # a worker killed mid-put
    left.write_bytes(b"RIFF")
    result = runner.invoke(cli, ["cache", "prune", "--older-than", "30"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("removed 0 clips and 1 stale temp files, ")
    assert not left.exists() and cache.get(key) is not None
