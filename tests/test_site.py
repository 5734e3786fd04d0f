"""The show's web site: index.html and one page per episode.

Read back with lxml's HTML parser (what is on the page, escaped or not) and
driven in a real headless Chromium over HTTP with byte ranges (werkzeug),
the way a listener's browser uses it: the audio's duration against ffprobe,
chapters and transcript cues seeking the player, the spoken cue highlighted,
keyboard use. Screenshots are kept for a human look.
"""
from __future__ import annotations

import dataclasses
import datetime
import shutil
import threading
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest

from audiobook.settings import read_show_file
from audiobook.show.episodes import PublishedEpisode, load_episodes
from audiobook.show.record import (SCHEMA, Audio, ChapterMark, EngineUsed, EpisodeFiles, EpisodeRecord, SegmentMark,
                                   Source)
from audiobook.show.site import write_site
from conftest import FIELD_NOTES, ROOT, ffprobe, parse_vtt, requires_pipeline, run_cli, tree_digest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
requires_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                       reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")

HOSTILE = 'Tom & Jerry <live> "quoted" 🎙️ עברית'
SHOW_TITLE = "Essays <Aloud> & Co"
SHOW_DESCRIPTION = "Long reads, read aloud by a patient machine."


# --- reading pages ------------------------------------------------------------

def parse(path: Path):
    return lxml.html.fromstring(path.read_bytes())


def text(element) -> str:
    return element.text_content()


def local_links(show: Path, page: Path) -> list[tuple[str, Path]]:
    """Every href/src of a page as (url, file it points to); fails on anything not relative."""
    doc = parse(page)
    found = []
    for element, attribute, link, _ in doc.iterlinks():
        if link.startswith(("data:", "#")):
            continue
        parts = urlsplit(link)
        assert not parts.scheme and not parts.netloc and not link.startswith("/"), \
            f"{page.name}: {element.tag} {attribute}={link!r} is not relative"
        target = (page.parent / unquote(parts.path)).resolve()
        assert target.is_relative_to(show.resolve()), f"{page.name}: {link!r} leaves the show"
        found.append((link, target))
    return found


def headings(doc) -> list[int]:
    return [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]


def assert_headings_in_order(doc, where: str) -> None:
    levels = headings(doc)
    assert levels and levels[0] == 1 and levels.count(1) == 1, f"{where}: headings {levels}"
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, f"{where}: heading level jumps from h{before} to h{after}"


# --- a show made from hand-made records (no audio engine needed) --------

def page_name(episode: PublishedEpisode) -> str:
    return episode.files.url_path(episode.files.page)


def write_pages(show: Path, title: str, episodes: list[PublishedEpisode], description: str = "") -> list[Path]:
    settings = dataclasses.replace(read_show_file(show).show, title=title, description=description)
    return write_site(settings, episodes)


def fake_episode(show: Path, stem: str, title: str, day: int, language: str = "en",
                 chapter_titles=("One", "Two", "Three"), cue_text: str = "Sentence {n}.") -> PublishedEpisode:
    files = EpisodeFiles.of(show, stem)
    files.folder.mkdir(parents=True, exist_ok=True)
    files.mp3.write_bytes(b"\xff\xfb" + b"\0" * 998)
    chapters, segments, start = [], [], 0.0
    for index, chapter in enumerate(chapter_titles):
        chapters.append(ChapterMark(start, start + 10.0, chapter))
        for n in range(3):
            segments.append(SegmentMark(start + n * 3 + 0.5, start + n * 3 + 2.5, cue_text.format(n=len(segments) + 1),
                                        "", index, index, "body", "text", "narrator", 0.35))
        start += 10.0
    record = EpisodeRecord(
        stem=stem, title=title, author="A. Writer & Sons", album="Essays", description=f"About {title}.",
        date=f"2026-01-{day:02d}", language=language, link=None, guid=f"guid-{stem}",
        published=datetime.datetime(2026, 1, day, tzinfo=datetime.timezone.utc), build_key="",
        source=Source(f"{stem}.md", "0" * 64), engine=EngineUsed("fake", "1", "v", "v", 175),
        audio=Audio("0" * 64, 1000, start, 44100, int(start * 44100), 96, -16.0, "0" * 64),
        chapters=tuple(chapters), segments=tuple(segments), schema=SCHEMA)
    return PublishedEpisode(record, files)


