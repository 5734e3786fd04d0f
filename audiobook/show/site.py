"""The show's static web site: ``index.html`` and one page per episode.

Plain HTML from Jinja2 templates (autoescaped, so a title with ``&``, ``<``
or quotes stays text), one CSS and one deferred JS file copied beside them,
nothing fetched from elsewhere. Every URL is relative, so the site works
under any base path and, as far as browsers allow, straight from file://.

The episode page sits beside its MP3 (``episodes/<stem>.html``) and doubles
as the HTML transcript the feed links with ``podcast:transcript``.

Output is a pure function of the episodes: no clock, no absolute paths, so
an unchanged show produces identical files (and unchanged files are not
rewritten, which keeps their mtimes for rsync and HTTP caches).
"""
from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from audiobook.audio.editions import FORMATS
from audiobook.display import clock, human_size
from audiobook.fsutil import write_bytes_atomic
from audiobook.models import HEADING, INTRO, OUTRO, QUOTE
from audiobook.settings import COVER_FILE, FEED_FILE, ShowSettings
from audiobook.show.episodes import PublishedEpisode
from audiobook.show.record import EpisodeRecord
from audiobook.text.wordmap import display_words

INDEX = "index.html"
STATIC = "static"  # folder in the show for the stylesheet and script
STATIC_FILES = ("site.css", "site.js")

# Languages written right to left; the page gets dir="rtl" for these.
RTL_LANGUAGES = {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ps", "sd", "ug", "ur", "yi"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")


def write_site(show: ShowSettings, episodes: list[PublishedEpisode]) -> list[Path]:
    """Write ``index.html``, ``episodes/<stem>.html`` for each episode and the static files.

    ``episodes`` in the order to list them (``load_episodes`` gives newest
    first). The index page's ``lang`` is the most common episode language.
    Returns every file of the site, in writing order, whether it changed or not.
    """
    show_dir = show.directory
    env = _environment()
    static = {name: _static_bytes(name) for name in STATIC_FILES}
    # A content hash in the query string: a changed stylesheet is fetched again
    # even where a server lets browsers cache it; file:// ignores the query.
    version = {name: hashlib.sha256(data).hexdigest()[:10] for name, data in static.items()}
    show_view = {
        "title": show.title,
        "description": show.description,
        "feed": FEED_FILE,
        "language": _common_language(episodes),
        "cover": _image(show_dir / COVER_FILE, COVER_FILE),
    }

    written: list[Path] = []
    for name, data in static.items():
        written.append(_write(show_dir / STATIC / name, data))

    pages = [_episode_view(episode) for episode in episodes]
    for page in pages:
        html = env.get_template("episode.html").render(
            show=show_view, episode=page, root="../", asset=_assets("../", version))
        written.append(_write(show_dir / page.path, html.encode("utf-8")))

    html = env.get_template("index.html").render(
        show=show_view, episodes=pages, root="", asset=_assets("", version))
    written.append(_write(show_dir / INDEX, html.encode("utf-8")))
    return written


# --- what the templates see ---------------------------------------------------

@dataclass
class Block:
    """One piece of the transcript: a heading, a paragraph or quote of cues, or the spoken intro/outro."""

    kind: str  # "heading", "paragraph", "quote", "framing"
    cues: list[dict] = field(default_factory=list)
    text: str = ""  # a heading that was not spoken (a chapter title made up from its first words)
    paragraph: int = -1


@dataclass
class EpisodeView:
    path: str
    title: str
    author: str
    description: str
    date_iso: str
    date_text: str
    duration: float
    duration_text: str
    duration_iso: str
    size_text: str
    language: str
    direction: str
    link: str | None
    mp3: str
    cover: dict | None
    chapters: list[dict]
    blocks: list[Block]
    downloads: list[dict]


