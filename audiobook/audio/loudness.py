"""BS.1770-4 loudness of a program assembled from clips, and a clip limiter.

pyloudnorm measures one whole array; an essay or a book should not have to
sit in memory for that. Instead each clip, when it is synthesized (in a
worker, once, then cached), gets an *energy profile*: the K-weighted energy
of every 10 ms, filter tail included, computed with pyloudnorm's own
K-weighting filters. The program's gated loudness then follows from the
profiles, their positions and any per-clip gains, without touching audio
(the filter is linear and clips never overlap). Placing a profile on the
100 ms block grid moves energy by at most 10 ms, well under 0.1 LU.

The K-weighting is applied as an FFT convolution with the filters' impulse
response (100 ms; what is cut off is below 1e-5 of it) rather than through
scipy.signal, whose import alone costs half a second in every worker. The
filters are pyloudnorm's (RBJ cookbook biquads); tests/test_loudness.py
checks them against pyloudnorm and ffmpeg's ebur128.
"""
from __future__ import annotations

import functools
from array import array

import numpy as np

SAMPLE_RATE = 44100
TARGET_LUFS = -16.0  # integrated, dual mono: every edition of every program
# MP3 encoding adds overshoot; -2 dBTP before encoding lands at or below -1 after.
PEAK_CEILING = 10 ** (-2.0 / 20)
PROFILE_BIN = 441  # 10 ms at 44.1 kHz
FILTER_TAIL = 4410  # 100 ms of filter ring-out kept after a clip
SUBBLOCK = 4410  # 400 ms gating blocks with 75 % overlap = 4 sub-blocks of 100 ms
BLOCK_SUBBLOCKS = 4
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
DUAL_MONO_WEIGHT = 2.0  # a mono file plays on both ears (ffmpeg ebur128 dualmono=true)
TRUE_PEAK_OVERSAMPLING = 4
LIMITER_WINDOW = 441  # 10 ms each side: gain moves smoothly, no clicks


def lufs(mean_square, weight: float = DUAL_MONO_WEIGHT):
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(weight * np.asarray(mean_square))


def k_weighting_biquads(sample_rate: int = SAMPLE_RATE) -> list[tuple[list[float], list[float]]]:
    """(b, a) of BS.1770's two stages: a +4 dB shelf at 1.5 kHz, a 38 Hz high-pass."""
    shelf_gain = 10 ** (4.0 / 40)
    w0 = 2 * np.pi * 1500.0 / sample_rate
    alpha, cos = np.sin(w0) / (2 / np.sqrt(2)), np.cos(w0)
    root = 2 * np.sqrt(shelf_gain) * alpha
    shelf = (
        [shelf_gain * ((shelf_gain + 1) + (shelf_gain - 1) * cos + root),
         -2 * shelf_gain * ((shelf_gain - 1) + (shelf_gain + 1) * cos),
         shelf_gain * ((shelf_gain + 1) + (shelf_gain - 1) * cos - root)],
        [(shelf_gain + 1) - (shelf_gain - 1) * cos + root,
         2 * ((shelf_gain - 1) - (shelf_gain + 1) * cos),
         (shelf_gain + 1) - (shelf_gain - 1) * cos - root],
    )
    w0 = 2 * np.pi * 38.0 / sample_rate
    alpha, cos = np.sin(w0) / (2 * 0.5), np.cos(w0)
    high_pass = ([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2], [1 + alpha, -2 * cos, 1 - alpha])
    return [shelf, high_pass]


@functools.lru_cache(maxsize=4)
def k_weighting_response(sample_rate: int = SAMPLE_RATE, length: int = FILTER_TAIL) -> np.ndarray:
    """Impulse response of the K-weighting cascade, by running its difference equations."""
    response = [1.0] + [0.0] * (length - 1)
    for b, a in k_weighting_biquads(sample_rate):
        b = [x / a[0] for x in b]
        a = [x / a[0] for x in a]
        x1 = x2 = y1 = y2 = 0.0
        for n, x in enumerate(response):
            y = b[0] * x + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            response[n], x2, x1, y2, y1 = y, x1, x, y1, y
    return np.array(response)


