"""The one HTML sanitiser (nh3) for bodies, and what in a body is an editor error before it is sanitised.

Bodies are Markdown with raw HTML allowed. Whatever could run script or load something from another host is
reported to the editor with its line (`findings`), because silently dropping it would publish a different page
than the one they wrote; the sanitiser (`clean`) then guarantees it anyway. A body is cleaned once, when it is
rendered (the render cache keeps the result); site pages and email use that HTML, and feeds narrow it further
(`for_feed`), because feed readers restyle nothing of ours and resolve no relative link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

import nh3
from lxml import etree

from dayori.errors import line_containing

Finding = tuple[int, str, str]
"""(line in the Markdown body, what was found, kind): the kind picks the editor's message."""

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
"""Characters nobody types on purpose: Word's vertical tab, NUL, ESC, form feed, noncharacters, lone surrogates."""
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

FORBIDDEN_ELEMENTS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
                                "link", "meta", "portal"})
"""Elements that run script or pull a page, a program or a stylesheet into ours."""
_URL_ATTRIBUTES = frozenset({"href", "src", "poster", "action", "formaction", "data", "background", "cite",
                             "xlink:href", "lowsrc", "dynsrc"})
_LOADING_ATTRIBUTES = frozenset({"src", "poster", "data", "background", "lowsrc", "dynsrc"})
"""Attributes whose URL the browser fetches as the page loads (unlike a link, which a reader chooses to follow)."""
_LOADING_HREF_ELEMENTS = frozenset({"image", "use", "feimage"})
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:", "mocha:")
"""Schemes that run script or show a page made up on the spot; a `data:` image is refused too, because the
sanitiser allows only http(s), mailto and tel and would drop it silently: images are files beside the Markdown."""
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_DOCUMENT_TAGS = re.compile(r"</?(?:html|body|head)\b[^>]*>", re.IGNORECASE)
"""Document tags in a body; libxml2 stops reading at `</html>`, which would hide what follows from `findings`."""
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)

_STYLE_PROPERTIES = frozenset({
    "color", "background-color", "text-align", "vertical-align", "font-weight", "font-style", "font-size",
    "text-decoration", "white-space", "display", "width", "height", "max-width", "min-width", "margin",
    "margin-top", "margin-bottom", "margin-left", "margin-right", "padding", "padding-top", "padding-bottom",
    "padding-left", "padding-right", "border", "border-collapse", "border-color", "border-style", "border-width",
    "list-style-type", "line-height",
})
"""Layout and colour only: no property that can carry `url()`."""
_CLEAN_CONTENT = frozenset({"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
                            "noscript", "template", "svg", "math", "textarea", "select", "title", "noembed",
                            "noframes", "xmp", "plaintext", "portal", "head"})
_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SITE_TAGS = frozenset(nh3.ALLOWED_TAGS) | {"input", "label", "video", "audio", "source", "track", "picture",
                                           "section", "main"}
WIDGET_ATTRIBUTES = ("data-md-", "data-clipboard-", "data-copy", "data-preview")
"""The theme's (Material's) hooks: an element carrying one becomes one of its widgets, and some widgets fetch
data from another host (`data-md-component="source"` asks a code host about a repository at every view)."""
_DATA_ATTRIBUTES = frozenset({"data-tabs"})
"""`data-*` attributes that the Markdown extensions write and the theme styles (tabbed blocks); any other is
removed, so that no future theme hook can be switched on from a body."""
_SITE_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir", "role", "hidden", "style", *_DATA_ATTRIBUTES},
    "a": {"href", "name"}, "img": {"src", "alt", "width", "height", "loading", "decoding", "srcset", "sizes"},
    "input": {"type", "checked", "disabled", "id", "name"}, "label": {"for"},
    "td": {"colspan", "rowspan", "headers", "align"}, "th": {"colspan", "rowspan", "scope", "headers", "align"},
    "col": {"span"}, "colgroup": {"span"}, "ol": {"start", "reversed", "type"}, "li": {"value"},
    "time": {"datetime"}, "data": {"value"}, "abbr": {"title"}, "details": {"open"}, "blockquote": {"cite"},
    "q": {"cite"}, "del": {"cite", "datetime"}, "ins": {"cite", "datetime"},
    "video": {"src", "poster", "controls", "width", "height", "preload", "playsinline", "muted", "loop"},
    "audio": {"src", "controls", "preload", "loop"}, "source": {"src", "type", "media", "srcset", "sizes"},
    "track": {"src", "kind", "srclang", "label", "default"},
}
"""`srcset` is checked like `src` (`findings` reports another host; `dayori.render` refuses a path in raw HTML):
the site's own pictures carry their phone-sized copies in it (`dayori.responsive`)."""
_FEED_ATTRIBUTES = {
    "a": {"href", "title"}, "abbr": {"title"}, "blockquote": {"cite"}, "col": {"span"}, "colgroup": {"span"},
    "del": {"cite", "datetime"}, "details": {"open"}, "img": {"src", "alt", "title", "width", "height"},
    "ins": {"cite", "datetime"}, "li": {"value"}, "ol": {"start", "reversed", "type"}, "q": {"cite"},
    "td": {"colspan", "rowspan", "headers"}, "th": {"colspan", "rowspan", "scope", "headers"},
    "time": {"datetime"},
    "video": {"src", "poster", "controls", "width", "height", "preload", "playsinline", "muted", "loop"},
    "audio": {"src", "controls", "preload", "loop"}, "source": {"src", "type"},
    "track": {"src", "kind", "srclang", "label", "default"},
}
_FEED_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"area", "map", "nav", "header", "footer", "aside", "article", "hgroup",
                                            "center", "acronym", "strike", "tt", "bdo", "bdi", "data", "rtc"} \
    | {"video", "audio", "source", "track"}
