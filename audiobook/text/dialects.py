"""What static-site generators and note apps add to Markdown, taken out before it is parsed.

A site's build runs its templating before Markdown sees the text, so these
are removed from the source first, keeping the text they carry:

- Liquid / Jinja / Nunjucks (Jekyll, Eleventy): ``{% raw %}`` keeps its content
  as written; ``{% highlight x %}`` becomes a code block; ``{% comment %}``,
  ``{% capture %}`` and ``{# ... #}`` are dropped with their content; any other
  ``{% tag %}`` and every ``{{ expression }}`` is dropped (an ``include`` with a
  ``caption=`` or ``alt=`` leaves that text).
- Hugo shortcodes ``{{< x >}}`` / ``{{% x %}}``: a paired one keeps the text
  between its tags, a ``highlight`` becomes a code block, a self-closing one
  leaves its ``caption=`` or ``alt=`` (a figure's) or nothing (youtube, tweet, gist).
- Attribute lists (``## Title {#id}``, ``[text]{.class}``, Kramdown's ``{: .x}``
  lines, ``{:toc}`` with its ``* TOC`` line) and table-of-contents markers.
- Obsidian: ``[[Page]]`` -> "Page", ``[[Page|shown]]`` -> "shown",
  ``![[embed]]``, ``%%comments%%`` and ``^block-ids`` dropped,
  ``==highlight==`` -> its text; callouts and GitHub alerts
  (``> [!note] Title``) -> a quoted line with the title, or the kind.
- MDX (Docusaurus, Astro): ``import``/``export`` statements and ``{/* */}``
  comments dropped (JSX tags are HTML to the parser; their text is kept).

Fenced code blocks are left exactly as written: code is shown, never read.
"""
from __future__ import annotations

import re

# --- regions handled whole, found in one left-to-right scan -------------------------------

_TAG_END = r"\s*-?%\}"


def _up_to(stop: str) -> str:
    """Any text, shortest first, that does not run past ``stop``: an opener left
    unclosed then costs one scan to the next opener, not one to the end of the text
    (many unclosed openers would otherwise take quadratic time)."""
    return rf"(?:(?!{stop}).)*?"


_RAW = _up_to(r"\{%-?\s*(?:end)?raw\b")
_LIQUID_CODE = _up_to(r"\{%-?\s*(?:end)?highlight\b")
_HUGO_CODE = _up_to(r"\{\{<\s*/?highlight\b")
_DROPPED_BLOCK = _up_to(r"\{%-?\s*(?:end)?(?P=block)\b")
REGIONS = re.compile(
    "|".join((
        # a fenced code block, up to its closing fence or the end of the text
        r"(?P<fence>^[ \t]{0,3}(?P<marker>`{3,}+|~{3,}+)[^\n]*\n.*?(?:^[ \t]{0,3}(?P=marker)[`~]*[ \t]*$|\Z))",
        rf"\{{%-?\s*raw{_TAG_END}(?P<raw>{_RAW})\{{%-?\s*endraw{_TAG_END}",
        rf"\{{%-?\s*highlight\s+(?P<liquid_language>[\w+#.-]*)[^%]*?{_TAG_END}\n?"
        rf"(?P<liquid_code>{_LIQUID_CODE})\{{%-?\s*endhighlight{_TAG_END}",
        r"\{\{<\s*highlight\s+(?P<hugo_language>[\w+#.-]*)[^>]*?>\}\}\n?"
        rf"(?P<hugo_code>{_HUGO_CODE})\{{\{{<\s*/highlight\s*>\}}\}}",
        rf"(?P<dropped>\{{%-?\s*(?P<block>comment|capture)\b{_DROPPED_BLOCK}\{{%-?\s*end(?P=block){_TAG_END}"
        r"|\{#[\s-]" + _up_to(r"\{#") + r"[\s-]#\}"  # Jinja comment
        r"|\{::comment\}" + _up_to(r"\{::comment") + r"\{:/comment\}"  # Kramdown comment
        r"|%%.*?%%"  # Obsidian comment
        r"|\{/\*" + _up_to(r"\{/\*") + r"\*/\})",  # MDX comment
    )),
    re.DOTALL | re.MULTILINE,
)

# --- templating tags ----------------------------------------------------------------------

# A tag may run over lines, but not over a blank line (a stray "{{" must not swallow
# paragraphs) nor into the next tag.
_IN_OUTPUT = _up_to(r"\n[ \t]*\n|\{\{")
_IN_TAG = _up_to(r"\n[ \t]*\n|\{%")
HUGO_SHORTCODE = re.compile(rf"\{{\{{<(?P<angle>{_IN_OUTPUT})>\}}\}}|\{{\{{%(?P<percent>{_IN_OUTPUT})%\}}\}}", re.DOTALL)
LIQUID_TAG = re.compile(rf"\{{%(?P<tag>{_IN_TAG})%\}}", re.DOTALL)
LIQUID_OUTPUT = re.compile(rf"\{{\{{{_IN_OUTPUT}\}}\}}", re.DOTALL)
# name="value", name='value' or name=value inside a tag
TAG_ARGUMENT = re.compile(r"""(?P<name>\w+)\s*=\s*(?:"(?P<double>[^"]*)"|'(?P<single>[^']*)'|(?P<bare>[^\s"'>%]+))""")
# the arguments whose text a reader sees on the page (a figure's caption, an image's alt text)
CARRIED_ARGUMENTS = ("caption", "alt")

# --- attribute lists and table-of-contents markers ----------------------------------------

