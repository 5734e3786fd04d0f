"""Cover art read back with Pillow: square RGB JPEG, 1400-3000 px, or a clear ConfigError."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from audiobook.audio.cover import fit_cover, generate_cover, load_cover
from audiobook.errors import ConfigError


def open_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_podcast_cover(data: bytes, side: int | None = None) -> Image.Image:
    image = open_jpeg(data)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert image.width == image.height
    assert 1400 <= image.width <= 3000
    if side is not None:
        assert image.width == side
    assert "exif" not in image.info
    return image


@pytest.mark.parametrize("title, author, size", [
    ("The Tipping Point", "Ada Lovelace", 1400),
    ("Short", "A", 3000),
    ("word " * 60, "An Author With A Remarkably Long Name " * 4, 1400),  # 300 characters
    ("x" * 300, "", 2048),  # one unbreakable word
    ("שלום עולם: on reading right to left", "דוד בן גוריון", 1400),
    ("Podcasts 🎧 and rockets 🚀", "👩‍🚀", 1400),
    ("", "", 1400),
])
def test_generate_cover_is_a_podcast_cover(title, author, size):
    assert_podcast_cover(generate_cover(title, author, size), side=size)


def test_generate_cover_is_deterministic_and_differs_by_title():
    first = generate_cover("On Quiet Cities", "Jane Jacobs")
    assert generate_cover("On Quiet Cities", "Jane Jacobs") == first
    assert generate_cover("On Loud Cities", "Jane Jacobs") != first


def test_generate_cover_colours_are_not_garish():
    image = open_jpeg(generate_cover("Any title at all", "Someone"))
    corner = image.convert("HSV").getpixel((5, 5))
    assert corner[1] < 200 and corner[2] < 200  # muted and darkish behind white text


@pytest.mark.parametrize("size", [1399, 3001])
def test_generate_cover_rejects_sizes_apps_refuse(size):
    with pytest.raises(ConfigError, match="1400-3000"):
        generate_cover("Title", "Author", size)


def write_image(path, size, mode="RGB", colour=(200, 30, 30), fmt=None):
    Image.new(mode, size, colour).save(path, fmt)
    return path


def test_load_cover_flattens_alpha_and_crops_to_square(tmp_path):
    path = tmp_path / "art.png"
    image = Image.new("RGBA", (1600, 2000), (0, 0, 0, 0))  # transparent ...
    image.paste((20, 40, 200, 255), (0, 900, 1600, 1100))  # ... with an opaque band across the middle
    image.save(path)
    cover = assert_podcast_cover(load_cover(path), side=1600)
    assert cover.getpixel((800, 10))[0] > 245  # transparency became white, not black
    centre = cover.getpixel((800, 800))
    assert centre[2] > 180 and centre[0] < 60  # centre crop keeps the middle band


def test_load_cover_downscales_to_3000(tmp_path):
    path = write_image(tmp_path / "big.jpg", (4000, 3200))
    assert_podcast_cover(load_cover(path), side=3000)


def test_load_cover_accepts_palette_and_grey(tmp_path):
    for mode, colour in [("P", 5), ("L", 128), ("CMYK", (0, 0, 0, 0))]:
        path = write_image(tmp_path / f"art-{mode}.{'png' if mode != 'CMYK' else 'jpg'}", (1500, 1500), mode, colour)
        assert_podcast_cover(load_cover(path), side=1500)


def truncated_jpeg(path):
    buffer = io.BytesIO()
    Image.effect_noise((1600, 1600), 64).convert("RGB").save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])


def text_renamed_jpeg(path):
    path.write_text("this is not a picture\n")


def small_png(path):
    write_image(path, (500, 500), fmt="PNG")


def thin_jpeg(path):
    write_image(path, (3000, 1399), fmt="JPEG")


@pytest.mark.parametrize("make, expected", [
    (truncated_jpeg, "cannot be read"),
    (text_renamed_jpeg, "cannot be read"),
    (small_png, "500x500"),
    (thin_jpeg, "3000x1399"),
    (None, "not found"),
])
def test_load_cover_rejects_unusable_images(tmp_path, make, expected):
    path = tmp_path / "cover.jpg"
    if make:
        make(path)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_cover(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message


# a front matter image as blogs have them -> the side of the square cover made from it
@pytest.mark.parametrize("size, side", [
    ((1200, 630), 1400),  # the usual social card
    ((800, 800), 1400),  # a small square
    ((2400, 1260), 2400),  # a large card keeps its detail
    ((5000, 1000), 3000),  # a banner
    ((630, 1200), 1400),  # portrait
])
def test_fit_cover_makes_a_web_image_a_square_cover_and_says_so(tmp_path, size, side):
    path = tmp_path / "card.png"
    image = Image.new("RGB", size, (240, 240, 240))
    image.paste((200, 20, 20), (0, 0, 10, size[1]))  # a red band down the left edge ...
    image.paste((20, 20, 200), (size[0] - 10, 0, size[0], size[1]))  # ... and a blue one down the right
    image.save(path)
    cover, warning = fit_cover(path)
    square = assert_podcast_cover(cover, side=side)
    scale = min(side / size[0], side / size[1])
    middle = side // 2
    left = (side - round(size[0] * scale)) // 2
    right = left + round(size[0] * scale) - 1
    assert square.getpixel((left + 1, middle))[0] > 150  # nothing cropped: both edges are in the cover
    assert square.getpixel((right - 1, middle))[2] > 150
    assert f"{size[0]}x{size[1]}" in warning and str(path) in warning and "\n" not in warning


def test_fit_cover_leaves_a_podcast_square_alone(tmp_path):
    path = write_image(tmp_path / "art.jpg", (1600, 1600))
    assert fit_cover(path) == (load_cover(path), None)


def test_fit_cover_still_refuses_what_it_cannot_read(tmp_path):
    path = tmp_path / "cover.jpg"
    text_renamed_jpeg(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        fit_cover(path)
