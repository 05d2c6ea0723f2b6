"""The site on a slow link: search costs nothing until the reader uses it, then downloads only the newest
part of the index before the first answer, and still finds every issue once the rest is in."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from browser import chromium, serve
from conftest import Project, copy_project
from dayori.compress import gzip_copy
from dayori.material import search
from dayori.material.search import INDEX, SHARDS_KEY, split_index, whole_index
from testsupport.corpus import issue_markdown
from testsupport.pageload import measure

ISSUES = {
    1: ("2024-05-10", "古い号", "昔の記事でも手ぶれ補正の話をしました。"),
    2: ("2025-06-13", "去年の号", "テレワークの回線を確認しましょう。"),
    3: ("2026-10-02", "今年の号", "スマートフォンの手ぶれ補正機能を使います。"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Project]]:
    """Three years of issues; only the first shard (pages without a date) is waited for by a first query."""
    project = copy_project(tmp_path_factory.mktemp("slow") / "project", with_content=False)
    for vol, (date, title, body) in ISSUES.items():
        project.add_issue(vol, date, title, body)
    project.write("newsletter/2026/4.md", issue_markdown(4, dt.date(2026, 10, 9), random.Random(4)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "FIRST_QUERY_BYTES", 1)
        project.build()
    with serve(project.site) as url:
        yield url, project


def _requested(requests: list[str], url: str) -> list[str]:
    return [request.removeprefix(url) for request in requests if request.startswith(url)]


def _found(page: Any, query: str, *pages: str) -> str:
    """Types `query` into the search box and waits until results link to each of `pages` (the answer is
    updated as older shards come in); returns the results' text."""
    button = page.locator("label.md-header__button[for=__search]")
    if button.is_visible():  # a phone's screen: the box opens from the header's button
        button.click()
    box = page.locator("input.md-search__input")
    box.click()
    box.fill(query)
    box.press("End")  # Material reads the box on keyup
    page.wait_for_function(
        """pages => {
            const links = [...document.querySelectorAll(".md-search-result__list a.md-search-result__link")]
            return pages.every(p => links.some(a => a.getAttribute("href").includes(p)))
        }""", arg=list(pages), timeout=30000)
    return str(page.locator(".md-search-result__list").inner_text())


@pytest.mark.browser
def test_search_downloads_nothing_until_the_reader_turns_to_it(served: tuple[str, Project]) -> None:
    url, _ = served
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        page.goto(url + "newsletter/3/")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1000)
        before = _requested(requests, url)
        assert not [path for path in before if path.startswith("search/")], before
        assert not [path for path in before if "/workers/" in path or "/lunr/" in path], before
        text = _found(page, "手ぶれ補正", "newsletter/1/", "newsletter/3/")
        assert "古い号" in text and "今年の号" in text and "去年の号" not in text
        after = _requested(requests, url)
        assert INDEX in after
        assert any(path.startswith("search/shard-2024.") for path in after)
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("path", ["newsletter/4/", ""])
def test_a_page_shows_its_text_within_2_5_seconds_at_300_kbits_and_search_still_works(
        served: tuple[str, Project], path: str) -> None:
    """Served with the compressed copies, as the guide's server settings do; Chromium on a phone's screen at
    300 kbit/s and 200 ms, first visit."""
    url, project = served
    document = lxml.html.fromstring((project.site / path / "index.html").read_bytes())
    assert len(document.xpath("//link[@rel='stylesheet']")) == 1
    blocking = [script.get("src") for script in document.xpath("//script[@src]") if script.get("defer") is None]
    assert blocking == [] and document.xpath("//script[@src]")
    found: list[str] = []
    with chromium() as browser:
        load = measure(browser, url + path, watch_seconds=6,
                       then=lambda page: found.append(_found(page, "テレワーク", "newsletter/2/")))
    assert load.first_paint_ms < 2500, load
    requested = _requested(list(load.requested), url)
    assert requested[0] == path and len(requested) > 3
    assert not [request for request in requested if request.startswith("search/")], requested
    assert "去年の号" in found[0]


