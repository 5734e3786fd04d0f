"""The clip cache: content addressing, atomic entries, and the `cache` commands."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from audiobook.audio.cache import DamagedClip, ClipCache, cache_stats, clip_key, prune_cache, read_checked, write_wav
from conftest import cli_env, run_cli


def _fill(cache: ClipCache, count: int) -> list[str]:
    keys = [clip_key("fake", "1", "v", 175, f"text {n}", "p") for n in range(count)]
    for key in keys:
        cache.put(key, np.zeros(4410, np.int16), 44100, 0.1, [0.0])
    return keys


def test_the_key_changes_with_every_input():
    base = ("fake", "1", "v", 175, "text", "p")
    variants = [("other", "1", "v", 175, "text", "p"), ("fake", "2", "v", 175, "text", "p"),
                ("fake", "1", "w", 175, "text", "p"), ("fake", "1", "v", 176, "text", "p"),
                ("fake", "1", "v", 175, "text.", "p"), ("fake", "1", "v", 175, "text", "q")]
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


def _flip_middle(wav):
    data = bytearray(wav.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(b ^ 0xFF for b in data[middle:middle + 16])
    wav.write_bytes(bytes(data))


DAMAGES = {
    "cut to half": (lambda wav: wav.write_bytes(wav.read_bytes()[: wav.stat().st_size // 2]),
                    r"^\d+ samples where 44100 were stored$"),
    "text": (lambda wav: wav.write_text("not audio at all\n"), "^not a WAV file: file does not start with RIFF id$"),
    "empty": (lambda wav: wav.write_bytes(b""), "^not a WAV file: cut short$"),
    "bytes flipped": (_flip_middle, "^checksum mismatch$"),
    "another rate": (lambda wav: write_wav(wav, np.ones(44100, np.int16), 22050), "^not 44100 Hz mono 16-bit$"),
    "gone": (lambda wav: wav.unlink(), "^unreadable: No such file or directory$"),
}


def test_a_clip_reads_back_as_it_was_stored(tmp_path):
    pcm = (np.sin(np.arange(44100) / 7) * 8000).astype(np.int16)
    ClipCache(tmp_path).put("ab" * 32, pcm, 44100, 0.3, [0.0])
    entry = ClipCache(tmp_path).get("ab" * 32)
    assert (entry.samples, entry.peak) == (44100, 0.3)
    assert np.array_equal(read_checked(entry.path, entry.samples, entry.crc32), pcm)


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_clip_is_refused_on_read_saying_how(tmp_path, damage):
    spoil, reason = DAMAGES[damage]
    cache = ClipCache(tmp_path)
    cache.put("ab" * 32, (np.sin(np.arange(44100) / 7) * 8000).astype(np.int16), 44100, 0.3, [0.0])
    entry = cache.get("ab" * 32)
    spoil(entry.path)
    with pytest.raises(DamagedClip, match=reason):
        read_checked(entry.path, entry.samples, entry.crc32)
