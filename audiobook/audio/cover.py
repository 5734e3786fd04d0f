"""Cover art: a generated title card, or the user's own image made podcast-ready.

Apple Podcasts and most apps want a square RGB JPEG or PNG of 1400-3000 px;
every function here returns exactly that, as JPEG bytes ready for APIC and
for the show directory's cover.jpg.

Art the user gives for the podcast (``--cover``, ``AUDIOBOOK_COVER``,
podcast.toml) must be at least 1400 px on its short side: a smaller one is
refused, since they chose it for this. An essay's front matter image was made
for the web, most often a 1200x630 social card, so ``fit_cover`` makes a
square cover of it, the whole picture on a blurred fill of itself, and says so.
"""
from __future__ import annotations

import colorsys
import hashlib
import io
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from audiobook.errors import ConfigError
from audiobook.settings.checks import ELLIPSIS, MAX_ART_SIDE, MIN_ART_SIDE

JPEG_QUALITY = 90
LABEL = "AUDIO EDITION"
# How soft the fill behind a fitted picture is, as a share of the cover's side.
FILL_BLUR = 0.03


def generate_cover(title: str, author: str, size: int = 1400) -> bytes:
    """Draw a title card whose colours come from the title, so each essay gets its own look.

    Same title and author give the same bytes: nothing random, no timestamps.
    """
    if not MIN_ART_SIDE <= size <= MAX_ART_SIDE:
        raise ConfigError(f"cover size {size} px is out of range: use {MIN_ART_SIDE}-{MAX_ART_SIDE}")
    palette = _palette(title)
    image = _gradient(size, palette["top"], palette["bottom"])
    draw = ImageDraw.Draw(image)

    margin = round(size * 0.09)
    width = size - 2 * margin

    label_font = ImageFont.load_default(size=round(size * 0.028))
    _draw_tracked(draw, (margin, margin), LABEL, label_font, palette["accent"])
    rule_y = margin + round(size * 0.055)
    draw.rectangle((margin, rule_y, margin + round(size * 0.08), rule_y + max(2, size // 350)),
                   fill=palette["accent"])

    waveform_top = size - margin - round(size * 0.07)
    _draw_waveform(draw, title, (margin, waveform_top, size - margin, size - margin), palette["accent"])

    author_font = ImageFont.load_default(size=round(size * 0.042))
    author_line = _fit_line(author.strip(), author_font, width)
    author_y = waveform_top - round(size * 0.06) - _line_height(author_font)
    draw.text((margin, author_y), author_line, font=author_font, fill=palette["soft_text"])

    title_top = rule_y + round(size * 0.08)
    title_bottom = author_y - round(size * 0.05)
    font, lines = _fit_title(title.strip() or "Untitled", width, title_bottom - title_top,
                             largest=round(size * 0.11), smallest=round(size * 0.045))
    step = round(_line_height(font) * 1.12)
    y = title_bottom - step * len(lines)  # titles sit low, close to the author, like a book jacket
    for line in lines:
        draw.text((margin, y), line, font=font, fill=palette["text"])
        y += step
    return _jpeg_bytes(image)


def load_cover(path: Path) -> bytes:
    """Turn the user's image into a square RGB JPEG, or say clearly why it cannot be used."""
    image = _open(path)
    short_side = min(image.size)
    if short_side < MIN_ART_SIDE:
        raise ConfigError(f"cover image {path} is {image.width}x{image.height} px: podcast apps need at "
                          f"least {MIN_ART_SIDE} px on the short side, use a larger image")
    square = ImageOps.fit(image, (short_side, short_side), method=Image.Resampling.LANCZOS)
    if short_side > MAX_ART_SIDE:
        square = square.resize((MAX_ART_SIDE, MAX_ART_SIDE), Image.Resampling.LANCZOS)
    return _jpeg_bytes(square)


def fit_cover(path: Path) -> tuple[bytes, str | None]:
    """An essay's own image as a square cover, and a warning when it had to be made square or larger.

    Nothing is cropped: a social card's text would lose its ends. The whole
    picture sits in the middle of a square filled with a blurred, enlarged
    copy of itself, as video apps show a portrait clip."""
    image = _open(path)
    if image.width == image.height and image.width >= MIN_ART_SIDE:
        return load_cover(path), None
    side = min(max(*image.size, MIN_ART_SIDE), MAX_ART_SIDE)
    fill = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
    square = fill.filter(ImageFilter.GaussianBlur(side * FILL_BLUR))
    picture = ImageOps.contain(image, (side, side), method=Image.Resampling.LANCZOS)
    square.paste(picture, ((side - picture.width) // 2, (side - picture.height) // 2))
    return _jpeg_bytes(square), (f"cover image {path} is {image.width}x{image.height} px, not a square of "
                                 f"{MIN_ART_SIDE}-{MAX_ART_SIDE} px: the episode has a {side} px square made "
                                 f"from it; give a square image for a sharper cover")


def _open(path: Path) -> Image.Image:
    """The image at path, decoded, upright and flattened to RGB, or a ConfigError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"cover image {path} not found: check the image path, or remove it to get a generated cover")
    try:
        with Image.open(path) as opened:
            opened.load()  # decode now: a truncated file only fails when pixels are read
            return _flatten(ImageOps.exif_transpose(opened))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ConfigError(f"cover image {path} cannot be read ({exc}): save it again as a JPEG or PNG") from exc


def podcast_jpeg(path: Path) -> bytes:
    """Art that passed ``settings.checks.art`` as it goes into the show: a JPEG within Apple's size range, untouched when it already is one."""
    with Image.open(path) as image:
        if image.format == "JPEG" and image.mode == "RGB" and image.width <= MAX_ART_SIDE:
            return Path(path).read_bytes()
    return load_cover(path)


def scaled_copy(jpeg: bytes, side: int) -> bytes:
    """A smaller square copy of cover art, for apps that list many shows at once."""
    with Image.open(io.BytesIO(jpeg)) as image:
        return _jpeg_bytes(image.convert("RGB").resize((side, side), Image.Resampling.LANCZOS))


def jpeg_side(jpeg: bytes) -> int:
    """The width of square art, read from its header."""
    with Image.open(io.BytesIO(jpeg)) as image:
        return image.width


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no alpha, and a transparent cover turns black in some apps."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg_bytes(image: Image.Image) -> bytes:
    """No EXIF, fixed settings: identical pixels always give identical bytes.

    4:4:4 chroma keeps the edges of coloured text crisp.
    """
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, subsampling=0)
    return buffer.getvalue()


def _palette(title: str) -> dict[str, tuple[int, int, int]]:
    """Muted, dark colours from a stable hash of the title (Python's hash() changes per run).

    Low saturation and lightness keep every hue calm and let white text read well.
    """
    digest = hashlib.sha256(title.encode("utf-8")).digest()
    hue = digest[0] / 256
    shift = (digest[1] / 256 - 0.5) * 0.12  # the gradient drifts a little around the hue

    def rgb(h: float, lightness: float, saturation: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hls_to_rgb(h % 1.0, lightness, saturation)
        return round(r * 255), round(g * 255), round(b * 255)

    return {
        "top": rgb(hue, 0.30, 0.42),
        "bottom": rgb(hue + shift, 0.15, 0.48),
        "accent": rgb(hue + 0.08, 0.72, 0.55),
        "text": (250, 248, 242),
        "soft_text": rgb(hue, 0.86, 0.25),
    }


def _gradient(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    """A vertical gradient, built as one column and stretched: fast at 3000 px."""
    column = Image.new("RGB", (1, size))
    column.putdata([
        tuple(round(a + (b - a) * y / (size - 1)) for a, b in zip(top, bottom))
        for y in range(size)
    ])
    return column.resize((size, size), Image.Resampling.NEAREST)


def _draw_waveform(draw: ImageDraw.ImageDraw, title: str, box: tuple[int, int, int, int],
                   colour: tuple[int, int, int]) -> None:
    """A row of level bars, swelling in the middle, shaped by the title's hash: says 'audio' without words."""
    left, top, right, bottom = box
    heights = hashlib.sha256(b"bars:" + title.encode("utf-8")).digest()
    bars = 32
    pitch = (right - left) / bars
    bar_width = max(2, round(pitch * 0.45))
    middle, half = (top + bottom) / 2, (bottom - top) / 2
    for i in range(bars):
        swell = math.sin(math.pi * (i + 0.5) / bars)
        level = 0.12 + 0.88 * swell * (0.35 + 0.65 * heights[i] / 255)
        x = round(left + i * pitch)
        draw.rounded_rectangle((x, round(middle - half * level), x + bar_width, round(middle + half * level)),
                               radius=bar_width // 2, fill=colour)


def _fit_title(title: str, width: int, height: int, largest: int,
               smallest: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font at which the wrapped title fits the box; below the smallest, cut with an ellipsis."""
    for size in range(largest, smallest - 1, -2):
        font = ImageFont.load_default(size=size)
        lines = _wrap(title, font, width)
        if len(lines) * round(_line_height(font) * 1.12) <= height:
            return font, lines
    font = ImageFont.load_default(size=smallest)
    room = max(1, height // round(_line_height(font) * 1.12))
    lines = _wrap(title, font, width)
    if len(lines) > room:
        lines = lines[:room]
        lines[-1] = _ellipsize(lines[-1], font, width)
    return font, lines


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap by measured width; a word too long for a line is broken by characters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width:
            cut = _longest_prefix(word, font, width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _longest_prefix(text: str, font: ImageFont.FreeTypeFont, width: int) -> int:
    """How many leading characters of text fit in width (at least one, so wrapping always advances).

    Binary search: a 300-character word would otherwise be measured hundreds of times per font size.
    """
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(text[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _fit_line(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """The text as is when it fits in width, otherwise cut short with an ellipsis."""
    return text if font.getlength(text) <= width else _ellipsize(text, font, width)


def _ellipsize(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """Text ending in an ellipsis that fits in width: the reader sees something was cut."""
    while text and font.getlength(text.rstrip() + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return ascent + descent


def _draw_tracked(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str,
                  font: ImageFont.FreeTypeFont, fill: tuple[int, int, int]) -> None:
    """Letter-spaced text, the usual look of a small label; Pillow has no tracking option."""
    x, y = xy
    tracking = font.size * 0.25
    for char in text:
        draw.text((x, y), char, font=font, fill=fill)
        x += font.getlength(char) + tracking
