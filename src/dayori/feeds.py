"""The feed stage: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for 業務合理化便り, DX日記, both together and each tag.

Feeds are read by programs we do not control, so everything that goes in is made safe and absolute here:
bodies are reduced to an allow-list of HTML with absolute http(s) URLs, strings lose characters XML forbids,
and nothing depends on the clock, so two builds of the same content give the same bytes.

Tag feeds live at `feeds/tags/<slug>.<ext>`. A slug is the tag folded with NFKC and lower-cased; ASCII tags
keep only `a-z0-9` joined by `-`; tags with other letters (Japanese) keep their letters, so the file name is
Unicode and its URL is the percent-encoded UTF-8 form (`tag_feed_links` gives it). Tags that fold to the same
slug (`AI`, `ａｉ`) share one feed.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.ext.media import MediaEntryExtension, MediaExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from dayori.config import TOKYO, Settings
from dayori.model import (
    Content,
    Episode,
    Issue,
    Output,
    is_published,
    newest_first,
    tag_slug,
)

FEED_LIMIT = 50
"""Entries per main feed: subscribers need the recent ones, the archive is on the site."""

TAG_FEED_LIMIT = 20
"""Entries per tag feed: a site has many tags, and each tag feed repeats full bodies of the main feeds."""

TAG_DATE = "2026"
"""The date part of entry ids (RFC 4151 tag URIs); fixed forever so ids never change."""

PUBLISH_TIME = dt.time(9, 0)
"""Items are announced at 09:00 Tokyo time on their date."""

_EMPTY_FEED_DATE = dt.datetime(int(TAG_DATE), 1, 1, 9, tzinfo=TOKYO)
"""The date of a feed with no entries yet: any fixed date keeps builds reproducible."""

NEWSLETTER_TITLE = "業務合理化便り"
VIDEOS_TITLE = "DX日記"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

_FORMATS = (("rss", "xml", "application/rss+xml", "RSS"),
            ("atom", "atom", "application/atom+xml", "Atom"),
            ("json", "json", "application/feed+json", "JSON Feed"))


class Rendition(Protocol):
    """One encoded size of a clip, as the media stage reports it."""

    @property
    def dest(self) -> str: ...
    @property
    def bytes(self) -> int: ...
    @property
    def mime(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


class MediaResult(Protocol):
    """What the media stage made of one episode's clip; renditions are largest first. A clip that failed to
    encode (preview builds keep going) has no renditions and no poster; its entry then carries no video."""

    @property
    def renditions(self) -> Sequence[Rendition]: ...
    @property
    def poster(self) -> Output | None: ...
    @property
    def still(self) -> Output | None: ...
    @property
    def duration(self) -> float: ...


@dataclass(frozen=True)
class Enclosure:
    url: str
    length: int
    mime: str
    width: int
    height: int


@dataclass(frozen=True)
class FeedItem:
    """One entry as every feed format shows it, computed once per build however many feeds list it."""

    id: str
    url: str
    title: str
    published: dt.datetime
    summary: str
    html: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    enclosures: tuple[Enclosure, ...] = ()
    image: str | None = None
    duration: float | None = None


@dataclass(frozen=True)
class FeedSpec:
    """One feed, written in all three formats."""

    stem: str
    title: str
    description: str
    home: str
    items: tuple[Issue | Episode, ...]


def build_feeds(content: Content, settings: Settings, media: Mapping[str, Any] | None = None, *,
                limit: int | None = FEED_LIMIT, tag_limit: int | None = TAG_FEED_LIMIT) -> list[Output]:
    """All feeds; `limit` and `tag_limit` cap entries per main and tag feed (None: all)."""
    issues = _newest_first(i for i in content.issues if is_published(i, content.today))
    episodes = _newest_first(e for e in content.episodes if is_published(e, content.today))
    main = [
        FeedSpec("newsletter", NEWSLETTER_TITLE, f"{NEWSLETTER_TITLE}の最新号", "newsletter/", issues),
        FeedSpec("videos", VIDEOS_TITLE, f"{VIDEOS_TITLE}の新着動画", "videos/", episodes),
        FeedSpec("all", f"{settings.site_name}（すべての新着）", f"{NEWSLETTER_TITLE}と{VIDEOS_TITLE}の新着",
                 "", _newest_first([*issues, *episodes])),
    ]
    specs = [(spec, limit) for spec in main] + [(spec, tag_limit)
                                                for spec in _tag_specs(settings, [*issues, *episodes])]
    entries = _EntryCache(settings, media or {})
    outputs: list[Output] = []
    for spec, cap in specs:
        shown = spec.items if cap is None else spec.items[:cap]
        items = [entries.item(i) for i in shown]
        outputs.extend(_render(spec, items, [entries.feed_entry(i) for i in shown], settings))
    return outputs


def feed_links(settings: Settings) -> list[dict[str, str]]:
    """The main feeds for `<link rel="alternate">` and the visible subscribe links, newsletter first."""
    names = (("newsletter", NEWSLETTER_TITLE), ("videos", VIDEOS_TITLE),
             ("all", f"{settings.site_name}（すべての新着）"))
    return [link for stem, title in names for link in _links(settings, f"feeds/{stem}", title)]


def tag_feed_links(settings: Settings, tag: str) -> list[dict[str, str]]:
    """The feeds of one tag, for its tag page."""
    return _links(settings, f"feeds/tags/{quote(tag_slug(tag))}", f"{settings.site_name}：{tag}")


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


def _newest_first(items: Iterable[Issue | Episode]) -> tuple[Any, ...]:
    return tuple(newest_first(items))


def _tag_specs(settings: Settings, items: Sequence[Issue | Episode]) -> list[FeedSpec]:
    by_slug: dict[str, dict[str, None]] = {}
    members: dict[str, list[Issue | Episode]] = {}
    for item in _newest_first(items):
        for tag in dict.fromkeys(clean_text(t).strip() for t in item.tags):
            if not tag:
                continue
            slug = tag_slug(tag)
            by_slug.setdefault(slug, {})[tag] = None
            if not members.get(slug) or members[slug][-1] is not item:
                members.setdefault(slug, []).append(item)
    specs = []
    for slug in sorted(by_slug):
        label = "・".join(sorted(by_slug[slug]))
        specs.append(FeedSpec(f"tags/{slug}", f"{settings.site_name}：{label}",
                              f"タグ「{label}」の付いた{NEWSLETTER_TITLE}と{VIDEOS_TITLE}", "",
                              tuple(members[slug])))
    return specs


def _links(settings: Settings, stem: str, title: str) -> list[dict[str, str]]:
    return [{"title": f"{title}（{label}）", "url": settings.absolute(f"{stem}.{ext}"), "path": f"{stem}.{ext}",
             "type": mime, "format": fmt} for fmt, ext, mime, label in _FORMATS]


def _tag_uri(settings: Settings, path: str) -> str:
    """An RFC 4151 id from the site's host and an item path that depends only on vol or slug."""
    parts = urlsplit(settings.site_url)
    prefix = parts.path.strip("/")
    specific = f"{prefix}/{path}" if prefix else path
    return f"tag:{parts.hostname or 'localhost'},{TAG_DATE}:{quote(specific, safe='/')}"


