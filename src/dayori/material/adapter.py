"""MkDocs events turned into engine calls, and the engine's builder-neutral values into MkDocs files and pages.

The only translator between the engine and the builder; see `docs/maintainers.md` for what a move to another
builder replaces.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import mimetypes
import os
import pickle
import re
import shutil
import sysconfig
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import Abort, BuildError, MkDocsException, PluginError
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel, get_files
from mkdocs.structure.pages import Page as MkDocsPage
from mkdocs.utils import CountHandler

from dayori import csp, sanitize
from dayori.build import STYLESHEET, Build, finish, late_outputs, prepare
from dayori.compress import RECORD, Compressing, early, precompress
from dayori.config import ConfigError, Settings, never_published, settings_from_file
from dayori.content import left_out_of_docs
from dayori.errors import ContentError, Problem
from dayori.feeds import feed_links
from dayori.filepack import OpenPacks, Part
from dayori.gate import HandWritten, Publication, Refused, copy_vetted
from dayori.material import internals, policy
from dayori.material.search import INDEX, TERMS_CODE, rewrite_index, search_outputs, split_index
from dayori.memo import Memo
from dayori.model import Output, Page
from dayori.preview import BUILD_ID_FILE, error_page, forbidden_page, host_allowed
from dayori.sitedir import Staging, begin, discard, publish
from dayori.store import copy_file, copy_part, digest, ensure_folder, link_or_copy, write_atomic, written_beside
from dayori.templatecache import keep_compiled

log = logging.getLogger("mkdocs.dayori")
LATEST_MARKER = "<!-- dayori:latest -->"


@dataclass
class _Reload:
    """`make serve` (MkDocs' `--dirty`) reads and rewrites only what changed since the last good build of this
    server: `rendered` is what each written file was made from, `unchanged` the files this build leaves as they
    are (and does not read, unless the navigation takes a title from their text: `untitled`), `linked` the
    cached files already linked into the folder, `search` every page's search entries (Material indexes only
    the pages it renders). Emptied after any failure, so that the next good build writes everything."""

    rendered: dict[str, tuple[object, str]] = field(default_factory=dict)
    pending: dict[str, tuple[object, str]] = field(default_factory=dict)
    unchanged: set[str] = field(default_factory=set)
    writing: bool = False
    untitled: set[str] = field(default_factory=set)
    linked: set[tuple[str, str]] = field(default_factory=set)
    pages: dict[str, bool] = field(default_factory=dict)
    search: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    common: str = ""
    stubs: dict[str, str] = field(default_factory=dict)
    terms: dict[str, dict[str, str]] = field(default_factory=dict)
    theme: tuple[object, Any] = (None, None)
    """The theme's Jinja environment and what it was made from (see `_reuse_theme`)."""

    def forget(self) -> None:
        self.rendered, self.pending, self.unchanged, self.search, self.linked = {}, {}, set(), {}, set()
        self.writing, self.common = False, ""


@dataclass
class Session:
    """What MkDocs forces to live between events, for one `mkdocs build` or one `mkdocs serve`: the command, the
    current build and, under `make serve`, what its rebuilds reuse. Made by `on_startup`, dropped by
    `on_shutdown`, so that nothing of one session reaches the next one in the same process."""

    preview: bool = False
    dirty: bool = False
    settings: Settings | None = None
    build: Build | None = None
    pages: dict[str, Page] | None = None
    site: _SiteSwap | None = None
    failure: list[Problem] | list[str] | None = None
    error: Exception | None = None
    refused_warnings: int = 0
    """Warnings for which a strict build was refused (MkDocs would say so in English)."""
    activated: list[Any] = field(default_factory=list)
    reload: _Reload = field(default_factory=_Reload)
    memo: Memo = field(default_factory=Memo)
    """The engine's results kept between the rebuilds of `mkdocs serve` (see `dayori.memo`)."""
    policy: policy.Patterns | None = None
    """The theme's inline scripts and styles that pages may run (see `dayori.material.policy`), per build."""
    stubs_kept: dict[str, str] | None = None
    """The last build's page stubs by what they were made from (see `_reused_stub`), read once per build."""
    stubs_made: dict[str, str] = field(default_factory=dict)
    terms_used: dict[str, dict[str, str]] | None = None
    """The search index's terms by entry (see `dayori.material.search.rewrite_index`), kept like the stubs."""
    terms_kept: frozenset[str] = frozenset()
    terms_written: Path | None = None
    """A `mkdocs build`'s new search terms, pickled beside the kept ones as soon as the index is written (and
    dropped from memory: megabytes, held to the end of the build, when its memory peaks); they replace the
    kept ones when the site is published (see `_keep_stubs`)."""
    compressing: Compressing | None = None
    """A first `mkdocs build`'s compressed copies, made by another process while the pages are written (see
    `dayori.compress.Compressing`): started at the first page, offered each file once it is written."""
    unoffered: str | None = None
    """The page being written, offered once MkDocs has written it (at the next page, or after the last)."""

    @property
    def reloading(self) -> bool:
        """`make serve` (MkDocs' `--dirty`): see `_Reload`."""
        return self.preview and self.dirty


@dataclass(frozen=True)
class _SiteSwap:
    """A `mkdocs build` writing beside `site/` (see `dayori.sitedir`), and, in strict mode, the warnings
    that will make MkDocs refuse the build only after every plugin has run."""

    staging: Staging
    warnings: CountHandler | None
    replacing: bool
    """Whether there was a site to replace when the build began: on a first build, no copy looks for its
    previous copy (a site published meanwhile by another build only has its copies made again)."""


