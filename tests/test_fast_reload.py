"""`make serve` rewrites only what an edit changed (MkDocs' `--dirty`, made safe by the adapter): saving one
issue shows it everywhere it appears (its page, the archive, its tag, the search index), while the pages of
other issues are served as the last build wrote them."""

from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import Project, issue_text
from dayori.material.search import whole_index
from dayori.model import tag_slug
from testsupport.helpers import serve_env, start_preview, stop, wait_for


def fetch(url: str) -> str:
    """The page as built: the live-reload script MkDocs' server adds to each answer carries a fresh id, and the
    page's policy allows that script by its hash (first in script-src)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            page = re.sub(r"livereload\(\d+, \d+\)", "", response.read().decode("utf-8"))
            return re.sub(r"(script-src &#x27;self&#x27;) &#x27;sha256-[^&]+&#x27;", r"\1", page, count=1)
    except (urllib.error.URLError, OSError):
        return ""


def wait_until_served(url: str, text: str) -> str:
    def shown() -> str:
        page = fetch(url)
        return page if text in page else ""
    return wait_for(shown, f"{url} showing {text!r}", interval=0.2)


def save(path: Path, text: str) -> None:
    """As an editor's save: new content and a new modification time, so the server's watcher sees it."""
    path.write_text(text, encoding="utf-8")
    later = time.time() + 1
    os.utime(path, (later, later))


@pytest.fixture
def served(project: Project, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`make serve` on four issues; the folder it builds into is found through its temporary directory."""
    for vol in (1, 2, 3, 4):
        project.add_issue(vol, f"2026-11-0{vol}", f"第{vol}の題", f"第{vol}号の本文です。")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    running = start_preview(project.root, env=serve_env(TMPDIR=str(temporary)))
    url = running.url
    try:
        wait_until_served(url + "newsletter/2/", "第2の題")
        (site,) = temporary.glob("mkdocs_*")
        yield url, site
    finally:
        stop(running.process)


def search_titles(url: str) -> list[str]:
    return [doc["title"] for doc in whole_index(lambda path: fetch(url + path).encode())["docs"]]


def test_saving_an_issue_updates_its_listings_and_search_and_leaves_other_pages_alone(
        project: Project, served: tuple[str, Path]) -> None:
    url, site = served
    other = site / "newsletter" / "4" / "index.html"  # not a neighbour of issue 2
    before = other.stat().st_mtime_ns
    other_page = fetch(url + "newsletter/4/")
    titles_before = search_titles(url)
    assert {"第1号 第1の題", "第2号 第2の題"} <= set(titles_before)

    save(project.root / "newsletter/2026/2.md", issue_text(2, "2026-11-02", "改めた題", "書き直した本文です。"))
    page = wait_until_served(url + "newsletter/2/", "書き直した本文です。")
    assert "改めた題" in page and "第2の題" not in page

    for listing in ("", "newsletter/", f"tags/{quote(tag_slug('テスト'))}/"):
        shown = fetch(url + listing)
        assert "改めた題" in shown and "第2の題" not in shown, listing
    titles = search_titles(url)
    assert "第2号 改めた題" in titles and "第2号 第2の題" not in titles
    assert len(titles) == len(titles_before), "the search index lost the entries of pages not rebuilt"
    assert {"第1号 第1の題", "第3号 第3の題", "第4号 第4の題"} <= set(titles)

    for neighbour in ("newsletter/1/", "newsletter/3/"):
        assert "改めた題" in fetch(url + neighbour), f"{neighbour} still links to the old title"
    assert fetch(url + "newsletter/4/") == other_page
    assert other.stat().st_mtime_ns == before, "an issue that did not change was written again"


def test_a_new_navigation_title_reaches_every_page(project: Project, served: tuple[str, Path]) -> None:
    url, _site = served
    config = project.root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert "  - このサイトについて: about.md\n" in text
    save(config, text.replace("  - このサイトについて: about.md\n", "  - 私たちのこと: about.md\n"))
    wait_until_served(url + "about/", "私たちのこと")
    for page in ("newsletter/4/", "newsletter/", "subscribe/"):
        assert "私たちのこと" in fetch(url + page), f"{page} shows the old navigation"


def test_a_hand_written_page_is_shown_as_edited(project: Project, served: tuple[str, Path]) -> None:
    url, site = served
    issue = site / "newsletter" / "3" / "index.html"
    before = issue.stat().st_mtime_ns
    about = project.root / "docs" / "about.md"
    save(about, about.read_text(encoding="utf-8") + "\n書き足した説明です。\n")
    wait_until_served(url + "about/", "書き足した説明です。")
    assert "このサイトについて" in fetch(url + "about/")
    assert issue.stat().st_mtime_ns == before, "an issue page was written again for an edit of about.md"
