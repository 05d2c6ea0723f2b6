"""MkDocs events turned into engine calls, and the engine's builder-neutral values into MkDocs files and pages.

The only translator between the engine and the builder; see `docs/maintainers.md` for what a move to another
builder replaces.
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files, InclusionLevel, get_files
from mkdocs.structure.pages import Page as MkDocsPage
from mkdocs.structure.toc import _TocToken, get_toc

from dayori.build import STYLESHEET, Build, prepare
from dayori.config import ConfigError, Settings, settings_from_file
from dayori.content import left_out_of_docs
from dayori.errors import ContentError
from dayori.feeds import feed_links
from dayori.material.search import rewrite_index, search_outputs
from dayori.model import Heading, Output, Page
from dayori.store import link_or_copy

log = logging.getLogger("mkdocs.dayori")
LATEST_MARKER = "<!-- dayori:latest -->"


@dataclass
class _State:
    """What MkDocs forces to live between events: the current command and the current build."""

    preview: bool = False
    settings: Settings | None = None
    build: Build | None = None
    pages: dict[str, Page] | None = None


_state = _State()


MATERIAL_CSS = "assets/stylesheets/dayori/material.css"
SITE_SCRIPT = "assets/javascripts/dayori/site.js"
_PACKAGE = resources.files("dayori.material")


def settings_from_config(config: MkDocsConfig) -> Settings:
    """The engine reads its own settings from mkdocs.yml; only the address differs under `mkdocs serve`."""
    try:
        settings = settings_from_file(Path(config.config_file_path))
    except ConfigError as error:
        raise PluginError(str(error)) from error
    return replace(settings, site_url=config.site_url or settings.site_url)


def on_startup(command: str, dirty: bool) -> None:
    _state.preview = command == "serve"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _state.settings = settings_from_config(config)
    config.theme.dirs.insert(0, str(_PACKAGE / "templates"))
    for stylesheet in (STYLESHEET, MATERIAL_CSS):
        if stylesheet not in config.extra_css:
            config.extra_css.append(stylesheet)
    config.extra["dayori_feeds"] = feed_links(_state.settings)
    return config


def on_pre_build(config: MkDocsConfig) -> None:
    """Runs before MkDocs cleans `site/`: a failing build leaves the last good site untouched."""
    assert _state.settings is not None
    try:
        build = prepare(_state.settings, preview=_state.preview, docs=_docs_outputs(config))
    except ContentError as error:
        raise PluginError(error.report()) from error
    for warning in build.warnings:
        log.warning(warning)
    log.info("dayori: " + ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in build.seconds.items()))
    _state.build = build
    _state.pages = {_source_uri(page): page for page in build.site.pages}


def _docs_outputs(config: MkDocsConfig) -> dict[str, Path]:
    """Where MkDocs will write each hand-written file of docs/, for the engine to check against its own
    pages before anything is written; paths as the editor finds them in the project."""
    project = Path(config.config_file_path).parent
    return {file.dest_uri: Path(os.path.relpath(file.abs_src_path, project)) for file in get_files(config)
            if file.inclusion.is_included() and file.abs_src_path is not None}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    assert _state.build is not None and _state.pages is not None
    _leave_out_unpublishable(files, config)
    for uri, page in _state.pages.items():
        # Issues are reached from the archive, not from the navigation, which must not grow with them.
        _add(files, File.generated(config, uri, content=_stub(page), inclusion=InclusionLevel.NOT_IN_NAV))
    assert _state.settings is not None
    cache = _state.settings.cache_path.resolve()
    for output in [*_state.build.outputs, *_theme_outputs()]:
        if output.content is not None:
            _add(files, File.generated(config, output.dest, content=output.content))
        elif output.source is not None and output.source.resolve().is_relative_to(cache):
            _add(files, _LinkedFile.generated(config, output.dest, abs_src_path=str(output.source)))
        else:
            _add(files, File.generated(config, output.dest, abs_src_path=str(output.source)))
    return files


def _leave_out_unpublishable(files: Files, config: MkDocsConfig) -> None:
    """docs/ files of a kind that is never published (see `left_out_of_docs`); the theme's are its own."""
    assert _state.settings is not None
    for file in list(files):
        if file.src_dir != config.docs_dir:
            continue
        why = left_out_of_docs(file.src_uri, Path(file.abs_src_path or ""), _state.settings)
        if why is not None:
            files.remove(file)
            log.warning(why)