@pytest.fixture
def fake_show(tmp_path):
    show = tmp_path / "show"
    episodes = [
        fake_episode(show, "newest", HOSTILE, 20, chapter_titles=("<b>bold</b> & co", '"Quoted"', "🎙️ Mic"),
                     cue_text='Cue {n}: </script><script>alert(1)</script> & "q" \'s\' עברית'),
        fake_episode(show, "middle", "Plain middle", 10),
        fake_episode(show, "oldest", "שלום עולם", 1, language="he"),
    ]
    return show, episodes


def test_hostile_text_is_escaped_not_markup(fake_show):
    show, episodes = fake_show
    write_pages(show, SHOW_TITLE, episodes, SHOW_DESCRIPTION)
    page = show / page_name(episodes[0])
    doc = parse(page)
    assert text(doc.find(".//h1")) == HOSTILE
    assert doc.findtext(".//title") == f"{HOSTILE} · {SHOW_TITLE}"
    assert doc.find(".//audio").get("aria-label") == f"Play episode: {HOSTILE}"
    assert [text(e) for e in doc.find_class("chapter-title")] == ["<b>bold</b> & co", '"Quoted"', "🎙️ Mic"]
    cues = doc.find_class("cue")
    assert [text(c) for c in cues] == [s.display for s in episodes[0].record.segments]
    # the only script is our own, and no element came out of a title
    assert [s.get("src").split("?")[0] for s in doc.iter("script")] == ["../static/site.js"]
    assert not doc.findall(".//b") and not doc.findall(".//live")
    index = parse(show / "index.html")
    assert index.findtext(".//title") == SHOW_TITLE
    assert [text(a) for a in index.cssselect(".episode-card h3 a")][0] == HOSTILE
    alternate = index.cssselect('link[rel="alternate"][type="application/rss+xml"]')[0]
    assert alternate.get("title") == SHOW_TITLE and alternate.get("href") == "feed.xml"


def test_index_lists_episodes_in_given_order_with_working_links(fake_show):
    show, episodes = fake_show
    written = write_pages(show, SHOW_TITLE, episodes, SHOW_DESCRIPTION)
    index = show / "index.html"
    assert set(written) == {index, *(show / page_name(e) for e in episodes),
                            show / "static" / "site.css", show / "static" / "site.js"}
    doc = parse(index)
    cards = doc.cssselect("ol.episode-list > li")
    assert [text(c.cssselect("h3 a")[0]) for c in cards] == [e.record.title for e in episodes]
    assert [c.cssselect("h3 a")[0].get("href") for c in cards] == [f"episodes/{e.files.stem}.html" for e in episodes]
    for card, episode in zip(cards, episodes):
        assert card.cssselect("time")[0].get("datetime") == episode.record.date
        assert "0:30" in text(card.cssselect(".meta")[0])
        assert text(card.cssselect(".description")[0]) == episode.record.description
    for page in [index, *(show / page_name(e) for e in episodes)]:
        for link, target in local_links(show, page):
            if target.name == "feed.xml":  # written by the feed, not the site
                continue
            assert target.is_file(), f"{page.name}: {link} -> missing {target}"
    # every episode page links home and to the feed, relatively
    for episode in episodes:
        doc = parse(show / page_name(episode))
        hrefs = {a.get("href") for a in doc.iter("a")}
        assert {"../index.html", "../feed.xml", f"{episode.files.stem}.mp3"} <= hrefs
        assert doc.cssselect('link[rel="alternate"][type="application/rss+xml"]')[0].get("href") == "../feed.xml"
        audio = doc.find(".//audio")
        assert audio.get("src") == f"{episode.files.stem}.mp3" and audio.get("preload") == "metadata"


