"""Editor text is text: hostile front matter and bodies, tried as an attacker would.

Titles, summaries, tags and author names that look like HTML must show literally in every output (page head and
header, search results, feeds, email) and never run; raw HTML in bodies that would run script or load from another
host stops the build with the file and line; tags that differ only by case or width share one page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import html as lxml_html

from browser import chromium, serve
from conftest import Project, copy_project
from dayori.material.search import whole_index

TITLE = '"><img src=x onerror=alert(1)>'
SUMMARY = 'He said "hi" & left </script><script>alert(2)</script>'
TAG = "<b>x</b>"
AUTHOR = "<i onmouseover=alert(3)>Author</i>"
DOCS_TITLE = 'Q&A "よくある質問"'
"""A hand-written page's title: docs/ pages keep showing theirs exactly as before."""
HEADING = "&lt;img src=x onerror=alert(4)&gt;"
"""A heading that quotes markup as text, as a how-to article would."""
SEARCH_WORD = "hostiletitlecheck"


@dataclass(frozen=True)
class Hostile:
    project: Project

    def page(self, path: str) -> Any:
        return lxml_html.fromstring((self.project.site / path / "index.html").read_bytes())

    def tag_folder(self, tag: str) -> str:
        """The one folder under tags/ whose page is titled with `tag`."""
        folders = [p.name for p in (self.project.site / "tags").iterdir()
                   if p.is_dir() and tag in (self.page(f"tags/{p.name}").findtext(".//title") or "")]
        assert len(folders) == 1, folders
        return folders[0]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    project = copy_project(tmp_path_factory.mktemp("hostile") / "project", with_content=False)
    project.add_issue(1, "2026-10-01", TITLE, f"{SEARCH_WORD} の本文です。\n\n## 見出し {HEADING}\n\n本文。",
                      summary=SUMMARY,
                      tags=[TAG, "Excel"], authors=[AUTHOR])
    project.add_issue(2, "2026-10-08", "普通の号", "普通の本文です。", tags=["ｅｘｃｅｌ"])
    project.write("docs/faq.md", f"---\ntitle: '{DOCS_TITLE}'\n---\n\n# {DOCS_TITLE}\n\n本文。\n")
    project.build()
    return Hostile(project)


def _no_injected_elements(document: Any) -> None:
    assert not document.xpath("//img[@src='x']"), "a title became an <img> element"
    assert not [s for s in document.xpath("//script") if "alert(" in (s.text or "")], "a summary became a script"
    assert not document.xpath("//*[@onerror or @onmouseover]"), "an event attribute reached the page"


def test_issue_page_head_and_header_show_front_matter_literally(hostile: Hostile) -> None:
    document = hostile.page("newsletter/1")
    _no_injected_elements(document)
    assert TITLE in document.findtext(".//title")
    assert document.xpath("//meta[@name='description']/@content") == [SUMMARY]
    header = " ".join(document.xpath("//*[contains(@class, 'md-header__topic')]//text()"))
    assert TITLE in header
    assert TITLE in document.xpath("string(//article//h1)")
    assert AUTHOR in document.xpath("string(//article)")
    toc = document.xpath("string(//nav[contains(@class, 'md-nav--secondary')])")
    assert "見出し <img src=x onerror=alert(4)>" in toc


def test_hand_written_pages_still_show_their_titles(hostile: Hostile) -> None:
    document = hostile.page("faq")
    assert document.findtext(".//title").startswith(DOCS_TITLE)
    assert DOCS_TITLE in " ".join(document.xpath("//*[contains(@class, 'md-header__topic')]//text()"))
    assert document.xpath("string(//article//h1)").startswith(DOCS_TITLE)


def test_tag_page_shows_tag_literally(hostile: Hostile) -> None:
    document = hostile.page(f"tags/{hostile.tag_folder(TAG)}")
    _no_injected_elements(document)
    assert not document.xpath("//article//b"), "a tag became markup"
    assert TAG in document.xpath("string(//article//h1)")
    index = hostile.page("tags")
    assert TAG in index.xpath("string(//article)")
    assert not index.xpath("//article//b")


def test_search_index_titles_are_escaped_once(hostile: Hostile) -> None:
    index = whole_index(lambda path: (hostile.project.site / path).read_bytes())
    titles = [doc["title"] for doc in index["docs"] if doc["location"].startswith("newsletter/1/")]
    assert titles
    for title in titles:  # Material shows result titles as HTML
        shown = lxml_html.fromstring(f"<div>{title}</div>").text_content()
        assert shown in (TITLE, f"第1号 {TITLE}", "見出し <img src=x onerror=alert(4)>")


