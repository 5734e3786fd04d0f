"""Front matter as each static-site generator writes it -> Metadata, and never in the spoken body.

One case per dialect, each a small block as its documentation or starter
site writes it, in a site tree of its own (authors files, images) under tmp_path.
"""
from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from audiobook.errors import InputError
from audiobook.models import Metadata
from audiobook.settings import checks
from audiobook.settings.layers import from_front_matter, read_layers
from audiobook.text.frontmatter import date_from_name, refuse_draft, split_front_matter
from audiobook.text.read import read_document

BODY = "The essay begins here, and only here.\n\nA second paragraph."
UTC = datetime.timezone.utc


def zone(hours: int) -> datetime.timezone:
    return datetime.timezone(datetime.timedelta(hours=hours))


@dataclass
class Case:
    essay: str  # path of the essay inside the site
    front: str  # the block before BODY (with its fences and the blank line after)
    expected: dict  # Metadata field -> value; "image" is relative to the site
    files: dict[str, str] = field(default_factory=dict)  # other files of the site: path -> text


DIALECTS = {
    "jekyll": Case(
        "_posts/2017-10-19-diversity-open-source.markdown",
        "---\nlayout: post\ntitle: \"Diversity in Open Source, and Jekyll's role in it\"\n"
        "date: 2017-10-19 21:33:00 +0200\nauthor: Olivia Example\ncategories: [community]\n"
        "image: /assets/img/card.png\nexcerpt: Open Source has a problem with diversity.\n---\n\n",
        {"title": "Diversity in Open Source, and Jekyll's role in it", "author": "Olivia Example",
         "date": datetime.datetime(2017, 10, 19, 21, 33, tzinfo=zone(2)), "tags": ["community"],
         "description": "Open Source has a problem with diversity.", "image": "assets/img/card.png"},
        {"assets/img/card.png": "png"}),
    "jekyll date from the name, unpublished": Case(
        "_posts/2016-03-04-on-walking.md",
        "---\ntitle: On walking\npublished: false\nauthor: \"[Jane Doe](https://jane.example)\"\n---\n\n",
        {"title": "On walking", "author": "Jane Doe", "date": datetime.date(2016, 3, 4), "draft": True}),
    "hugo yaml page bundle": Case(
        "content/posts/quiet-cities/index.md",
        "---\ntitle: Quiet Cities\ndate: 2023-05-01T10:00:00+02:00\nlastmod: 2024-02-02T00:00:00Z\n"
        "draft: true\ntags: [cities, noise]\nsummary: Why some streets are calm.\n"
        "cover:\n  image: cover.jpg\n  alt: A street\n---\n\n",
        {"title": "Quiet Cities", "date": datetime.datetime(2023, 5, 1, 10, tzinfo=zone(2)), "draft": True,
         "tags": ["cities", "noise"], "description": "Why some streets are calm.",
         "image": "content/posts/quiet-cities/cover.jpg"},
        {"content/posts/quiet-cities/cover.jpg": "jpg"}),
    "hugo toml": Case(
        "content/posts/toml.md",
        "+++\ntitle = \"Plus Plus Plus\"\ndate = 2021-03-04T05:06:07-05:00\ndescription = \"Never spoken.\"\n"
        "categories = [\"Writing\"]\nimages = [\"/images/card.png\"]\n\n[params]\nauthor = \"Hugo Writer\"\n+++\n\n",
        {"title": "Plus Plus Plus", "author": "Hugo Writer", "description": "Never spoken.",
         "date": datetime.datetime(2021, 3, 4, 5, 6, 7, tzinfo=zone(-5)), "tags": ["Writing"],
         "image": "static/images/card.png"},
        {"static/images/card.png": "png"}),
    "hugo json": Case(
        "content/posts/json.md",
        '{\n  "title": "Braces First",\n  "date": "2019-01-02",\n  "authors": ["Ada Lovelace", "Alan Turing"],\n'
        '  "tags": ["json"],\n  "draft": false\n}\n\n',
        {"title": "Braces First", "author": "Ada Lovelace and Alan Turing", "date": datetime.date(2019, 1, 2),
         "tags": ["json"]}),
    "zola": Case(
        "content/blog/zola.md",
        "+++\ntitle = \"Zola Notes\"\ndate = 2022-01-02\ndescription = \"Taxonomies and extra.\"\n"
        "[taxonomies]\ntags = [\"rust\", \"ssg\"]\n[extra]\nauthor = \"Vincent Prouillet\"\n+++\n\n",
        {"title": "Zola Notes", "author": "Vincent Prouillet", "date": datetime.date(2022, 1, 2),
         "description": "Taxonomies and extra.", "tags": ["rust", "ssg"]}),
    "eleventy": Case(
        "posts/eleventy.md",
        "---\ntitle: Eleventy, 2024 in Review\ndate: 2025-01-08\ntags:\n  - posts\n  - review\n"
        "author:\n  name: Zach Leatherman\n  url: https://zachleat.com\n---\n\n",
        {"title": "Eleventy, 2024 in Review", "author": "Zach Leatherman", "date": datetime.date(2025, 1, 8),
         "tags": ["posts", "review"]}),
    "astro": Case(
        "src/content/blog/first-post.md",
        "---\ntitle: 'First post'\ndescription: 'Lorem ipsum dolor sit amet'\npubDate: 'Jul 08 2022'\n"
        "heroImage: '/blog-placeholder-3.jpg'\n---\n\n",
        {"title": "First post", "description": "Lorem ipsum dolor sit amet", "date": datetime.date(2022, 7, 8),
         "image": "public/blog-placeholder-3.jpg"},
        {"public/blog-placeholder-3.jpg": "jpg"}),
    "gatsby": Case(
        "content/blog/hello-world/index.md",
        "---\ntitle: Hello World\ndate: \"2015-05-01T22:12:03.284Z\"\ndescription: \"Hello World\"\n"
        "featuredImage: ./salty_egg.jpg\n---\n\n",
        {"title": "Hello World", "description": "Hello World",
         "date": datetime.datetime(2015, 5, 1, 22, 12, 3, 284000, tzinfo=UTC),
         "image": "content/blog/hello-world/salty_egg.jpg"},
        {"content/blog/hello-world/salty_egg.jpg": "jpg"}),
    "docusaurus": Case(
        "blog/2021-08-26-welcome/index.md",
        "---\nslug: welcome\ntitle: Welcome\nauthors: [slorber, yangshun, {name: Joel Marcey, title: Founder}]\n"
        "tags: [facebook, hello, docusaurus]\n---\n\n",
        {"title": "Welcome", "author": "Sébastien Lorber, Yangshun Tay and Joel Marcey",
         "date": datetime.date(2021, 8, 26), "tags": ["facebook", "hello", "docusaurus"]},
        {"blog/authors.yml": "slorber:\n  name: Sébastien Lorber\n  title: Docusaurus maintainer\n"
                             "yangshun:\n  name: Yangshun Tay\n"}),
    "docusaurus one key": Case(
        "blog/2019-05-28-first-blog-post.md",
        "---\nslug: first-blog-post\ntitle: First Blog Post\nauthors: slorber\n---\n\n",
        {"title": "First Blog Post", "author": "Sébastien Lorber", "date": datetime.date(2019, 5, 28)},
        {"blog/authors.yml": "slorber:\n  name: Sébastien Lorber\n"}),
    "mkdocs material": Case(
        "docs/blog/posts/hello.md",
        "---\ndate:\n  created: 2023-12-31\n  updated: 2024-01-02\nauthors:\n  - squidfunk\n"
        "categories:\n  - Hello\n---\n\n",
        {"author": "Martin Donath", "date": datetime.date(2023, 12, 31), "tags": ["Hello"]},
        {"docs/blog/.authors.yml": "authors:\n  squidfunk:\n    name: Martin Donath\n    description: Creator\n"}),
    "pelican": Case(
        "content/my-super-post.md",
        "Title: My super title\nDate: 2010-12-03 10:20\nModified: 2010-12-05 19:30\nCategory: Python\n"
        "Tags: pelican, publishing\nSlug: my-super-post\nAuthors: Alexis Metaireau, Conan Doyle\n"
        "Summary: Short version for index and feeds\nLang: fr\nStatus: draft\n\n",
        {"title": "My super title", "author": "Alexis Metaireau and Conan Doyle",
         "date": datetime.datetime(2010, 12, 3, 10, 20, tzinfo=UTC), "tags": ["pelican", "publishing", "Python"],
         "description": "Short version for index and feeds", "language": "fr", "draft": True}),
    "obsidian": Case(
        "Notes/On gardens.md",
        "---\naliases: [Gardens]\ntags: \"#essay #garden\"\ncreated: 2023-01-02 10:11\nlang: en_GB\n---\n\n",
        {"date": datetime.datetime(2023, 1, 2, 10, 11, tzinfo=UTC), "tags": ["essay", "garden"],
         "language": "en-GB"}),
    "multimarkdown with locale and a url image": Case(
        "essay.md",
        "Title: A Walk\nAuthor: Jane Doe\nDate: 2020-02-02\nImage: https://example.com/card.png\n\n",
        {"title": "A Walk", "author": "Jane Doe", "date": datetime.date(2020, 2, 2)}),
}


