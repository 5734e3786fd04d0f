"""Files as writers have them, through the real CLI: odd encodings, hostile front
matter, drafts and social-card images. Each either becomes a valid episode or
stops the build with one line and exit status 2, quickly, and never touches
the episode an earlier build made.
"""
from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from PIL import Image

from conftest import parse_vtt, run_cli, tools_missing
from test_frontmatter import billion_laughs

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(tools_missing() is not None, reason=f"{tools_missing()}")]

TEXT = "The harbour was quiet that morning. The boats sat low in the water, and nobody minded."
WINDOWS_TEXT = "Caf\u00e9 society met on Tuesdays. It was \u201cquiet\u201d, they said, and it was."


def digests(show: Path) -> dict[str, str]:
    return {str(p.relative_to(show)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(show.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """A show with one good episode in it, built before every bad input."""
    root = tmp_path_factory.mktemp("earlier")
    (root / "harbour.md").write_text(TEXT, encoding="utf-8")
    result = run_cli("build", root / "harbour.md", "--show", root / "show", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "show"


# name -> (file name, bytes, what the one line says)
REFUSED = {
    "billion laughs": ("laughs.md", f"---\n{billion_laughs()}---\n{TEXT}\n".encode(), "expands to more than"),
    "windows-1252 without --encoding": ("notes.txt", WINDOWS_TEXT.encode("cp1252"), "--encoding cp1252"),
    "a draft": ("draft.md", f"---\ntitle: Soon\ndraft: true\n---\n{TEXT}\n".encode(), "--drafts"),
    "binary": ("photo.md", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    "a feed with no posts": ("empty.rss", b'<rss version="2.0"><channel><title>x</title></channel></rss>',
                             "no posts"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_bad_input_is_one_line_and_exit_2_and_the_earlier_episode_is_untouched(earlier, tmp_path, name):
    file_name, data, expected = REFUSED[name]
    essay = tmp_path / file_name
    essay.write_bytes(data)
    before = digests(earlier)
    started = time.monotonic()
    result = run_cli("build", essay, "--show", earlier, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert digests(earlier) == before
    if name == "billion laughs":
        assert elapsed < 2 + 3, elapsed  # refused in under 2 s, plus the CLI's own start-up on a loaded machine


# name -> (file name, bytes, extra flags)
ACCEPTED = {
    "utf-16 from Notepad": ("notepad.txt", "\ufeff".encode("utf-16-le") + WINDOWS_TEXT.encode("utf-16-le"), ()),
    "utf-32 big-endian": ("wide.txt", "\ufeff".encode("utf-32-be") + WINDOWS_TEXT.encode("utf-32-be"), ()),
    "windows-1252 with --encoding": ("notes.txt", WINDOWS_TEXT.encode("cp1252"), ("--encoding", "cp1252")),
    "a draft with --drafts": ("draft.md", f"---\ntitle: Soon\ndraft: true\n---\n{TEXT}\n".encode(), ("--drafts",)),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_odd_but_good_input_becomes_an_episode(tmp_path, name):
    file_name, data, flags = ACCEPTED[name]
    essay = tmp_path / file_name
    essay.write_bytes(data)
    result = run_cli("build", essay, "--show", tmp_path / "show", *flags, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    vtt = (tmp_path / "show" / "episodes" / f"{essay.stem}.vtt").read_text(encoding="utf-8")
    said = " ".join(cue.text for cue in parse_vtt(vtt))  # without the word timestamp tags
    assert ("Caf\u00e9 society" in said) or ("harbour" in said)


def test_a_social_card_in_front_matter_becomes_a_square_cover_with_one_warning(tmp_path):
    Image.new("RGB", (1200, 630), (200, 60, 40)).save(tmp_path / "card.png")
    essay = tmp_path / "post.md"
    essay.write_text(f"---\ntitle: Cards\nimage: card.png\n---\n{TEXT}\n", encoding="utf-8")
    result = run_cli("build", essay, "--show", tmp_path / "show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "1200x630" in warnings[0], result.stderr
    [picture] = ID3(tmp_path / "show" / "episodes" / "post.mp3").getall("APIC")
    cover = Image.open(io.BytesIO(picture.data))
    assert cover.format == "JPEG" and cover.mode == "RGB"
    assert cover.width == cover.height and 1400 <= cover.width <= 3000


def test_a_front_matter_image_that_is_not_there_gives_a_title_card_and_one_warning(tmp_path):
    essay = tmp_path / "post.md"
    essay.write_text(f"---\ntitle: Cards\nimages: [images/card-1.png]\n---\n{TEXT}\n", encoding="utf-8")
    result = run_cli("build", essay, "--show", tmp_path / "show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "card-1.png" in warnings[0] and "not found" in warnings[0], result.stderr
    assert ID3(tmp_path / "show" / "episodes" / "post.mp3").getall("APIC")