FFT_BLOCK = 1 << 16  # samples per block of the overlap-add convolution: memory stays small


@functools.lru_cache(maxsize=2)
def _response_spectrum(fft_size: int, sample_rate: int) -> np.ndarray:
    return np.fft.rfft(k_weighting_response(sample_rate).astype(np.float32), fft_size)


def energy_profile(signal: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """K-weighted energy per 10 ms bin of a clip, including its filter tail."""
    taps = FILTER_TAIL
    fft_size = 1 << (FFT_BLOCK + taps - 2).bit_length()
    response = _response_spectrum(fft_size, sample_rate)
    filtered = np.zeros(signal.size + taps - 1, dtype=np.float64)
    for start in range(0, signal.size, FFT_BLOCK):  # overlap-add, block by block
        block = signal[start:start + FFT_BLOCK].astype(np.float32)
        out = np.fft.irfft(np.fft.rfft(block, fft_size) * response, fft_size)[: block.size + taps - 1]
        filtered[start:start + out.size] += out
    return np.add.reduceat(filtered**2, np.arange(0, filtered.size, PROFILE_BIN))


OVERSAMPLE_CHUNK = 1 << 16  # input samples per step: a long clip's 4x copy never sits in memory


def sample_peaks(signal: np.ndarray) -> np.ndarray:
    """For each sample, the largest |value| among its 4x oversampled points.

    libsoxr (several times faster than scipy's resample_poly) runs as a stream
    over chunks, so memory stays small however long the clip is.
    """
    import soxr

    stream = soxr.ResampleStream(SAMPLE_RATE, SAMPLE_RATE * TRUE_PEAK_OVERSAMPLING, 1,
                                 dtype="float32", quality="HQ")
    peaks = np.zeros(signal.size, dtype=np.float32)
    carry, filled = np.zeros(0, dtype=np.float32), 0
    for start in range(0, max(signal.size, 1), OVERSAMPLE_CHUNK):
        chunk = signal[start:start + OVERSAMPLE_CHUNK].astype(np.float32)
        out = np.concatenate([carry, np.abs(stream.resample_chunk(
            chunk, last=start + OVERSAMPLE_CHUNK >= signal.size))])
        whole = min(out.size // TRUE_PEAK_OVERSAMPLING, signal.size - filled)
        if whole:  # the max of each group of 4, by strided views (numpy is slow along tiny axes)
            groups = [out[phase: whole * TRUE_PEAK_OVERSAMPLING: TRUE_PEAK_OVERSAMPLING]
                      for phase in range(TRUE_PEAK_OVERSAMPLING)]
            peaks[filled:filled + whole] = np.maximum.reduce(groups)
        carry, filled = out[whole * TRUE_PEAK_OVERSAMPLING:], filled + whole
    if carry.size and filled < signal.size:
        peaks[filled] = carry.max()
    return peaks


def true_peak(signal: np.ndarray) -> float:
    """BS.1770 true peak estimate: the sample peak of a 4x oversampled copy."""
    if signal.size == 0:
        return 0.0
    return float(sample_peaks(signal).max())


def _window_minimum(values: np.ndarray, radius: int) -> np.ndarray:
    """For each sample, a minimum over a window that covers at least ``radius``
    samples on both sides: minima of blocks of ``radius`` samples, then of
    each block and its two neighbours (numpy only; scipy.ndimage would cost
    every worker 24 MB)."""
    count = -(-values.size // radius)
    padded = np.pad(values, (0, count * radius - values.size), mode="edge")
    blocks = padded.reshape(count, radius).min(axis=1)
    around = np.minimum(blocks, np.minimum(np.r_[blocks[:1], blocks[:-1]], np.r_[blocks[1:], blocks[-1:]]))
    return np.repeat(around, radius)[: values.size]


def _moving_average(values: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(values, radius, mode="edge")
    sums = np.concatenate([[0.0], np.cumsum(padded, dtype=np.float64)])
    width = 2 * radius + 1
    return ((sums[width:] - sums[:-width]) / width).astype(values.dtype)


def limit_peaks(signal: np.ndarray, ceiling: float) -> np.ndarray:
    """A look-ahead limiter: keep the true peak of ``signal`` under ``ceiling``.

    The gain needed at each sample is spread over a window on both sides (a
    minimum, then a moving average no wider than that minimum's window, which
    can only lower it further), so the gain changes over ~20 ms and never
    too late.
    """
    peaks = sample_peaks(signal)
    needed = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(peaks, np.float32(1e-12)))
    if needed.min() >= 1.0:
        return signal
    gain = _moving_average(_window_minimum(needed, LIMITER_WINDOW), LIMITER_WINDOW)
    return (signal * gain).astype(signal.dtype)


FIXED_LEVEL = -1  # the owner of energy no per-clip gain moves (a music bed: beds.py)


class LoudnessMap:
    """Energy of a program, per 100 ms sub-block and per clip ("owner"; FIXED_LEVEL for a music bed)."""

    def __init__(self) -> None:
        # Packed, not an array per clip: a book adds thousands, each with ~100 bytes of
        # numpy overhead to a few hundred of data, and the map lives until the book is written.
        self._runs = array("q")  # owner, first sub-block, sub-blocks: three values per add()
        self._energies = array("d")  # the runs' sub-blocks' energies, one after another
        self._end = 0

    def add(self, owner: int, start: int, profile: np.ndarray) -> None:
        """Place clip ``owner``'s energy profile at sample ``start``.

        Kept per 100 ms sub-block, not per 10 ms bin: a book's program is
        millions of bins. A profile's bins (10 ms) fill every sub-block they
        span, so one run of consecutive sub-blocks holds it.
        """
        bins = np.asarray(profile, dtype=np.float64)
        if bins.size == 0:
            return
        subblocks = (start + np.arange(bins.size) * PROFILE_BIN) // SUBBLOCK
        firsts = np.flatnonzero(np.r_[True, subblocks[1:] != subblocks[:-1]])
        self._runs.extend((owner, int(subblocks[0]), int(firsts.size)))
        self._energies.frombytes(np.add.reduceat(bins, firsts).tobytes())

    def extend_to(self, total: int) -> None:
        """The program's length: trailing silence still makes (quiet) blocks."""
        self._end = max(self._end, total)

    def integrated(self, gains) -> float:
        """Gated integrated loudness (LUFS, dual mono) with per-owner linear gains
        (``gains[owner]``; FIXED_LEVEL's energy is taken as it is)."""
        if not self._energies:
            return float("-inf")
        owners, firsts, lengths = np.frombuffer(self._runs, dtype=np.int64).reshape(-1, 3).T
        run_starts = np.cumsum(lengths) - lengths  # where each run's energies begin
        subblocks = np.repeat(firsts - run_starts, lengths) + np.arange(len(self._energies))
        gain_of_owner = np.append(np.asarray(gains, dtype=np.float64), 1.0)  # [FIXED_LEVEL] is the last: 1.0
        energy = np.frombuffer(self._energies, dtype=np.float64) * gain_of_owner[np.repeat(owners, lengths)] ** 2
        whole = max(self._end // SUBBLOCK, int(subblocks.max()) + 1, BLOCK_SUBBLOCKS)
        per_subblock = np.bincount(subblocks, weights=energy, minlength=whole)
        window = np.convolve(per_subblock, np.ones(BLOCK_SUBBLOCKS), mode="valid")
        mean_square = window / (BLOCK_SUBBLOCKS * SUBBLOCK)
        block_lufs = lufs(mean_square)
        above_absolute = mean_square[block_lufs > ABSOLUTE_GATE]
        if above_absolute.size == 0:
            return float("-inf")
        relative_gate = lufs(above_absolute.mean()) + RELATIVE_GATE
        gated = mean_square[(block_lufs > ABSOLUTE_GATE) & (block_lufs > relative_gate)]
        return float(lufs(gated.mean()))


def clip_loudness(profile: np.ndarray) -> float:
    """Gated loudness of one clip on its own (dual mono LUFS)."""
    meter = LoudnessMap()
    meter.add(0, 0, profile)
    return meter.integrated([1.0])