def test_language_direction_and_heading_order(fake_show):
    show, episodes = fake_show
    write_pages(show, SHOW_TITLE, episodes, SHOW_DESCRIPTION)
    hebrew = parse(show / page_name(episodes[2]))
    assert hebrew.get("lang") == "he" and hebrew.get("dir") == "rtl"
    english = parse(show / page_name(episodes[0]))
    assert english.get("lang") == "en" and english.get("dir") == "ltr"
    assert parse(show / "index.html").get("lang") == "en"
    hebrew_card = parse(show / "index.html").cssselect("ol.episode-list > li")[2]
    assert hebrew_card.get("lang") == "he" and hebrew_card.get("dir") == "rtl"
    for page in [show / "index.html", *(show / page_name(e) for e in episodes)]:
        assert_headings_in_order(parse(page), page.name)


def test_output_is_deterministic_and_unchanged_files_are_left_alone(fake_show, tmp_path):
    show, episodes = fake_show
    write_pages(show, SHOW_TITLE, episodes, SHOW_DESCRIPTION)
    first = tree_digest(show)
    mtimes = {p: p.stat().st_mtime_ns for p in show.rglob("*.html")}
    write_pages(show, SHOW_TITLE, episodes, SHOW_DESCRIPTION)
    assert tree_digest(show) == first
    assert {p: p.stat().st_mtime_ns for p in show.rglob("*.html")} == mtimes
    # no absolute path or clock in the output: the same show elsewhere renders the same bytes
    other = tmp_path / "elsewhere" / "show"
    shutil.copytree(show / "episodes", other / "episodes", ignore=shutil.ignore_patterns("*.html"))
    write_pages(other, SHOW_TITLE, [dataclasses.replace(e, files=EpisodeFiles.of(other, e.files.stem)) for e in episodes],
               SHOW_DESCRIPTION)
    assert tree_digest(other) == first
    assert not list(show.rglob("*.part"))


def test_empty_show_gets_an_index():
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        show = Path(tmp)
        write_pages(show, "Nothing yet", [])
        doc = parse(show / "index.html")
        assert "No episodes yet" in text(doc)
        assert_headings_in_order(doc, "index.html")


def test_templates_and_static_files_ship_in_the_package():
    package = resources.files("audiobook")
    for name in ("show/templates/base.html", "show/templates/index.html", "show/templates/episode.html",
                 "show/static/site.css", "show/static/site.js", "py.typed"):
        assert package.joinpath(name).is_file(), name
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["setuptools"]["package-data"]["audiobook"]
    assert {"show/templates/*.html", "show/static/*", "py.typed"} <= set(shipped)
    assert any(dep.lower().startswith("jinja2") for dep in config["project"]["dependencies"])
    css = package.joinpath("show/static/site.css").read_text(encoding="utf-8")
    assert "prefers-color-scheme: dark" in css and "system-ui" in css and "focus-visible" in css
    for name in ("show/static/site.css", "show/static/site.js"):  # nothing fetched from elsewhere
        body = package.joinpath(name).read_text(encoding="utf-8")
        assert "http://" not in body and "https://" not in body and "@import" not in body


# --- a show built by the real pipeline ----------------------------------------

@pytest.fixture(scope="module")
def built_show(tmp_path_factory, seed_episode, field_notes_episode):
    """The session's two real episodes gathered in one show, with its site written."""
    show = tmp_path_factory.mktemp("site") / "show"
    (show / "episodes").mkdir(parents=True)
    for built in (seed_episode, field_notes_episode):
        for path in (built.show / "episodes").iterdir():
            if path.name.startswith(built.mp3.stem + "."):
                shutil.copy2(path, show / "episodes" / path.name)
    episodes, _ = load_episodes(show)
    assert len(episodes) == 2
    write_pages(show, SHOW_TITLE, episodes, SHOW_DESCRIPTION)
    return show, episodes


