"""Feed bodies and strings made safe for readers we do not control: an allow-list of HTML with absolute
http(s) URLs, and text without the characters XML forbids."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree


def sanitize_html(html: str, base_url: str) -> str:
    """`html` reduced to an allow-list of elements and attributes, every URL absolute against `base_url`.

    Feed readers differ in what they strip, so we send nothing that could run script, load from a
    site-relative path that only works on our pages, or restyle the reader.
    """
    html = _DOCUMENT_TAGS.sub("", clean_text(html))
    if not html.strip():
        return ""
    root = etree.fromstring(f"<html><body>{html}</body></html>".encode(), _HTML_PARSER)
    _clean_children(root, _Base.of(base_url))
    root.attrib.clear()
    return etree.tostring(root, encoding="unicode", method="html")[len("<html>"):-len("</html>")]


_DOCUMENT_TAGS = re.compile(r"</?(?:html|body)\b[^>]*>", re.IGNORECASE)
"""Document tags in a body; libxml2 stops reading at `</html>`, which would silently cut the rest."""
_HTML_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """`text` without the control characters XML 1.0 forbids (and DEL), which editors paste by accident."""
    return _XML_ILLEGAL.sub("", text)


_ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    tag: frozenset(attrs) for tag, attrs in {
        "a": ("href", "title"), "abbr": ("title",), "b": (), "blockquote": ("cite",), "br": (),
        "caption": (), "cite": (), "code": (), "col": ("span",), "colgroup": ("span",), "dd": (),
        "del": ("cite", "datetime"), "details": ("open",), "dfn": (), "div": (), "dl": (), "dt": (), "em": (),
        "figcaption": (), "figure": (), "h1": (), "h2": (), "h3": (), "h4": (), "h5": (), "h6": (), "hr": (),
        "i": (), "img": ("src", "alt", "title", "width", "height"), "ins": ("cite", "datetime"), "kbd": (),
        "li": ("value",), "mark": (), "ol": ("start", "reversed", "type"), "p": (), "pre": (),
        "q": ("cite",), "rp": (), "rt": (), "ruby": (), "s": (), "samp": (), "small": (), "span": (),
        "strong": (), "sub": (), "summary": (), "sup": (), "table": (), "tbody": (),
        "td": ("colspan", "rowspan", "headers"), "tfoot": (), "th": ("colspan", "rowspan", "scope", "headers"),
        "thead": (), "time": ("datetime",), "tr": (), "u": (), "ul": (), "var": (), "wbr": (),
        "video": ("src", "poster", "controls", "width", "height", "preload", "playsinline", "muted", "loop"),
        "audio": ("src", "controls", "preload", "loop"), "source": ("src", "type"),
        "track": ("src", "kind", "srclang", "label", "default"),
    }.items()
}
_DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "template",
    "svg", "math", "textarea", "select", "option", "title", "head", "meta", "link", "base", "param",
    "noembed", "noframes", "xmp", "plaintext", "input", "button", "canvas", "dialog", "portal",
})
_URL_ATTRIBUTES = frozenset({"href", "src", "poster", "cite"})
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_NOISE = re.compile(r"[\t\n\r]")
_PLAIN_RELATIVE = re.compile(r"[^:/?#][^:?#]*")


@dataclass(frozen=True)
class _Base:
    """A page URL split once, so the common relative link resolves without a full `urljoin` per attribute."""

    url: str
    origin: str
    directory: str

    @classmethod
    def of(cls, url: str) -> _Base:
        parts = urlsplit(url)
        return cls(url, f"{parts.scheme}://{parts.netloc}", parts.path.rsplit("/", 1)[0] + "/")

    def safe(self, value: str) -> str | None:
        """`urljoin(self.url, value)` if that is an http(s)/mailto URL, else None (`java\\tscript:` included,
        as browsers drop tabs and newlines). The fast path covers `../../media/img/a.png`, the usual link."""
        value = _URL_NOISE.sub("", value).strip("\x00\x20\x0c")
        last = value.rsplit("/", 1)[-1]
        if "//" in value or last in (".", "..") or not _PLAIN_RELATIVE.fullmatch(value):
            url = urljoin(self.url, value)
            return url if urlsplit(url).scheme.lower() in _SAFE_SCHEMES else None
        path = posixpath.normpath(self.directory + value)
        return self.origin + path + ("/" if value.endswith("/") and path != "/" else "")


def _clean_children(parent: Any, base_url: _Base) -> None:
    for child in list(parent):
        tag = child.tag if isinstance(child.tag, str) else ""
        tag = tag.lower()
        if tag in _ALLOWED_ATTRIBUTES:
            _clean_attributes(child, _ALLOWED_ATTRIBUTES[tag], base_url)
            _clean_children(child, base_url)
        elif not tag or tag in _DROPPED_WITH_CONTENT:
            _drop_tree(parent, child)
        else:
            _clean_children(child, base_url)
            _drop_tag(parent, child)


def _append_text(parent: Any, previous: Any, text: str | None) -> None:
    if not text:
        return
    if previous is None:
        parent.text = (parent.text or "") + text
    else:
        previous.tail = (previous.tail or "") + text


def _drop_tree(parent: Any, element: Any) -> None:
    """The element and everything in it removed; the text after it stays."""
    _append_text(parent, element.getprevious(), element.tail)
    parent.remove(element)


def _drop_tag(parent: Any, element: Any) -> None:
    """The element's tags removed; its text and (already cleaned) children take its place."""
    previous = element.getprevious()
    _append_text(parent, previous, element.text)
    if len(element):
        _append_text(element, element[-1], element.tail)
    else:
        _append_text(parent, previous, element.tail)
    index = parent.index(element)
    parent[index:index + 1] = list(element)


def _clean_attributes(element: Any, allowed: frozenset[str], base_url: _Base) -> None:
    attributes = element.attrib
    for name in list(attributes):
        if name not in allowed:
            del attributes[name]
        elif name in _URL_ATTRIBUTES:
            url = base_url.safe(attributes[name])
            if url is None:
                del attributes[name]
            else:
                attributes[name] = url
