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
    rel = _relative_path(path, from_page)
    if path.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return rel + (f"#{fragment}" if fragment else "")


def _relative_path(path: str, from_page: str) -> str:
    """`posixpath.relpath(path, from_page)` without its two `abspath` calls: a page renders dozens of links,
    and a site renders every page. Paths that `abspath` would resolve against the working directory (a `..`
    step, a leading `/`) still go through it."""
    steps = _steps(path)
    start = _steps(from_page.strip("/"))
    if steps is None or start is None:
        return posixpath.relpath(path or ".", from_page.strip("/") or ".")
    common = 0
    for step, other in zip(steps, start, strict=False):
        if step != other:
            break
        common += 1
    return "/".join([".."] * (len(start) - common) + steps[common:]) or "."


def _steps(path: str) -> list[str] | None:
    """A relative path's steps as `normpath` leaves them (empty and `.` steps dropped); None for a path with
    a `..` step or an absolute one, whose meaning depends on where it is resolved."""
    if path.startswith("/"):
        return None
    steps = [step for step in path.split("/") if step and step != "."]
    return None if ".." in steps else steps