_ATTRIBUTE = r"""(?:[#.][\w:-]+|[\w-]+=(?:"[^"\n]*"|'[^'\n]*'|[^\s{}]+))"""
ATTRIBUTE_LIST = rf"\{{:?[ \t]*{_ATTRIBUTE}(?:[ \t]+{_ATTRIBUTE})*[ \t]*\}}"
KRAMDOWN_REFERENCE = r"\{:[ \t]*[\w-]+[ \t]*\}|\{::\w+[^}\n]*\}|\{:/\w*\}"
ATTRIBUTE_RULES = [
    # "* TOC" followed by "{:toc}": Kramdown's table of contents
    (re.compile(r"^[ \t]*(?:[*+-]|1\.)[ \t]+[^\n]*\n[ \t]*\{:[ \t]*toc[ \t]*\}[ \t]*$\n?", re.MULTILINE), ""),
    # python-markdown's [TOC], VitePress' [[toc]], GitLab's [[_TOC_]]
    (re.compile(r"^[ \t]*(?:\[TOC\]|\[\[_?toc_?\]\])[ \t]*$\n?", re.MULTILINE | re.IGNORECASE), ""),
    # a line holding only attribute lists
    (re.compile(rf"^[ \t]*(?:(?:{ATTRIBUTE_LIST}|{KRAMDOWN_REFERENCE})[ \t]*)+$\n?", re.MULTILINE), ""),
    (re.compile(rf"(?<![!\]])\[(?P<span>[^\[\]\n]*)\]{ATTRIBUTE_LIST}"), r"\g<span>"),
    (re.compile(rf"(?<![ \t])[ \t]*(?:{ATTRIBUTE_LIST}|{KRAMDOWN_REFERENCE})"), ""),
]

# --- Obsidian, callouts, MDX ---------------------------------------------------------------

WIKI_EMBED = re.compile(r"!\[\[[^\]\n]*\]\]")
WIKI_LINK = re.compile(r"\[\[(?P<target>[^\[\]|\n]*)(?:\|(?P<shown>[^\[\]\n]*))?\]\]")
NOTE_RULES = [
    (re.compile(r"(?<![=\w])==(?=\S)(?P<marked>[^=\n]+?)(?<=\S)==(?!=)"), r"\g<marked>"),
    (re.compile(r"(?<![ \t])[ \t]+\^[A-Za-z0-9-]+[ \t]*$", re.MULTILINE), ""),  # block id
    # MDX: ESM import and export statements (an export runs to the next blank line)
    (re.compile(r"""^import[ \t]+(?:[\w*{}\s,$]+?[ \t]+from[ \t]+)?["'][^"'\n]+["'];?[ \t]*$\n?""", re.MULTILINE), ""),
    (re.compile(r"^export[ \t]+(?:const|let|var|function|default|class|async)\b.*?(?:\n[ \t]*\n|\Z)",
                re.MULTILINE | re.DOTALL), "\n"),
]
CALLOUT = re.compile(r"^(?P<quote>[ \t]*>[ \t]*)\[!(?P<kind>\w+)\][+-]?[ \t]*(?P<title>[^\n]*)$", re.MULTILINE)


def plain_markdown(body: str) -> str:
    """``body`` with every dialect's templating and extra syntax taken out, as Markdown."""
    pieces, done = [], 0
    for match in REGIONS.finditer(body):
        pieces.append(_strip_open_text(body[done:match.start()]))
        pieces.append(_region(match))
        done = match.end()
    pieces.append(_strip_open_text(body[done:]))
    return "".join(pieces)


def _region(match: re.Match[str]) -> str:
    if match["fence"] is not None:
        return match["fence"]
    if match["raw"] is not None:
        return match["raw"]
    if match["liquid_code"] is not None:
        return _code_block(match["liquid_language"], match["liquid_code"])
    if match["hugo_code"] is not None:
        return _code_block(match["hugo_language"], match["hugo_code"])
    return ""  # a comment or a capture


def _code_block(language: str, code: str) -> str:
    return f"\n```{language}\n{code.strip(chr(10))}\n```\n"


def _strip_open_text(text: str) -> str:
    """The rules for text outside code and raw regions, in the order a site build applies them."""
    text = HUGO_SHORTCODE.sub(lambda m: _carried_text(m["angle"] or m["percent"] or ""), text)
    text = LIQUID_TAG.sub(lambda m: _carried_text(m["tag"]), text)
    text = LIQUID_OUTPUT.sub("", text)
    for pattern, replacement in ATTRIBUTE_RULES:
        text = pattern.sub(replacement, text)
    text = WIKI_EMBED.sub("", text)
    text = WIKI_LINK.sub(wiki_link_text, text)
    for pattern, replacement in NOTE_RULES:
        text = pattern.sub(replacement, text)
    return CALLOUT.sub(_callout_lead_in, text)


def _carried_text(tag: str) -> str:
    """What a template tag leaves on the page that a reader would see: its caption or alt text, else nothing."""
    if tag.lstrip(" -").startswith("/"):  # a closing tag
        return ""
    arguments = {m["name"].lower(): m["double"] or m["single"] or m["bare"] or "" for m in TAG_ARGUMENT.finditer(tag)}
    return next((arguments[name] for name in CARRIED_ARGUMENTS if arguments.get(name)), "")


def wiki_link_text(match: re.Match[str]) -> str:
    """Obsidian shows the alias, else the note's name (without folder), else the heading linked to."""
    if match["shown"]:
        return match["shown"].strip()
    page, _, heading = match["target"].partition("#")
    return page.rsplit("/", 1)[-1].strip() or heading.strip()


def _callout_lead_in(match: re.Match[str]) -> str:
    """``> [!warning] Mind the gap`` -> a quoted "Mind the gap" line of its own; no title: "Warning"."""
    quote = match["quote"]
    title = match["title"].strip() or match["kind"].capitalize()
    return f"{quote}{title}\n{quote.rstrip()}"