def site_with(tmp_path: Path, case: Case) -> Path:
    for name, text in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    essay = tmp_path / case.essay
    essay.parent.mkdir(parents=True, exist_ok=True)
    essay.write_text(case.front + BODY, encoding="utf-8")
    return essay


@pytest.mark.parametrize("name", list(DIALECTS))
def test_every_dialect_gives_its_fields(tmp_path, name):
    case = DIALECTS[name]
    essay = site_with(tmp_path, case)
    metadata, _ = split_front_matter(essay, essay.read_text(encoding="utf-8"))
    expected = {**vars(Metadata()), **case.expected}
    if "image" in case.expected:
        written = Path(case.expected["image"])
        expected["image"] = str(tmp_path / written)
    got = {**vars(metadata)}
    if got["image"] and not Path(got["image"]).is_absolute():
        got["image"] = str(essay.parent / got["image"])
    assert got == expected


@pytest.mark.parametrize("name", list(DIALECTS))
def test_front_matter_is_never_in_the_body(tmp_path, name):
    essay = site_with(tmp_path, DIALECTS[name])
    document = read_document(essay)
    assert document.text == BODY
    assert [paragraph.text for paragraph in document.paragraphs] == BODY.split("\n\n")


# text that only looks like front matter -> it stays the essay's text
NOT_FRONT_MATTER = {
    "liquid tag first": "{% raw %}\nSome text.\n{% endraw %}",
    "a brace in prose": "{This} is how the essay opens.",
    "a json array": '["not", "a", "table"]\n\nText.',
    "a note in prose": "Note: this is how I begin.\n\nMore.",
    "a known key then prose": "Title: of this essay is long\nand it keeps going as prose.\n\nMore.",
    "thematic break only": "---\nText after a rule, and no closing one.",
}


