"""Benchmark `audiobook build` against plain espeak-ng + ffmpeg on the seed essay.

A benchmark, not a test: it prints a table, writes .bench/results.json and exits 0
even when a target is missed (it says MISSED). It exits 1 only when a command fails.
Run it through scripts/bench, which installs what is needed first.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "tipping-point.txt"
RESULTS = ROOT / ".bench" / "results.json"
# The console script next to this interpreter (.venv/bin/python -> .venv/bin/audiobook).
AUDIOBOOK = Path(sys.executable).parent / "audiobook"

COLD_RATIO_TARGET = 1.5      # cold build / baseline
PEAK_RSS_TARGET_MB = 300.0   # whole process tree, 10x essay
MEMORY_ESSAY_COPIES = 10
SAMPLE_EVERY_S = 0.05


class CommandFailed(Exception):
    pass


# --- running and measuring ------------------------------------------------------------

@dataclass
class Job:
    """Commands run one after another and timed together, with extra environment."""
    commands: list[list[str]]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Measurement:
    seconds: float
    peak_rss_mb: float
    peak_pss_mb: float  # RSS counts pages shared by the processes once per process; PSS splits them


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process, from /proc/PID/smaps_rollup."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                values[name] = int(rest.split()[0])
    except (OSError, ValueError):
        pass  # the process ended between listing and reading
    return values.get("Rss", 0), values.get("Pss", 0)


def children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except (OSError, ValueError):
            pass
    return kids


def tree_memory_mb(root_pid: int) -> tuple[float, float]:
    """Sums of RSS and of PSS over a process and all its descendants, in MB."""
    rss_kb = pss_kb = 0
    todo, seen = [root_pid], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        rss, pss = memory_kb(pid)
        rss_kb, pss_kb = rss_kb + rss, pss_kb + pss
        todo += children(pid)
    return rss_kb / 1024, pss_kb / 1024


def run_command(argv: list[str], env: dict[str, str]) -> Measurement:
    """Run one command, sampling its process tree's RSS every SAMPLE_EVERY_S."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0.0, 0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, pss = tree_memory_mb(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            done.wait(SAMPLE_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        tail = (err or out).decode(errors="replace").strip().splitlines()[-15:]
        raise CommandFailed(f"exit {proc.returncode}: {' '.join(argv)}\n" + "\n".join(tail))
    return Measurement(seconds, peak[0], peak[1])


def run_job(job: Job) -> Measurement:
    runs = [run_command(argv, job.env) for argv in job.commands]
    return Measurement(sum(r.seconds for r in runs), max(r.peak_rss_mb for r in runs),
                       max(r.peak_pss_mb for r in runs))


def best_of(repeat: int, make_job) -> Measurement:
    """Run make_job() `repeat` times (a fresh Job each time) and keep the fastest run."""
    return min((run_job(make_job()) for _ in range(repeat)), key=lambda m: m.seconds)


# --- the cases ---------------------------------------------------------------------------

class Scratch:
    """Numbered fresh directories under one temporary root."""

    def __init__(self, root: Path):
        self.root, self.count = root, 0

    def new(self, name: str) -> Path:
        self.count += 1
        path = self.root / f"{name}-{self.count}"
        path.mkdir()
        return path


def baseline_job(scratch: Scratch) -> Job:
    out = scratch.new("baseline")
    wav, mp3 = out / "out.wav", out / "out.mp3"
    return Job([
        ["espeak-ng", "-w", str(wav), "-f", str(SEED)],
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav),
         "-codec:a", "libmp3lame", "-b:a", "96k", "-ac", "1", "-ar", "44100", str(mp3)],
    ])


def build_job(essay: Path, show: Path, cache: Path) -> Job:
    return Job([[str(AUDIOBOOK), "build", str(essay), "--show", str(show),
                 "--engine", "pyttsx3", "--quiet"]],
               env={"XDG_CACHE_HOME": str(cache)})


def cold_build_job(scratch: Scratch, essay: Path) -> Job:
    return build_job(essay, scratch.new("show"), scratch.new("cache"))


