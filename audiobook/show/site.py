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

from audiobook.display import clock, human_size
from audiobook.show.episodes import EPISODES, PublishedEpisode, page_name
from audiobook.show.feed import FEED_FILE
from audiobook.fsutil import write_bytes_atomic
from audiobook.text.plan import PAUSE_AFTER_HEADING, PAUSE_AFTER_PARAGRAPH

INDEX = "index.html"
STATIC = "static"  # folder in the show for the stylesheet and script
STATIC_FILES = ("site.css", "site.js")
SHOW_COVER = "cover.jpg"

# Languages written right to left; the page gets dir="rtl" for these.
RTL_LANGUAGES = {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ps", "sd", "ug", "ur", "yi"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")


def write_site(show_dir: Path, show_title: str, episodes: list[PublishedEpisode],
               show_description: str = "") -> list[Path]:
    """Write ``index.html``, ``episodes/<stem>.html`` for each episode and the static files.

    ``episodes`` in the order to list them (``load_episodes`` gives newest
    first). The index page's ``lang`` is the most common episode language.
    Returns every file of the site, in writing order, whether it changed or not.
    """
    show_dir = Path(show_dir)
    env = _environment()
    static = {name: _static_bytes(name) for name in STATIC_FILES}
    # A content hash in the query string: a changed stylesheet is fetched again
    # even where a server lets browsers cache it; file:// ignores the query.
    version = {name: hashlib.sha256(data).hexdigest()[:10] for name, data in static.items()}
    show = {
        "title": show_title,
        "description": show_description,
        "feed": FEED_FILE,
        "language": _common_language(episodes),
        "cover": _image(show_dir / SHOW_COVER, SHOW_COVER),
    }

    written: list[Path] = []
    for name, data in static.items():
        written.append(_write(show_dir / STATIC / name, data))

    pages = [_episode_view(episode) for episode in episodes]
    for page in pages:
        html = env.get_template("episode.html").render(
            show=show, episode=page, root="../", asset=_assets("../", version))
        written.append(_write(show_dir / page.path, html.encode("utf-8")))

    html = env.get_template("index.html").render(
        show=show, episodes=pages, root="", asset=_assets("", version))
    written.append(_write(show_dir / INDEX, html.encode("utf-8")))
    return written


# --- what the templates see ---------------------------------------------------

@dataclass
class Block:
    """One piece of the transcript: a chapter heading, or a paragraph of cues."""

    kind: str  # "heading", "paragraph", "quote", "framing"
    cues: list[dict] = field(default_factory=list)
    text: str = ""  # a heading that was not spoken (a chapter title made up from its first words)
    chapter: int | None = None


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
    day = _day(episode)
    chapters = [
        {"index": i, "start": _seconds(c["start"]), "end": _seconds(c["end"]), "title": c["title"],
         "clock": clock(c["start"])}
        for i, c in enumerate(episode.chapters)
    ]
    blocks = transcript_blocks(episode)
    downloads = [{"href": episode.mp3.name, "label": "MP3 audio", "size": human_size(episode.size), "primary": True}]
    for suffix, label in ((".vtt", "WebVTT transcript"), (".srt", "SubRip transcript"),
                          (".chapters.json", "Chapters (JSON)")):
        if episode.sidecar(suffix).is_file():
            downloads.append({"href": episode.stem + suffix, "label": label,
                              "size": human_size(episode.sidecar(suffix).stat().st_size), "primary": False})
    return EpisodeView(
        path=page_name(episode),
        title=episode.title,
        author=episode.author,
        description=episode.description,
        date_iso=day.isoformat() if day else "",
        date_text=f"{day.day} {MONTHS[day.month - 1]} {day.year}" if day else "",
        duration=_seconds(episode.duration),
        duration_text=clock(episode.duration),
        duration_iso=_iso_duration(episode.duration),
        size_text=human_size(episode.size),
        language=episode.language or "en",
        direction=_direction(episode.language),
        link=episode.link,
        mp3=episode.mp3.name,
        cover=_image(episode.sidecar(".jpg"), episode.stem + ".jpg"),
        chapters=chapters,
        blocks=blocks,
        downloads=downloads,
    )


def transcript_blocks(episode: PublishedEpisode) -> list[Block]:
    """Group the cues into headings and paragraphs, so the transcript reads like the essay.

    The manifest keeps no paragraph marks, but the plan's pauses say where
    one ended: a paragraph (or longer) pause closes it, a heading pause marks
    a spoken heading. A chapter whose title was made up (no heading in the
    essay) still gets its title as an unspoken heading.
    """
    blocks: list[Block] = []
    current: Block | None = None
    chapter = None
    for number, segment in enumerate(episode.segments):
        cue = {
            "id": f"cue-{number + 1}",
            "start": _seconds(segment["start"]),
            "end": _seconds(segment["end"]),
            "text": segment.get("display") or "",
        }
        kind = segment.get("kind", "body")
        pause = float(segment.get("pause_after") or 0)
        if kind in ("intro", "outro"):
            blocks.append(Block("framing", [cue]))
            current = None
            continue
        if segment.get("chapter") != chapter:
            chapter = segment.get("chapter")
            current = None
            title = _chapter_title(episode, chapter)
            spoken_heading = abs(pause - PAUSE_AFTER_HEADING) < 1e-6 or (
                title is not None and cue["text"].strip() == title.strip())
            if spoken_heading:
                blocks.append(Block("heading", [cue], chapter=chapter))
                continue
            if title is not None:
                blocks.append(Block("heading", [], text=title, chapter=chapter))
        kind = "quote" if segment.get("role") == "quote" else "paragraph"
        if current is None or current.kind != kind:
            current = Block(kind)
            blocks.append(current)
        current.cues.append(cue)
        if pause >= PAUSE_AFTER_PARAGRAPH - 1e-6:
            current = None
    return blocks


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


def _chapter_title(episode: PublishedEpisode, chapter) -> str | None:
    if isinstance(chapter, int) and 0 <= chapter < len(episode.chapters):
        return episode.chapters[chapter].get("title")
    return None


def _common_language(episodes: list[PublishedEpisode]) -> str:
    languages = Counter(e.language or "en" for e in episodes)
    # most_common keeps first-seen order among ties: deterministic for a given episode list
    return languages.most_common(1)[0][0] if languages else "en"


def _direction(language: str | None) -> str:
    base = (language or "en").replace("_", "-").split("-")[0].lower()
    return "rtl" if base in RTL_LANGUAGES else "ltr"


def _day(episode: PublishedEpisode) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(episode.date[:10])
    except (TypeError, ValueError):
        return episode.published.date() if episode.published else None


def _seconds(value) -> str:
    """Seconds for a data- attribute: milliseconds, no float noise (8.22, not 8.220000000000001)."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _iso_duration(seconds: float) -> str:
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"