def _theme_outputs() -> list[Output]:
    """What this theme integration serves besides the engine's outputs: its scripts and stylesheet."""
    return [*search_outputs(), Output(SITE_SCRIPT, source=Path(str(_PACKAGE / "assets" / "site.js"))),
            Output(MATERIAL_CSS, source=Path(str(_PACKAGE / "assets" / "material.css")))]


class _LinkedFile(File):
    """A finished file from the engine's cache (a transcode, an email): linked into site/, not copied.
    Only cache files, which are replaced whole and never edited in place; an editor's image or the
    package's own files are copied, so that nothing done to site/ can reach them."""

    def copy_file(self, dirty: bool = False) -> None:
        assert self.abs_src_path is not None
        link_or_copy(Path(self.abs_src_path), Path(self.abs_dest_path))


def on_page_markdown(markdown: str, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str:
    """Generated pages were rendered by the engine already; MkDocs would build a Markdown converter per page
    (a tenth of a large build) only to convert nothing, so the page takes the engine's HTML instead."""
    generated = _generated(page)
    if generated is None:
        return markdown
    page.render = _prerendered(page, generated)  # type: ignore[method-assign]
    return ""


def _prerendered(page: MkDocsPage, generated: Page) -> Any:
    def render(config: MkDocsConfig, files: Files) -> None:
        page.content = generated.html
        page.toc = get_toc([_toc_token(h) for h in generated.toc])
    return render


def on_page_content(html: str, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str:
    if LATEST_MARKER in html and _state.build is not None:
        return html.replace(LATEST_MARKER, _state.build.site.latest_html)
    return html


@event_priority(100)
def on_post_build(config: MkDocsConfig) -> None:
    """Before Material's search plugin writes its index, teach it Japanese compounds (see `dayori.search`).
    Material offers no hook for the index, so its generator is wrapped in memory for this build only."""
    search = config.plugins.get("material/search")
    index = getattr(search, "search_index", None)
    if index is not None:
        index.generate_search_index = _with_japanese_terms(index.generate_search_index)


def _with_japanese_terms(generate: Callable[[Any], str]) -> Callable[[Any], str]:
    def generate_with_terms(previous: Any) -> str:
        return json.dumps(rewrite_index(json.loads(generate(previous))), ensure_ascii=False, separators=(",", ":"))
    return generate_with_terms


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """Editors' files live outside docs/: `mkdocs serve` rebuilds when they change too."""
    assert _state.settings is not None
    for folder in (_state.settings.newsletter_path, _state.settings.videos_path):
        if folder.is_dir():
            server.watch(str(folder))
    return server


def _generated(page: MkDocsPage) -> Page | None:
    return (_state.pages or {}).get(page.file.src_uri) if page.file.generated_by else None


def _source_uri(page: Page) -> str:
    return f"{page.url}index.md"


def _stub(page: Page) -> str:
    """MkDocs and Material treat a page's title and description as HTML (templates print them unescaped, the
    search index keeps them as markup), so the engine's plain text is escaped here, once, for all of them."""
    meta = {"title": html.escape(page.title), "description": html.escape(page.description), **page.meta,
            **({} if page.searchable else {"search": {"exclude": True}})}
    return f"---\n{yaml.safe_dump(meta, allow_unicode=True, sort_keys=True)}---\n"


def _add(files: Files, file: File) -> None:
    existing = files.get_file_from_path(file.src_uri)
    if existing is not None:
        raise PluginError(f"docs/{file.src_uri} は自動生成されるページと同じ場所にあります。docs/ から移すか名前を変えてください。")
    files.append(file)


def _toc_token(heading: Heading) -> _TocToken:
    return {"level": heading.level, "id": heading.id, "name": html.escape(heading.text),
            "children": [_toc_token(child) for child in heading.children]}
