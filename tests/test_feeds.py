"""A blog's own feed as essays: RSS and Atom, full posts and summaries, files and URLs.

The URL cases run against a real HTTP server on loopback that serves the feed
and the posts' pages and counts what it is asked for.
"""
from __future__ import annotations

import datetime
import functools
import json
import http.server
import threading
from collections import Counter
from pathlib import Path

import pytest

from audiobook.errors import InputError
from audiobook.models import HEADING, TEXT
from audiobook.text.feeds import FeedReader
from audiobook.text.read import read_document
from audiobook.text.sources import Reading, essays_from
from conftest import run_cli, summary_counts, tools_missing

POST_WORDS = ("The harbour was quiet that morning, and the boats sat low in the water while the gulls argued "
              "over the nets. ") * 12


def rss(items: list[str]) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Harbour Notes</title><link>https://harbour.example/</link><language>en-gb</language>
<description>Notes from a harbour</description>
{''.join(items)}
</channel></rss>"""


def rss_item(slug: str, title: str, date: str, body: str, author: str = "Ada Lovelace") -> str:
    return f"""<item><title>{title}</title><link>https://harbour.example/{slug}/</link>
<guid>https://harbour.example/{slug}/</guid><pubDate>{date}</pubDate><dc:creator>{author}</dc:creator>
<category>sea</category><description>A short teaser.</description>
<content:encoded><![CDATA[{body}]]></content:encoded></item>"""


FULL_FEED = rss([
    rss_item("low-tide", "Low tide", "Tue, 03 Mar 2020 08:15:00 +0100",
             f"<h2>The mud</h2><p>{POST_WORDS}</p><h2>The birds</h2><p>Gulls, mostly.</p>"),
    rss_item("high-tide", "High &amp; dry", "Wed, 10 Jun 2020 19:00:00 -0400", f"<p>{POST_WORDS}</p>"),
])


def atom_summary_feed(base: str, updated: str = "2021-05-01T10:00:00+02:00") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Field Log</title><id>urn:field-log</id>
<updated>{updated}</updated>
<entry><title>Counting swifts</title><id>urn:swifts</id><link href="{base}/posts/counting-swifts.html"/>
<published>2021-05-01T10:00:00+02:00</published><updated>{updated}</updated>
<author><name>Alan Turing</name></author><author><name>Joan Clarke</name></author>
<summary>We counted swifts over the river...</summary></entry>
</feed>"""


ARTICLE_PAGE = f"""<!doctype html><html lang="en"><head><title>Counting swifts | Field Log</title>
<meta name="author" content="Somebody Else"></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<article><h1>Counting swifts</h1><p>{POST_WORDS}</p><h2>What we saw</h2><p>{POST_WORDS}</p></article>
<footer>Copyright the field log. Subscribe to our newsletter.</footer></body></html>"""


class Site:
    """Files served on loopback, with a count of every path asked for."""

    def __init__(self, root: Path):
        self.root, self.hits = root, Counter()
        site = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                site.hits[self.path] += 1
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def put(self, path: str, text: str) -> None:
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_text(text, encoding="utf-8")


@pytest.fixture
def site(tmp_path):
    served = Site(tmp_path / "site")
    served.root.mkdir()
    yield served
    served.server.shutdown()


