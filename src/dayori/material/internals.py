"""Everything Dayori takes from MkDocs (or ProperDocs, its fork) and Material for MkDocs beyond their documented
API: a private name, methods and attributes replaced on their objects, their English log lines matched by text,
their file layout. A patch release may change any of it without a word, and the lock file would hide that until
someone upgrades: so it lives here alone (tests/test_boundary.py keeps it so), and a build refuses to start with
other releases than the ones it was read against (`check_versions`). Moving to another builder starts with
this file: each function says what it works around (see also docs/maintainers.md)."""

from __future__ import annotations

import fnmatch
import html
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import mkdocs
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page as MkDocsPage
from mkdocs.structure.toc import _TocToken, get_toc

from dayori.model import Heading

WRITTEN_FOR = {"mkdocs": "1.6.1", "properdocs": "1.6.7", "mkdocs-material": "9.8.2"}
"""The releases each function below was read against (pinned by requirements.lock and
requirements-properdocs.lock). Change a version here only after reading the functions against the new release."""

_SHOWN = {"mkdocs": "MkDocs", "properdocs": "ProperDocs", "mkdocs-material": "Material for MkDocs"}

BUILDER = mkdocs.__name__
"""`mkdocs`, or `properdocs` where ProperDocs stands in for MkDocs (see `dayori.material.builder`)."""


def installed_versions() -> dict[str, str]:
    """The running builder's release and Material's."""
    return {name: metadata.version(name) for name in (BUILDER, "mkdocs-material")}


def version_problem(installed: Mapping[str, str]) -> str | None:
    """What the maintainer reads when the installed releases are not the ones this module was read against."""
    if all(WRITTEN_FOR.get(name) == version for name, version in installed.items()):
        return None
    written = "、".join(f"{_SHOWN.get(name, name)} {version}" for name, version in WRITTEN_FOR.items())
    found = "、".join(f"{_SHOWN.get(name, name)} {version}" for name, version in installed.items())
    return (f"dayori/material/internals.py は {written} に合わせて書かれていますが、入っているのは {found} です。"
            "MkDocs と Material の内部に頼る部分が黙って壊れないよう、ビルドを止めました。"
            "requirements.lock の版で .venv を作り直す（.venv を消して make site）か、"
            "internals.py の各関数を新しい版で確かめてから WRITTEN_FOR を書き換えてください。")


@cache
def check_versions() -> None:
    """Once per process (a failed check is not remembered, so it fails again at the next build)."""
    problem = version_problem(installed_versions())
    if problem is not None:
        raise PluginError(problem)


def builder_logger(name: str = "") -> logging.Logger:
    """MkDocs logs under `mkdocs.*`, ProperDocs under `properdocs.*` (its `mkdocs` logger is only a child
    for plugins that log there): the builder's own warnings and progress lines are found under its name."""
    return logging.getLogger(f"{BUILDER}.{name}" if name else BUILDER)


_ENGLISH_LINES = (
    (r"Cleaning site directory", "新しいサイトを用意しています"),
    (r"Building documentation to directory: .*", "サイトを作っています（できあがってから site/ と入れ替えます）"),
    (r"Documentation built in ([\d.]+) seconds", "サイトを作りました（{0} 秒）"),
    (r"Building documentation\.\.\.", "プレビューを作っています…"),
    (r"Watching paths for changes: (.*)", "変更を見張っています: {0}"),
    (r"Serving on (\S+)(?: and opening it in a browser)?", "プレビュー: {0} をブラウザーで開いてください（終わるときは Ctrl+C）"),
    (r"Detected file changes", "ファイルの変更を見つけました。作り直します"),
    (r"Reloading browsers", "ブラウザーの表示を新しくします"),
    (r"Browser connected: (.*)", "ブラウザーがつながりました: {0}"),
    (r"Shutting down\.\.\.", "プレビューを終わります…"),
)
"""The builder's own progress lines, matched by their English text, as editors read them in the terminal."""