_FEED_URL_ATTRIBUTE = re.compile(r'(\s(?:src|href|poster|cite)=")([^"]*)(")')


@lru_cache(maxsize=1)
def _site_cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(tags=set(_SITE_TAGS), clean_content_tags=set(_CLEAN_CONTENT), attributes=_SITE_ATTRIBUTES,
                       generic_attribute_prefixes={"aria-"}, link_rel=None, url_schemes=set(_SCHEMES),
                       tag_attribute_values={"a": {"target": {"_blank"}}},
                       filter_style_properties=set(_STYLE_PROPERTIES))


@lru_cache(maxsize=1)
def _feed_cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(tags=set(_FEED_TAGS), clean_content_tags=set(_CLEAN_CONTENT), attributes=_FEED_ATTRIBUTES,
                       link_rel=None, url_schemes={"http", "https", "mailto"})


def clean(html: str) -> str:
    """The body as every output may show it: an allow-list of elements, attributes, styles and URL schemes."""
    return _site_cleaner().clean(clean_text(html))


def for_feed(html: str, base_url: str) -> str:
    """A cleaned body narrowed for feed readers (no classes, ids or styles of our theme) with every URL
    absolute against `base_url`, the item's page, and percent-encoded as feed validators require."""
    narrowed = _feed_cleaner().clean(clean_text(html))
    return _FEED_URL_ATTRIBUTE.sub(lambda m: m.group(1) + _absolute(m.group(2), base_url) + m.group(3), narrowed)


def _absolute(value: str, base_url: str) -> str:
    return quote(urljoin(base_url, value), safe=":/?#[]@!$&'()*+,;=%~")


def clean_text(text: str) -> str:
    """`text` without the control characters XML 1.0 forbids (and DEL), which editors paste by accident."""
    return _XML_ILLEGAL.sub("", text)


def findings(html: str, markdown: str) -> list[Finding]:
    """What in the rendered body `html` would run script or load from another host, with its line in
    `markdown` (the body as the editor wrote it), plus control characters in `markdown` itself."""
    found = [(number, "・".join(f"U+{ord(char):04X}" for char in dict.fromkeys(_CONTROL.findall(line))), "control")
             for number, line in enumerate(markdown.split("\n"), start=1) if _CONTROL.search(line)]
    lines = _Lines(markdown)
    if html.strip():
        root = etree.fromstring(f"<html><body>{_DOCUMENT_TAGS.sub('', clean_text(html))}</body></html>".encode(),
                                _PARSER)
        if root is not None:
            found += [(lines.of(needle, *others), detail, kind) for kind, detail, needle, *others in _problems(root)]
    return found


def _problems(root: etree._Element) -> Iterator[tuple[str, ...]]:
    """(kind, detail, needles to find the line…) for each problem, in document order."""
    for element in root.iter():
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in FORBIDDEN_ELEMENTS:  # one message per element: removing it removes its attributes too
            yield ("script" if tag == "script" else "element", tag, f"<{tag}")
            continue
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on"):
                yield ("event", name, f"{name}=", name)
            elif name.startswith(WIDGET_ATTRIBUTES):
                yield ("widget", name, f"{name}=", name)
            elif name in _URL_ATTRIBUTES or (name == "href" and tag in _LOADING_HREF_ELEMENTS):
                yield from _url_problems(value, name in _LOADING_ATTRIBUTES or tag in _LOADING_HREF_ELEMENTS)
            elif name == "srcset":
                for candidate in value.split(","):
                    yield from _url_problems(candidate.strip().split(" ")[0], True)
            elif name == "style":
                yield from _css_problems(value)
        if tag == "style":
            yield from _css_problems(element.text or "")


def _url_problems(value: str, loads: bool) -> Iterator[tuple[str, ...]]:
    url = _URL_NOISE.sub("", value).replace("\\", "/")
    lowered = url.lower()
    if lowered.startswith(_BAD_SCHEMES):
        yield ("scheme", value.strip(), value.strip(), lowered.split(":", 1)[0] + ":")
    elif loads and _other_host(url):
        yield ("remote", value.strip(), value.strip())


def _css_problems(css: str) -> Iterator[tuple[str, ...]]:
    for match in [*_CSS_URL.finditer(css), *_CSS_IMPORT.finditer(css)]:
        url = next(group for group in match.groups() if group is not None)
        if _other_host(_URL_NOISE.sub("", url).replace("\\", "/")):
            yield ("remote", url.strip(), match.group(0), url.strip())


def _other_host(url: str) -> bool:
    if url.startswith("//"):
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    return bool(parts.netloc) or parts.scheme.lower() in ("http", "https", "ftp")


@dataclass
class _Lines:
    """Finds each problem's line, ignoring case (HTML does); a second problem with the same text is looked for
    below the first."""

    markdown: str

    def __post_init__(self) -> None:
        self.lowered = self.markdown.lower()
        self.after: dict[str, int] = {}

    def of(self, *needles: str) -> int:
        for needle in needles:
            line = self._below(needle.lower())
            if line is not None:
                return line
        return 1

    def _below(self, needle: str) -> int | None:
        """The next line naming `needle` after the one found last time; that one again when it is the last."""
        previous = self.after.get(needle, 0)
        parts = self.lowered.split("\n", previous)
        rest = parts[previous] if len(parts) > previous else ""
        found = line_containing(rest, needle)
        if found is None:
            return previous or None
        self.after[needle] = previous + found
        return previous + found