@pytest.mark.parametrize("name", list(NOT_FRONT_MATTER))
def test_text_that_only_looks_like_front_matter_is_kept(name):
    text = NOT_FRONT_MATTER[name]
    metadata, body = split_front_matter(Path("essay.md"), text)
    assert (metadata, body) == (Metadata(), text)


@pytest.mark.parametrize("name, expected", [
    ("2017-10-19-slug.md", datetime.date(2017, 10, 19)),
    ("2017-10-19-slug/index.md", datetime.date(2017, 10, 19)),
    ("2017-10-19.md", datetime.date(2017, 10, 19)),
    ("posts/2017-13-45-slug.md", None),  # not a day
    ("2017-10-19slug.md", None),  # the date must stand apart from the slug
    ("notes/on-walking.md", None),
])
def test_date_from_name(name, expected):
    assert date_from_name(Path(name)) == expected


def test_front_matter_date_wins_over_the_name():
    metadata, _ = split_front_matter(Path("2017-10-19-slug.md"), "---\ndate: 2018-01-01\n---\nText.")
    assert metadata.date == datetime.date(2018, 1, 1)


def test_a_date_from_the_name_without_any_front_matter():
    assert split_front_matter(Path("2017-10-19-slug.txt"), "Text.")[0].date == datetime.date(2017, 10, 19)


@pytest.mark.parametrize("authors, expected", [
    ("author: Ada Lovelace", "Ada Lovelace"),
    ("authors: [Ada Lovelace]", "Ada Lovelace"),
    ("authors: [Ada Lovelace, Alan Turing]", "Ada Lovelace and Alan Turing"),
    ("authors: [A B, C D, E F, A B]", "A B, C D and E F"),
    ("authors:\n  - name: Ada Lovelace\n  - name: Alan Turing", "Ada Lovelace and Alan Turing"),
    ("author: {name: Ada Lovelace, email: ada@example.com}", "Ada Lovelace"),
    ("author: '[Ada Lovelace](https://ada.example)'", "Ada Lovelace"),
    ("author: handle", "handle"),  # a key no authors file knows stays as written
    ("author: 42", "42"),
    ("author: [1, 2]\nauthors: [Ada Lovelace]", "1 and 2"),  # author, when given, wins
])
def test_authors_are_read_as_a_person_says_them(authors, expected):
    metadata, _ = split_front_matter(Path("essay.md"), f"---\n{authors}\n---\nText.")
    assert metadata.author == expected


@pytest.mark.parametrize("fields, draft", [
    ("draft: true", True), ("draft: 'true'", True), ("draft: false", False),
    ("published: false", True), ("published: true", False), ("status: draft", True), ("title: x", False),
])
def test_drafts(fields, draft):
    path = Path("essay.md")
    metadata, _ = split_front_matter(path, f"---\n{fields}\n---\nText.")
    assert metadata.draft is draft
    if draft:
        with pytest.raises(InputError, match="--drafts") as refused:
            refuse_draft(path, metadata)
        assert str(path) in str(refused.value) and "\n" not in str(refused.value)
    else:
        refuse_draft(path, metadata)


