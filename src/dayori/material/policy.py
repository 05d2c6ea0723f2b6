"""The Content-Security-Policy on every page MkDocs writes (`dayori.csp`), with the theme's own inline scripts
allowed by hash. A script is the theme's when its text is one that a template of the theme writes (Material
puts a few small scripts into every page, one of them with the page's base URL): a script that came from
anywhere else, a page's content included, is not allowed and the browser refuses to run it."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from dayori import csp

_SCRIPT = re.compile(r"<script(?P<attributes>[^>]*)>(?P<text>.*?)</script>", re.IGNORECASE | re.DOTALL)
_STYLE = re.compile(r"<style(?P<attributes>[^>]*)>(?P<text>.*?)</style>", re.IGNORECASE | re.DOTALL)
_JINJA = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.DOTALL)
_NOT_RUN = re.compile(r"""\b(?:src\s*=|type\s*=\s*["']?application/(?:ld\+)?json)""", re.IGNORECASE)


Patterns = tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]


def theme_patterns(theme_dirs: list[str]) -> Patterns:
    """The theme's inline scripts and styles, read once per build (once per process while unchanged)."""
    dirs = tuple(theme_dirs)
    return _theme_patterns(dirs, _signature(dirs))


def with_policy(page: str, patterns: Patterns) -> str:
    """`page` as MkDocs wrote it, with the policy allowing the theme's inline scripts and styles it holds."""
    scripts, styles = patterns
    return csp.with_policy(page, scripts=_matching(_SCRIPT, page, scripts), styles=_matching(_STYLE, page, styles))


def _matching(element: re.Pattern[str], page: str, patterns: tuple[re.Pattern[str], ...]) -> list[str]:
    return [match.group("text") for match in element.finditer(page)
            if not _NOT_RUN.search(match.group("attributes"))
            and any(pattern.fullmatch(match.group("text")) for pattern in patterns)]


def _signature(theme_dirs: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """The theme's templates and their times: a template edited under `make serve` is read again."""
    return tuple((str(path), path.stat().st_mtime_ns) for path in _templates(theme_dirs))


def _templates(theme_dirs: tuple[str, ...]) -> list[Path]:
    found = []
    for folder in map(Path, theme_dirs):
        found += sorted(folder.glob("*.html")) + sorted((folder / "partials").rglob("*.html"))
    return found


@lru_cache(maxsize=4)
def _theme_patterns(theme_dirs: tuple[str, ...],
                    signature: tuple[tuple[str, int], ...]) -> Patterns:
    """Each inline script and style of the theme's templates as a pattern: the template's text, with any
    value a `{{ … }}` may print (a URL, a name: no quotes or angle brackets) where it stands. A script whose
    text the template builds with `{% … %}` could become anything, and is not allowed."""
    scripts: dict[str, re.Pattern[str]] = {}
    styles: dict[str, re.Pattern[str]] = {}
    for name, _ in signature:
        source = Path(name).read_text(encoding="utf-8")
        for element, found in ((_SCRIPT, scripts), (_STYLE, styles)):
            for match in element.finditer(source):
                text = match.group("text")
                if not _NOT_RUN.search(match.group("attributes")) and "{%" not in text and "{#" not in text:
                    found.setdefault(text, _pattern(text))
    return tuple(scripts.values()), tuple(styles.values())


def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for piece in _JINJA.split(template):
        parts.append(r"""[^"'<>\\]*""" if piece.startswith("{{") else re.escape(piece))
    return re.compile("".join(parts), re.DOTALL)