@requires_pipeline
def test_real_episode_pages_hold_every_chapter_and_cue(built_show):
    show, episodes = built_show
    index = parse(show / "index.html")
    assert [a.get("href") for a in index.cssselect(".episode-card h3 a")] == \
        [f"episodes/{e.files.stem}.html" for e in episodes]
    published = [e.record.published for e in episodes]
    assert published == sorted(published, reverse=True)
    for episode in episodes:
        doc = parse(show / page_name(episode))
        assert doc.get("lang") == episode.record.language
        buttons = doc.cssselect("button.chapter")
        assert [text(b.cssselect(".chapter-title")[0]) for b in buttons] == [c.title for c in episode.record.chapters]
        assert [float(b.get("data-start")) for b in buttons] == pytest.approx([c.start for c in episode.record.chapters])
        # cues against the VTT sidecar, read by an independent parser
        vtt = parse_vtt(episode.files.vtt.read_text(encoding="utf-8"))
        cues = doc.cssselect(".cue[data-start][data-end]")
        assert len(cues) == len(vtt) == len(episode.record.segments)
        for element, cue in zip(cues, vtt):
            assert text(element) == cue.text
            assert float(element.get("data-start")) == pytest.approx(cue.start, abs=0.001)
            assert float(element.get("data-end")) == pytest.approx(cue.end, abs=0.001)
        assert doc.cssselect("img.cover")[0].get("src") == f"{episode.files.stem}.jpg"
        for link, target in local_links(show, show / page_name(episode)):
            assert target.is_file() or target.name == "feed.xml", link
        assert_headings_in_order(doc, page_name(episode))


@requires_pipeline
def test_hostile_title_from_the_command_line(tmp_path):
    show = tmp_path / "show"
    essay = tmp_path / "hostile.md"
    shutil.copy(FIELD_NOTES, essay)
    result = run_cli("build", essay, "--show", show, "--title", HOSTILE, "-q")
    assert result.returncode == 0, result.stderr
    episodes, _ = load_episodes(show)
    assert [e.record.title for e in episodes] == [HOSTILE]
    write_pages(show, HOSTILE, episodes)
    for page in (show / "index.html", show / "episodes" / "hostile.html"):
        doc = parse(page)
        assert text(doc.find(".//h1")) == HOSTILE
        assert HOSTILE in doc.findtext(".//title")
        assert not doc.findall(".//live")
    raw = (show / "episodes" / "hostile.html").read_text(encoding="utf-8")
    assert "Tom &amp; Jerry &lt;live&gt; &#34;quoted&#34; 🎙️ עברית" in raw


# --- in a real browser -------------------------------------------------------

@pytest.fixture(scope="module")
def site_url(built_show):
    """The show served on 127.0.0.1 with byte ranges (werkzeug's conditional send_file)."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.serving import WSGIRequestHandler, make_server
    from werkzeug.utils import send_from_directory
    from werkzeug.wrappers import Request

    show, _ = built_show

    def app(environ, start_response):
        path = Request(environ).path.lstrip("/") or "index.html"
        try:
            response = send_from_directory(show, path, environ)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site_url):
    """A fresh tab that records console errors and every URL it asked for."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, color_scheme="light")
    tab = context.new_page()
    tab.errors, tab.requests = [], []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on("console", lambda message: message.type == "error" and tab.errors.append(message.text))
    tab.on("request", lambda request: tab.requests.append(request.url))
    yield tab
    context.close()


def open_episode(page, site_url: str, episode: PublishedEpisode) -> None:
    page.goto(site_url + page_name(episode))
    page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=15000)


def seek_and_settle(page, seconds: float) -> None:
    page.evaluate("""t => new Promise(done => {
        const audio = document.getElementById('player');
        audio.addEventListener('seeked', () => setTimeout(done, 50), {once: true});
        audio.currentTime = t;
    })""", seconds)