_current: Session | None = None
"""MkDocs calls the hook's events as functions of a module: this is where they find the session."""


def session() -> Session:
    """The current session; a build started without `on_startup` (MkDocs' `build()` called alone) gets one."""
    global _current
    if _current is None:
        _current = Session()
    return _current


STYLESHEET_KEY = "dayori_stylesheet"
"""Where `templates/main.html` finds the one stylesheet pages link (see `_one_stylesheet`)."""
SCRIPTS_KEY = "dayori_scripts"
"""Where `templates/main.html` finds the scripts' published names (see `_theme_scripts`)."""
SITE_SCRIPT = "assets/javascripts/dayori/site.js"
_PACKAGE = resources.files("dayori.material")


def settings_from_config(config: MkDocsConfig) -> Settings:
    """The engine reads its own settings from mkdocs.yml; only the address differs under `mkdocs serve`."""
    try:
        settings = settings_from_file(Path(config.config_file_path))
    except ConfigError as error:
        raise PluginError(str(error)) from error
    return replace(settings, site_url=config.site_url or settings.site_url)


FEED_TYPES = {".atom": "application/atom+xml; charset=utf-8"}
"""Types the preview server must send with a charset: without one Chromium shows an Atom feed as Latin-1 text
(mojibake). RSS (`.xml`) and JSON are read as UTF-8 already. The guide gives the same lines for the web server."""


class _ToBuildLog(logging.Handler):
    """The engine logs under `dayori` (a transcode's progress); MkDocs shows (and counts, for `--strict`) only
    its own loggers' records, so they go to MkDocs' loggers' handlers too. Not to the root logger's: the record
    reaches those from `dayori` already, and a program that logs there (a test runner) would get it twice."""

    def emit(self, record: logging.LogRecord) -> None:
        logger: logging.Logger | None = log
        while logger is not None and logger is not logging.root:
            for handler in logger.handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)
            logger = logger.parent if logger.propagate else None


def _engine_log() -> None:
    engine = logging.getLogger("dayori")
    if not any(isinstance(handler, _ToBuildLog) for handler in engine.handlers):
        engine.addHandler(_ToBuildLog())
    engine.setLevel(log.getEffectiveLevel())  # `mkdocs build -q` quietens the engine too


def on_startup(command: str, dirty: bool) -> None:
    global _current
    _current = state = Session(preview=command == "serve", dirty=dirty)
    _engine_log()
    internals.speak_japanese()
    if state.preview:
        for suffix, content_type in FEED_TYPES.items():
            mimetypes.add_type(content_type, suffix)  # the preview server asks the standard registry
    if state.reloading:
        internals.hide_dirty_warning()


def on_shutdown() -> None:
    global _current
    if _current is not None:
        _stop_late_work(_current)
    _current = None


def _stop_late_work(state: Session) -> None:
    """A build that ended before `_finish_build` leaves no process behind, and none writing into its folder."""
    if state.build is not None and state.build.late is not None:
        state.build.late.close()
    _stop_compressing(state)


def _stop_compressing(state: Session) -> None:
    if state.compressing is not None:
        state.compressing.stop()
    state.compressing = state.unoffered = None


def theme_templates() -> str:
    """The engine's templates, which come before the theme's (its pages, and what it changes of Material's)."""
    return str(_PACKAGE / "templates")


@event_priority(50)  # before Material's search plugin asks for the theme's environment
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    state = session()
    internals.check_versions()
    state.failure = state.error = state.policy = None
    state.reload.writing = False
    state.settings = settings_from_config(config)
    config.theme.dirs.insert(0, theme_templates())
    config.extra["dayori_feeds"] = feed_links(state.settings)
    if state.reloading:
        _reuse_theme(config)
    _stage_site(config)
    return config


def _reuse_theme(config: MkDocsConfig) -> None:
    """`make serve` keeps the theme's Jinja environment while the theme stays the same: MkDocs makes a new
    one at every rebuild, which lists Material's fourteen thousand files and compiles its templates again.
    A template edited under `make serve` (see `_templates_signature`) makes a new one."""
    state = session()
    theme, reload = config.theme, state.reload
    made_from = (list(theme.dirs), theme.locale, sorted(theme.static_templates), _templates_signature(config))
    if reload.theme[0] != made_from:
        reload.theme = made_from, internals.listing_once(theme.get_env())
    internals.keep_theme_environment(config, reload.theme[1])


def _stage_site(config: MkDocsConfig) -> None:
    """`mkdocs build` writes into a fresh folder beside `site/`, swapped in by `_publish_site`: MkDocs
    empties `site/` before it knows whether the build will succeed, and a reader (or a second build) would
    see it half-written. `--dirty` therefore changes nothing for `mkdocs build` (the folder starts empty, so
    every file is written; `--clean` is what happens anyway). `mkdocs serve` builds into its own temporary
    folder and is left alone."""
    state = session()
    state.site = None
    _stop_compressing(state)
    if state.preview:
        return
    warnings = CountHandler(level=logging.WARNING) if config.strict else None
    if warnings is not None:
        internals.builder_logger().addHandler(warnings)
    staging = begin(Path(config.site_dir))
    state.site = _SiteSwap(staging, warnings, staging.final.is_dir())
    config.site_dir = str(state.site.staging.folder)


