"""A document as license detection sees it: its visible text, and the links and images it carries.

HTML is reduced with a single pass over its tags (no parser: this runs on every document of a crawl before
anything else). A link keeps its URL, whether it is marked `rel="license"`, whether it wraps an image (a badge),
and where its anchor text lands in the visible text, so that "Licensed under the <a href=…>Apache License, Version
2.0</a>" reads as the sentence people see, with the link beside it. Plain text and Markdown keep their text; their
URLs (`[MIT](https://opensource.org/licenses/MIT)`, badge images) become links too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

_HTML_HINT = re.compile(r"<(?:html|body|head|div|p|a|span|footer|br|li|td|meta|link|img)\b[^>]*>", re.IGNORECASE)
_DROP = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")
_BLOCK_TAGS = frozenset("p div br li ul ol tr td th table h1 h2 h3 h4 h5 h6 footer header section article pre "
                        "blockquote dd dt dl nav aside main hr title body".split())
_ATTR = re.compile(r"""([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+|(?<![\w/.@-])(?:www\.)?(?:[a-z0-9-]+\.)+(?:org|com|net)/[^\s<>\"'()"
                  r"\[\]{}]*licen[cs][^\s<>\"'()\[\]{}]*", re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
# reStructuredText's inline link: `GPL 2.0 <LICENSE_GPL2.0.txt>`_ reads "GPL 2.0"
_RST_LINK = re.compile(r"`(?P<label>[^`<>\n]+?)\s*<(?P<target>[^`<>\s]+)>`__?")


@dataclass(frozen=True)
class Link:
    url: str
    at: int                 # offset in `Page.text` where the link (its anchor text) starts
    rel_license: bool = False
    image: bool = False     # an image: a badge, or a link wrapping one


@dataclass
class Page:
    text: str                               # what a reader sees: tags removed, entities decoded
    links: list[Link] = field(default_factory=list)
    is_html: bool = False


def _attrs(raw: str) -> dict[str, str]:
    return {m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "") for m in _ATTR.finditer(raw)}


def _link_start(text: str, url_at: int) -> int:
    """Where a Markdown link `[label](url)` starts (its label is what a reader sees before the URL)."""
    if text[max(0, url_at - 2):url_at] == "](":
        bracket = text.rfind("[", max(0, url_at - 200), url_at)
        if bracket >= 0:
            return bracket
    return url_at


def read_page(raw: str) -> Page:
    """The visible text and the links of `raw` (HTML or plain text / Markdown)."""
    if not _HTML_HINT.search(raw):
        images = {m.group(1) for m in _MD_IMAGE.finditer(raw)}
        links = [Link(m.group(0).rstrip(".,;:"), _link_start(raw, m.start()), image=m.group(0) in images)
                 for m in _URL.finditer(raw)]
        if "`_" in raw:  # the label in place of the whole link, padded: offsets stay those of `raw`
            raw = _RST_LINK.sub(lambda m: m["label"].ljust(len(m.group(0))), raw)
        return Page(raw, links)
    source = _DROP.sub(" ", raw)
    out: list[str] = []
    size = 0
    links: list[Link] = []
    open_link: dict | None = None
    pos = 0
    for m in _TAG.finditer(source):
        chunk = html.unescape(source[pos:m.start()])
        pos = m.end()
        if chunk:
            chunk = _SPACES.sub(" ", chunk)
            out.append(chunk)
            size += len(chunk)
        closing, name = m.group(1) == "/", m.group(2).lower()
        if name in ("a", "link") and not closing:
            attrs = _attrs(m.group(3))
            if attrs.get("href"):
                rel = "license" in attrs.get("rel", "").lower().split()
                entry = {"url": attrs["href"], "at": size, "rel": rel, "image": False}
                if name == "link":
                    links.append(Link(entry["url"], size, rel))
                else:
                    open_link = entry
        elif name == "a" and closing and open_link is not None:
            links.append(Link(open_link["url"], open_link["at"], open_link["rel"], open_link["image"]))
            open_link = None
        elif name == "img":
            src = _attrs(m.group(3)).get("src")
            if open_link is not None:
                open_link["image"] = True
            if src:
                links.append(Link(src, size, image=True))
        elif name in _BLOCK_TAGS:
            out.append("\n")
            size += 1
    tail = _SPACES.sub(" ", html.unescape(source[pos:]))
    out.append(tail)
    if open_link is not None:
        links.append(Link(open_link["url"], open_link["at"], open_link["rel"], open_link["image"]))
    return Page("".join(out), links, is_html=True)
