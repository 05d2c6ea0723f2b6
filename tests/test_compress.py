"""Compressed copies beside the site's text files: each unpacks to exactly its file, the same build makes the
same bytes, a copy left over from an earlier build (or edited in site/) never stands for a changed file, and
a browser served the way the guide says gets them."""

from __future__ import annotations

import gzip
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from browser import serve
from conftest import ROOT, Project, copy_project
from dayori.compress import TEXT_SUFFIXES, gzip_copy, precompress, unpack
from testsupport.statichost import HASHED


def _text_files(site: Path) -> list[Path]:
    return [path for path in sorted(site.rglob("*")) if path.is_file() and path.suffix in TEXT_SUFFIXES]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = copy_project(tmp_path_factory.mktemp("compress") / "project", with_content=False)
    project.add_issue(1, "2026-10-02", "圧縮の号", "回線が遅い拠点でも読めるように、" * 40)
    project.build()
    yield project


def test_every_text_file_has_copies_that_unpack_to_it(project: Project) -> None:
    files = _text_files(project.site)
    assert {path.suffix for path in files} >= {".html", ".css", ".js", ".json", ".xml"}
    for path in files:
        data = path.read_bytes()
        gz, br = path.with_name(path.name + ".gz"), path.with_name(path.name + ".br")
        if len(data) > 1000:  # small files may be left alone: their copies would not be smaller
            assert gz.is_file() and br.is_file(), path
        if gz.is_file():
            assert gzip.decompress(gz.read_bytes()) == data and gz.stat().st_size < len(data)
        if br.is_file():
            assert brotli.decompress(br.read_bytes()) == data and br.stat().st_size < len(data)
    assert not list(project.site.rglob("*.map.gz")) and not list(project.site.rglob("*.mp4.gz"))


def test_a_rebuild_makes_the_same_copies_and_replaces_a_copy_edited_in_site(project: Project) -> None:
    page = project.site / "newsletter" / "1" / "index.html"
    before = {path: path.read_bytes() for path in project.site.rglob("*.gz")}
    edited = page.with_name("index.html.gz")
    edited.write_bytes(gzip_copy(b"<p>tampered</p>" * 200))
    (page.with_name("index.html.br")).write_bytes(b"not brotli")
    project.build()
    after = {path: path.read_bytes() for path in project.site.rglob("*.gz")}
    assert after.keys() == before.keys()
    changed = [path for path in after if after[path] != before[path]]
    assert changed == [], changed  # same sources, same bytes: the edited copy was made again
    assert brotli.decompress(page.with_name("index.html.br").read_bytes()) == page.read_bytes()


def test_a_changed_file_never_keeps_its_old_copy(project: Project, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, text in ((old, "古い本文。" * 300), (new, "新しい本文。" * 300)):
        (folder / "a").mkdir(parents=True)
        (folder / "a" / "index.html").write_text(text, encoding="utf-8")
    precompress(old)
    precompress(new, old)
    for suffix in (".gz", ".br"):
        assert unpack(suffix, (new / "a" / f"index.html{suffix}").read_bytes()) == (new / "a" / "index.html").read_bytes()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the machine is shared and loaded
@given(st.binary(max_size=5000) | st.text(max_size=3000).map(str.encode))
def test_copies_are_reproducible_and_exact(data: bytes) -> None:
    copy = gzip_copy(data)
    assert copy == gzip_copy(data) and gzip.decompress(copy) == data
    assert copy[4:8] == b"\0\0\0\0" and not copy[3] & 0x08  # no time, no file name in the header


def test_the_test_server_sends_the_gzip_copy_as_the_guide_configures(project: Project) -> None:
    with serve(project.site) as url:
        request = urllib.request.Request(url + "newsletter/1/", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert response.headers["Cache-Control"] == "no-cache"
            body = gzip.decompress(response.read())
        assert body == (project.site / "newsletter" / "1" / "index.html").read_bytes()
        css = next((project.site / "assets" / "stylesheets").glob("main.*.min.css")).name
        with urllib.request.urlopen(url + f"assets/stylesheets/{css}") as response:
            assert response.headers["Content-Encoding"] is None  # not asked for: the file itself
            assert "immutable" in response.headers["Cache-Control"]


def _guide_patterns() -> dict[str, re.Pattern[str]]:
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    nginx = re.search(r"location ~\* \^/dayori/\.\+(\S+) \{", guide)
    iis = re.search(r'<add input="\{REQUEST_URI\}" pattern="([^"]+)" />', guide)
    assert nginx and iis, "the guide's nginx and IIS examples must tell hashed names apart"
    return {"nginx": re.compile(nginx[1], re.IGNORECASE), "iis": re.compile(iis[1], re.IGNORECASE)}


def test_the_guides_server_settings_keep_exactly_the_hashed_names_for_a_year(project: Project) -> None:
    patterns = _guide_patterns()
    names = [path.relative_to(project.site).as_posix() for path in project.site.rglob("*") if path.is_file()]
    for server, pattern in patterns.items():
        kept = {name for name in names if pattern.search("/dayori/" + name)}
        assert kept == {name for name in names if HASHED.search(name)}, server
        assert any(name.startswith("search/shard-") for name in kept), server
        assert any(name.startswith("assets/stylesheets/dayori/site.") for name in kept), server
        for name in ("index.html", "newsletter/1/index.html", "search/search_index.json", "feed.xml"):
            assert not pattern.search("/dayori/" + name), (server, name)