def on_pre_build(config: MkDocsConfig) -> None:
    """Runs before MkDocs cleans `site/`: a failing build leaves the last good site untouched."""
    state = session()
    assert state.settings is not None
    try:
        build = prepare(state.settings, preview=state.preview, docs=_docs_outputs(config),
                        memo=state.memo if state.preview else None, wait=False, model=False)
    except ContentError as error:
        if not state.preview:
            raise PluginError(error.report()) from error
        _show_in_preview(error, config)
        return
    for warning in build.warnings:
        log.warning(warning)
    log.info("所要時間: " + "、".join(f"{_STAGES.get(stage, stage)} {seconds:.2f} 秒"
                                   for stage, seconds in build.seconds.items()))
    state.build = build
    state.pages = {_source_uri(page): page for page in build.site.pages}


_STAGES = {"content": "読み込み", "check": "校正", "media": "動画", "feeds": "フィード", "email": "メール", "pages": "ページ"}


def _show_in_preview(error: ContentError, config: MkDocsConfig) -> None:
    """Under `mkdocs serve` an editor's mistake does not fail the build (the server would then hold every
    request until a good build): the build publishes only the error page, and the terminal gets the whole
    list every time (MkDocs prints a repeated error only once)."""
    state = session()
    log.error(error.report() + "\nプレビューには、この一覧をエラーページとして表示しています。直して保存すると自動で更新されます。")
    state.failure = error.problems
    state.build = state.pages = None
    state.reload.forget()
    config.nav = []


def _docs_outputs(config: MkDocsConfig) -> list[HandWritten]:
    """What MkDocs will publish of docs/ and of theme override folders, for the engine's gate and collision
    check before anything is written; paths as the editor finds them in the project."""
    state = session()
    assert state.settings is not None
    project = Path(config.config_file_path).parent
    files = [HandWritten(file.dest_uri, Path(file.abs_src_path), Path(os.path.relpath(file.abs_src_path, project)))
             for file in get_files(config) if _included(file) and file.abs_src_path is not None
             and left_out_of_docs(file.src_uri, Path(file.abs_src_path), state.settings) is None]
    for folder in _override_folders(config):
        files += [HandWritten(name, folder / name, Path(os.path.relpath(folder / name, project)), folder)
                  for name in internals.theme_files(folder, config)]
    return files


def _override_folders(config: MkDocsConfig) -> list[Path]:
    """Theme folders that belong to the project (`theme.custom_dir`, this package's templates), not to an
    installed theme: their files pass the gate like docs/."""
    installed = Path(sysconfig.get_path("purelib"))
    return [Path(folder) for folder in config.theme.dirs if not Path(folder).is_relative_to(installed)]


def on_files(files: Files, config: MkDocsConfig) -> Files:
    state = session()
    if state.failure is not None:
        return Files([])
    assert state.build is not None and state.pages is not None
    _leave_out_unpublishable(files, config)
    _publish_vetted(files, config, state.build.publications)
    for uri, page in state.pages.items():
        # Issues are reached from the archive, not from the navigation, which must not grow with them.
        _add(files, File.generated(config, uri, content=_reused_stub(page), inclusion=InclusionLevel.NOT_IN_NAV))
    assert state.settings is not None
    cache = state.settings.cache_path
    in_cache = tuple(f"{folder}{os.sep}" for folder in {cache, cache.resolve()})
    stylesheet = _one_stylesheet(config, state.build.outputs)
    config.extra[STYLESHEET_KEY] = stylesheet.dest
    scripts = _theme_scripts()
    config.extra[SCRIPTS_KEY] = {Path(original).stem: output.dest for original, output in scripts.items()}
    for output in [*state.build.outputs, *scripts.values(), stylesheet]:
        if output.content is not None:
            _add(files, File.generated(config, output.dest, content=output.content))
        elif output.source is not None and str(output.source).startswith(in_cache):  # made by the engine there
            cached = _CachedFile.generated(config, output.dest, abs_src_path=str(output.source))
            assert isinstance(cached, _CachedFile)
            _add(files, cached.holding(output.part))
        else:
            _add(files, File.generated(config, output.dest, abs_src_path=str(output.source)))
    if state.reloading:
        for file in files:
            if _watched(file):
                internals.modified_when(file, _is_modified(file))
    return files


def _watched(file: File) -> bool:
    """Pages, and the engine's outputs given as bytes (feeds, emails); copied files keep MkDocs' own test of
    modification times."""
    return file.is_documentation_page() or bool(file.generated_by and file.abs_src_path is None)


def _is_modified(file: File) -> Callable[[], bool]:
    """Only what `_plan_rewrites` found changed is read, rendered and written. An unchanged page is read
    only when the navigation takes its title from its text: nothing else shows another page's title or
    contents (issues are outside the navigation, the engine's HTML has its links resolved already, and the
    search index keeps every page's entries)."""
    state = session()
    def is_modified() -> bool:
        reload = state.reload
        return file.src_uri not in reload.unchanged or (not reload.writing and file.src_uri in reload.untitled)
    return is_modified


def on_nav(nav: Any, config: MkDocsConfig, files: Files) -> Any:
    """Before MkDocs reads the pages: decide what this `make serve` rebuild reads and writes, and hand the
    engine's pages their front matter."""
    state = session()
    if state.reloading and state.failure is None:
        _plan_rewrites(files, config, nav)
    for file in files.documentation_pages():
        generated = (state.pages or {}).get(file.src_uri) if file.generated_by else None
        meta = _as_read(_stub_meta(generated)) if generated is not None else None
        if isinstance(meta, dict):
            internals.read_as(internals.page_of(file, config), meta)
    return nav


