"""Music beds under the spoken opening and closing.

First the mix itself, on clips of noise and a bed of a tone, against the same
program written without beds: the speech is where the timeline says, untouched,
and the music is what the program gained. Then real builds with beds made by
ffmpeg, read back with ffmpeg (silencedetect, ebur128) and an FFT of the tone.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyloudnorm
import pytest

from audiobook.audio.beds import BED_LUFS, DUCK_DB, MUSIC_LEAD_IN, MUSIC_TAIL, RAMP, BedFiles, Beds, load_bed
from audiobook.audio.cache import ClipCache
from audiobook.audio.loudness import LoudnessMap, energy_profile
from audiobook.audio.mix import ENCODER_LOSS, LEAD_IN, TAIL, TARGET_LUFS, master, plan_timeline, write_program
from audiobook.errors import ConfigError
from audiobook.models import BODY, INTRO, OUTRO, Clip, Metadata, Script, Segment
from audiobook.settings import Settings
from conftest import ebur128, parse_vtt, run_cli, sha256, silences, tools_missing

RATE = 44100
MARGIN_DB = 12.0  # speech over music while speech plays, at least


def _db(power: float) -> float:
    return 10 * np.log10(max(power, 1e-30))


def _power(signal: np.ndarray) -> float:
    return float(np.mean(np.asarray(signal, dtype=np.float64) ** 2)) if signal.size else 0.0


def tone_file(path: Path, frequency: float, seconds: float, rate: int = 48000, channels: int = 2) -> Path:
    """A sine as 16-bit WAV (read by pydub without ffmpeg), by default at another rate, in stereo."""
    t = np.arange(int(seconds * rate)) / rate
    samples = np.round(0.3 * np.sin(2 * np.pi * frequency * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.repeat(samples, channels).tobytes())
    return path


# --- the mix ------------------------------------------------------------------------------

def framed_script() -> Script:
    kinds = [INTRO, BODY, BODY, BODY, OUTRO]
    pauses = [1.0, 0.35, 0.7, 1.5, 0.0]
    segments = [Segment(i, 0, kind, f"Sentence {i}.", f"Sentence {i}.", pause_after=pause)
                for i, (kind, pause) in enumerate(zip(kinds, pauses))]
    return Script(Metadata(title="T"), ["One"], segments)


def noise_clips(cache: ClipCache, script: Script) -> list[Clip]:
    clips = []
    for segment in script.segments:
        noise = np.random.default_rng(segment.index).standard_normal(int((1.0 + 0.2 * segment.index) * RATE))
        pcm = np.round(noise * 0.08 * 32767).clip(-32768, 32767).astype(np.int16)
        entry = cache.put(f"{segment.index:064x}", pcm, RATE, float(np.abs(pcm).max() / 32768),
                          [float(e) for e in energy_profile(pcm / 32768)])
        clips.append(Clip(segment.index, entry.path, entry.samples, entry.peak, True, entry.crc32, entry.profile))
    return clips


def written(script: Script, clips: list[Clip], beds: Beds) -> tuple[np.ndarray, object, LoudnessMap]:
    sink, meter = io.BytesIO(), LoudnessMap()
    write_program(script, clips, lambda index, clip: 1.0, sink, meter=meter, beds=beds)
    return np.frombuffer(sink.getvalue(), dtype="<f4").astype(np.float64), plan_timeline(script, clips, beds), meter


@pytest.fixture(scope="module")
def mixes(tmp_path_factory):
    """One program without beds and one with a tone under its opening and closing."""
    root = tmp_path_factory.mktemp("beds")
    script = framed_script()
    clips = noise_clips(ClipCache(root / "clips"), script)
    bed = load_bed(tone_file(root / "tone.wav", 220, 30), "--intro-music")
    plain, plain_line, _ = written(script, clips, Beds())
    mixed, line, meter = written(script, clips, Beds(bed, bed))
    shift = line.segments[0].start - plain_line.segments[0].start
    speech = np.zeros(mixed.size)
    speech[shift:shift + plain.size] = plain
    return SimpleNamespace(script=script, bed=bed, plain_line=plain_line, line=line, mixed=mixed, meter=meter,
                           shift=shift, speech=speech, music=mixed - speech)


def test_a_bed_is_levelled_mono_at_44_1_khz(mixes):
    measured = pyloudnorm.Meter(RATE).integrated_loudness(np.column_stack([mixes.bed.samples] * 2).astype(float))
    assert measured == pytest.approx(BED_LUFS, abs=0.1)
    assert mixes.bed.samples.ndim == 1 and mixes.bed.samples.size == pytest.approx(30 * RATE, abs=2)


def test_every_span_moves_by_the_musical_lead_in_and_the_program_by_its_tail(mixes):
    assert mixes.line.segments[0].start == round(MUSIC_LEAD_IN * RATE)
    assert mixes.shift == round(MUSIC_LEAD_IN * RATE) - round(LEAD_IN * RATE)
    for span, plain in zip(mixes.line.segments, mixes.plain_line.segments):
        assert (span.start - plain.start, span.end - plain.end) == (mixes.shift, mixes.shift)
    assert mixes.line.chapters[0].start == 0
    assert mixes.line.total - mixes.plain_line.total == mixes.shift + round((MUSIC_TAIL - TAIL) * RATE)
    assert mixes.mixed.size == mixes.line.total


def test_the_body_is_written_untouched(mixes):
    body_start, body_end = mixes.line.segments[1].start, mixes.line.segments[-1].start
    assert np.array_equal(mixes.mixed[body_start:body_end], mixes.speech[body_start:body_end])


@pytest.mark.parametrize("segment", [0, 4], ids=["intro", "outro"])
def test_the_bed_is_at_least_12_db_under_speech_while_speech_plays(mixes, segment):
    span = mixes.line.segments[segment]
    music = _power(mixes.music[span.start:span.end])
    assert music > 0, "no bed under this speech"
    assert _db(_power(mixes.speech[span.start:span.end])) - _db(music) >= MARGIN_DB


def test_the_bed_comes_up_where_nobody_speaks_and_fades_out(mixes):
    first, body, outro = mixes.line.segments[0], mixes.line.segments[1], mixes.line.segments[4]
    lead_in = _db(_power(mixes.music[:first.start - round(RAMP * RATE)]))
    under = _db(_power(mixes.music[first.start:first.end]))
    after_outro = _db(_power(mixes.music[outro.end + round(RAMP * RATE):outro.end + RATE]))
    assert lead_in - under >= DUCK_DB - 1 and after_outro - under >= DUCK_DB - 1
    near_body = _db(_power(mixes.music[body.start - RATE // 100:body.start]))
    assert near_body < lead_in - 40, "the intro bed still playing when the essay starts"
    assert not mixes.music[body.start:outro.start].any(), "music under the body"
    assert _db(_power(mixes.music[-RATE // 100:])) < lead_in - 40, "the outro bed cut off, not faded"


def test_the_loudness_map_counts_the_beds(mixes):
    mixes.meter.extend_to(mixes.line.total)
    gains = [1.0] * len(mixes.script.segments)
    expected = pyloudnorm.Meter(RATE).integrated_loudness(np.column_stack([mixes.mixed] * 2))
    assert mixes.meter.integrated(gains) == pytest.approx(expected, abs=0.1)


def test_a_short_program_under_beds_is_still_levelled_to_minus_16_lufs(mixes, tmp_path):
    """Here the beds are a third of the program: levelling the speech alone misses the target."""
    script = framed_script()
    clips = noise_clips(ClipCache(tmp_path / "clips"), script)
    passes = []

    def output(write) -> None:
        passes.append(io.BytesIO())
        write(passes[-1])

    mix = master(script, clips, output, beds=Beds(mixes.bed, mixes.bed))
    program = np.frombuffer(passes[-1].getvalue(), dtype="<f4").astype(np.float64)
    measured = pyloudnorm.Meter(RATE).integrated_loudness(np.column_stack([program] * 2))
    assert len(passes) == 2
    assert measured - ENCODER_LOSS == pytest.approx(mix.loudness, abs=0.1)
    assert mix.loudness == pytest.approx(TARGET_LUFS, abs=0.15)


def test_a_file_that_is_not_audio_is_one_line_naming_where_it_was_given(tmp_path):
    if tools_missing():
        pytest.skip(tools_missing())
    bogus = tmp_path / "theme.mp3"
    bogus.write_bytes(b"ID3 but not really an MP3 " * 40)
    with pytest.raises(ConfigError) as refused:
        load_bed(bogus, "--intro-music")
    message = str(refused.value)
    assert message.startswith(f"--intro-music: ffmpeg cannot read {bogus} as audio (") and "\n" not in message


def test_a_music_file_that_is_not_there_is_one_line_naming_where_it_was_given(tmp_path):
    settings = Settings(outro_music=tmp_path / "gone.ogg", sources={"outro_music": "show/podcast.toml [music] outro"})
    with pytest.raises(ConfigError, match=r"^show/podcast\.toml \[music\] outro: cannot read the music file "
                                          rf"{re.escape(str(tmp_path))}/gone\.ogg \(No such file or directory\)$"):
        BedFiles(settings).fingerprint()


# --- real builds ---------------------------------------------------------------------------

ESSAY = ("# Beds\n\nA short essay with music under its opening and closing.\n\n"
         "The second paragraph says a little more, so there is a body between them.\n")
TONE = 60.0  # Hz: under the voice's fundamental, so a narrow band around it holds the bed alone
ONSET_TOLERANCE = 0.020  # seconds


def ffmpeg_tone(path: Path, frequency: float, seconds: float) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=f={frequency}:d={seconds}", str(path)],
                   check=True)
    return path


def decoded(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(RATE), "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def tone_share_db(signal: np.ndarray, frequency: float = TONE) -> tuple[float, float]:
    """(power of the tone, power of everything else) in dB, by a Hann-windowed FFT."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size))) ** 2
    band = np.abs(np.fft.rfftfreq(signal.size, 1 / RATE) - frequency) < 4
    return _db(spectrum[band].sum()), _db(spectrum[~band].sum())