def _episode_view(episode: PublishedEpisode) -> EpisodeView:
    record, files = episode.record, episode.files
    day = datetime.date.fromisoformat(record.date)
    chapters = [
        {"index": i, "start": _seconds(c.start), "end": _seconds(c.end), "title": c.title, "clock": clock(c.start)}
        for i, c in enumerate(record.chapters)
    ]
    downloads = [{"href": files.mp3.name, "label": "MP3 audio", "size": human_size(record.audio.bytes),
                  "primary": True}]
    downloads += [{"href": files.edition(e.format).name, "label": _edition_label(e.format), "size": human_size(e.bytes),
                   "primary": True} for e in record.editions]
    for path, label in ((files.vtt, "WebVTT transcript"), (files.srt, "SubRip transcript"),
                        (files.chapters, "Chapters (JSON)")):
        if path.is_file():
            downloads.append({"href": path.name, "label": label, "size": human_size(path.stat().st_size),
                              "primary": False})
    return EpisodeView(
        path=files.url_path(files.page),
        title=record.title,
        author=record.author,
        description=record.description,
        date_iso=day.isoformat(),
        date_text=f"{day.day} {MONTHS[day.month - 1]} {day.year}",
        duration=_seconds(record.audio.duration),
        duration_text=clock(record.audio.duration),
        duration_iso=_iso_duration(record.audio.duration),
        size_text=human_size(record.audio.bytes),
        language=record.language or "en",
        direction=_direction(record.language),
        link=record.link,
        mp3=files.mp3.name,
        cover=_image(files.art, files.art.name),
        chapters=chapters,
        blocks=transcript_blocks(record),
        downloads=downloads,
    )


def _edition_label(format: str) -> str:
    """How the page offers an edition; one this version does not make (a newer one's record) by its suffix."""
    return FORMATS[format].label if format in FORMATS else f"{format.upper()} audio"


def transcript_blocks(record: EpisodeRecord) -> list[Block]:
    """The cues grouped as the essay was written: a block per paragraph, its kind from the paragraph's.

    A chapter that opens without a spoken heading (its title was made up, or
    comes from front matter) still shows its title, as a heading not heard.
    """
    blocks: list[Block] = []
    chapter = None
    for number, segment in enumerate(record.segments):
        cue = {"id": f"cue-{number + 1}", "start": _seconds(segment.start), "end": _seconds(segment.end),
               "text": segment.display, **_cue_words(segment.display, segment.words)}
        if segment.kind in (INTRO, OUTRO):
            blocks.append(Block("framing", [cue]))
            continue
        if segment.chapter != chapter:
            chapter = segment.chapter
            if segment.block != HEADING and 0 <= chapter < len(record.chapters):
                blocks.append(Block("heading", text=record.chapters[chapter].title))
        if not blocks or blocks[-1].paragraph != segment.paragraph:
            kind = {HEADING: "heading", QUOTE: "quote"}.get(segment.block, "paragraph")
            blocks.append(Block(kind, paragraph=segment.paragraph))
        blocks[-1].cues.append(cue)
    return blocks


def _cue_words(display: str, starts: tuple[float, ...]) -> dict:
    """A cue's text with each word in a span that says where it starts, for the page to
    light the word being read; the text as it is when the record has no word times.
    Made here as one string, not a dict per word: a book has a hundred thousand."""
    words = display_words(display)
    if not starts or len(starts) != len(words):
        return {"html": None}
    out, copied = [], 0
    for word, start in zip(words, starts):
        out.append(f"{escape(display[copied:word.start()])}<span class=\"word\" data-start=\"{_seconds(start)}\">"
                   f"{escape(word.group())}</span>")
        copied = word.end()
    out.append(str(escape(display[copied:])))
    return {"html": Markup("".join(out))}


# --- helpers ------------------------------------------------------------------

def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("audiobook.show", "templates"),
        autoescape=True,  # every template here is HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _static_bytes(name: str) -> bytes:
    return resources.files("audiobook.show").joinpath(STATIC, name).read_bytes()


def _assets(root: str, version: dict[str, str]) -> dict[str, str]:
    return {name: f"{root}{STATIC}/{name}?v={version[name]}" for name in version}


def _write(target: Path, data: bytes) -> Path:
    """Atomically, and only when the content differs (an unchanged show keeps its files and mtimes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if target.read_bytes() == data:
            return target
    except OSError:
        pass
    write_bytes_atomic(target, data)
    return target


def _image(path: Path, href: str) -> dict | None:
    """src, width and height of a JPEG (the size avoids a layout jump while it loads)."""
    if not path.is_file():
        return None
    try:
        from PIL import Image

        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError):
        return None
    return {"src": href, "width": width, "height": height}


def _common_language(episodes: list[PublishedEpisode]) -> str:
    languages = Counter(e.record.language or "en" for e in episodes)
    # most_common keeps first-seen order among ties: deterministic for a given episode list
    return languages.most_common(1)[0][0] if languages else "en"


def _direction(language: str | None) -> str:
    base = (language or "en").replace("_", "-").split("-")[0].lower()
    return "rtl" if base in RTL_LANGUAGES else "ltr"


def _seconds(value) -> str:
    """Seconds for a data- attribute: milliseconds, no float noise (8.22, not 8.220000000000001)."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _iso_duration(seconds: float) -> str:
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"