def test_feeds_carry_front_matter_as_text(hostile: Hostile) -> None:
    for name in ("newsletter.xml", "newsletter.atom"):
        feed = feedparser.parse((hostile.project.site / "feeds" / name).read_bytes())
        entry = next(e for e in feed.entries if e.link.endswith("/newsletter/1/"))
        assert _as_reader_sees(entry.title_detail) == TITLE, name
        assert _as_reader_sees(entry.summary_detail) == SUMMARY, name
        assert TAG in [t.term for t in entry.tags], name
    json_feed = json.loads((hostile.project.site / "feeds" / "newsletter.json").read_text(encoding="utf-8"))
    item = next(i for i in json_feed["items"] if i["url"].endswith("/newsletter/1/"))
    assert (item["title"], item["summary"], item["authors"]) == (TITLE, SUMMARY, [{"name": AUTHOR}])
    assert TAG in item["tags"]


def _as_reader_sees(detail: Any) -> str:
    """A feed text construct as a reader shows it: HTML is rendered, plain text is shown as it is."""
    if detail.type == "text/html":
        return lxml_html.fromstring(f"<div>{detail.value}</div>").text_content()
    return detail.value


def test_email_shows_front_matter_literally(hostile: Hostile) -> None:
    message = message_from_bytes((hostile.project.site / "email" / "1" / "message.eml").read_bytes(),
                                 policy=policy.default)
    assert TITLE in str(message["Subject"])
    html_part, plain_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and plain_part is not None
    document = lxml_html.fromstring(html_part.get_content())
    _no_injected_elements(document)
    assert TITLE in document.text_content()
    assert SUMMARY in document.text_content()
    assert TITLE in plain_part.get_content()


@pytest.fixture(scope="module")
def browser_site(hostile: Hostile) -> Iterator[tuple[str, Any]]:
    with chromium() as browser, serve(hostile.project.site) as url:
        yield url, browser