@pytest.fixture(scope="module")
def bed_build(tmp_path_factory, isolated_cache):
    """The essay built without beds, and with an intro bed named in podcast.toml
    (Ogg Vorbis, beside the show) and an outro bed given as a flag (MP3)."""
    if tools_missing():
        pytest.skip(tools_missing())
    root = tmp_path_factory.mktemp("bed-build")
    essay = root / "beds.md"
    essay.write_text(ESSAY, encoding="utf-8")
    plain, show = root / "plain", root / "show"
    show.mkdir()
    ffmpeg_tone(show / "intro.ogg", TONE, 20)
    ffmpeg_tone(root / "outro.mp3", TONE, 12)
    (show / "podcast.toml").write_text('[build]\neditions = ["opus"]\n\n[music]\nintro = "intro.ogg"\n',
                                       encoding="utf-8")
    for target, flags in ((plain, []), (show, ["--outro-music", root / "outro.mp3"])):
        result = run_cli("build", essay, "--show", target, *flags)
        assert result.returncode == 0, result.stderr
    return SimpleNamespace(root=root, essay=essay, show=show, mp3=show / "episodes" / "beds.mp3",
                           cues=parse_vtt((show / "episodes" / "beds.vtt").read_text(encoding="utf-8")),
                           plain_cues=parse_vtt((plain / "episodes" / "beds.vtt").read_text(encoding="utf-8")))


