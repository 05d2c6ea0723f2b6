"""Compiled templates kept between builds: never stale, never in the way."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.bccache import bc_magic

import dayori.templatecache
from conftest import Project
from dayori.templatecache import FOLDER_PREFIX, keep_compiled, precompile

TEMPLATE = "{% for word in words %}\n  <b>{{ word }}</b>\n{% endfor %}\n"
WORDS = ["ひとつ", "<二つ>"]


def _environment(folder: Path, trim_blocks: bool = False) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True, trim_blocks=trim_blocks)


def _rendered(folder: Path, cache: Path | None, trim_blocks: bool = False, installed: Path | None = None) -> str:
    env = _environment(folder, trim_blocks)
    if cache is not None:
        keep_compiled(env, cache, installed or folder / "nothing-installed")
    return env.get_template("page.html").render(words=WORDS)


def _compiled_files(cache: Path) -> list[Path]:
    return sorted(cache.glob(f"{FOLDER_PREFIX}*/*.cache"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.one_of(st.binary(max_size=64), st.binary(max_size=64).map(lambda tail: bc_magic + tail),
                        st.integers(min_value=0, max_value=400)))
def test_a_damaged_compiled_template_is_compiled_again(tmp_path_factory: pytest.TempPathFactory,
                                                       damage: bytes | int) -> None:
    """Whatever a kept file holds (cut short at any byte, garbage, Jinja's header and garbage, on which Jinja's
    own cache raises), the page is what the template makes, and the file is replaced by a good one."""
    root = tmp_path_factory.mktemp("templates")
    (root / "page.html").write_text(TEMPLATE, encoding="utf-8")
    cache = root / "cache"
    expected = _rendered(root, None)
    assert _rendered(root, cache) == expected
    [kept] = _compiled_files(cache)
    good = kept.read_bytes()
    kept.write_bytes(good[:damage] if isinstance(damage, int) else damage)
    assert _rendered(root, cache) == expected
    assert _rendered(root, cache) == expected
    assert kept.read_bytes() == good


def test_templates_compiled_at_installation_are_read_and_a_changed_one_is_compiled_again(tmp_path: Path) -> None:
    """A first build reads what `make` compiled into the virtual environment and compiles nothing; a template
    changed since (the engine's own, in a checkout) is compiled again and kept in the project's cache."""
    page = tmp_path / "page.html"
    page.write_text(TEMPLATE, encoding="utf-8")
    installed, cache = tmp_path / "installed", tmp_path / "cache"
    assert precompile(_environment(tmp_path), installed) == 1
    expected = _rendered(tmp_path, None)
    assert _rendered(tmp_path, cache, installed=installed) == expected
    assert _compiled_files(cache) == []

    page.write_text(TEMPLATE.replace("<b>", "<i>").replace("</b>", "</i>"), encoding="utf-8")
    assert _rendered(tmp_path, cache, installed=installed) == _rendered(tmp_path, None) != expected
    assert len(_compiled_files(cache)) == 1


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_builds_never_write_where_make_compiled_the_templates(tmp_path: Path) -> None:
    """The virtual environment is shared by every project and may be read-only: a template edited, damaged in
    the project's cache, or new, is compiled into the project's cache only."""
    page = tmp_path / "page.html"
    page.write_text(TEMPLATE, encoding="utf-8")
    installed, cache = tmp_path / "installed", tmp_path / "cache"
    precompile(_environment(tmp_path), installed)
    before = _snapshot(installed)
    page.write_text(TEMPLATE.replace("<b>", "<em>").replace("</b>", "</em>"), encoding="utf-8")
    (tmp_path / "新しい.html").write_text("{{ words|join('、') }}\n", encoding="utf-8")
    for _ in range(2):
        env = _environment(tmp_path)
        keep_compiled(env, cache, installed)
        assert "<em>ひとつ</em>" in env.get_template("page.html").render(words=WORDS)
        assert env.get_template("新しい.html").render(words=WORDS) == "ひとつ、&lt;二つ&gt;"
        for kept in _compiled_files(cache):
            kept.write_bytes(b"damaged")
    assert _snapshot(installed) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.one_of(st.binary(max_size=64), st.binary(max_size=64).map(lambda tail: bc_magic + tail),
                        st.integers(min_value=0, max_value=400)))
def test_a_damaged_template_compiled_at_installation_is_compiled_again(tmp_path_factory: pytest.TempPathFactory,
                                                                      damage: bytes | int) -> None:
    """The virtual environment's copy is only read: whatever it holds, the page is what the template makes, and
    the project's cache keeps a good copy."""
    root = tmp_path_factory.mktemp("templates")
    (root / "page.html").write_text(TEMPLATE, encoding="utf-8")
    installed, cache = root / "installed", root / "cache"
    precompile(_environment(root), installed)
    [kept] = _compiled_files(installed)
    good = kept.read_bytes()
    kept.write_bytes(good[:damage] if isinstance(damage, int) else damage)
    expected = _rendered(root, None)
    assert _rendered(root, cache, installed=installed) == expected
    assert _rendered(root, cache, installed=installed) == expected
    [copy] = _compiled_files(cache)
    assert copy.read_bytes() == good


def test_an_edited_template_is_compiled_again_even_with_the_same_size_and_time(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(TEMPLATE, encoding="utf-8")
    cache = tmp_path / "cache"
    before = _rendered(tmp_path, cache)
    stat = page.stat()
    page.write_text(TEMPLATE.replace("<b>", "<i>").replace("</b>", "</i>"), encoding="utf-8")
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = _rendered(tmp_path, cache)
    assert "<b>" in before and "<i>&lt;二つ&gt;</i>" in after and "<b>" not in after


def test_environments_that_compile_differently_do_not_share_compiled_templates(tmp_path: Path) -> None:
    """The same file compiled with other options (here `trim_blocks`) makes other code: each environment
    renders as it does without a cache, in either order."""
    (tmp_path / "page.html").write_text(TEMPLATE, encoding="utf-8")
    cache = tmp_path / "cache"
    plain, trimmed = _rendered(tmp_path, None), _rendered(tmp_path, None, trim_blocks=True)
    assert plain != trimmed
    for _ in range(2):
        assert _rendered(tmp_path, cache) == plain
        assert _rendered(tmp_path, cache, trim_blocks=True) == trimmed
    assert len({path.parent for path in _compiled_files(cache)}) == 2


def test_a_cache_folder_that_cannot_be_made_or_written_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(TEMPLATE, encoding="utf-8")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder would be", encoding="utf-8")
    assert _rendered(tmp_path, blocked) == _rendered(tmp_path, None)
    env = _environment(tmp_path)
    keep_compiled(env, tmp_path / "cache")
    for folder in (tmp_path / "cache").iterdir():
        folder.rmdir()
        folder.write_text("now a file", encoding="utf-8")
    assert env.get_template("page.html").render(words=WORDS) == _rendered(tmp_path, None)


def _published_pages(project: Project) -> dict[str, bytes]:
    return {str(path.relative_to(project.site)): path.read_bytes() for path in sorted(project.site.rglob("*.html"))}


def test_a_theme_override_edited_between_builds_shows_and_damaged_compiled_templates_change_nothing(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an editor changes in `theme.custom_dir` is on the next build's pages; the theme's compiled templates
    kept in the cache (here all of them: none compiled at installation), damaged, make the same site as a first
    build."""
    monkeypatch.setattr(dayori.templatecache, "INSTALLED", project.root / "nothing-installed")
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("  name: material\n",
                                                                 "  name: material\n  custom_dir: overrides\n"),
                      encoding="utf-8")
    project.write("overrides/partials/logo.html", "<span>第一版のロゴ</span>\n")
    project.add_issue(1, "2026-11-20", "ふつうの号")
    project.build()
    assert "第一版のロゴ" in (project.site / "newsletter" / "1" / "index.html").read_text(encoding="utf-8")
    cache = project.root / ".cache" / "dayori"
    kept = _compiled_files(cache)
    assert len(kept) > 10

    project.write("overrides/partials/logo.html", "<span>第二版のロゴ</span>\n")
    project.build()
    page = (project.site / "newsletter" / "1" / "index.html").read_text(encoding="utf-8")
    assert "第二版のロゴ" in page and "第一版のロゴ" not in page
    built = _published_pages(project)

    for index, path in enumerate(_compiled_files(cache)):
        path.write_bytes(bc_magic[:index % (len(bc_magic) + 1)] + b"\x80damaged")
    project.build()
    assert _published_pages(project) == built


def _compiled_pages(project: Project) -> list[Path]:
    """The project's kept templates that are pages (Jinja's compiled code names its template)."""
    return [path for path in _compiled_files(project.root / ".cache" / "dayori") if b".html" in path.read_bytes()]


def test_a_first_build_compiles_no_page_template_that_make_compiled_into_the_environment(project: Project) -> None:
    """`make` compiled the theme into this virtual environment (`python -m dayori.material.precompile`): the
    environment a build makes is the one it compiled for, so a fresh checkout's first build reads every page
    template and compiles only the few icons its pages include."""
    project.add_issue(1, "2026-11-20", "ふつうの号")
    project.build()
    assert (project.site / "newsletter" / "1" / "index.html").is_file()
    assert _compiled_pages(project) == []


def test_the_site_is_the_same_with_and_without_templates_compiled_at_installation(
        project: Project, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from dayori.material.precompile import compile_theme

    installed = tmp_path_factory.mktemp("installed")
    project.add_issue(1, "2026-11-20", "ふつうの号", "## 見出し\n\n本文です。")
    monkeypatch.setattr(dayori.templatecache, "INSTALLED", installed / "none")
    project.build()
    assert len(_compiled_pages(project)) > 10
    built = _published_pages(project)

    assert compile_theme(installed) > 100
    for folder in (project.root / ".cache", project.site):
        folder.rename(folder.with_name(folder.name + "-before"))
    monkeypatch.setattr(dayori.templatecache, "INSTALLED", installed)
    project.build()
    assert _compiled_pages(project) == []
    assert _published_pages(project) == built