def test_a_full_content_feed_gives_one_document_per_post_newest_first(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_text(FULL_FEED, encoding="utf-8")
    documents = FeedReader().read_all(feed, feed.read_bytes())
    assert [d.metadata.title for d in documents] == ["High & dry", "Low tide"]
    newest, oldest = documents
    assert newest.source.name == "high-tide.html"
    assert oldest.metadata.date == datetime.datetime(2020, 3, 3, 8, 15,
                                                     tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert oldest.metadata.author == "Ada Lovelace"
    assert oldest.metadata.link == "https://harbour.example/low-tide/"
    assert oldest.metadata.language == "en-gb"
    assert oldest.metadata.tags == ["sea"]
    assert [(p.kind, p.text) for p in oldest.paragraphs if p.kind == HEADING] == [(HEADING, "The mud"),
                                                                                   (HEADING, "The birds")]
    assert "teaser" not in " ".join(p.text for p in oldest.paragraphs)


def test_essays_from_a_feed_file_are_its_posts_and_latest_limits_them(tmp_path):
    feed = tmp_path / "index.xml"  # no feed suffix: recognised by its first bytes
    feed.write_text(FULL_FEED, encoding="utf-8")
    essay = tmp_path / "essay.md"
    essay.write_text("Hello.\n", encoding="utf-8")
    essays = essays_from([feed, essay], Reading(latest=1))
    assert [e.path.name for e in essays] == ["high-tide.html", "essay.md"]
    assert essays[0].document is not None and essays[1].document is None


def test_a_summary_only_feed_reads_each_post_from_its_page_fetched_once(site, tmp_path):
    site.put("feed.atom", atom_summary_feed(site.url))
    site.put("posts/counting-swifts.html", ARTICLE_PAGE)
    for _ in range(2):
        [essay] = essays_from([f"{site.url}/feed.atom"])
        metadata = essay.document.metadata
        assert metadata.title == "Counting swifts"
        assert metadata.author == "Alan Turing and Joan Clarke"  # the feed's, not the page's
        spoken = " ".join(p.text for p in essay.document.paragraphs)
        assert "What we saw" in spoken and "gulls argued" in spoken
        assert "Subscribe" not in spoken and "About" not in spoken
    assert site.hits["/feed.atom"] == 2  # the feed is read every time: it is what the user asked for
    assert site.hits["/posts/counting-swifts.html"] == 1  # the page is kept
    site.put("feed.atom", atom_summary_feed(site.url, updated="2021-06-01T10:00:00+02:00"))
    essays_from([f"{site.url}/feed.atom"])
    assert site.hits["/posts/counting-swifts.html"] == 2  # an updated post is fetched again


@pytest.mark.parametrize("content,expected", [
    ("<html><body>not a feed</body></html>", "no posts"),
    ('<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title></channel></rss>', "no posts"),
])
def test_a_feed_without_posts_is_one_clear_error(tmp_path, content, expected):
    feed = tmp_path / "feed.rss"
    feed.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=expected) as caught:
        essays_from([feed])
    assert "\n" not in str(caught.value)


def test_a_feed_url_that_does_not_answer_is_one_clear_error(site):
    with pytest.raises(InputError, match="404"):
        essays_from([f"{site.url}/missing.xml"])


def test_reading_a_feed_as_one_essay_says_to_build_it(tmp_path):
    feed = tmp_path / "feed.rss"
    feed.write_text(FULL_FEED, encoding="utf-8")
    with pytest.raises(InputError, match="audiobook build"):
        read_document(feed)


@pytest.mark.e2e
def test_building_a_feed_url_makes_an_episode_per_post_and_again_only_new_ones(site, tmp_path):
    if tools_missing():
        pytest.skip(tools_missing())
    short = "<p>The tide came in. The tide went out. Nobody minded at all.</p>"
    items = [rss_item("first", "First", "Mon, 02 Mar 2020 08:00:00 +0000", short),
             rss_item("second", "Second", "Tue, 03 Mar 2020 08:00:00 +0000", short)]
    site.put("feed.xml", rss(items))
    show = tmp_path / "show"
    result = run_cli("build", f"{site.url}/feed.xml", "--show", show, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (show / "episodes").glob("*.mp3")) == ["first.mp3", "second.mp3"]
    record = json.loads((show / "episodes" / "first.episode.json").read_text(encoding="utf-8"))
    assert (record["title"], record["author"], record["link"]) == ("First", "Ada Lovelace",
                                                                   "https://harbour.example/first/")
    assert record["date"] == "2020-03-02"

    site.put("feed.xml", rss([rss_item("third", "Third", "Wed, 04 Mar 2020 08:00:00 +0000", short), *items]))
    result = run_cli("build", f"{site.url}/feed.xml", "--show", show, "--latest", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert [Path(line.split(":")[0]).name for line in lines if ".mp3:" in line] == ["third.mp3", "second.mp3"]
    new, old = [line for line in lines if ".mp3:" in line]
    assert summary_counts(new)[0] > 0 and "up to date" not in new
    assert "up to date" in old
    assert len(list((show / "episodes").glob("*.mp3"))) == 3


def test_a_summary_only_feed_file_is_read_as_summaries_with_a_warning_and_no_fetching(site, tmp_path):
    feed = tmp_path / "feed.atom"
    feed.write_text(atom_summary_feed(site.url), encoding="utf-8")
    warnings: list[str] = []
    [essay] = essays_from([feed], warn=warnings.append)
    assert [p.text for p in essay.document.paragraphs] == ["We counted swifts over the river..."]
    assert len(warnings) == 1 and "1 of 1 posts are only summarised" in warnings[0] and "counting-swifts" in warnings[0]
    assert not site.hits  # a file the user gave is no licence to go to the network


def test_a_post_without_text_is_left_out_with_a_warning_and_titles_are_unescaped(tmp_path):
    feed = tmp_path / "feed.rss"
    feed.write_text(rss([
        rss_item("photo", "A photo", "Mon, 02 Mar 2020 08:00:00 +0000", '<img src="x.jpg">'),
        rss_item("rock", "Rock &amp;amp; roll", "Tue, 03 Mar 2020 08:00:00 +0000", f"<p>{POST_WORDS}</p>"),
    ]), encoding="utf-8")
    warnings: list[str] = []
    [essay] = essays_from([feed], warn=warnings.append)
    assert essay.document.metadata.title == "Rock & roll"
    assert len(warnings) == 1 and "'A photo' has no text" in warnings[0]


def test_latest_reads_only_the_newest_posts_pages(site):
    entries = "".join(f"""<entry><title>Post {n}</title><id>urn:{n}</id><link href="{site.url}/p{n}.html"/>
<published>2021-05-0{n}T10:00:00Z</published><summary>Short.</summary></entry>""" for n in range(1, 5))
    site.put("feed.atom", f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>'
                          f'<id>urn:f</id>{entries}</feed>')
    for n in range(1, 5):
        site.put(f"p{n}.html", ARTICLE_PAGE.replace("Counting swifts", f"Post {n}"))
    essays = essays_from([f"{site.url}/feed.atom"], Reading(latest=2))
    assert [e.document.metadata.title for e in essays] == ["Post 4", "Post 3"]
    assert sorted(path for path in site.hits if path.startswith("/p")) == ["/p3.html", "/p4.html"]
