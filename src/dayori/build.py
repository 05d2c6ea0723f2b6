"""One build: files → model → stages. Everything is computed in memory first; only then does the site
builder write, so a build that fails leaves nothing half-done to publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from dayori.config import Settings
from dayori.content import load_content
from dayori.model import Content, Output
from dayori.pages import Site, build_pages

STYLESHEET = "assets/dayori.css"


@dataclass(frozen=True)
class Build:
    content: Content
    site: Site
    outputs: tuple[Output, ...]
    warnings: tuple[str, ...] = ()
    stats: dict[str, float] = field(default_factory=dict)


def prepare(settings: Settings, *, preview: bool = False) -> Build:
    """Runs every stage; raises ContentError listing every editor problem before anything is written."""
    content = load_content(settings, preview=preview)
    site = build_pages(content, settings)
    outputs = [*_asset_outputs(content), _stylesheet()]
    _check_unique(outputs)
    return Build(content, site, tuple(outputs))


def _asset_outputs(content: Content) -> list[Output]:
    """Images the published bodies use; drafts' images are not among them."""
    assets = {asset.dest: asset.source for item in [*content.issues, *content.episodes] for asset in item.body.assets}
    return [Output(dest, source=source) for dest, source in sorted(assets.items())]


def _stylesheet() -> Output:
    return Output(STYLESHEET, source=Path(str(resources.files("dayori") / "assets" / "dayori.css")))


def _check_unique(outputs: list[Output]) -> None:
    """Stages own disjoint folders; two outputs at one path is a bug, never silently overwritten."""
    seen: set[str] = set()
    for output in outputs:
        if output.dest in seen:
            raise RuntimeError(f"two stages wrote {output.dest}")
        seen.add(output.dest)
