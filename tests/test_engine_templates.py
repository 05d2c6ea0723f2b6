"""The engine's own templates (pages and email, outside `dayori/material/`) know no theme: every class they use
is Dayori's and is styled by dayori.css, so moving to another builder replaces `dayori/material/` alone."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

TEMPLATES = Path(str(resources.files("dayori") / "templates"))
STYLESHEET = Path(str(resources.files("dayori") / "assets" / "dayori.css")).read_text(encoding="utf-8")
ENGINE_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))


def classes(template: Path) -> set[str]:
    """Literal class names of `class="…"` (Jinja expressions inside are left out)."""
    found = set()
    for value in re.findall(r'class="([^"]*)"', template.read_text(encoding="utf-8")):
        found |= {name for name in re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", value).split() if name}
    return found


def test_the_engine_has_templates_to_check() -> None:
    assert {"feeds.html", "issue.html", "archive.html"} <= {t.name for t in ENGINE_TEMPLATES}


@pytest.mark.parametrize("template", ENGINE_TEMPLATES, ids=lambda t: str(t.relative_to(TEMPLATES)))
def test_engine_templates_use_no_theme_class(template: Path) -> None:
    """Site pages use Dayori's classes only; the email, whose styles are inlined, none of Material's."""
    mine = (lambda name: name.startswith("dayori-")) if template.parent.name == "site" else \
        (lambda name: not name.startswith("md-"))
    theme = sorted(name for name in classes(template) if not mine(name))
    assert not theme, f"{template.name} uses classes of a theme: {theme}"


def test_the_feeds_table_is_styled_by_the_engine() -> None:
    assert "dayori-table" in classes(TEMPLATES / "site" / "feeds.html")
    rule = re.search(r"\.dayori-table\s*\{([^}]*)\}", STYLESHEET)
    assert rule is not None and "overflow-x: auto" in rule.group(1), "a wide feed address must scroll, not spill"