@pytest.mark.browser
def test_the_first_answer_comes_from_the_first_shards_and_the_old_issues_follow(served: tuple[str, Project]) -> None:
    url, project = served
    manifest = json.loads((project.site / INDEX).read_bytes())
    shards = manifest["config"][SHARDS_KEY]
    assert [shard["first"] for shard in shards] == [True, False, False, False]
    assert [shard["url"].split(".")[0] for shard in shards] == ["shard-pages", "shard-2026", "shard-2025",
                                                                "shard-2024"]
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        assert "去年の号" in _found(page, "テレワーク", "newsletter/2/")


def test_the_published_index_names_no_document_and_its_shards_hold_each_once(served: tuple[str, Project]) -> None:
    _, project = served
    manifest = json.loads((project.site / INDEX).read_bytes())
    assert manifest["docs"] == []
    whole = whole_index(lambda path: (project.site / path).read_bytes())
    locations = [doc["location"] for doc in whole["docs"]]
    assert len(locations) == len(set(locations))
    assert {"newsletter/1/", "newsletter/2/", "newsletter/3/"} <= set(locations)


_years = st.sampled_from(["2019", "2024", "2025", "2026"])
_docs = st.lists(st.tuples(st.integers(1, 60), st.one_of(st.none(), _years), st.text(max_size=200)),
                 max_size=30, unique_by=lambda doc: doc[0])


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the machine is shared and loaded
@given(_docs, st.integers(0, 3000))
def test_shards_keep_every_document_once_and_the_first_ones_within_the_budget(
        docs: list[tuple[int, str | None, str]], budget: int) -> None:
    index: dict[str, Any] = {"config": {"lang": ["ja"]},
             "docs": [{"location": f"newsletter/{vol}/#part", "title": str(vol), "text": text}
                      for vol, _, text in docs]}
    dates = {f"newsletter/{vol}/": f"{year}-04-01" for vol, year, _ in docs if year is not None}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "FIRST_QUERY_BYTES", budget)
        shards: dict[str, bytes] = {}
        copies: dict[str, bytes] = {}

        def write(path: str, data: bytes, gzipped: bytes) -> None:
            shards[path], copies[path] = data, gzipped
        manifest = split_index(index, dates, write)
    listing = manifest["config"][SHARDS_KEY]
    assert manifest["docs"] == [] and manifest["config"]["lang"] == ["ja"]
    files = {f"search/{shard['url']}": shard for shard in listing}
    assert files.keys() == shards.keys()
    rebuilt = whole_index(lambda path: json.dumps(manifest).encode() if path == INDEX else shards[path])
    assert sorted(rebuilt["docs"], key=lambda doc: doc["title"]) == sorted(index["docs"], key=lambda d: d["title"])
    for path, data in shards.items():
        year = path.removeprefix("search/shard-").split(".")[0]
        for doc in json.loads(data):
            page = doc["location"].split("#")[0]
            assert (dates[page][:4] if page in dates else "pages") == year
        assert files[path]["bytes"] == len(copies[path]) and copies[path] == gzip_copy(data)
        assert gzip.decompress(copies[path]) == data
    years = [shard["url"].split(".")[0].removeprefix("shard-") for shard in listing]
    dated = [year for year in years if year != "pages"]
    assert dated == sorted(dated, reverse=True)
    assert years == (["pages", *dated] if "pages" in years else dated)
    first = [shard for shard in listing if shard["first"]]
    assert listing[:len(first)] == first and (listing == [] or first)
    assert len(first) == 1 or sum(shard["bytes"] for shard in first) <= budget


def test_a_shard_keeps_its_name_while_its_year_does_not_change() -> None:
    old: dict[str, Any] = {"config": {}, "docs": [{"location": "newsletter/1/", "title": "一", "text": "古い"}]}
    new: dict[str, Any] = {"config": {}, "docs": [*old["docs"], {"location": "newsletter/2/", "title": "二", "text": "新しい"}]}
    dates = {"newsletter/1/": "2025-01-01", "newsletter/2/": "2026-01-01"}
    before: dict[str, bytes] = {}
    after: dict[str, bytes] = {}
    split_index(old, dates, lambda path, data, _: before.__setitem__(path, data))
    split_index(new, dates, lambda path, data, _: after.__setitem__(path, data))
    assert set(before) < set(after)