def _uri(url: str) -> str:
    """A URL safe for attributes that must be URIs: non-ASCII percent-encoded, existing escapes kept."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def _published(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, PUBLISH_TIME, tzinfo=TOKYO)


class _EntryCache:
    """Each item's sanitized entry and feedgen entry, made once per build and shared by every feed."""

    def __init__(self, settings: Settings, media: Mapping[str, MediaResult]) -> None:
        self._settings = settings
        self._media = media
        self._items: dict[str, FeedItem] = {}
        self._entries: dict[str, FeedEntry] = {}

    def item(self, source: Issue | Episode) -> FeedItem:
        return self._once(self._items, source, self._make_item)

    def feed_entry(self, source: Issue | Episode) -> FeedEntry:
        return self._once(self._entries, source, lambda s: _feed_entry(self.item(s)))

    @staticmethod
    def _once(cache: dict[str, Any], source: Issue | Episode, make: Callable[[Any], Any]) -> Any:
        if source.key not in cache:
            cache[source.key] = make(source)
        return cache[source.key]

    def _make_item(self, source: Issue | Episode) -> FeedItem:
        settings = self._settings
        page = _uri(settings.absolute(source.url))
        summary = clean_text(source.summary).strip() or _excerpt(clean_text(source.body.text))
        common = dict(
            id=_tag_uri(settings, source.url.strip("/")),
            url=page,
            title=clean_text(source.title).strip() or source.url,
            published=_published(source.date),
            summary=summary,
            html=sanitize_html(source.body.html, page),
            tags=tuple(dict.fromkeys(t for t in (clean_text(t).strip() for t in source.tags) if t)),
        )
        if isinstance(source, Issue):
            return FeedItem(**common, authors=tuple(a for a in (clean_text(a).strip() for a in source.authors)
                                                    if a))
        result = self._media.get(source.slug)
        if result is None:
            return FeedItem(**common, authors=())
        poster = result.poster
        return FeedItem(**common, authors=(), enclosures=tuple(_enclosures(result, settings)),
                        image=_uri(settings.absolute(poster.dest)) if poster is not None else None,
                        duration=float(result.duration) if result.renditions else None)