_UNSURE = object()


def _as_read(value: Any) -> Any:
    """A stub's front matter as MkDocs reads it back (see `_stub`: PyYAML's safe types, each mapping's keys in
    order), or `_UNSURE` where a value is of a type whose way back is not known to be itself."""
    if type(value) in (str, int, bool, type(None)):
        return value
    if type(value) is list:
        items = [_as_read(item) for item in value]
        return _UNSURE if any(item is _UNSURE for item in items) else items
    if type(value) is dict and all(type(key) is str for key in value):
        mapping = {key: _as_read(value[key]) for key in sorted(value)}
        return _UNSURE if any(item is _UNSURE for item in mapping.values()) else mapping
    return _UNSURE


def on_env(env: Any, config: MkDocsConfig, files: Files) -> Any:
    """Between reading the pages and writing them; the theme's templates are compiled once, not at every build
    (see `dayori.templatecache`)."""
    state = session()
    if state.reloading and state.failure is None:
        state.reload.writing = True
    if state.settings is not None:
        keep_compiled(env, state.settings.cache_path)
    return env


def _plan_rewrites(files: Files, config: MkDocsConfig, nav: Any) -> None:
    """A file is left as the last good build wrote it when what it is made from is the same: its own
    source (a page's Markdown, or the engine's page and stub), and, for pages, everything every page shows
    (mkdocs.yml, the navigation with its titles, the theme as `_reuse_theme` found it)."""
    state = session()
    reload = state.reload
    common = digest(Path(config.config_file_path).read_bytes().hex(), _nav_signature(nav.items), reload.theme[0])
    if common == reload.common and (Path(config.site_dir) / "404.html").is_file():
        config.theme.static_templates.discard("404.html")  # shows only the navigation and mkdocs.yml
    reload.common = common
    reload.pending = {file.src_uri: (_made_from(file, common), file.abs_dest_path)
                      for file in files if _watched(file)}
    for uri in reload.rendered.keys() - reload.pending.keys():
        Path(reload.rendered[uri][1]).unlink(missing_ok=True)
    reload.unchanged = {uri for uri, made in reload.pending.items()
                        if reload.rendered.get(uri) == made and Path(made[1]).is_file()}
    reload.pages = {file.url: file.src_uri in reload.unchanged for file in files.documentation_pages()}
    reload.untitled = {page.file.src_uri for page in nav.pages if page.title is None}


def _made_from(file: File, common: str) -> object:
    """Compared with what the last build's file was made from: the engine's values are the same objects
    when they did not change (see `dayori.memo`), so the comparison is mostly by identity."""
    state = session()
    if not file.is_documentation_page():
        return file.content_bytes
    generated = (state.pages or {}).get(file.src_uri) if file.generated_by else None
    text = file.content_string
    shown = generated.html if generated is not None else text
    latest = state.build.site.latest_html if state.build is not None and LATEST_MARKER in shown else ""
    return common, text, generated, latest


def _nav_signature(items: list[Any]) -> list[Any]:
    """Titles and addresses as the navigation shows them. Read before the pages are: a page whose title
    mkdocs.yml does not give takes it from its text, so its text stands for its title."""
    return [[_nav_title(item), getattr(item, "url", None), _nav_signature(getattr(item, "children", None) or [])]
            for item in items]


def _nav_title(item: Any) -> str | None:
    title = getattr(item, "title", None)
    file = getattr(item, "file", None)
    return title if title is not None or file is None else digest(file.content_string)


def _templates_signature(config: MkDocsConfig) -> list[tuple[str, int]]:
    """The templates a maintainer may edit while the server runs: installed packages' (Material's, with its
    fourteen thousand icons to walk) stay as they are."""
    installed = Path(sysconfig.get_path("purelib"))
    return [(str(path), path.stat().st_mtime_ns) for folder in config.theme.dirs
            if not Path(folder).is_relative_to(installed) for path in sorted(Path(folder).rglob("*.html"))]


def _leave_out_unpublishable(files: Files, config: MkDocsConfig) -> None:
    """docs/ files of a kind that is never published (see `left_out_of_docs`); the theme's are its own.
    Files mkdocs.yml's `exclude_docs` names (the proofreading dictionary) are left out without a word, unless
    they are lists or tables, which are better moved out of docs/ altogether."""
    state = session()
    assert state.settings is not None
    for file in list(files):
        if file.src_dir != config.docs_dir:
            continue
        why = left_out_of_docs(file.src_uri, Path(file.abs_src_path or ""), state.settings)
        if why is not None:
            files.remove(file)
            if file.inclusion != InclusionLevel.EXCLUDED or never_published(Path(file.src_uri).suffix):
                log.warning(why)


