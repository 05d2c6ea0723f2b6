"""URLs: bodies are rendered with page-relative links; feeds and email need them absolute."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urljoin, urlsplit

_URL_ATTRIBUTE = re.compile(r'(\s(?:src|href|poster)=")([^"]*)(")')


def absolutize(html: str, base_url: str) -> str:
    """Every src/href/poster in `html` resolved against `base_url` (the absolute URL of the item's page)."""
    return _URL_ATTRIBUTE.sub(lambda m: m.group(1) + urljoin(base_url, m.group(2)) + m.group(3), html)


def relative(target: str, from_page: str) -> str:
    """A site-relative URL (`media/img/a.png`) as seen from a page's directory URL (`newsletter/12/`)."""
    if urlsplit(target).scheme or target.startswith(("#", "mailto:")):
        return target
    path, _, fragment = target.partition("#")
    start = from_page.strip("/") or "."
    rel = posixpath.relpath(path or ".", start)
    if path.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return rel + (f"#{fragment}" if fragment else "")
