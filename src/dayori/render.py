"""Renders each body once, with the site's Markdown extensions; every later stage starts from this HTML.

Links and images are resolved here, against the editor's files: a missing file is an editor error with its
line, an image becomes a content-addressed asset, and a link to another issue's `.md` becomes its page URL.
Only files inside the content folders, of a listed type, are ever published from a link (see `Containment`).
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from dayori import limits, paths, sanitize
from dayori.attachments import published_key, recipe_version
from dayori.config import LimitSettings, Settings, never_published
from dayori.errors import line_containing
from dayori.limits import picture_size
from dayori.memo import Memo, remember
from dayori.model import Asset, Body, Heading
from dayori.pack import Pack
from dayori.paths import find_path
from dayori.store import code_version, digest, parsed_json
from dayori.urls import relative

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINKED_ATTRIBUTES = (("img", "src"), ("a", "href"), ("source", "src"), ("video", "poster"))
PREVIEW_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
"""Where `make serve` answers: an address pasted from its address bar is a link to a page, never for readers."""
_RAW_URL_ATTRIBUTES = frozenset({"src", "href", "poster", "srcset", "data", "action", "formaction", "background",
                                 "xlink:href"})


@dataclass(frozen=True)
class Containment:
    """Where a linked file may come from: inside the content folders (after symlinks are followed), in no
    hidden folder (`.git`, `.env`) nor the cache, and of a listed type. Everything else in the project
    (the send ledger, secrets, other people's files) can never be published by writing a link to it."""

    roots: tuple[Path, ...]
    excluded: tuple[Path, ...]
    attachments: tuple[str, ...]

    @classmethod
    def of(cls, settings: Settings) -> Containment:
        return cls(tuple(p.resolve() for p in settings.content_paths), (settings.cache_path.resolve(),),
                   settings.attachments)

    def refusal(self, path: Path) -> str | None:
        """Why the resolved `path` may not be published (a key of the editor messages), or None."""
        root = next((r for r in self.roots if path.is_relative_to(r)), None)
        if root is None or any(path.is_relative_to(e) for e in self.excluded):
            return "outside"
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            return "hidden"
        if path.suffix.lower() == ".md":
            return None
        if never_published(path.suffix):
            return "private"
        if path.suffix.lower().lstrip(".") not in self.attachments:
            return "type"
        return None


@dataclass
class _Target:
    """What the link resolver needs to know about the body being rendered, and what it looked at."""

    source: Path
    page_url: str
    markdown: str
    link_for_file: Callable[[Path], str | None]
    page_for_url: Callable[[str], Path | None] = lambda url: None
    assets: list[Asset] = field(default_factory=list)
    broken: list[tuple[int, str, str]] = field(default_factory=list)
    links: list[tuple[int, str, str]] = field(default_factory=list)
    depends: list[list[Any]] = field(default_factory=list)


class _LinkResolver(Treeprocessor):  # type: ignore[misc]  # Markdown ships no types
    def __init__(self, md: markdown.Markdown, renderer: Renderer) -> None:
        super().__init__(md)
        self.renderer = renderer

    def run(self, root: Element) -> None:
        target = self.renderer.current
        if target is None:
            return
        for tag, attribute in _LINKED_ATTRIBUTES:
            for element in root.iter(tag):
                url = element.get(attribute)
                if url is not None:
                    element.set(attribute, self.renderer.resolve(url, target))
        for block in self.md.htmlStash.rawHtmlBlocks:
            if isinstance(block, str):
                _refuse_raw_paths(block, target)


class _RawUrls(HTMLParser):
    """URL attributes of the tags in a piece of raw HTML (comments and text are not tags)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(tag, value) for name, value in attrs if name in _RAW_URL_ATTRIBUTES and value]


def _refuse_raw_paths(block: str, target: _Target) -> None:
    """Raw HTML is left as written, so a path in it would point at the server, not at the editor's file:
    a file is published only through Markdown's own link and image syntax, which is checked above."""
    parser = _RawUrls()
    parser.feed(block)
    parser.close()
    for tag, url in parser.found:
        parts = urlsplit(url.strip())
        if (parts.scheme.lower() == "file" or not (parts.scheme or parts.netloc)) and not url.startswith("#"):
            line = line_containing(target.markdown, f'"{url}"') or line_containing(target.markdown, url) or 1
            target.broken.append((line, url, f"raw:{tag}"))


class _LinkExtension(Extension):  # type: ignore[misc]  # Markdown ships no types
    def __init__(self, renderer: Renderer) -> None:
        super().__init__()
        self.renderer = renderer

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_LinkResolver(md, self.renderer), "dayori_links", 1)