def _publish_vetted(files: Files, config: MkDocsConfig, publications: dict[str, Publication]) -> None:
    """docs/ and theme override files are published as the engine's gate passed them: a page's Markdown as
    the gate read it, a picture from the engine's copy without metadata, anything else copied only while it
    is still the file the gate looked at. A file the engine was not shown is not published."""
    overrides = {str(folder) for folder in _override_folders(config)}
    for file in list(files):
        if file.generated_by or not (file.src_dir == config.docs_dir or file.src_dir in overrides):
            continue
        publication = publications.get(file.dest_uri)
        if publication is None:
            if _included(file) and file.src_dir in overrides | {config.docs_dir}:
                raise PluginError(f"{file.src_uri} は公開前の確認を通っていません（ビルドの途中で加わったファイル）。"
                                  "もう一度ビルドしてください。")
            continue
        if publication.text is not None:
            file.content_string = publication.text
        else:
            internals.copied_by(file, _vetted_copy(file, publication))


def _vetted_copy(file: File, publication: Publication) -> Callable[[bool], None]:
    def copy_file(dirty: bool = False) -> None:
        destination = Path(file.abs_dest_path)
        if publication.copy is not None:
            _copy_cached(publication.copy, destination, file.dest_uri)
            return
        try:
            copy_vetted(publication.source, publication.stamp, destination)
        except Refused as refusal:
            raise PluginError(f"{publication.shown}: {refusal}") from refusal
    return copy_file


def _theme_scripts() -> dict[str, Output]:
    """This theme integration's scripts by their plain names, each published under a name that carries a
    hash of its content (`search.3f2a….js`), so that servers may let browsers keep them for a year."""
    plain = [*search_outputs(), Output(SITE_SCRIPT, source=Path(str(_PACKAGE / "assets" / "site.js")))]
    return {output.dest: _content_named(output.dest, output.data()) for output in plain}


def _content_named(dest: str, data: bytes) -> Output:
    path = Path(dest)
    return Output(path.with_name(f"{path.stem}.{hashlib.sha256(data).hexdigest()[:12]}{path.suffix}").as_posix(),
                  content=data)


def _one_stylesheet(config: MkDocsConfig, outputs: Iterable[Output]) -> Output:
    """Material's stylesheets, the engine's and this theme's in one file, the only request a page waits for
    before it shows text (readers on slow links pay a connection and a round trip per stylesheet). Named by
    its content, so that servers may let browsers keep it for a year (see the guide)."""
    engine = next(output for output in outputs if output.dest == STYLESHEET)
    parts = [*internals.material_stylesheets(config), engine.data(),
             (_PACKAGE / "assets" / "material.css").read_bytes()]
    return _content_named("assets/stylesheets/dayori/site.css", b"\n".join(parts))


class _CachedFile(File):
    """A finished file from the engine's cache (a transcode, an email): published as its own inode, never
    linked to the cache, so that editing site/ cannot change what a later build publishes; an untouched
    copy in the site being replaced is reused (see `dayori.store.copy_file`). With a `part`, the file is
    that part of a pack (an email, see `dayori.filepack`)."""

    part: Part | None = None

    def holding(self, part: Part | None) -> _CachedFile:
        """This file, being `part` of the cache file it names."""
        self.part = part
        return self

    def copy_file(self, dirty: bool = False) -> None:
        assert self.abs_src_path is not None
        _copy_cached(Path(self.abs_src_path), Path(self.abs_dest_path), self.dest_uri, self.part)

    @property
    def content_bytes(self) -> bytes:
        assert self.abs_src_path is not None
        return Output(self.dest_uri, source=Path(self.abs_src_path), part=self.part).data()

    @content_bytes.setter
    def content_bytes(self, value: bytes) -> None:
        File.content_bytes.fset(self, value)  # type: ignore[attr-defined]