class _Japanese(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        for pattern, words in _ENGLISH_LINES:
            match = re.fullmatch(rf"(\[[\d:]+\] )?{pattern}", text)  # the preview's lines start with the time
            if match is not None:
                record.msg, record.args = (match.group(1) or "") + words.format(*match.groups()[1:]), None
                break
        return True


def speak_japanese() -> None:
    """The builder prints its progress in English; editors read it in Japanese (once per process)."""
    for name in ("commands.build", "commands.serve", "livereload"):
        logger = builder_logger(name)
        if not any(isinstance(existing, _Japanese) for existing in logger.filters):
            logger.addFilter(_Japanese())


def _without_dirty_warning(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("A 'dirty' build")


def hide_dirty_warning() -> None:
    """MkDocs warns about stale navigation at every `--dirty` rebuild, a warning matched here by its text; the
    adapter rebuilds every page whenever the navigation changes, so the warning would only worry editors."""
    logger = builder_logger("commands.build")
    if _without_dirty_warning not in logger.filters:
        logger.addFilter(_without_dirty_warning)


def prerendered(page: MkDocsPage, body: str, toc: Iterable[Heading]) -> None:
    """The page takes HTML the engine rendered already: MkDocs would build a Markdown converter per page only to
    convert nothing. Its table of contents is made from `_TocToken`s, MkDocs' private form of a heading."""
    def render(config: MkDocsConfig, files: Files) -> None:
        page.content = body
        page.toc = get_toc([_toc_token(heading) for heading in toc])
    page.render = render  # type: ignore[method-assign]


def read_as(page: MkDocsPage, meta: dict[str, Any]) -> None:
    """The page's front matter is `meta` and its Markdown empty, as MkDocs would read them from its stub, which
    it then does not parse (the YAML of five hundred stubs). `Page.read_source` would first ask plugins for the
    page's source: the stub is the adapter's own."""
    def read_source(config: MkDocsConfig) -> None:
        page.markdown, page.meta = "", meta
    page.read_source = read_source  # type: ignore[method-assign]


def page_of(file: File, config: MkDocsConfig) -> MkDocsPage:
    """The file's page; MkDocs makes that of a file outside the navigation only as it reads the file, after
    `on_nav`: it is made here the same way, and MkDocs keeps it."""
    return file.page if file.page is not None else MkDocsPage(None, file, config)


def written(page: MkDocsPage) -> None:
    """A `mkdocs build` page whose file is written: its HTML is no longer read (Material indexed it for search
    before rendering, the sitemap takes addresses and dates only), and the pages' HTML kept to the end of the
    build was a tenth of its peak memory. Not under `mkdocs serve`, which keeps pages between rebuilds."""
    page.content = None


def forget_search_index(config: MkDocsConfig) -> None:
    """Material's search entries for every page, once its index is written by a `mkdocs build`: nothing reads
    them again (under `mkdocs serve` Material keeps them for the next rebuild, and they are left alone)."""
    index = getattr(config.plugins.get("material/search"), "search_index", None)
    if index is not None and isinstance(getattr(index, "entries", None), list):
        index.entries = []


def _toc_token(heading: Heading) -> _TocToken:
    return {"level": heading.level, "id": heading.id, "name": html.escape(heading.text),
            "children": [_toc_token(child) for child in heading.children]}


def modified_when(file: File, is_modified: Callable[[], bool]) -> None:
    """`--dirty` rebuilds ask each file whether it changed; MkDocs compares modification times only."""
    file.is_modified = is_modified  # type: ignore[method-assign]


def copied_by(file: File, copy: Callable[[bool], None]) -> None:
    """The file is written by `copy` (its argument: MkDocs' `dirty`) instead of MkDocs' own copy."""
    file.copy_file = copy  # type: ignore[method-assign,assignment]


def keep_theme_environment(config: MkDocsConfig, environment: Any) -> None:
    """MkDocs makes the theme's Jinja environment anew at every rebuild; this one is used instead."""
    config.theme.get_env = lambda: environment  # type: ignore[method-assign]


def listing_once(environment: Any) -> Any:
    """The environment lists the theme's files once: MkDocs asks at every rebuild, with a filter made anew
    each time from the theme's static templates, which are part of what the environment was made from."""
    listed: dict[object, list[str]] = {}
    list_templates = environment.list_templates

    def listing(extensions: Any = None, filter_func: Any = None) -> list[str]:
        key = (tuple(extensions or ()), getattr(filter_func, "__code__", filter_func))
        if key not in listed:
            listed[key] = list_templates(extensions, filter_func)
        return list(listed[key])
    environment.list_templates = listing
    return environment


def rewrite_search_index(config: MkDocsConfig, rewrite: Callable[[dict[str, Any]], str],
                         whole: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None) -> None:
    """Material's search plugin offers no hook for its index: its generator is wrapped in memory for this build,
    so that Material writes what `rewrite` makes of the index it would generate. `whole` gives the entries of
    every page when a `--dirty` rebuild rendered only some (Material's own merge keeps one page only).

    `rewrite` gets the index as a value: Material's configuration as it writes it, and its entries as it
    merges them (see `_merged_entries`), without the round trip through a JSON text of the whole index, which
    took most of the time and memory of writing it."""
    search = config.plugins.get("material/search")
    index = getattr(search, "search_index", None)
    if index is None:
        return
    if whole is not None:
        search.search_index_prev = None  # type: ignore[union-attr]
        index.entries = whole(index.entries)
    generate = index.generate_search_index

    def generate_rewritten(previous: Any) -> str:
        entries, index.entries = _merged_entries(index.entries, previous), []
        try:
            skeleton = json.loads(generate(None))  # its configuration alone
        finally:
            index.entries = entries
        return rewrite({**skeleton, "docs": entries})
    index.generate_search_index = generate_rewritten


def _merged_entries(entries: list[dict[str, Any]], previous: Any) -> list[dict[str, Any]]:
    """What Material's `generate_search_index` (9.x) makes of its entries and the previous build's index."""
    if previous and entries:
        path = entries[0]["location"]
        return [entry for entry in previous.entries if not entry["location"].startswith(path)] + entries
    if previous and not entries:
        return list(previous.entries)
    return entries


def wrap_rebuild(server: Any, wrap: Callable[[Callable[[], None]], Callable[[], None]]) -> None:
    """The preview server's rebuild, as MkDocs' `LiveReloadServer.builder` holds it, runs through `wrap`."""
    server.builder = wrap(server.builder)


def name_the_bound_port(server: Any) -> None:
    """With `--port 0` the system picks a free port as the server binds (tests take ports so, without a race):
    the line that says where the preview is then names that port, not 0. MkDocs keeps that line in `server.url`,
    written before the bind."""
    bind = server.server_bind

    def bound() -> None:
        bind()
        server.url = server.url.replace(":0/", f":{server.server_address[1]}/", 1)
    server.server_bind = bound


def wrap_reload_script(server: Any, wrap: Callable[[Callable[[bytes, int], bytes]], Callable[[bytes, int], bytes]]
                       ) -> None:
    """The preview server adds its reload script to each page with the private `_inject_js_into_html`."""
    server._inject_js_into_html = wrap(server._inject_js_into_html)


_THEME_SKIPPED = (".*", "*/.*", "*.py", "*.pyc", "*.html", "*readme*", "mkdocs_theme.yml", "locales/*")
"""MkDocs' own rule for the files of a theme folder that are not published (`Files.add_files_from_theme`)."""


def theme_files(folder: Path, config: MkDocsConfig) -> list[str]:
    """The files of a theme folder MkDocs will publish, by its own rule (above) and the theme's static templates."""
    patterns = (*_THEME_SKIPPED, *(f"*{suffix}" for suffix in (".md", ".markdown", ".mdown", ".mkdn", ".mkd")),
                *config.theme.static_templates)
    names = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if (path.is_file() or path.is_symlink()) and not any(fnmatch.fnmatch(name.lower(), p) for p in patterns):
            names.append(name)
    return names


def material_stylesheets(config: MkDocsConfig) -> list[bytes]:
    """The two stylesheets Material's `base.html` links (`main`, then `palette` where mkdocs.yml sets one);
    their names carry a hash that changes with each Material release."""
    wanted = ["main", "palette"] if config.theme.get("palette") else ["main"]
    for folder in config.theme.dirs:
        styles = Path(folder) / "assets" / "stylesheets"
        found = {name: sorted(styles.glob(f"{name}.*.min.css")) for name in wanted}
        if all(len(paths) == 1 for paths in found.values()):
            return [found[name][0].read_bytes() for name in wanted]
    raise PluginError("Material for MkDocs のスタイルシート（assets/stylesheets/main.*.min.css）が見つかりません。"
                      "make site で .venv を作り直してください。")