@pytest.mark.e2e
def test_every_cue_and_word_moves_by_the_lead_in_exactly(bed_build):
    assert bed_build.cues[0].start == pytest.approx(MUSIC_LEAD_IN, abs=0.001)
    shift = MUSIC_LEAD_IN - LEAD_IN
    assert sum(len(cue.words) for cue in bed_build.cues) > 20
    for cue, plain in zip(bed_build.cues, bed_build.plain_cues, strict=True):
        assert (cue.start - plain.start, cue.end - plain.end) == pytest.approx((shift, shift), abs=0.001)
        assert [word for _, word in cue.words] == [word for _, word in plain.words]
        for (at, _), (plain_at, _) in zip(cue.words, plain.words):
            assert at - plain_at == pytest.approx(shift, abs=0.001)


@pytest.mark.e2e
def test_speech_starts_where_the_vtt_says(bed_build):
    """Speech onsets with the bed filtered out (a 60 Hz tone; high-passes at 200 Hz take it
    70 dB down), by ffmpeg's silencedetect: the opening, the body's first words, the closing."""
    filtered = bed_build.root / "filtered.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(bed_build.mp3), "-af",
                    "highpass=f=200,highpass=f=200,highpass=f=200", str(filtered)], check=True)
    onsets = [end for _, end in silences(filtered, noise_db=-45, min_seconds=0.15)]
    for cue in (bed_build.cues[0], bed_build.cues[1], bed_build.cues[-1]):
        nearest = min(onsets, key=lambda onset: abs(onset - cue.start))
        assert nearest == pytest.approx(cue.start, abs=ONSET_TOLERANCE), cue.text