@pytest.mark.browser
def test_hostile_front_matter_runs_nothing_in_chromium(hostile: Hostile, browser_site: tuple[str, Any]) -> None:
    url, browser = browser_site
    dialogs: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    def answer(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    try:
        tag_page = hostile.tag_folder(TAG)
        for path in ("newsletter/1/", "tags/", f"tags/{tag_page}/", "newsletter/", "", "email/1/index.html"):
            page.goto(url + path)
            page.mouse.move(300, 300)
            page.wait_for_load_state("load")
        page.goto(url + "newsletter/1/")
        assert TITLE in page.title()
        assert TITLE in page.locator(".md-header__topic").last.inner_text()
        box = page.locator("input.md-search__input")
        box.click()
        box.fill(SEARCH_WORD)
        box.press("End")
        page.wait_for_function("""() => {
            const meta = document.querySelector(".md-search-result__meta")
            return meta && /件見つかりました|何も見つかりませんでした/.test(meta.textContent)
        }""", timeout=15000)
        results = page.locator(".md-search-result__list")
        assert TITLE in results.locator("h1, h2").first.inner_text()
        assert results.locator("img[src='x']").count() == 0
        page.wait_for_timeout(200)
    finally:
        page.close()
    assert dialogs == []


HOSTILE_BODY_LINES = {
    "<script>alert(1)</script>": "<script>",
    '<iframe src="https://evil.example/embed"></iframe>': "<iframe>",
    "<img src=https://evil.example/x.png>": "https://evil.example/x.png",
    "<style>@import url(https://evil.example/a.css);</style>": "https://evil.example/a.css",
    '<p style="background:url(//evil.example/a)">背景</p>': "//evil.example/a",
    '<a href="javascript:alert(1)">押す</a>': "javascript:alert(1)",
    '<img src="ok.png" onerror="alert(2)">': "onerror",
    "![外の画像](https://evil.example/photo.jpg)": "https://evil.example/photo.jpg",
    '<video src="x.mp4" poster="http://evil.example/p.jpg"></video>': "http://evil.example/p.jpg",
    '<img srcset="a.png 1x, https://evil.example/b.png 2x" alt="">': "https://evil.example/b.png",
    "<object data=x.swf></object>": "<object>",
    "Word から貼った\x0b行です。": "U+000B",
    "ESC も\x1bあります。": "U+001B",
}
FINE_BODY = """\
ほかのサイトへのリンクは [かまいません](https://example.com/) し、<a href="https://example.org/">HTML</a> でも同じです。

`<script>alert(1)</script>` をコードとして見せるのも、タブ\tもかまいません。

```html
<iframe src="https://example.com/"></iframe>
```
"""


def _line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").split("\n").index(text) + 1


def test_hostile_bodies_stop_the_build_naming_each_line_and_keep_the_last_site(project: Project) -> None:
    project.add_issue(1, "2026-10-01", "まともな号", FINE_BODY)
    project.build()
    before = {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()}
    assert "<iframe" not in (project.site / "newsletter/1/index.html").read_text(encoding="utf-8")
    body = "\n\n".join(["はじめに。", *HOSTILE_BODY_LINES, "おわり。"])
    path = project.add_issue(2, "2026-10-08", "危ない号", body)
    result = project.run_build()
    assert result.returncode != 0
    for line, shown in HOSTILE_BODY_LINES.items():
        where = f"newsletter/2026/2.md:{_line_of(path, line)}: "
        reported = [row for row in result.stderr.splitlines() if where in row]
        assert reported, (line, result.stderr[-3000:])
        assert any(shown in row for row in reported), (line, reported)
    assert "Traceback" not in result.stderr
    assert "newsletter/2026/1.md" not in result.stderr, "a harmless body was reported"
    assert {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()} == before
    again = project.run_build()  # bodies now come from the render cache, which must remember the problems
    assert again.returncode != 0
    assert _problem_rows(again.stderr) == _problem_rows(result.stderr)


def _problem_rows(stderr: str) -> list[str]:
    return sorted(row.strip() for row in stderr.splitlines() if "newsletter/2026/" in row)


LONG_TAG = "業務改善" * 25  # 100 characters, 300 bytes: longer than any file name may be


def _tag_folders(project: Project) -> list[Path]:
    return sorted(p for p in (project.site / "tags").iterdir() if p.is_dir())


def test_tags_that_fold_alike_share_one_page_and_a_long_tag_gets_a_short_one(project: Project) -> None:
    project.set_limit("tag_chars", len(LONG_TAG))  # a site that allows long tags still gets short addresses
    project.add_issue(1, "2026-10-01", "一号", tags=["Excel", LONG_TAG])
    project.add_issue(2, "2026-10-08", "二号", tags=["excel", "AI"])
    project.add_issue(3, "2026-10-15", "三号", tags=["ＥＸＣＥＬ", "ＡＩ"])
    project.add_issue(4, "2026-10-22", "四号", tags=["Excel", LONG_TAG])
    project.build()
    folders = _tag_folders(project)
    titles = {p.name: lxml_html.fromstring((p / "index.html").read_bytes()).findtext(".//h1") for p in folders}
    excel = [name for name, title in titles.items() if "excel" in title.casefold() or "ＥＸＣＥＬ" in title]
    assert len(excel) == 1, titles
    assert titles[excel[0]] == "タグ: Excel"  # the spelling most issues use
    excel_page = lxml_html.fromstring((project.site / "tags" / excel[0] / "index.html").read_bytes())
    listed = {a.get("href").rstrip("/").rsplit("/", 1)[-1] for a in excel_page.xpath("//article//ul/li//a")
              if "/newsletter/" in (a.get("href") or "")}
    assert listed == {"1", "2", "3", "4"}
    assert len([name for name, title in titles.items() if title in ("タグ: AI", "タグ: ＡＩ")]) == 1
    long_page = [p for p in folders if LONG_TAG in (titles[p.name] or "")]
    assert len(long_page) == 1 and len(long_page[0].name.encode()) < 200
    index = lxml_html.fromstring((project.site / "tags" / "index.html").read_bytes())
    labels = index.xpath("//article//a[contains(@class, 'dayori-tag')]/text()")
    assert sorted(labels) == sorted(["Excel", "AI", LONG_TAG]) or sorted(labels) == sorted(["Excel", "ＡＩ", LONG_TAG])
    for tag_folder in (excel[0], long_page[0].name):
        feed = feedparser.parse((project.site / "feeds" / "tags" / f"{tag_folder}.xml").read_bytes())
        assert not feed.bozo
        assert len(feed.entries) == (4 if tag_folder == excel[0] else 2)
    assert len(list((project.site / "feeds" / "tags").glob("*.xml"))) == 3


@pytest.mark.parametrize(("docs_page", "generated"), [
    ("docs/tags/excel/index.md", "tags/excel/"),
    ("docs/newsletter/12.md", "newsletter/12/"),
])
def test_a_docs_page_where_a_generated_page_goes_is_reported_before_anything_is_written(
        project: Project, docs_page: str, generated: str) -> None:
    project.add_issue(12, "2026-10-01", "十二号", tags=["Excel"])
    project.build()
    before = {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()}
    project.write(docs_page, "# 手書きのページ\n")
    result = project.run_build()
    assert result.returncode != 0
    rows = [row for row in result.stderr.splitlines() if docs_page in row]
    assert rows and generated in rows[0] and "自動で作られる" in rows[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()} == before
