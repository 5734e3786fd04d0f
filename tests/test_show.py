"""Show settings: `init_show` writes a commented podcast.toml that tomllib reads back;
`read_show_file` reads it (or defaults), and every bad setting is one ConfigError with nothing written."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PIL import Image

from audiobook.errors import ConfigError
from audiobook.models import Metadata
from audiobook.settings import read_layers, read_show_file
from audiobook.settings.checks import APPLE_CATEGORIES
from audiobook.settings.checks import category as check_category
from audiobook.show.init import init_show


def load_show(directory: Path, base_url: str | None = None):
    return read_show_file(directory).show.served_at(base_url)

TRICKY = 'Tom & Jerry <live> "quoted" \U0001F399\ufe0f \u05e2\u05d1\u05e8\u05d9\u05ea \\ back\tslash'


def image(path: Path, size=(1400, 1400), mode="RGB", fmt="JPEG") -> Path:
    Image.new(mode, size, "white" if mode != "CMYK" else (0, 0, 0, 0)).save(path, fmt)
    return path


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


GOOD = dict(title="Listening Notes", author="Maren Okafor", email="maren@example.org",
            base_url="https://example.org/podcast", category="Arts > Books", language="en-GB")


def test_init_writes_commented_toml_that_reads_back(tmp_path):
    show = tmp_path / "show"
    path = init_show(show, **GOOD)
    assert path == show / "podcast.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count("\n#") > 10  # commented: every key says what it is for
    data = tomllib.loads(text)
    expected = dict(GOOD, base_url="https://example.org/podcast/")
    assert {k: data["show"][k] for k in expected} == expected
    assert data["show"]["explicit"] is False and data["show"]["type"] == "episodic"
    assert data["show"]["description"]
    assert "build" in data and data["build"] == {}  # engine, voice, rate only as comments
    assert "# engine = " in text and "# voice = " in text and "# rate = " in text
    assert files(show) == ["podcast.toml"]


def test_init_round_trips_any_text(tmp_path):
    init_show(tmp_path, title=TRICKY, author="\u05d3\u05df \u05db\u05d4\u05df", email="a@example.com")
    data = tomllib.loads((tmp_path / "podcast.toml").read_text(encoding="utf-8"))
    assert data["show"]["title"] == TRICKY
    assert load_show(tmp_path).title == TRICKY


def test_init_defaults(tmp_path):
    show = tmp_path / "my-essays"
    init_show(show, email="me@example.com")
    settings = load_show(show)
    assert settings.email == "me@example.com"
    assert settings.category == "Society & Culture" and settings.language == "en"
    assert settings.explicit is False and settings.base_url is None and settings.cover is None
    assert settings.title and settings.author and settings.description
    assert (settings.locked, settings.medium, settings.block) == (True, "podcast", False)
    assert settings.license is None and settings.funding_url is None and settings.txt == ()


def test_the_podcasting_settings_in_the_template_read_back_when_uncommented(tmp_path):
    """Every Podcasting 2.0 key init writes as a comment is a working example."""
    path = init_show(tmp_path, email="me@example.com")
    text = path.read_text(encoding="utf-8")
    for key in ("license", "license_url", "funding_url", "funding_text", "txt", "new_feed_url"):
        assert f"\n# {key} = " in text, key
        text = text.replace(f"\n# {key} = ", f"\n{key} = ")
    path.write_text(text, encoding="utf-8")
    settings = load_show(tmp_path)
    assert (settings.license, settings.license_url) == ("CC-BY-4.0", "https://example.com/license.html")
    assert (settings.funding_url, settings.funding_text) == ("https://example.com/support", "Support the show")
    assert settings.txt == (("applepodcastsverify", "05124"),)
    assert settings.new_feed_url == "https://example.org/show/feed.xml"


@pytest.mark.parametrize("identifier,url", [
    ("CC-BY-NC-ND-4.0", "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
    ("cc-by-sa-3.0", "https://creativecommons.org/licenses/by-sa/3.0/"),
    ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
])
def test_a_creative_commons_licence_needs_no_url(tmp_path, identifier, url):
    (tmp_path / "podcast.toml").write_text(f'[show]\nlicense = "{identifier}"\n', encoding="utf-8")
    assert load_show(tmp_path).license_url == url


def test_init_refuses_to_overwrite_without_force(tmp_path):
    path = init_show(tmp_path, **GOOD)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="already exists.*--force"):
        init_show(tmp_path, **dict(GOOD, title="Another"))
    assert path.read_bytes() == before
    init_show(tmp_path, **dict(GOOD, title="Another"), force=True)
    assert load_show(tmp_path).title == "Another"


def test_init_copies_cover(tmp_path):
    art = image(tmp_path / "art.png", (1600, 1600), fmt="PNG")
    show = tmp_path / "show"
    init_show(show, cover=art, **GOOD)
    with Image.open(show / "cover.jpg") as copied:
        assert (copied.format, copied.mode, copied.size) == ("JPEG", "RGB", (1600, 1600))
    assert tomllib.loads((show / "podcast.toml").read_text())["show"]["cover"] == "cover.jpg"
    assert load_show(show).cover == show / "cover.jpg"
    jpeg = image(tmp_path / "art.jpg", (2000, 2000))
    init_show(show, cover=jpeg, force=True, **GOOD)
    assert (show / "cover.jpg").read_bytes() == jpeg.read_bytes()  # a good JPEG is copied as is


BAD_SETTINGS = [
    # (what, init_show keyword arguments over GOOD, words the message must hold)
    ("missing email", dict(email=None), "email"),
    ("blank email", dict(email="  "), "email"),
    ("invalid email", dict(email="not-an-address"), "email"),
    ("unknown category", dict(category="Cooking"), "not an Apple Podcasts category"),
    ("unknown subcategory", dict(category="Arts > Pottery"), "not a subcategory"),
    ("too deep category", dict(category="Arts > Books > Novels"), "Main > Sub"),
    ("base URL without scheme", dict(base_url="example.com/show"), "http"),
    ("base URL with other scheme", dict(base_url="ftp://example.com/show"), "http"),
    ("bad language", dict(language="English!"), "language"),
    ("art too small", dict(cover=("small.jpg", (1000, 1000), "RGB", "JPEG")), "at least 1400"),
    ("art not square", dict(cover=("wide.jpg", (2000, 1400), "RGB", "JPEG")), "square"),
    ("art in CMYK", dict(cover=("cmyk.jpg", (1400, 1400), "CMYK", "JPEG")), "RGB"),
    ("art with alpha", dict(cover=("alpha.png", (1400, 1400), "RGBA", "PNG")), "RGB"),
    ("art as GIF", dict(cover=("art.gif", (1400, 1400), "P", "GIF")), "JPEG or PNG"),
    ("art missing", dict(cover="nowhere.jpg"), "not found"),
]


@pytest.mark.parametrize("what,override,message", BAD_SETTINGS, ids=[case[0] for case in BAD_SETTINGS])
def test_init_bad_setting_is_one_line_and_writes_nothing(tmp_path, what, override, message):
    kwargs = dict(GOOD, **override)
    if isinstance(kwargs.get("cover"), tuple):
        name, size, mode, fmt = kwargs["cover"]
        kwargs["cover"] = image(tmp_path / name, size, mode, fmt)
    elif kwargs.get("cover"):
        kwargs["cover"] = tmp_path / kwargs["cover"]
    show = tmp_path / "show"
    with pytest.raises(ConfigError, match=message) as caught:
        init_show(show, **kwargs)
    assert "\n" not in str(caught.value)
    assert not show.exists()


def test_every_apple_category_is_accepted():
    for main, subs in APPLE_CATEGORIES.items():
        assert check_category(main) == main
        assert check_category(main.upper()) == main
        for sub in subs:
            assert check_category(f"{main.lower()}>{sub.lower()}") == f"{main} > {sub}"


def test_load_show_without_toml_gives_defaults(tmp_path):
    settings = load_show(tmp_path / "field-notes")
    assert settings.title == "Field notes"
    assert settings.email is None and settings.base_url is None
    with pytest.raises(ConfigError, match="email"):
        settings.require_email()
    with pytest.raises(ConfigError, match="--base-url"):
        settings.require_base_url()


def test_load_show_base_url_flag_wins(tmp_path):
    init_show(tmp_path, **GOOD)
    assert load_show(tmp_path).base_url == "https://example.org/podcast/"
    assert load_show(tmp_path, base_url="http://localhost:8000").base_url == "http://localhost:8000/"
    assert load_show(tmp_path, base_url="http://localhost:8000").feed_url == "http://localhost:8000/feed.xml"
    with pytest.raises(ConfigError, match="--base-url"):
        load_show(tmp_path, base_url="localhost:8000")


BAD_TOML = [
    ('email = "nobody"', "email"),
    ('category = "Cooking"', "category"),
    ('base_url = "example.com"', "base_url"),
    ('explicit = "yes"', "true or false"),
    ('type = "weekly"', "episodic"),
    ("title = 3", "string"),
    ('cover = "missing.jpg"', "not found"),
    ('title = "unterminated', "not valid TOML"),
    ('medium = "music"', "must be one of podcast, audiobook"),
    ('license = "MIT"', "not a Creative Commons identifier .* set license_url"),
    ('txt = "verify me"', "must be a table of purpose"),
    ('funding_text = "' + "x" * 129 + '"', "129 characters; the Podcasting 2.0 namespace allows 128"),
    ('funding_url = "example.com/support"', "is not an http"),
    ("locked = 1", "true or false"),
]


@pytest.mark.parametrize("line,message", BAD_TOML)
def test_load_show_rejects_bad_values(tmp_path, line, message):
    (tmp_path / "podcast.toml").write_text(f"[show]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_show(tmp_path)
    assert "\n" not in str(caught.value)


def test_load_show_checks_configured_art(tmp_path):
    image(tmp_path / "art.jpg", (1400, 1200))
    (tmp_path / "podcast.toml").write_text('[show]\ncover = "art.jpg"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="square"):
        load_show(tmp_path)


def test_config_reads_the_written_toml(tmp_path):
    """The [show] table init writes is the one the settings layer under front matter and flags."""
    init_show(tmp_path, **GOOD)
    settings = read_layers(tmp_path, {"title": "Flag Title"}, environ={}).resolve(
        tmp_path / "essay.md", Metadata(author="Essay Author"))
    assert settings.album == GOOD["title"]
    assert settings.language == "en-GB"
    assert settings.author == "Essay Author"  # front matter beats podcast.toml
    assert settings.title == "Flag Title"  # flags beat everything
    assert settings.source("album").endswith("podcast.toml [show] title")


WHOLE_FILE_MISTAKES = [
    # (podcast.toml, words the one-line message must hold)
    ('[show]\nemial = "a@example.com"\n', "[show]: unknown key 'emial'; did you mean 'email'?"),
    ('[bild]\nrate = 150\n', "unknown table [bild]; did you mean 'build'?"),
    ('show = "Essays"\n', "[show] must be a table"),
    ("[build]\nrate = 5000\n", "[build] rate: must be between 80 and 450, got 5000"),
    ('[build]\nexecutor = "cloud"\n', "[build] executor: must be one of local, dask, got 'cloud'"),
    ("[voices]\nquote = 7\n", "[voices] quote: must be a quoted string, got 7"),
]


@pytest.mark.parametrize("text,message", WHOLE_FILE_MISTAKES)
def test_the_whole_file_is_checked_when_it_is_read(tmp_path, text, message):
    """A typo is an error, not a setting silently ignored; [build] values are held to the
    same rules as flags and environment variables."""
    (tmp_path / "podcast.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_show_file(tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
