"""One build: files → model → stages. Everything is computed in memory first; only then does the site
builder write, so a build that fails leaves nothing half-done to publish."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from dayori.check.stage import CheckResult, check_content
from dayori.config import Settings
from dayori.content import load_content
from dayori.email import build_emails
from dayori.errors import ContentError, Problem
from dayori.feeds import build_feeds
from dayori.media import process_episodes
from dayori.memo import Memo
from dayori.model import Content, Episode, Issue, Output
from dayori.pages import Site, build_pages

STYLESHEET = "assets/dayori.css"


@dataclass(frozen=True)
class Build:
    content: Content
    site: Site
    outputs: tuple[Output, ...]
    warnings: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    ffmpeg_runs: int = 0
    probes: int = 0
    check: CheckResult = field(default_factory=CheckResult)


def prepare(settings: Settings, *, preview: bool = False, docs: Mapping[str, Path] | None = None,
            memo: Memo | None = None) -> Build:
    """Runs every stage; raises ContentError listing every problem before anything is written.

    `docs` maps each site path the hand-written pages will occupy (`newsletter/12/index.html`) to its source
    file (`docs/newsletter/12.md`), so that a collision with a generated page is reported here, not halfway
    through writing. In preview (`mkdocs serve`) a clip that cannot be transcoded shows its error on its page,
    and a `memo` kept between rebuilds makes each stage redo only what an edit changed.
    """
    try:
        build = _run_stages(settings, preview, docs or {}, memo)
    except BaseException:
        if memo is not None:
            memo.finish(complete=False)
        raise
    if memo is not None:
        memo.finish(complete=True)
    return build


def _run_stages(settings: Settings, preview: bool, docs: Mapping[str, Path], memo: Memo | None) -> Build:
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    content = load_content(settings, preview=preview, memo=memo)
    lap("content")
    check = check_content(content, settings, memo)
    lap("check")
    media = process_episodes(content.episodes, settings, keep_going=preview)
    lap("media")
    feeds = build_feeds(content, settings, media.media, memo=memo)
    lap("feeds")
    emails = build_emails(content, settings, media.media, memo)
    lap("email")
    site = build_pages(content, settings, media.media, check.findings if preview else {}, memo)
    lap("pages")
    outputs = [*_asset_outputs(content), _stylesheet(), *feeds, *emails.outputs,
               *(output for clip in media.media.values() for output in clip.outputs())]
    problems = [*([] if preview else media.problems), *emails.problems, *check.problems,
                *_collisions(site, outputs, docs)]
    if problems:
        raise ContentError(problems)
    return Build(content, site, _unique(outputs), (*content.warnings, *media.warnings, *emails.warnings,
                                                 *check.warnings), seconds, media.ffmpeg_runs, media.probes, check)


def _collisions(site: Site, outputs: list[Output], docs: Mapping[str, Path]) -> list[Problem]:
    generated = {f"{page.url}index.html": f"{page.title}（{page.url}）" for page in site.pages}
    generated |= {output.dest: output.dest for output in outputs}
    return [Problem(source, None, f"このファイルは自動で作られる「{generated[dest]}」と同じ場所（site/{dest}）に出力されます。"
                                  "このファイルを docs/ の別の場所に移すか、名前を変えてください。")
            for dest, source in sorted(docs.items()) if dest in generated]


def _asset_outputs(content: Content) -> list[Output]:
    """Images the published bodies use; drafts' images are not among them."""
    items: list[Issue | Episode] = [*content.issues, *content.episodes]
    assets = {asset.dest: asset.source for item in items for asset in item.body.assets}
    return [Output(dest, source=source) for dest, source in sorted(assets.items())]


def _stylesheet() -> Output:
    """The components' stylesheet; the builder adds its own theme's files."""
    return Output(STYLESHEET, source=Path(str(resources.files("dayori") / "assets" / "dayori.css")))


def _unique(outputs: list[Output]) -> tuple[Output, ...]:
    """Each path once. The same file twice is one file (two episodes of one clip share its content-addressed
    renditions); two different files at one path is a bug, never silently overwritten."""
    seen: dict[str, Output] = {}
    for output in outputs:
        if output.dest in seen and seen[output.dest] != output:
            raise RuntimeError(f"two stages wrote different files at {output.dest}")
        seen.setdefault(output.dest, output)
    return tuple(seen.values())