def test_a_relative_image_that_is_missing_stays_as_written_and_a_site_path_is_dropped(tmp_path):
    essay = tmp_path / "essay.md"
    for image, expected in [("pictures/missing.jpg", "pictures/missing.jpg"), ("/images/missing.jpg", None),
                            ("//cdn.example.com/x.jpg", None)]:
        essay.write_text(f"---\nimage: '{image}'\n---\nText.", encoding="utf-8")
        assert read_document(essay).metadata.image == expected


# --- hostile front matter ---------------------------------------------------------------------------

def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\ntitle: *i\ntags: *i\n"


# name -> (the file's text, what the one-line error must say)
HOSTILE = {
    "billion laughs": (f"---\n{billion_laughs()}---\nText.", "expands to more than"),
    "alias loop": ("---\na: &a [*a]\ntags: *a\n---\nText.", "expands to more than"),
    "huge block": ("---\ntitle: x\nfiller: '" + "x" * 70_000 + "'\n---\nText.", "KB allowed"),
    "deep yaml": ("---\ntitle: " + "[" * 3000 + "]" * 3000 + "\n---\nText.", "nested too deeply"),
    "deep toml": ("+++\ntitle = " + "[" * 3000 + "]" * 3000 + "\n+++\nText.", "nested too deeply"),
    "deep json": ('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}\nText.", "nested too deeply"),
    "python object tag": ("---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---\nText.", "bad YAML"),
    "unhashable key": ("---\n? [a, b]\n: c\n---\nText.", "bad YAML"),
    "bad toml": ("+++\ntitle = \n+++\nText.", "bad TOML"),
    "a list, not fields": ("---\n- a\n- b\n---\nText.", "key: value"),
    "bad date": ("---\ndate: 2017-13-45\n---\nText.", "not a date"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_front_matter_is_refused_quickly_in_one_line(tmp_path, name):
    text, message = HOSTILE[name]
    essay = tmp_path / "essay.md"
    essay.write_text(text, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(InputError, match=message) as refused:
        read_document(essay)
    assert time.monotonic() - started < 2
    assert str(essay) in str(refused.value) and "\n" not in str(refused.value)


def test_an_authors_file_is_held_to_the_same_limits(tmp_path):
    (tmp_path / "authors.yml").write_text(billion_laughs(), encoding="utf-8")
    essay = tmp_path / "essay.md"
    essay.write_text("---\nauthors: [someone]\n---\nText.", encoding="utf-8")
    with pytest.raises(InputError, match="authors file expands"):
        read_document(essay)


def test_keys_that_are_not_strings_are_ignored():
    metadata, body = split_front_matter(Path("essay.md"), "---\n1: one\ntrue: yes\nnull: no\ntitle: Kept\n---\nText.")
    assert (metadata.title, body) == ("Kept", "Text.")


# --- caps ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, limit", list(checks.TEXT_CAPS.items()))
def test_long_values_are_capped_with_an_ellipsis(tmp_path, key, limit):
    essay = tmp_path / "essay.md"
    field_name = "title" if key == "album" else key
    essay.write_text(f"---\n{field_name}: '{'word ' * 2000}'\n---\nText.", encoding="utf-8")
    settings = read_layers(tmp_path / "show", {"album": "word " * 2000} if key == "album" else {}, environ={}) \
        .resolve(essay, read_document(essay).metadata)
    value = getattr(settings, key)
    assert len(value) <= limit and value.endswith("…") and value.startswith("word word")
    assert not value[:-1].endswith(" ")


@pytest.mark.parametrize("text, limit, expected", [
    ("short", 10, "short"),
    ("exactly10!", 10, "exactly10!"),
    ("abcdefghijk", 10, "abcdefghi…"),
    ("one two three four", 15, "one two three…"),
    (None, 10, None),
])
def test_capped(text, limit, expected):
    assert checks.capped(text, limit) == expected


def test_a_front_matter_cover_is_known_as_one(tmp_path):
    essay = site_with(tmp_path, DIALECTS["jekyll"])
    layers = read_layers(tmp_path / "show", {}, environ={})
    assert from_front_matter(layers.resolve(essay, read_document(essay).metadata), "cover")
    assert not from_front_matter(read_layers(tmp_path / "show", {"cover": "x.png"}, environ={})
                                 .resolve(essay, read_document(essay).metadata), "cover")


@pytest.mark.parametrize("name,text,first", [
    ("one Summary line", "Summary: cities should plant more trees.\n\nAnd water them.\n",
     "Summary: cities should plant more trees."),
    ("one Date line that is prose", "Date: a Tuesday in spring, we met.\n\nMore.\n", "Date: a Tuesday in spring, we met."),
    ("prose between two rules", "---\n\nA thought, set off by rules.\n\n---\n\nMore prose.\n", "A thought, set off by rules."),
])
def test_prose_that_only_looks_like_front_matter_is_read(tmp_path, name, text, first):
    essay = tmp_path / "essay.md"
    essay.write_text(text, encoding="utf-8")
    assert read_document(essay).paragraphs[0].text == first
