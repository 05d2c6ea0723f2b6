"""Hand-written pages (docs/) are content too: their Markdown gets the same checks as an issue's body, so
that a `<script>`, a picture from another host or a theme widget hook stops the build with its file and line,
and the builder cleans the HTML it renders from them with the same sanitiser (`dayori.sanitize.clean_page`).

What a hand-written page may have that a body may not: raw HTML that points at files of the site
(`<a href="../feeds/newsletter.xml">`), because the builder publishes docs/ as it is, and the marker
`<!-- dayori:latest -->` where the home page lists the newest items. The list is in docs/guide.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dayori.config import Settings
from dayori.content import BROKEN_LINK_MESSAGES
from dayori.errors import Problem
from dayori.memo import Memo, recall
from dayori.render import Containment, Renderer, _code_version, _stable
from dayori.sanitize import Finding
from dayori.store import digest, read_json, write_atomic


def page_problems(text: str, shown: Path, settings: Settings, memo: Memo | None = None) -> list[Problem]:
    """The problems of one docs/ page (`text`, as the editor finds it at `shown`), with their lines."""
    key = digest(_code_version(), _stable(settings.markdown_extensions), _stable(settings.markdown_configs), text)
    found = recall(memo, lambda _: ("docs page", key), lambda: _findings(key, text, settings))
    problems = []
    for line, detail, kind in found:
        suffix = Path(unquote(urlsplit(detail).path)).suffix.lower() or "拡張子なし"
        problems.append(Problem(shown, line, BROKEN_LINK_MESSAGES[kind].format(
            url=detail, tag="", suffix=suffix, roots="docs/", allowed=", ".join(settings.attachments))))
    return problems


def _findings(key: str, text: str, settings: Settings) -> list[Finding]:
    """Cached on disk by the page's text: converting the guide with every extension is the slow part."""
    record = settings.cache_path / "pages" / f"{key}.json"
    stored = read_json(record)
    if isinstance(stored, list) and all(isinstance(f, list) and len(f) == 3 for f in stored):
        return [(int(line), str(detail), str(kind)) for line, detail, kind in stored]
    found = _renderer(settings).findings(text)
    write_atomic(record, json.dumps(found, ensure_ascii=False).encode())
    return found


def _renderer(settings: Settings) -> Renderer:
    """One Markdown converter per configuration for the process (`make serve` checks pages at every save)."""
    key = json.dumps(_stable([settings.markdown_extensions, settings.markdown_configs]), sort_keys=True)
    if key not in _RENDERERS:
        _RENDERERS[key] = Renderer(settings.markdown_extensions, settings.markdown_configs, Containment.of(settings))
    return _RENDERERS[key]


_RENDERERS: dict[str, Renderer] = {}
