"""A blog's own RSS or Atom feed: one essay per post.

feedparser reads every dialect of RSS and Atom a blog engine writes. A post
is read from its full content (``content:encoded``, Atom ``content``); when
the feed carries only a summary, from the page the post links to, fetched
once and kept (``web.kept_page``) and read by the HTML reader. The post's
title, author, date, link and tags come from the feed; its page fills in
only what the feed leaves out.
"""
from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import replace
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from audiobook.errors import InputError
from audiobook.models import Document, Metadata
from audiobook.text.fields import essay_date, natural_list
from audiobook.text.html import HtmlReader, html_paragraphs, html_text
from audiobook.text.readers import Reader, collapse
from audiobook.text.sources import FEED_SUFFIXES, is_url, looks_like_feed
from audiobook.text.web import kept_page

# A summary this short, or one that trails off, stands for a post on its page.
MIN_FULL_POST_WORDS = 150
TRAILING_OFF = re.compile(r"(\.\.\.|\u2026|\[\u2026\]|\[\.\.\.\]|read more|continue reading)\W*$", re.IGNORECASE)
SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")


class FeedReader(Reader):
    """RSS 2.0, RSS 1.0 and Atom, through feedparser; ``read_all`` gives a Document per post, newest first.

    Pages of posts the feed only summarises are fetched when ``fetch_pages``
    (the feed itself came from the web); otherwise the summary is read, and
    ``warn`` says so."""

    name = "feed"
    suffixes = FEED_SUFFIXES

    def __init__(self, fetch_pages: bool = False, warn: Callable[[str], None] = lambda message: None,
                 latest: int | None = None) -> None:
        self.fetch_pages, self.warn, self.latest = fetch_pages, warn, latest

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import feedparser  # noqa: F401
        except ImportError:
            return "feedparser is not installed (pip install feedparser)"
        return None

    @classmethod
    def recognises(cls, head: bytes) -> bool:
        return looks_like_feed(head)

    def read(self, path: Path, data: bytes, encoding: str | None = None) -> Document:
        raise InputError(f"{path}: is a feed, with one essay per post; build it with 'audiobook build {path}', "
                         f"or give one post's file")

    def read_all(self, path: Path, data: bytes, encoding: str | None = None) -> list[Document]:
        import feedparser

        parsed = feedparser.parse(data)
        if not parsed.entries:
            problem = f" ({parsed.bozo_exception})" if parsed.get("bozo") else ""
            raise InputError(f"{path}: no posts found in this feed{problem}; check that it is an RSS or Atom feed.")
        folder = path.parent / _slug(path.stem)
        stems: set[str] = set()
        summarised: list[str] = []
        entries = sorted(parsed.entries, key=_newest_first)[:self.latest]
        posts = [self._post(entry, parsed.feed, folder, stems, summarised, encoding) for entry in entries]
        documents = [post for post in posts if post.paragraphs]
        if summarised:
            self.warn(f"{path}: {len(summarised)} of {len(posts)} posts are only summarised in the feed "
                      f"({', '.join(summarised[:3])}{', ...' if len(summarised) > 3 else ''}) and are read as "
                      f"summaries; build the feed from its URL to read whole posts from their pages")
        for post in posts:
            if not post.paragraphs:
                self.warn(f"{path}: post {post.metadata.title or post.source.stem!r} has no text to read "
                          f"(a photo or a video?); it is left out")
        if not documents:
            raise InputError(f"{path}: none of its {len(posts)} posts has text to read.")
        return documents

    def _post(self, entry, feed, folder: Path, stems: set[str], summarised: list[str],
              encoding: str | None) -> Document:
        """One post; its name joins ``summarised`` when only its summary can be read."""
        title = html_text(entry.get("title", "")) or None  # feedparser gives titles as HTML
        stem = _unique(_post_slug(entry, title), stems)
        source = folder / f"{stem}.html"
        metadata = Metadata(title=title, author=_authors(entry) or _authors(feed), date=_published(entry),
                            description=_plain_summary(entry), language=feed.get("language") or None,
                            link=entry.get("link") or None, tags=[tag.term for tag in entry.get("tags", [])
                                                                  if tag.get("term")])
        content = _full_content(entry)
        if content is None and self.fetch_pages and is_url(metadata.link):
            version = dict.get(entry, "updated") or dict.get(entry, "published") or ""
            page = HtmlReader().read(source, kept_page(metadata.link, version), encoding)
            return replace(page, metadata=_fill(metadata, page.metadata))
        if content is None:
            summarised.append(stem)
        paragraphs = html_paragraphs(content if content is not None else entry.get("summary", ""))
        return Document(source=source, metadata=metadata, paragraphs=paragraphs,
                        text="\n\n".join(paragraph.text for paragraph in paragraphs))


def _full_content(entry) -> str | None:
    """The post's full HTML, or None when the feed carries only a summary of it."""
    bodies = [part.get("value", "") for part in entry.get("content", []) if part.get("value")]
    if bodies:
        return max(bodies, key=len)
    summary = entry.get("summary", "")
    text = html_text(summary)
    if len(text.split()) >= MIN_FULL_POST_WORDS and not TRAILING_OFF.search(text):
        return summary  # RSS 2.0 feeds often put the whole post in <description>
    return None


def _plain_summary(entry) -> str | None:
    summary = html_text(entry.get("summary", ""))
    return summary or None


def _authors(item) -> str | None:
    """One author, or several read naturally: "A, B and C"."""
    names = [author.get("name", "") for author in item.get("authors", [])]
    if not any(names) and item.get("author"):
        names = [re.sub(r"^\S+@\S+\s*\((.*)\)$", r"\1", item["author"])]  # RSS: "mail@x.org (Name)"
    return natural_list(list(dict.fromkeys(collapse(name) for name in names)))


def _published(entry) -> datetime.datetime | datetime.date | None:
    """The post's publication time with its zone as written; feedparser's parsed UTC time as a fallback."""
    for key in ("published", "updated"):
        # dict.get: feedparser's own get() maps "updated" to "published", with a DeprecationWarning
        if dict.get(entry, key):
            try:
                return essay_date(dict.get(entry, key))
            except ValueError:
                parsed = dict.get(entry, f"{key}_parsed")
                if parsed:
                    return datetime.datetime.fromtimestamp(calendar.timegm(parsed), datetime.timezone.utc)
    return None


def _fill(feed: Metadata, page: Metadata) -> Metadata:
    """The feed's metadata, with what it leaves out taken from the post's page."""
    missing = {name: getattr(page, name) for name in ("title", "author", "date", "description", "language")
               if not getattr(feed, name) and getattr(page, name)}
    return replace(feed, **missing)


def _post_slug(entry, title: str | None) -> str:
    """The last part of the post's URL path ("my-post" of /2020/05/my-post/), else its title."""
    path = urlsplit(entry.get("link") or "").path
    last = next((part for part in reversed(path.split("/")) if part and part not in ("index.html", "index.htm")), "")
    last = re.sub(r"\.html?$", "", last)
    return _slug(last) or _slug(title or "") or "post"


def _slug(text: str) -> str:
    return SLUG_UNSAFE.sub("-", text.lower()).strip("-")[:80].strip("-")


def _unique(stem: str, taken: set[str]) -> str:
    candidate, number = stem, 2
    while candidate in taken:
        candidate, number = f"{stem}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _newest_first(entry) -> tuple[int, float]:
    date = _published(entry)
    if date is None:
        return (1, 0.0)
    if not isinstance(date, datetime.datetime):
        date = datetime.datetime.combine(date, datetime.time(), datetime.timezone.utc)
    return (0, -date.timestamp())

