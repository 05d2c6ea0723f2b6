"""Renders each body once, with the site's Markdown extensions; every later stage starts from this HTML.

Links and images are resolved here, against the editor's files: a missing file is an editor error with its
line, an image becomes a content-addressed asset, and a link to another issue's `.md` becomes its page URL.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from dayori.model import Asset, Body, Heading
from dayori.urls import relative

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINKED_ATTRIBUTES = (("img", "src"), ("a", "href"), ("source", "src"), ("video", "poster"))


@dataclass
class _Target:
    """What the link resolver needs to know about the body being rendered."""

    source: Path
    page_url: str
    markdown: str
    link_for_file: Callable[[Path], str | None]
    assets: list[Asset] = field(default_factory=list)
    broken: list[tuple[int, str]] = field(default_factory=list)


class _LinkResolver(Treeprocessor):
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


class _LinkExtension(Extension):
    def __init__(self, renderer: Renderer) -> None:
        super().__init__()
        self.renderer = renderer

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_LinkResolver(md, self.renderer), "dayori_links", 1)


@dataclass(frozen=True)
class Rendered:
    body: Body
    broken_links: tuple[tuple[int, str], ...]


class Renderer:
    """One Markdown instance for the whole build (building one per page is what makes MkDocs slow)."""

    def __init__(self, extensions: tuple[Any, ...], configs: dict[str, dict[str, Any]]) -> None:
        self.current: _Target | None = None
        self.md = markdown.Markdown(extensions=[*extensions, _LinkExtension(self)], extension_configs=configs)

    def render(self, text: str, *, source: Path, page_url: str,
               link_for_file: Callable[[Path], str | None]) -> Rendered:
        """`link_for_file` maps another content file (an issue's .md) to its site URL, or None if unknown."""
        self.current = _Target(source, page_url, text, link_for_file)
        try:
            self.md.reset()
            html_text = self.md.convert(text)
            toc = tuple(_heading(token) for token in getattr(self.md, "toc_tokens", []))
            target = self.current
        finally:
            self.current = None
        body = Body(html=html_text, text=plain_text(html_text), toc=toc, assets=tuple(dict.fromkeys(target.assets)))
        return Rendered(body, tuple(target.broken))

    def resolve(self, url: str, target: _Target) -> str:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("#", "/")) or not parts.path:
            return url
        path = (target.source.parent / unquote(parts.path)).resolve()
        if not path.is_file():
            target.broken.append((_line_of(target.markdown, url), url))
            return url
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        page = target.link_for_file(path)
        if page is not None:
            return relative(page, target.page_url) + fragment
        if path.suffix.lower() == ".md":
            target.broken.append((_line_of(target.markdown, url), url))
            return url
        asset = Asset(path, asset_dest(path))
        target.assets.append(asset)
        return relative(asset.dest, target.page_url)


def asset_dest(path: Path) -> str:
    """Content-addressed, so a changed image gets a new URL and readers on slow links can cache forever."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"media/files/{digest}{path.suffix.lower()}"


def plain_text(html_text: str) -> str:
    """Text as a reader sees it, for reading time and search."""
    text = html.unescape(_TAGS.sub(" ", html_text))
    return "\n".join(line for line in (_SPACES.sub(" ", raw).strip() for raw in text.splitlines()) if line)


def _heading(token: dict[str, Any]) -> Heading:
    return Heading(token["level"], token["id"], html.unescape(_TAGS.sub("", token["name"])),
                   tuple(_heading(child) for child in token.get("children", [])))


def _line_of(text: str, needle: str) -> int:
    """Line numbers are lost in Markdown's tree; the first line naming the URL is where the editor looks."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1