@requires_pipeline
@requires_chromium
def test_browser_duration_matches_ffprobe(page, site_url, built_show):
    _, episodes = built_show
    for episode in episodes:
        open_episode(page, site_url, episode)
        in_browser = page.evaluate("document.getElementById('player').duration")
        probed = float(ffprobe(episode.files.mp3)["format"]["duration"])
        print(f"{episode.files.stem}: browser {in_browser:.3f} s, ffprobe {probed:.3f} s, manifest {episode.record.audio.duration:.3f} s")
        assert in_browser == pytest.approx(probed, abs=0.5)
        assert page.get_attribute("audio", "aria-label") == f"Play episode: {episode.record.title}"
    assert not page.errors
    assert all(url.startswith(site_url) or url.startswith("data:") for url in page.requests), page.requests


@requires_pipeline
@requires_chromium
def test_clicking_the_third_chapter_seeks_and_plays(page, site_url, built_show):
    _, episodes = built_show
    episode = episodes[-1]
    open_episode(page, site_url, episode)
    page.locator("button.chapter").nth(2).click()
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - %f) < 0.25"
                           % episode.record.chapters[2].start, timeout=5000)
    state = page.evaluate("""() => { const a = document.getElementById('player');
                             const t = a.currentTime; a.pause(); return t; }""")
    assert state == pytest.approx(episode.record.chapters[2].start, abs=0.25)
    assert page.locator("button.chapter").nth(2).get_attribute("aria-current") == "true"
    assert page.locator("#now-chapter").text_content() == episode.record.chapters[2].title
    assert not page.errors


