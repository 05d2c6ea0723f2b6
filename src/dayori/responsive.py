"""Pictures on the site's pages as a phone on a slow link wants them: their real size written down (the text
does not jump while they arrive), the first one of a body at once and every later one only when the reader
scrolls near it, and a choice of sizes and of WebP so that a phone downloads a copy the width of its screen.

Email keeps the body's plain `<img>` (see `dayori.email`): mail programs know neither `<picture>` nor lazy
loading. This works on the body as the sanitiser left it (`dayori.sanitize.clean`), whose tags and attributes
are always written the same way.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from dayori.attachments import Sizes, Variant
from dayori.urls import relative

_IMG = re.compile(r"<img\b([^>]*?)\s*/?>")
_ATTRIBUTE = re.compile(r'\s([a-zA-Z-]+)(?:="([^"]*)")?')
_LAYOUT_ATTRIBUTES = ("width", "height", "loading", "decoding", "srcset", "sizes")
PAGE_WIDTH = 960
"""The widest a picture is shown in the text column (CSS pixels): `sizes` tells the browser so."""


def for_pages(body_html: str, page_url: str, pictures: Mapping[str, Sizes]) -> str:
    """`body_html` (rendered for `page_url`) with each picture published by the site (`pictures`, by site
    path) given its size, its phone-sized and WebP copies, and lazy loading after the first."""
    by_url = {relative(dest, page_url): sizes for dest, sizes in pictures.items()}
    seen = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        attributes = [(found.group(1), html.unescape(found.group(2) or "")) for found in _ATTRIBUTE.finditer(match.group(1))
                      if found.group(1) not in _LAYOUT_ATTRIBUTES]
        sizes = by_url.get(html.unescape(dict(attributes).get("src", "")))
        if sizes is not None:
            attributes += [("width", str(sizes.width)), ("height", str(sizes.height))]
        if seen > 1:
            attributes += [("loading", "lazy"), ("decoding", "async")]
        if sizes is None or not sizes.webp:
            return _tag("img", attributes)
        shown = f"(max-width: {min(sizes.width, PAGE_WIDTH)}px) 100vw, {min(sizes.width, PAGE_WIDTH)}px"
        source = _tag("source", [("type", "image/webp"), ("srcset", _srcset(sizes.webp, page_url)), ("sizes", shown)])
        image = _tag("img", [*attributes, ("srcset", _srcset(sizes.fallback, page_url)), ("sizes", shown)])
        return f"<picture>{source}{image}</picture>"

    return _IMG.sub(replace, body_html)


def _srcset(variants: tuple[Variant, ...], page_url: str) -> str:
    return ", ".join(f"{relative(v.dest, page_url)} {v.width}w" for v in variants)


def _tag(name: str, attributes: list[tuple[str, str]]) -> str:
    written = "".join(f' {key}="{html.escape(value, quote=True)}"' for key, value in attributes)
    return f"<{name}{written}>"