def repeated_essay(scratch: Scratch, copies: int) -> Path:
    """The seed `copies` times over, paragraph breaks kept, in a temp dir."""
    text = SEED.read_text(encoding="utf-8").strip()
    path = scratch.new("essay") / f"{SEED.stem}-x{copies}.txt"
    path.write_text("\n\n".join([text] * copies) + "\n", encoding="utf-8")
    return path


@dataclass
class Row:
    case: str
    seconds: float
    peak_rss_mb: float
    peak_pss_mb: float
    ratio: float | None = None
    ratio_to: str = ""
    target: str = ""
    passed: bool | None = None  # None: nothing to pass


def run_cases(repeat: int, skip_memory: bool, scratch: Scratch) -> list[Row]:
    def step(name: str) -> None:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)

    step(f"baseline: espeak-ng + ffmpeg, best of {repeat}")
    base = best_of(repeat, lambda: baseline_job(scratch))
    rows = [Row("baseline: espeak-ng + ffmpeg", base.seconds, base.peak_rss_mb, base.peak_pss_mb)]

    step(f"cold build, empty cache, best of {repeat}")
    cold_jobs: list[Job] = []

    def cold_job() -> Job:
        cold_jobs.append(cold_build_job(scratch, SEED))
        return cold_jobs[-1]

    cold = best_of(repeat, cold_job)
    ratio = cold.seconds / base.seconds
    rows.append(Row("cold build", cold.seconds, cold.peak_rss_mb, cold.peak_pss_mb, ratio, "baseline",
                    f"<= {COLD_RATIO_TARGET:g}x baseline", ratio <= COLD_RATIO_TARGET))

    step(f"no-op rebuild, warm cache, best of {repeat}")
    warm = best_of(repeat, lambda: cold_jobs[-1])  # same show and cache as the last cold build
    rows.append(Row("no-op rebuild (warm cache)", warm.seconds, warm.peak_rss_mb, warm.peak_pss_mb,
                    warm.seconds / cold.seconds, "cold build"))

    if not skip_memory:
        step(f"{MEMORY_ESSAY_COPIES}x essay, cold cache, peak RSS of the process tree")
        big = run_job(cold_build_job(scratch, repeated_essay(scratch, MEMORY_ESSAY_COPIES)))
        rows.append(Row(f"{MEMORY_ESSAY_COPIES}x essay cold build", big.seconds, big.peak_rss_mb, big.peak_pss_mb,
                        big.seconds / cold.seconds, "cold build",
                        f"peak RSS <= {PEAK_RSS_TARGET_MB:g} MB",
                        big.peak_rss_mb <= PEAK_RSS_TARGET_MB))
    return rows


# --- reporting ---------------------------------------------------------------------------

def verdict(row: Row) -> str:
    return {None: "", True: "pass", False: "MISSED"}[row.passed]


def table(rows: list[Row]) -> str:
    header = ["case", "seconds", "ratio", "peak RSS MB", "peak PSS MB", "target", "result"]
    cells = [header] + [[
        r.case,
        f"{r.seconds:.2f}",
        f"{r.ratio:.2f}x {r.ratio_to}" if r.ratio is not None else "",
        f"{r.peak_rss_mb:.0f}",
        f"{r.peak_pss_mb:.0f}",
        r.target,
        verdict(r),
    ] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(rows: list[Row], repeat: int) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seed": str(SEED.relative_to(ROOT)),
        "repeat": repeat,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "cases": [asdict(r) | {"result": verdict(r)} for r in rows],
        "missed": [r.case for r in rows if r.passed is False],
    }
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="runs per timed case; the best counts (default 3)")
    parser.add_argument("--skip-memory", action="store_true",
                        help=f"leave out the {MEMORY_ESSAY_COPIES}x-essay peak memory run")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not AUDIOBOOK.exists():
        print(f"bench: {AUDIOBOOK} not found; run this through scripts/bench", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="audiobook-bench-") as tmp:
        try:
            rows = run_cases(args.repeat, args.skip_memory, Scratch(Path(tmp)))
        except CommandFailed as exc:
            print(f"bench: a command failed, {exc}", file=sys.stderr)
            return 1

    print(table(rows))
    write_json(rows, args.repeat)
    missed = [r.case for r in rows if r.passed is False]
    print()
    print(f"MISSED: {', '.join(missed)}" if missed else "All targets met.")
    print(f"Results written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
