"""Site search as a reader uses it: the built site served over HTTP, queries typed into Material's search box
in Chromium, results read from the result list. Japanese words are found in the middle of sentences, and
compounds typed without spaces (手ぶれ補正) find exactly the pages that contain them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from browser import chromium, serve
from conftest import Project, copy_project
from dayori.material import search
from dayori.material.search import encode, index_terms, japanese_runs, rewrite_index

NO_RESULTS = "何も見つかりませんでした"  # Material's Japanese search.result.none

# Titles avoid the query words: issue pages also show their neighbours' titles (前の号 / 次の号).
ISSUES = {
    1: ("スマホ動画の撮り方", "会議の記録動画は、スマートフォンの手ぶれ補正機能を有効にして撮影すると見やすくなります。"),
    2: ("在宅勤務のコツ", "自宅でのテレワークでは、回線の状態を事前に確認しておきましょう。"),
    3: ("メールの自動整理", "受信トレイは仕分けルールを作成すると、担当ごとのフォルダーに自動で移動できます。"),
    4: ("安全なログイン", "庁内システムでは多要素認証が必須になりました。スマートフォンの Authenticator アプリを使います。"),
    5: ("写真の明るさ", "写真の明るさは、画像編集ソフトの自動補正で整えられます。手ぶれした写真は撮り直しましょう。"),
}


@dataclass(frozen=True)
class Results:
    issues: frozenset[int]
    titles: str
    text: str
    marked: tuple[str, ...]
    highlight_params: tuple[str, ...]


class Site:
    """The served site and one browser; `search` opens a fresh page per query, as a new reader would."""

    def __init__(self, url: str, browser: Any) -> None:
        self.url = url
        self.browser = browser

    def search(self, query: str) -> Results:
        page = self.browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(self.url)
            box = page.locator("input.md-search__input")
            box.click()
            box.fill(query)
            box.press("End")  # Material reads the box on keyup; an IME commit ends with one too
            page.wait_for_function(
                """() => {
                    const meta = document.querySelector(".md-search-result__meta")
                    return meta && /件見つかりました|何も見つかりませんでした/.test(meta.textContent)
                }""", timeout=15000)
            meta = page.locator(".md-search-result__meta").inner_text()
            result_list = page.locator(".md-search-result__list")
            links = result_list.locator("a.md-search-result__link")
            hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
            return Results(
                issues=frozenset(vol for vol in ISSUES for href in hrefs if f"/newsletter/{vol}/" in href),
                titles=" / ".join(result_list.locator("h1, h2").all_inner_texts()),
                text=result_list.inner_text() if NO_RESULTS not in meta else "",
                marked=tuple(result_list.locator("mark").all_inner_texts()),
                highlight_params=tuple(_highlight_param(href) for href in hrefs))
        finally:
            page.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with chromium() as browser:
        project: Project = copy_project(tmp_path_factory.mktemp("search") / "project", with_content=False)
        for vol, (title, body) in ISSUES.items():
            project.add_issue(vol, f"2026-10-{vol * 5:02d}", title, body)
        project.build()
        with serve(project.site) as url:
            yield Site(url, browser)


@pytest.mark.browser
@pytest.mark.parametrize(("query", "expected"), [
    ("手ぶれ補正", {1}),        # compound typed without a space; issue 5 has 手ぶれ and 補正 apart
    ("補正", {1, 5}),           # two kanji in the middle of a word
    ("手ぶれ", {1, 5}),
    ("テレワーク", {2}),        # five katakana inside a sentence
    ("仕分けルール", {3}),      # kanji, hiragana and katakana in one word
    ("多要素認証", {4}),        # a five-kanji compound
    ("ﾃﾚﾜｰｸ", {2}),             # half-width katakana as some keyboards type it
    ("証", {4}),                # a single character
])
def test_japanese_word_finds_exactly_the_issues_containing_it(site: Site, query: str, expected: set[int]) -> None:
    results = site.search(query)
    assert results.issues == expected, f"「{query}」の検索結果: {results.titles}"
    for vol in expected:
        assert ISSUES[vol][0] in results.titles


@pytest.mark.browser
@pytest.mark.parametrize("query", ["手ぶれ補正", "多要素認証"])
def test_results_read_as_normal_text_with_the_query_marked(site: Site, query: str) -> None:
    results = site.search(query)
    assert query in results.marked
    assert "jx0" not in results.text and "jx0" not in results.titles
    assert query in results.highlight_params  # the opened page highlights the typed word


@pytest.mark.browser
def test_word_on_no_page_finds_nothing(site: Site) -> None:
    results = site.search("確定申告")
    assert results.issues == frozenset()
    assert results.titles == ""


@pytest.mark.browser
def test_a_word_without_japanese_still_searches_as_before(site: Site) -> None:
    assert site.search("authenticator").issues == {4}
    assert site.search("Auth").issues == {4}  # Material's own prefix search is kept


def test_index_gets_bigram_fields_and_keeps_what_readers_see() -> None:
    index: dict[str, Any] = {"config": {"lang": ["ja"], "fields": {"title": {"boost": 1000.0}, "text": {"boost": 1.0},
                                                   "tags": {"boost": 1e6}}},
             "docs": [{"location": "newsletter/1/", "title": "第1号 撮り方",
                       "text": "<p>スマートフォンの手ぶれ補正機能</p>", "tags": ["動画"]}]}
    rewritten = rewrite_index(index)
    doc = rewritten["docs"][0]
    assert {key: doc[key] for key in index["docs"][0]} == index["docs"][0]
    assert encode("補正") in doc["ja_text"].split() and encode("能") in doc["ja_text"].split()
    assert doc["ja_tags"].split() == [encode("動画"), encode("画")]
    assert rewritten["config"]["fields"]["ja_title"] == {"boost": 1000.0}
    assert rewritten["config"]["fields"]["ja_tags"] == {"boost": 1e6}


def test_half_width_katakana_is_indexed_like_full_width() -> None:
    assert index_terms("ﾃﾚﾜｰｸ") == index_terms("テレワーク") != []


def obvious_index_terms(text: str) -> list[str]:
    """`index_terms` as it was first written, a run and a bigram at a time."""
    terms: dict[str, None] = {}
    for run in japanese_runs(text):
        terms.update(dict.fromkeys(encode(run[i:i + 2]) for i in range(len(run) - 1)))
        terms[encode(run[-1])] = None
    return list(terms)


@settings(max_examples=300)
@given(st.text(st.sampled_from("会議の時短をテレワークでﾃﾚﾜｰｸ々ゝ〆ー 、。\x00\n\tAz1手ぶれ補正𠮷"), max_size=60) | st.text(max_size=30))
def test_index_terms_are_each_run_s_bigrams_then_its_last_character(text: str) -> None:
    """Runs of one character, runs that repeat, a NUL in the text, characters beyond the BMP: the terms and
    their order are those of the obvious loop."""
    assert index_terms(text) == obvious_index_terms(text)


@settings(max_examples=100)
@given(st.lists(st.text(st.sampled_from("会議の時短をテレワークで々ゝ〆ー。\x00A手ぶれ補正𠮷"), max_size=30), max_size=5))
def test_terms_stay_those_of_the_obvious_loop_when_the_kept_terms_fill_up(texts: list[str]) -> None:
    """The terms made once per pair are let go when too many are kept: a text written after that, or while
    that happens, gets the same terms."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "_TERMS_KEPT", 3)
        search._TERMS.clear()
        for text in texts:
            assert index_terms(text) == obvious_index_terms(text)
            assert len(search._TERMS) <= 3


def _highlight_param(href: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return " ".join(parse_qs(urlsplit(href).query).get("h", []))