@dataclass(frozen=True)
class Rendered:
    body: Body
    broken_links: tuple[tuple[int, str, str], ...]
    """(line, url, why): `missing` (no such file), `absolute`, `outside`, `hidden`, `private`, `type` (see
    `Containment`), `page` or `preview` (an address, on the site or the preview's, of no page), `url` (not a URL) or `raw:<tag>` (a path in raw HTML); or what
    `dayori.sanitize.findings` reports (`script`, `remote`, `control`…), with the offending text; or
    `nesting:<depth>`, alone, when the body is nested deeper than `max_nesting` and was not rendered."""
    page_links: tuple[tuple[int, str, str], ...] = ()
    """(line, url, linked file): every link to another issue or episode, for checks that need to know
    which of them are published."""


class Renderer:
    """One Markdown instance for the whole build (building one per page is what makes MkDocs slow).

    With a render cache (a `Pack`, which its owner saves), a body is converted again only when its text, the
    Markdown settings, this code or a file it links to changed: each rendering remembers what it looked at
    (linked issues' URLs, images' size and time, files that were missing) and is reused only while all of
    that still holds. A `memo` keeps the records read in memory between the rebuilds of a preview.
    """

    def __init__(self, extensions: tuple[Any, ...], configs: dict[str, dict[str, Any]], containment: Containment,
                 cache: Pack | None = None, memo: Memo | None = None,
                 max_nesting: int = LimitSettings.nesting) -> None:
        self.current: _Target | None = None
        self.md = markdown.Markdown(extensions=[*extensions, _LinkExtension(self)], extension_configs=configs)
        self.containment = containment
        self.cache = cache
        self.memo = memo
        self.max_nesting = max_nesting
        self.fingerprint = digest(_code_version(), max_nesting, [_stable(e) for e in extensions], _stable(configs),
                                  [str(r) for r in containment.roots], [str(e) for e in containment.excluded],
                                  containment.attachments)

    def render(self, text: str, *, source: Path, page_url: str, link_for_file: Callable[[Path], str | None],
               page_for_url: Callable[[str], Path | None] = lambda url: None) -> Rendered:
        """`link_for_file` maps another content file (an issue's .md) to its site URL, or None if unknown;
        `page_for_url` maps a page's address as the site or the preview shows it (`newsletter/6/`, resolved
        against this page; `/dayori/newsletter/6/`; `http://127.0.0.1:8000/dayori/newsletter/6/`) to that file."""
        key = self._key(source, page_url, text)
        cached = _still_valid(self._stored(key), link_for_file, page_for_url) if key is not None else None
        if cached is not None:
            return cached
        deepest = limits.nesting(text)
        if deepest.depth > self.max_nesting:  # Markdown would recurse that deep, for minutes, and fail
            return Rendered(Body(html="", text="", toc=()), ((deepest.line, "", f"nesting:{deepest.depth}"),))
        self.current = _Target(source, page_url, text, link_for_file, page_for_url)
        try:
            self.md.reset()
            html_text = self.md.convert(text)
            toc = tuple(_heading(token) for token in getattr(self.md, "toc_tokens", []))
            target = self.current
        finally:
            self.current = None
        unsafe = sanitize.findings(html_text, text)
        html_text = sanitize.clean(html_text)
        body = Body(html=html_text, text=plain_text(html_text), toc=toc, assets=tuple(dict.fromkeys(target.assets)))
        rendered = Rendered(body, (*target.broken, *unsafe), tuple(target.links))
        if key is not None and self.cache is not None:
            stored = remember(self.memo, _memo_key(key), _record(rendered, target.depends))
            self.cache.put(key, json.dumps(stored, ensure_ascii=False).encode())
        return rendered

    def cached(self, source: Path, page_url: str, text: str) -> bool:
        """Whether a rendering of this body is in the cache (not whether what it looked at still holds)."""
        key = self._key(source, page_url, text)
        return key is not None and self.cache is not None and key in self.cache

    def _key(self, source: Path, page_url: str, text: str) -> str | None:
        if self.cache is None:
            return None
        return digest(self.fingerprint, str(source), page_url, text)

    def findings(self, text: str) -> list[sanitize.Finding]:
        """What a hand-written page (docs/) holds that a body may not: the sanitiser's findings only, its links
        being the builder's to resolve."""
        self.md.reset()
        return sanitize.findings(self.md.convert(text), text)

    def _stored(self, key: str) -> Any:
        record = self.cache.get(key) if self.cache is not None else None
        if record is None:
            return None
        if self.memo is None:
            return parsed_json(record)
        return self.memo.get(_memo_key(key), lambda: parsed_json(record))

    def resolve(self, url: str, target: _Target) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:  # `http://[::1` : a bracket not closed
            return self._refuse(url, target, "url")
        if parts.scheme.lower() in ("http", "https") and (parts.hostname or "") in PREVIEW_HOSTS:
            return self._site_page(url, url, target) or self._refuse(url, target, "preview")
        if parts.scheme.lower() == "file" or (not parts.scheme and not parts.netloc and url.startswith("/")):
            return self._site_page(url, parts.path, target) or self._refuse(url, target, "absolute")
        if parts.scheme or parts.netloc or url.startswith("#") or not parts.path:
            return url
        try:
            return self._local(url, parts, target)
        except (OSError, ValueError):  # a name no file can have: a NUL byte (`%00`), longer than 255 bytes
            return self._refuse(url, target, "missing")

    def _local(self, url: str, parts: SplitResult, target: _Target) -> str:
        """A link to a file beside the Markdown, or to a page by its address."""
        typed = unquote(parts.path)
        written = find_path(target.source.parent, typed) or target.source.parent / typed
        path = written.resolve()
        target.depends.append(["link", str(written), str(path)])
        if not path.exists() and _looks_like_a_page(typed):
            address = posixpath.normpath(posixpath.join(target.page_url, typed))
            return self._site_page(url, address, target) or self._refuse(url, target, "page")
        why = self.containment.refusal(path)
        if why is not None:
            return self._refuse(url, target, why)
        if not path.is_file():
            target.depends.append(["missing", str(path), None])
            return self._refuse(url, target, "missing")
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        page = target.link_for_file(path)
        if page is not None or path.suffix.lower() == ".md":
            target.depends.append(["page", str(path), page])
        if page is not None:
            target.links.append((_line_of(target.markdown, url), url, str(path)))
            return relative(page, target.page_url) + fragment
        if path.suffix.lower() == ".md":
            return self._refuse(url, target, "missing")
        target.depends.append(["file", str(path), _stamp(path)])
        asset = _asset(path, _line_of(target.markdown, url))
        target.assets.append(asset)
        return relative(asset.dest, target.page_url)

    def _site_page(self, url: str, address: str, target: _Target) -> str | None:
        """The link to an issue or episode written as its address on the site or in the preview, or None."""
        page_file = target.page_for_url(address)
        target.depends.append(["address", address, str(page_file) if page_file else None])
        if page_file is None:
            return None
        page = target.link_for_file(page_file)
        target.depends.append(["page", str(page_file), page])
        if page is None:
            return None
        target.links.append((_line_of(target.markdown, url), url, str(page_file)))
        fragment = urlsplit(url).fragment
        return relative(page, target.page_url) + (f"#{fragment}" if fragment else "")

    @staticmethod
    def _refuse(url: str, target: _Target, why: str) -> str:
        target.broken.append((_line_of(target.markdown, url), url, why))
        return url