@requires_pipeline
@requires_chromium
def test_current_cue_is_highlighted_and_in_view(page, site_url, built_show):
    _, episodes = built_show
    episode = episodes[0]
    open_episode(page, site_url, episode)
    picks = sorted({0, 1, len(episode.record.segments) // 2, len(episode.record.segments) - 2, len(episode.record.segments) - 1})
    for number in picks:
        segment = episode.record.segments[number]
        seek_and_settle(page, (segment.start + segment.end) / 2)
        page.wait_for_timeout(400)  # smooth scrolling
        current = page.evaluate("""() => Array.from(document.querySelectorAll('.cue[aria-current="true"]'),
                                     el => el.id)""")
        assert current == [f"cue-{number + 1}"], (number, current)
        visible = page.evaluate("""id => { const box = document.getElementById(id).getBoundingClientRect();
                                   return box.bottom > 0 && box.top < window.innerHeight; }""", current[0])
        assert visible, f"cue {number + 1} not scrolled into view"
    # a click on a cue seeks to it
    cue = page.locator(".cue").nth(3)
    cue.scroll_into_view_if_needed()
    cue.click()
    page.evaluate("document.getElementById('player').pause()")
    assert page.evaluate("document.getElementById('player').currentTime") == \
        pytest.approx(episode.record.segments[3].start, abs=0.3)
    assert not page.errors


@requires_pipeline
@requires_chromium
def test_highlighted_word_follows_the_audio_and_a_click_on_a_word_seeks_there(page, site_url, built_show, tmp_path):
    _, episodes = built_show
    episode = episodes[0]
    open_episode(page, site_url, episode)
    timed = [(number, segment) for number, segment in enumerate(episode.record.segments) if len(segment.words) >= 4]
    assert timed, "no segment of the episode has word times"
    for number, segment in (timed[0], timed[len(timed) // 2], timed[-1]):
        words = segment.display.split()
        for index in (1, len(words) // 2, len(words) - 1):
            later = segment.words[index + 1] if index + 1 < len(words) else segment.end
            if later - segment.words[index] < 0.06:
                continue  # too short a word to land in
            seek_and_settle(page, (segment.words[index] + later) / 2)
            lit = page.evaluate("""() => Array.from(document.querySelectorAll('.word.spoken'),
                                   el => [el.closest('.cue').id, el.textContent])""")
            assert lit == [[f"cue-{number + 1}", words[index]]], (number, index, lit)
    page.screenshot(path=str(tmp_path / "word.png"))
    lit_style = page.evaluate("""() => getComputedStyle(document.querySelector('.word.spoken')).backgroundColor""")
    plain_style = page.evaluate("""() => getComputedStyle(document.querySelector('.word:not(.spoken)')).backgroundColor""")
    assert lit_style != plain_style  # the word is lit so an eye can see it, not only in the DOM
    # a click on a word seeks to where the word starts
    number, segment = timed[len(timed) // 2]
    word = page.locator(f"#cue-{number + 1} .word").nth(2)
    word.scroll_into_view_if_needed()
    word.click()
    page.evaluate("document.getElementById('player').pause()")
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(segment.words[2], abs=0.3)
    assert not page.errors


@requires_pipeline
@requires_chromium
def test_keyboard_reaches_and_activates_chapters(page, site_url, built_show):
    _, episodes = built_show
    episode = episodes[-1]
    open_episode(page, site_url, episode)
    focused = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.className + '|' + document.activeElement.tagName"))
        if focused[-1].startswith("chapter|"):
            break
    else:
        pytest.fail(f"Tab never reached a chapter button: {focused}")
    outline = page.evaluate("""() => { const el = document.activeElement;
        return [el.matches(':focus-visible'), getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]; }""")
    assert outline[0] and outline[1] != "none" and outline[2] != "0px", outline
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the third chapter
    assert page.evaluate("document.activeElement.closest('li') === document.querySelectorAll('.chapter-list li')[2]")
    page.keyboard.press("Enter")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - %f) < 0.25"
                           % episode.record.chapters[2].start, timeout=5000)
    page.evaluate("document.getElementById('player').pause()")
    assert not page.errors


@requires_pipeline
@requires_chromium
def test_episode_page_works_from_file_url(browser, built_show):
    show, episodes = built_show
    episode = episodes[-1]
    context = browser.new_context()
    tab = context.new_page()
    try:
        tab.goto((show / page_name(episode)).as_uri())
        tab.wait_for_function("document.getElementById('player').readyState >= 1", timeout=15000)
        tab.locator("button.chapter").nth(1).click()
        tab.wait_for_function("Math.abs(document.getElementById('player').currentTime - %f) < 0.25"
                              % episode.record.chapters[1].start, timeout=5000)
        assert tab.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    finally:
        context.close()


def assert_real_picture(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
        assert width >= 300 and height >= 300, image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50, "a blank screenshot"


@requires_pipeline
@requires_chromium
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(browser, site_url, built_show, tmp_path, scheme):
    _, episodes = built_show
    episode = episodes[-1]
    context = browser.new_context(viewport={"width": 1100, "height": 900}, color_scheme=scheme)
    tab = context.new_page()
    try:
        tab.goto(site_url + "index.html")
        index_png = tmp_path / f"site-index-{scheme}.png"
        tab.screenshot(path=str(index_png), full_page=True)
        open_episode(tab, site_url, episode)
        segment = episode.record.segments[12]
        seek_and_settle(tab, (segment.start + segment.end) / 2)
        tab.evaluate("window.scrollTo(0, 0)")
        episode_png = tmp_path / f"site-episode-{scheme}.png"
        tab.screenshot(path=str(episode_png), full_page=True)
        background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    finally:
        context.close()
    assert_real_picture(index_png)
    assert_real_picture(episode_png)
    assert background != "rgba(0, 0, 0, 0)"
    suffix = "" if scheme == "light" else "-dark"
    for png, name in ((index_png, "site-index"), (episode_png, "site-episode")):
        try:
            shutil.copy(png, f"/tmp/{name}{suffix}.png")
        except OSError:
            pass  # only a convenience for a human look