def _enclosures(result: MediaResult, settings: Settings) -> list[Enclosure]:
    """All renditions, the 720p MP4 first (the one RSS's single enclosure carries), then largest first."""
    renditions = [Enclosure(_uri(settings.absolute(r.dest)), int(r.bytes), r.mime, int(r.width), int(r.height))
                  for r in result.renditions]
    main = next((r for r in renditions if r.mime == "video/mp4" and min(r.width, r.height) == 720),
                next((r for r in renditions if r.mime == "video/mp4"), renditions[0] if renditions else None))
    return [] if main is None else [main, *(r for r in renditions if r is not main)]


def _excerpt(text: str, length: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[:length].rstrip() + "…"


class _FeedEntry(FeedEntry):
    """feedgen 1.0's Atom entries drop rel/type/length from their links (a shadowed loop variable), which turns
    the video enclosure into a second alternate link; this puts them back."""

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        for element, data in zip(entry.findall("link"), self.link() or []):
            for name in ("rel", "type", "hreflang", "title", "length"):
                if data.get(name):
                    element.set(name, data[name])
        return entry


def _feed_entry(item: FeedItem) -> FeedEntry:
    entry = _FeedEntry()
    entry.register_extension("media", MediaEntryExtension)
    entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    entry.title(item.title)
    entry.guid(item.id, permalink=False)
    entry.link(href=item.url, rel="alternate", type="text/html")
    entry.published(item.published)
    entry.updated(item.published)
    entry.summary(item.summary)
    if item.html:
        entry.content(item.html, type="html")
    for author in item.authors:
        entry.author(name=author)
    if item.authors:
        entry.dc.dc_creator(list(item.authors))
    if item.tags:
        entry.category([{"term": tag} for tag in item.tags])
    group = _media_group(item)
    if item.enclosures:
        main = item.enclosures[0]
        entry.enclosure(main.url, str(main.length), main.mime)
        duration = str(max(1, round(item.duration))) if item.duration is not None else None
        entry.media.content([_media_content(e, duration, e is main) for e in item.enclosures], group=group)
    if item.image:
        entry.media.thumbnail(url=item.image, group=group)
    return entry


def _media_group(item: FeedItem) -> str | None:
    """Media RSS allows `media:group` only around several renditions of one clip (the W3C validator's
    MediaGroupWithoutAlternatives error otherwise); feedgen puts media with no group directly in the item."""
    return "renditions" if len(item.enclosures) > 1 else None


def _media_content(enclosure: Enclosure, duration: str | None, default: bool) -> dict[str, str]:
    data = {"url": enclosure.url, "fileSize": str(enclosure.length), "type": enclosure.mime, "medium": "video",
            "isDefault": "true" if default else "false", "expression": "full",
            "width": str(enclosure.width), "height": str(enclosure.height)}
    if duration:
        data["duration"] = duration
    return data


def _render(spec: FeedSpec, items: Sequence[FeedItem], entries: Sequence[FeedEntry],
            settings: Settings) -> list[Output]:
    newest = items[0].published if items else _EMPTY_FEED_DATE
    home = _uri(settings.absolute(spec.home))
    dest = f"feeds/{spec.stem}"
    generator = FeedGenerator()
    generator.register_extension("media", MediaExtension, MediaEntryExtension)
    generator.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    generator.id(_tag_uri(settings, dest))
    generator.title(clean_text(spec.title))
    generator.subtitle(clean_text(spec.description))
    generator.author(name=clean_text(settings.site_name))
    generator.language("ja")
    generator.generator("Dayori")
    generator.updated(newest)
    generator.lastBuildDate(newest)
    for entry in entries:
        generator.add_entry(entry, order="append")
    outputs = []
    for fmt, ext, mime, _label in _FORMATS[:2]:
        # feedgen takes RSS's channel link from the last link given, so the home page goes last
        generator.link([{"href": _uri(settings.absolute(f"{dest}.{ext}")), "rel": "self", "type": mime},
                        {"href": home, "rel": "alternate", "type": "text/html"}], replace=True)
        xml = generator.rss_str() if fmt == "rss" else generator.atom_str()
        outputs.append(Output(dest=f"{dest}.{ext}", content=xml))
    outputs.append(Output(dest=f"{dest}.json",
                          content=_json_feed(spec, items, home, _uri(settings.absolute(f"{dest}.json")),
                                             settings)))
    return outputs


def _json_feed(spec: FeedSpec, items: Sequence[FeedItem], home: str, feed_url: str, settings: Settings) -> bytes:
    feed = {
        "version": JSON_FEED_VERSION,
        "title": clean_text(spec.title),
        "home_page_url": home,
        "feed_url": feed_url,
        "description": clean_text(spec.description),
        "language": "ja",
        "authors": [{"name": clean_text(settings.site_name)}],
        "items": [_json_item(item) for item in items],
    }
    text = json.dumps(feed, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _JSON_HTML_ESCAPES:
        text = text.replace(char, escape)
    return (text + "\n").encode()


_JSON_HTML_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"))
"""Escapes for characters that only occur inside JSON strings, so no `<script` text reaches the file even when a
title quotes one, in case something serves or sniffs the file as HTML."""


def _json_item(item: FeedItem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "summary": item.summary,
        **({"content_html": item.html} if item.html else {"content_text": item.summary}),
        "date_published": item.published.isoformat(),
        "date_modified": item.published.isoformat(),
        "language": "ja",
    }
    if item.image:
        data["image"] = item.image
    if item.authors:
        data["authors"] = [{"name": a} for a in item.authors]
    if item.tags:
        data["tags"] = list(item.tags)
    if item.enclosures:
        data["attachments"] = [_json_attachment(e, item.title, item.duration) for e in item.enclosures]
    return data


def _json_attachment(enclosure: Enclosure, title: str, duration: float | None) -> dict[str, Any]:
    """One rendition; every rendition of a clip carries the same title, which is how JSON Feed 1.1 marks
    attachments as alternates of one thing rather than separate files."""
    data: dict[str, Any] = {"url": enclosure.url, "mime_type": enclosure.mime, "title": title,
                            "size_in_bytes": enclosure.length}
    if duration is not None:
        data["duration_in_seconds"] = round(duration, 3)
    return data