def _memo_key(key: str) -> tuple[str, str]:
    return "body record", key


def _stamp(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _record(rendered: Rendered, depends: list[list[Any]]) -> dict[str, Any]:
    body = rendered.body
    return {"html": body.html, "text": body.text, "toc": [_heading_json(h) for h in body.toc],
            "assets": [[str(a.source), a.dest, a.line, a.size] for a in body.assets], "broken": rendered.broken_links,
            "links": rendered.page_links, "depends": depends}


def _still_valid(record: Any, link_for_file: Callable[[Path], str | None],
                 page_for_url: Callable[[str], Path | None]) -> Rendered | None:
    """The stored rendering, if everything it looked at still holds; None for a record of another shape."""
    try:
        return _reused(record, link_for_file, page_for_url)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _reused(record: Any, link_for_file: Callable[[Path], str | None],
            page_for_url: Callable[[str], Path | None]) -> Rendered | None:
    if not isinstance(record, dict) or set(record) != {"html", "text", "toc", "assets", "broken", "links", "depends"}:
        return None
    if not all(_holds(kind, name, value, link_for_file, page_for_url) for kind, name, value in record["depends"]):
        return None
    body = Body(html=record["html"], text=record["text"], toc=tuple(_heading_from(h) for h in record["toc"]),
                assets=tuple(Asset(Path(source), dest, line, tuple(size) if size else None)
                             for source, dest, line, size in record["assets"]))
    return Rendered(body, tuple((line, url, why) for line, url, why in record["broken"]),
                    tuple((line, url, linked) for line, url, linked in record["links"]))


def _holds(kind: str, name: str, value: Any, link_for_file: Callable[[Path], str | None],
           page_for_url: Callable[[str], Path | None]) -> bool:
    """Whether one thing a cached rendering looked at is still as it was."""
    if kind == "address":
        found = page_for_url(name)
        return bool((str(found) if found else None) == value)
    path = Path(name)
    if kind == "link":
        return bool(str(path.resolve()) == value)
    if kind == "missing":
        found = find_path(path.parent, path.name)
        return found is None or not found.is_file()
    if kind == "page":
        return path.is_file() and bool(link_for_file(path) == value)
    return bool(_stamp(path) == value)


def _heading_json(heading: Heading) -> list[Any]:
    return [heading.level, heading.id, heading.text, [_heading_json(c) for c in heading.children]]


def _heading_from(data: list[Any]) -> Heading:
    level, id_, text, children = data
    return Heading(level, id_, text, tuple(_heading_from(c) for c in children))


def _stable(value: Any) -> Any:
    """Markdown settings as data that is the same in every run (callables by name, not by address)."""
    if isinstance(value, dict):
        return {str(k): _stable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if isinstance(value, functools.partial):
        return [_stable(value.func), _stable(value.args), _stable(value.keywords)]
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


@functools.lru_cache(maxsize=1)
def _code_version() -> str:
    """This module, the sanitiser, the packages they use and the recipe of published pictures (in their
    URLs): changing any of them renders every body again."""
    return digest(code_version([Path(__file__), Path(sanitize.__file__), Path(limits.__file__), Path(paths.__file__)],
                               ("markdown", "pymdown-extensions", "pygments", "nh3", "lxml")), recipe_version())


ASSET_FOLDER = "media/files/"


def _asset(path: Path, line: int) -> Asset:
    """Content-addressed (the file's bytes and how they are made fit to publish), so a changed image gets a
    new URL and readers on slow links can cache forever; a picture's size is read from its header, for the
    limit on pixels. Read in pieces: a file is never held in memory whole."""
    suffix = path.suffix.lower()
    with path.open("rb") as file:
        sha256 = hashlib.file_digest(file, "sha256").hexdigest()
        file.seek(0)
        size = picture_size(file)
    return Asset(path, f"{ASSET_FOLDER}{published_key(sha256, suffix)[:16]}{suffix}", line, size)


def _looks_like_a_page(path: str) -> bool:
    """An address rather than a file: `../6/`, `../6`, `../6/index.html` (what the preview's address bar shows)."""
    name = path.rstrip("/").rpartition("/")[2]
    return path.endswith("/") or name == "index.html" or "." not in name


def plain_text(html_text: str) -> str:
    """Text as a reader sees it, for reading time and search."""
    text = html.unescape(_TAGS.sub(" ", html_text))
    return "\n".join(line for line in (_SPACES.sub(" ", raw).strip() for raw in text.splitlines()) if line)


def _heading(token: dict[str, Any]) -> Heading:
    return Heading(token["level"], token["id"], html.unescape(_TAGS.sub("", token["name"])),
                   tuple(_heading(child) for child in token.get("children", [])))


def _line_of(text: str, url: str) -> int:
    """Where the URL is written as a link target first: `img/a.png` is also inside `../img/a.png`."""
    for needle in (f"]({url}", f"<{url}>", f'"{url}"', f"'{url}'", f"]: {url}", url):
        line = line_containing(text, needle)
        if line is not None:
            return line
    return 1
