"""Markdown as static-site generators and note apps keep it -> the paragraphs a person would read aloud."""
from __future__ import annotations

import re
import time

import pytest

from audiobook.models import CODE, HEADING, LIST_ITEM, QUOTE, TEXT
from audiobook.text.html import html_text
from audiobook.text.markdown import MarkdownReader
from audiobook.text.normalize import speech_text

# (case, source, expected (kind, text) of every paragraph)
CASES = [
    # --- CommonMark and its common extensions
    ("ordered-list", "1. Install it.\n1. Run it.\n1. Enjoy.",
     [(LIST_ITEM, "Install it."), (LIST_ITEM, "Run it."), (LIST_ITEM, "Enjoy.")]),
    ("nested-lists", "1. one\n   - inner\n   2) deep\n2. two",
     [(LIST_ITEM, "one"), (LIST_ITEM, "inner"), (LIST_ITEM, "deep"), (LIST_ITEM, "two")]),
    ("task-list", "- [ ] to do\n- [x] done", [(LIST_ITEM, "to do"), (LIST_ITEM, "done")]),
    ("footnotes-end-of-section",
     "# One\n\nA claim.[^1] Another.[^long]\n\nMore.\n\n# Two\n\nNothing.\n\n[^1]: The *source*.\n[^long]: Said twice.\n",
     [(HEADING, "One"), (TEXT, "A claim. Another."), (TEXT, "More."),
      (TEXT, "Note: The source."), (TEXT, "Note: Said twice."), (HEADING, "Two"), (TEXT, "Nothing.")]),
    ("inline-footnote", "Fact.^[Cited here.]", [(TEXT, "Fact."), (TEXT, "Note: Cited here.")]),
    ("unreferred-footnote", "Text.\n\n[^x]: Never referred to.", [(TEXT, "Text.")]),
    ("table", "| Name | Born |\n|:-----|-----:|\n| Ada *L.* | 1815 |\n| Alan | |\n",
     [(LIST_ITEM, "Name: Ada L.; Born: 1815."), (LIST_ITEM, "Name: Alan.")]),
    ("table-header-only", "| Only | Header |\n|---|---|\n", [(LIST_ITEM, "Only; Header.")]),
    ("definition-list", "Term\n: The meaning.", [(TEXT, "Term"), (TEXT, "The meaning.")]),
    ("strikethrough", "It was ~~bad~~ good.", [(TEXT, "It was bad good.")]),
    ("setext-heading", "The *real* cost\n---------------\n\nBody.", [(HEADING, "The real cost"), (TEXT, "Body.")]),
    ("heading-inline-markup", "## The *real* `cost` of [it](x)", [(HEADING, "The real cost of it")]),
    ("images-by-alt-text", "![A chart](c.png) and ![](spacer.gif) here.", [(TEXT, "A chart and here.")]),
    ("bare-url-kept-in-display", "See https://github.com/a/b and <https://x.org>.",
     [(TEXT, "See https://github.com/a/b and https://x.org.")]),
    ("code-stays-code", "```js\nlet a = {{ b }} | c;\n```", [(CODE, "let a = {{ b }} | c;")]),
    # --- HTML
    ("inline-html", "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.<br>Then <img src=x alt=\"an icon\"> go.",
     [(TEXT, "Press Ctrl+C. Then an icon go.")]),
    ("html-block", "<div class=\"note\">\n<p>One.</p><p>Two &amp; three.</p>\n<script>alert(1)</script>\n</div>",
     [(TEXT, "One."), (TEXT, "Two & three.")]),
    ("details-summary", "<details>\n<summary>More</summary>\n\nHidden *text*.\n\n</details>",
     [(TEXT, "More"), (TEXT, "Hidden text.")]),
    ("comments-never-spoken", "Intro.\n\n<!--truncate-->\n\nRest <!-- more --> here.",
     [(TEXT, "Intro."), (TEXT, "Rest here.")]),
    ("pre-is-code", "<pre><code>x = 1\ny = 2</code></pre>", [(CODE, "x = 1\ny = 2")]),
    ("html-table", "<table><tr><th>A</th><th>B</th></tr>\n<tr><td>1</td><td>2</td></tr></table>",
     [(LIST_ITEM, "A: 1; B: 2.")]),
    # --- Liquid / Jinja (Jekyll, Eleventy)
    ("liquid-tags-and-output", "Hi {{ page.author | upcase }}.{% if x %} Shown.{% endif %} {%- assign y = 1 -%}",
     [(TEXT, "Hi . Shown.")]),
    ("liquid-link", "Read [the post]({% post_url 2010-07-21-name %}) and [this]({{ site.baseurl }}/x).",
     [(TEXT, "Read the post and this.")]),
    ("liquid-highlight", "Before.\n\n{% highlight ruby linenos %}\ndef x\n  {{ y }}\nend\n{% endhighlight %}\n\nAfter.",
     [(TEXT, "Before."), (CODE, "def x\n  {{ y }}\nend"), (TEXT, "After.")]),
    ("liquid-raw-around-code", "{% raw %}\n```liquid\n{{ page.title }}\n```\n{% endraw %}",
     [(CODE, "{{ page.title }}")]),
    ("liquid-comment-capture-include",
     "A.{% comment %} secret {% endcomment %}\n\n{% capture note %}Kept aside.{% endcapture %}\n\n"
     "{% include figure.html image=\"a.png\" caption=\"A *fine* view\" %}\n\n{% include toc.html %}\n\n{# jinja #}B.",
     [(TEXT, "A."), (TEXT, "A fine view"), (TEXT, "B.")]),
    # --- Hugo shortcodes
    ("hugo-paired", "{{< note >}}\nInside the note.\n{{< /note >}}\n\n{{% aside %}}Aside *text*.{{% /aside %}}",
     [(TEXT, "Inside the note."), (TEXT, "Aside text.")]),
    ("hugo-self-closing", "{{< figure src=\"a.png\" caption=\"The caption\" >}}\n\n{{< youtube w7Ft2ymGmfc >}}\n\n"
     "{{< tweet user=\"x\" id=\"1\" >}}\n\n{{< figure src=b.png alt='Alt words' >}}\n\nSee [it]({{< ref \"post.md\" >}}).",
     [(TEXT, "The caption"), (TEXT, "Alt words"), (TEXT, "See it.")]),
    ("hugo-highlight", "{{< highlight go >}}\nfmt.Println(1)\n{{< /highlight >}}", [(CODE, "fmt.Println(1)")]),
    # --- attribute lists (Hugo, Pandoc, Kramdown)
    ("heading-attributes", "## Setup {#setup .wide}\n\nA [span]{.smallcaps} and ![pic](p.png){width=50%}.",
     [(HEADING, "Setup"), (TEXT, "A span and pic.")]),
    ("kramdown-ial-and-toc", "* TOC\n{:toc}\n\nA paragraph.\n{: .lead}\n\n[TOC]\n\nEnd.",
     [(TEXT, "A paragraph."), (TEXT, "End.")]),
    # --- admonitions
    ("docusaurus-admonitions", ":::note Read this\nBody *one*.\n:::\n\n:::tip[Bracketed]\nTwo.\n:::\n\n:::warning\nThree.\n:::",
     [(TEXT, "Read this"), (TEXT, "Body one."), (TEXT, "Bracketed"), (TEXT, "Two."), (TEXT, "Warning"), (TEXT, "Three.")]),
    ("mkdocs-admonitions", "!!! note \"Mind this\"\n    Body.\n\n??? tip\n    Folded.\n\n???+ danger \"Open\"\n    Shown.",
     [(TEXT, "Mind this"), (TEXT, "Body."), (TEXT, "Tip"), (TEXT, "Folded."), (TEXT, "Open"), (TEXT, "Shown.")]),
    ("callouts-and-alerts", "> [!NOTE]\n> GitHub alert.\n\n> [!tip]- Obsidian title\n> Callout body.",
     [(QUOTE, "Note"), (QUOTE, "GitHub alert."), (QUOTE, "Obsidian title"), (QUOTE, "Callout body.")]),
    # --- Obsidian
    ("obsidian", "See [[Page]], [[notes/Other Page|this one]] and [[#Heading]].\n\n![[diagram.png]]\n\n"
     "Kept %%not this%% text. ==Marked== words. ^block-1\n\n%%\nA hidden\nblock\n%%",
     [(TEXT, "See Page, this one and Heading."), (TEXT, "Kept text. Marked words.")]),
    # --- MDX (Docusaurus, Astro)
    ("mdx", "import Tabs from '@theme/Tabs';\nimport {Item} from \"./item\";\n\nexport const meta = {\n  a: 1,\n};\n\n"
     "{/* a comment */}\n\n<Tabs>\n<Item value=\"a\" label=\"A\">\n\nTab text.\n\n</Item>\n</Tabs>\n\n"
     "Say <Highlight color=\"green\">this</Highlight>.",
     [(TEXT, "Tab text."), (TEXT, "Say this.")]),
]