@pytest.mark.e2e
def test_the_bed_is_at_least_12_db_under_the_speech_over_it(bed_build):
    program = decoded(bed_build.mp3)
    for cue in (bed_build.cues[0], bed_build.cues[-1]):
        tone, speech = tone_share_db(program[round(cue.start * RATE):round(cue.end * RATE)])
        assert speech - tone >= MARGIN_DB, cue.text
    lead_in, _ = tone_share_db(program[:round((MUSIC_LEAD_IN - RAMP) * RATE)])
    under_opening, _ = tone_share_db(program[round(bed_build.cues[0].start * RATE):round(bed_build.cues[0].end * RATE)])
    assert lead_in - under_opening >= DUCK_DB - 2  # up before the first word


@pytest.mark.e2e
def test_the_program_and_its_edition_are_still_at_minus_16_lufs(bed_build):
    for path in (bed_build.mp3, bed_build.show / "episodes" / "beds.opus"):
        assert ebur128(path)["integrated"] == pytest.approx(-16.0, abs=1.0)


def _copy(bed_build, tmp_path: Path) -> Path:
    show = tmp_path / "show"
    shutil.copytree(bed_build.show, show)
    shutil.copy(bed_build.root / "outro.mp3", tmp_path / "outro.mp3")
    return show


@pytest.mark.e2e
def test_a_changed_bed_rebuilds_the_episode_and_the_same_one_does_not(bed_build, tmp_path):
    show = _copy(bed_build, tmp_path)
    again = run_cli("build", bed_build.essay, "--show", show, "--outro-music", tmp_path / "outro.mp3")
    assert again.returncode == 0 and "(up to date, not rewritten)" in again.stdout, again.stderr
    ffmpeg_tone(show / "intro.ogg", TONE * 2, 20)  # same name, other music
    changed = run_cli("build", bed_build.essay, "--show", show, "--outro-music", tmp_path / "outro.mp3")
    assert changed.returncode == 0 and "up to date" not in changed.stdout, changed.stderr
    assert sha256(show / "episodes" / "beds.mp3") != sha256(bed_build.mp3)


@pytest.mark.e2e
def test_music_ffmpeg_cannot_read_stops_the_build_in_one_line_and_keeps_the_episode(bed_build, tmp_path):
    show = _copy(bed_build, tmp_path)
    before = {path.name: sha256(path) for path in (show / "episodes").iterdir() if path.is_file()}
    (tmp_path / "outro.mp3").write_bytes(b"\0" * 4096)
    result = run_cli("build", bed_build.essay, "--show", show, "--outro-music", tmp_path / "outro.mp3")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert re.fullmatch(rf"audiobook: error: --outro-music: ffmpeg cannot read {re.escape(str(tmp_path))}/outro\.mp3 "
                        r"as audio \(.+\)", line), line
    assert {path.name: sha256(path) for path in (show / "episodes").iterdir() if path.is_file()} == before