def _copy_cached(source: Path, destination: Path, dest_uri: str, part: Part | None = None,
                 packs: OpenPacks | None = None) -> None:
    """`packs` holds packs open for a run of copies of their parts."""
    state = session()
    if state.preview:
        # `mkdocs serve`'s own temporary folder, deleted at the end: nobody edits it, and linking keeps a
        # rebuild from writing every email again (`make serve` keeps the folder between rebuilds). A part of
        # a pack is written again only when it is another record's.
        linked = state.reload.linked
        named = (str(source), str(destination)) if part is None else (f"{part.key}/{part.number}", str(destination))
        if named not in linked and (part is not None or not _same_file(source, destination)):
            destination.unlink(missing_ok=True)
            if part is None:
                link_or_copy(source, destination)
            else:
                ensure_folder(destination.parent)
                destination.write_bytes(part.read(source))
        linked.add(named)
    else:
        previous = state.site.staging.final / dest_uri if state.site is not None and state.site.replacing else None
        if part is None:
            copy_file(source, destination, previous)
        else:
            copy_part(source, part, destination, previous,
                      None if packs is None else functools.partial(packs.read, source, part))


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def on_page_markdown(markdown: str, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str:
    """Generated pages were rendered by the engine already; MkDocs would build a Markdown converter per page
    (a tenth of a large build) only to convert nothing, so the page takes the engine's HTML instead."""
    generated = _generated(page)
    if generated is None:
        return markdown
    internals.prerendered(page, generated.html, generated.toc)
    return ""


def on_page_content(html: str, page: MkDocsPage, config: MkDocsConfig, files: Files) -> str:
    """A hand-written page is cleaned by the sanitiser the bodies went through (the engine has already told the
    editor about anything it removes); the engine's own pages are clean already."""
    state = session()
    if _generated(page) is not None:
        return html
    parts = [sanitize.clean(part) for part in html.split(LATEST_MARKER)]
    latest = state.build.site.latest_html if state.build is not None else LATEST_MARKER
    return latest.join(parts)


@event_priority(100)
def _teach_search_japanese(config: MkDocsConfig) -> None:
    """Before Material's search plugin writes its index, teach it Japanese compounds (see `dayori.search`)."""
    state = session()
    _offer_written(None)
    whole = _all_entries if state.reloading and state.failure is None else None
    internals.rewrite_search_index(config, _with_japanese_terms(Path(config.site_dir)), whole)


def _all_entries(built: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The whole index in page order, in a rebuild that rendered only some pages: their new entries and
    the others' from the build that last rendered them."""
    state = session()
    reload = state.reload
    new: dict[str, list[dict[str, Any]]] = {}
    for entry in built:
        new.setdefault(str(entry["location"]).split("#", 1)[0], []).append(entry)
    reload.search = {url: reload.search.get(url, []) if kept else new.get(url, [])
                     for url, kept in reload.pages.items()}
    return [entry for entries in reload.search.values() for entry in entries]


@event_priority(-100)
def _publish_site(config: MkDocsConfig) -> None:
    """Last of all `post_build` handlers (Material's search index and the sitemap are written by then):
    the finished folder gets its compressed copies and replaces `site/` in one step. A strict build with warnings is refused by MkDocs
    right after this event, so its folder is discarded instead and `site/` stays as it was."""
    state = session()
    if not state.preview:
        internals.forget_search_index(config)
    if state.build is not None and state.build.late is not None:
        _finish_build(Path(config.site_dir))
    swap = _end_site_swap()
    if swap is None:
        return
    config.site_dir = str(swap.staging.final)
    if swap.warnings is not None and swap.warnings.get_counts():
        state.refused_warnings = sum(count for _, count in swap.warnings.get_counts())
        _stop_compressing(state)
        discard(swap.staging)
        _drop_unkept_terms(state)
    else:
        if state.compressing is not None:
            compressing, state.compressing = state.compressing, None
            compressing.finish()
        else:
            precompress(swap.staging.folder, swap.staging.final,
                        state.settings.cache_path / RECORD if state.settings is not None else None)
        publish(swap.staging)
        _keep_stubs(state)
    if state.build is not None:
        log.info(state.build.check.summary)


def _finish_build(folder: Path) -> None:
    """The proofreading and the emails, made by other processes while MkDocs rendered the pages (see
    `dayori.build.finish`), join the finished folder before it is published; their problems stop the build
    here, and `site/` stays as it was."""
    state = session()
    unfinished = state.build
    assert unfinished is not None
    try:
        build = finish(unfinished)
    except ContentError as error:
        raise PluginError(error.report()) from error
    state.build = build
    for warning in build.warnings[len(unfinished.warnings):]:
        log.warning(warning)
    with OpenPacks() as packs:
        for output in late_outputs(unfinished, build):
            destination = folder / output.dest  # both ways of writing make its folder
            if output.content is not None:
                write_atomic(destination, output.content)
            else:
                assert output.source is not None
                _copy_cached(output.source, destination, output.dest, output.part, packs)
            if state.compressing is not None:
                state.compressing.offer(output.dest)


@event_priority(-50)
def _write_preview_failure(config: MkDocsConfig) -> None:
    state = session()
    if state.failure is not None:
        _clear(Path(config.site_dir))  # `make serve` keeps the last good build's files, no address may show them
        _write_error_site(config, state.failure)
    elif state.reloading:
        state.reload.rendered, state.reload.writing = state.reload.pending, False
        (Path(config.site_dir) / BUILD_ID_FILE).unlink(missing_ok=True)  # open error pages reload now


def _write_error_site(config: MkDocsConfig, problems: list[Problem] | list[str]) -> None:
    """The error page at every address: as the home page, and as the page MkDocs' server answers for any
    missing file (`404.html`); the id beside it tells open error pages that a newer build exists."""
    site = Path(config.site_dir)
    page = error_page(problems, uuid.uuid4().hex, urlsplit(config.site_url or "/").path or "/")
    for name in ("index.html", "404.html"):
        (site / name).write_text(page.html, encoding="utf-8")
    (site / BUILD_ID_FILE).write_text(page.build_id, encoding="utf-8")


on_post_build = CombinedEvent(_teach_search_japanese, _write_preview_failure, _publish_site)


def on_build_error(error: Exception) -> None:
    """A failed build's folder goes; `site/` keeps the last good build. MkDocs would end the terminal's
    output with `Aborted with a BuildError!`: the editor reads a Japanese summary instead."""
    state = session()
    state.error = error
    state.reload.forget()
    _stop_late_work(state)
    swap = _end_site_swap()
    if swap is not None:
        discard(swap.staging)
    _drop_unkept_terms(state)
    if state.preview:
        return
    if isinstance(error, BuildError):
        log.error(str(error))  # what MkDocs would print before its closing line
        raise Abort(closing_line(_problem_count(error))) from error
    if isinstance(error, Abort) and state.refused_warnings:
        warnings, state.refused_warnings = state.refused_warnings, 0
        raise Abort(f"ビルドを中止しました（strict: true のため、警告 {warnings} 件）。{_KEPT}") from error


_KEPT = "site/ は前回のビルドのままです。"


def closing_line(problems: int) -> str:
    """The last line of a failed build, where editors look first."""
    return f"ビルドを中止しました（{problems} 件の問題）。{_KEPT}"


def _problem_count(error: BaseException) -> int:
    cause = error.__cause__
    return len(cause.problems) if isinstance(cause, ContentError) else 1


def _end_site_swap() -> _SiteSwap | None:
    state = session()
    swap, state.site = state.site, None
    if swap is not None and swap.warnings is not None:
        internals.builder_logger().removeHandler(swap.warnings)
    return swap


def _with_japanese_terms(site: Path) -> Callable[[dict[str, Any]], str]:
    """Material writes what this returns as its index: the list of shards, written here beside it."""
    state = session()
    def generate_with_terms(generated: dict[str, Any]) -> str:
        known = state.reload.terms if state.reloading else _kept_terms(state)
        dates = {page.url: str(page.meta["date"]) for page in (state.pages or {}).values() if "date" in page.meta}
        state.terms_used = {}
        written: set[str] = set()

        def write(name: str, data: bytes, gzipped: bytes) -> None:
            ensure_folder((site / name).parent)
            (site / name).write_bytes(data)
            written.add(name)
            if state.compressing is not None:
                state.compressing.offer_gzipped(name, len(data), gzipped)
        manifest = split_index(rewrite_index(generated, known, state.terms_used), dates, write)
        if not state.preview:
            _write_terms_now(state)
        for stale in (site / Path(INDEX).parent).glob("shard-*.json"):  # `make serve` writes into the same folder
            if stale.relative_to(site).as_posix() not in written:
                stale.unlink()
        return json.dumps(manifest, ensure_ascii=False, separators=(",", ":"))
    return generate_with_terms


def on_page_context(context: dict[str, Any], page: MkDocsPage, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
    """Issues and episodes are outside the navigation, so Material would mark no tab: the tab of the list
    they belong to is marked for the time of this page's rendering."""
    state = session()
    _offer_written(page.file.dest_uri)
    generated = _generated(page)
    if generated is not None and generated.section:
        for item in nav.items:
            if getattr(item, "url", None) == generated.section and not item.active:
                item.active = True
                state.activated.append(item)
    return context


def _offer_written(page: str | None) -> None:
    """Before the first page of a first `mkdocs build` (MkDocs has copied every other file then), the copies
    start being made; each page is offered once it is written, when the next one starts (or after the last)."""
    state = session()
    if state.site is None:
        return
    if state.compressing is None and state.unoffered is None and page is not None:
        assert state.settings is not None
        state.compressing = early(state.site.staging.folder, state.site.staging.final,
                                  state.settings.cache_path / RECORD)
    if state.compressing is not None and state.unoffered is not None:
        state.compressing.offer(state.unoffered)
    state.unoffered = page


def on_post_page(output: str, page: MkDocsPage, config: MkDocsConfig) -> str:
    state = session()
    while state.activated:
        state.activated.pop().active = False
    output = _with_policy(output, config)
    if not state.preview:
        internals.written(page)
    return output


def on_post_template(output: str, template_name: str, config: MkDocsConfig) -> str:
    """The theme's own pages (404.html) carry the policy too."""
    return _with_policy(output, config) if template_name.endswith(".html") else output


def _with_policy(page: str, config: MkDocsConfig) -> str:
    state = session()
    if state.policy is None:
        state.policy = policy.theme_patterns(config.theme.dirs)
    return policy.with_policy(page, state.policy)


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """Editors' files live outside docs/: `mkdocs serve` rebuilds when they change too."""
    state = session()
    assert state.settings is not None
    for folder in (state.settings.newsletter_path, state.settings.videos_path):
        if folder.is_dir():
            server.watch(str(folder))
    internals.wrap_rebuild(server, lambda builder: _never_stuck(builder, config))
    internals.name_the_bound_port(server)
    server.set_app(_local_only(server.get_app(), lambda: int(server.server_address[1])))
    internals.wrap_reload_script(server, _reload_script_allowed)
    return server


def _local_only(app: Callable[..., Any], bound_port: Callable[[], int]) -> Callable[..., Any]:
    """The preview answers only requests addressed to this computer (see `dayori.preview.host_allowed`)."""
    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        port = bound_port()
        if not host_allowed(environ.get("HTTP_HOST"), port):
            page = forbidden_page(port)
            start_response("403 Forbidden", [("Content-Type", "text/html; charset=utf-8"),
                                             ("Content-Length", str(len(page)))])
            return [page]
        return app(environ, start_response)
    return guarded


def _reload_script_allowed(inject: Callable[[bytes, int], bytes]) -> Callable[[bytes, int], bytes]:
    """MkDocs' server adds a small script to every page it serves, to reload it after a rebuild: its page's
    policy allows exactly that script, by its hash."""
    def injecting(content: bytes, epoch: int) -> bytes:
        served = inject(content, epoch)
        scripts = re.findall(rb"<script>(.*?)</script>", served, re.DOTALL)
        if not scripts:
            return served
        return csp.allow_script(served.decode("utf-8"), scripts[-1].decode("utf-8")).encode("utf-8")
    return injecting


def _never_stuck(builder: Callable[[], None], config: MkDocsConfig) -> Callable[[], None]:
    """A rebuild that fails for a reason outside the content (a page MkDocs cannot read, a plugin) would
    leave every request of `mkdocs serve` waiting for a good build: it serves the error page instead."""
    state = session()
    def rebuild() -> None:
        state.error = None
        try:
            builder()
        except Exception as error:
            message = str(state.error or error)
            log.error(message + "\nプレビューには、このエラーをエラーページとして表示しています。直して保存すると自動で更新されます。",
                      exc_info=not isinstance(state.error or error, MkDocsException))
            state.reload.forget()
            _clear(Path(config.site_dir))
            _write_error_site(config, [message])
    return rebuild


def _clear(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _generated(page: MkDocsPage) -> Page | None:
    state = session()
    return (state.pages or {}).get(page.file.src_uri) if page.file.generated_by else None


def _included(file: File) -> bool:
    """Published, whether in the navigation or not (MkDocs leaves this method untyped)."""
    return bool(file.inclusion.is_included())  # type: ignore[no-untyped-call]


def _source_uri(page: Page) -> str:
    return f"{page.url}index.md"


STUBS_FILE = "page-stubs.pickle"
_STUB_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter where PyYAML has it (a fifth of the Python one's time on a first build); MkDocs reads the
stubs with libyaml too, and either reads back the same front matter."""
STUB_CODE = hashlib.sha256(Path(__file__).read_bytes() + yaml.__version__.encode()).hexdigest()
"""What a stub also depends on: the code that writes it (this file) and PyYAML."""


def _reused_stub(page: Page) -> str:
    """Each stub is made once per front matter: `make serve` keeps them between rebuilds, and a build takes the
    last build's from the cache (YAML writing is a tenth of a build)."""
    state = session()
    key = digest(STUB_CODE, page.title, page.description, page.meta, page.searchable, page.listing, page.section)
    if state.reloading:
        stubs = state.reload.stubs
        if key not in stubs:
            stubs[key] = _stub(page)
        return stubs[key]
    if state.stubs_kept is None:
        state.stubs_kept = _read_stubs(state.settings)
    stub = state.stubs_kept.get(key)
    if stub is None:
        stub = _stub(page)
    state.stubs_made[key] = stub
    return stub


def _read_stubs(settings: Settings | None) -> dict[str, str]:
    stubs = _read_kept(settings, STUBS_FILE)
    return stubs if isinstance(stubs, dict) and all(isinstance(v, str) for v in stubs.values()) else {}


def _read_kept(settings: Settings | None, name: str) -> Any:
    """What the last published build kept in the cache under `name` (see `_keep_stubs`), or None: absent,
    cut short or from another version, it is simply made again."""
    if settings is None:
        return None
    try:
        with open(settings.cache_path / name, "rb") as stored:
            return pickle.load(stored)
    except Exception:
        return None


TERMS_FILE = "search-terms.pickle"


def _kept_terms(state: Session) -> dict[str, dict[str, str]]:
    """The last published build's search terms by entry, when the code that made them is this one."""
    kept = _read_kept(state.settings, TERMS_FILE)
    terms = kept[1] if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == TERMS_CODE \
        and isinstance(kept[1], dict) else {}
    state.terms_kept = frozenset(terms)
    return terms


def _keep_stubs(state: Session) -> None:
    """The stubs and search terms of a published build, for the next one; each file written only when they
    changed, and atomically."""
    if state.settings is None:
        return
    if state.stubs_made and state.stubs_made != state.stubs_kept:
        os.replace(_pickled_beside(state.settings.cache_path / STUBS_FILE, state.stubs_made),
                   state.settings.cache_path / STUBS_FILE)
    if state.terms_written is not None:
        os.replace(state.terms_written, state.settings.cache_path / TERMS_FILE)
        state.terms_written = None


def _write_terms_now(state: Session) -> None:
    """See `Session.terms_written`; nothing is written when the terms are those kept already."""
    used, state.terms_used = state.terms_used, None
    if state.settings is not None and used and used.keys() != state.terms_kept:
        state.terms_written = _pickled_beside(state.settings.cache_path / TERMS_FILE, (TERMS_CODE, used))


def _drop_unkept_terms(state: Session) -> None:
    """A build that publishes nothing keeps nothing."""
    if state.terms_written is not None:
        state.terms_written.unlink(missing_ok=True)
        state.terms_written = None


def _pickled_beside(path: Path, value: object) -> Path:
    """`value` pickled straight into a temporary file beside `path` (not held a second time as bytes)."""
    return written_beside(path, lambda file: pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL))


def _stub(page: Page) -> str:
    """The page's file as MkDocs sees it: its front matter (`_stub_meta`) and no Markdown."""
    return f"---\n{yaml.dump(_stub_meta(page), Dumper=_STUB_DUMPER, allow_unicode=True, sort_keys=True)}---\n"


def _stub_meta(page: Page) -> dict[str, Any]:
    """MkDocs and Material treat a page's title and description as HTML (templates print them unescaped, the
    search index keeps them as markup), so the engine's plain text is escaped here, once, for all of them."""
    return {"title": html.escape(page.title), "description": html.escape(page.description), **page.meta,
            **({} if page.searchable else {"search": {"exclude": True}}),
            **({"hide": _hidden_columns(page)} if page.listing or page.section else {})}


def _hidden_columns(page: Page) -> list[str]:
    """Pages under a tab need no navigation column beside it (it would list only their tab); lists need no
    table of contents either. On narrow screens the navigation stays in the menu."""
    return ["navigation", "toc"] if page.listing else ["navigation"]


def _add(files: Files, file: File) -> None:
    existing = files.get_file_from_path(file.src_uri)
    if existing is not None:
        raise PluginError(f"docs/{file.src_uri} は自動生成されるページと同じ場所にあります。docs/ から移すか名前を変えてください。")
    files.append(file)