@pytest.mark.parametrize("source,expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_markdown_reads_as_spoken(source, expected):
    assert [(p.kind, p.text) for p in MarkdownReader().paragraphs(source)] == expected


# What a listener must never hear: template tags, footnote markers, table pipes, admonition
# fences, wiki links, attribute lists, HTML tags, list numbers.
MARKUP = re.compile(r"\{%|%\}|\{\{|\}\}|\[\^|\||:::|!!!|\?\?\?|\[\[|\]\]|\{#|\{:|\{\.|%%|==|\[!|"
                    r"</?[A-Za-z][\w.-]*(?:\s[^<>]*)?/?>|^\d+[.)]\s")


def test_no_markup_survives_in_any_case():
    spoken = [p.text for _, source, _ in CASES for p in MarkdownReader().paragraphs(source) if p.kind != CODE]
    assert spoken and not [text for text in spoken if MARKUP.search(text)]


def test_the_markup_pattern_catches_what_it_should():
    """The check above can fail: each kind of markup it guards against is caught."""
    for markup in ("{% x %}", "{{ y }}", "a[^1]", "a | b", ":::note", "!!! tip", "[[Page]]", "{#id}",
                   "{: .c}", "<kbd>", "</Tabs>", "<br/>", "1. first", "==mark==", "%%c%%", "[!NOTE]"):
        assert MARKUP.search(markup), markup


HTML_FRAGMENTS = [
    ("<p>a</p><p>b</p>", "a b"),
    ("<div>Hello <b>there</b></div>", "Hello there"),
    ("<!-- more -->", ""),
    ("</details>", ""),
    ("<style>p {}</style><template>x</template>Shown", "Shown"),
    ("<?php echo 1 ?>", ""),
    ("Tom &amp; Jerry&nbsp;!", "Tom & Jerry\u00a0!"),
]


@pytest.mark.parametrize("markup,expected", HTML_FRAGMENTS)
def test_html_text_is_what_a_browser_shows(markup, expected):
    assert html_text(markup) == expected


URLS = [
    ("https://github.com/a/b", "github dot com"),
    ("example.com/some/path", "example dot com"),
    ("www.python.org/doc/", "python dot org"),
]


@pytest.mark.parametrize("display,speech", URLS)
def test_a_bare_url_is_said_as_its_site(display, speech):
    paragraph, = MarkdownReader().paragraphs(f"See {display} today.")
    assert paragraph.text == f"See {display} today."
    assert speech_text(paragraph.text) == f"See {speech} today."


def test_a_stray_opener_does_not_swallow_the_paragraphs_after_it():
    texts = [p.text for p in MarkdownReader().paragraphs("A {{ stray.\n\nKept }} here. {{ x\n y }} gone.")]
    assert texts == ["A {{ stray.", "Kept }} here. gone."]


# Openers left unclosed, many times over: each costs one short scan, never one to the end of the text.
HOSTILE = ["{{ ", "{% ", "{{< ", "{# ", "{% raw %}", "{% highlight x %}", "{% comment %}", "{/* ",
           "[[", "%% ", "~~", "{{< highlight go >}}", "{::comment}", "[^1]", "<kbd>",
           '{a="', "x{a=", "     ", "     ^x"]  # attribute lists and block ids: a space or an opener, repeated


@pytest.mark.parametrize("opener", HOSTILE)
def test_many_unclosed_openers_are_read_in_linear_time(opener):
    started = time.perf_counter()
    MarkdownReader().paragraphs(opener * 20_000)
    assert time.perf_counter() - started < 2.5
