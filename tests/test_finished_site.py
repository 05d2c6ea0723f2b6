"""The finished site as a reader notices it: Japanese everywhere (footer, anchors, 404), feeds a person can
subscribe to without XSLT, search that finds articles and not the editors' guide, tags in reading order, the
right tab, one site name in the home page's title. Built once by real MkDocs, read with independent parsers."""

from __future__ import annotations

import email
import email.policy
import re
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin

import feedparser
import lxml.html
import pytest

from conftest import ROOT, Project, body_text, copy_project
from dayori.material.search import whole_index
from testsupport.helpers import serve_env, start_preview, stop

HEADINGS = "## 準備\n\n本文です。\n\n## まとめ\n\nおわり。"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = copy_project(tmp_path_factory.mktemp("finished") / "project", with_content=False)
    project.add_issue(1, "2026-11-06", "会議の準備", HEADINGS, tags=["会議", "Excel"])
    project.add_issue(2, "2026-11-13", "あいさつの工夫", tags=["あいさつ", "会議"])
    project.add_issue(3, "2026-11-20", "テレワークの日", tags=["テレワーク", "AI", "会議"])
    project.add_issue(4, "2026-11-25", "書きかけの号", draft=True, tags=["下書き専用"])
    project.build()
    yield project


def html_of(project: Project, path: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((project.site / path).read_bytes())


def links_of(page: lxml.html.HtmlElement, base: str) -> set[str]:
    return {unquote(urljoin(base, href)) for href in page.xpath("//a/@href")}


def test_404_page_is_japanese_with_a_way_home(built: Project) -> None:
    page = html_of(built, "404.html")
    text = page.text_content()
    assert "ページが見つかりません" in text and "Not found" not in text
    home = page.xpath("//a[normalize-space()='ホームへ戻る']/@href")
    assert home == ["/dayori/"]  # served at any address: the link is from the site's root (site_url's path)


def test_no_english_theme_strings_reach_readers(built: Project) -> None:
    pages = sorted(built.site.rglob("*.html"))
    assert pages
    for path in pages:
        text = path.read_text(encoding="utf-8")
        for english in ("Made with", "Permanent link", "Material for MkDocs"):
            assert english not in text, (path, english)
    anchors = html_of(built, "newsletter/1/index.html").xpath("//a[contains(@class, 'headerlink')]/@title")
    assert anchors and set(anchors) == {"この見出しへのリンク"}


def test_feeds_page_lists_every_main_feed_and_is_linked_from_subscribe_and_footer(built: Project) -> None:
    base = "https://dx.example.go.jp/dayori/feeds/"
    page = html_of(built, "feeds/index.html")
    assert "Outlook" in page.text_content() and "Teams" in page.text_content()
    linked = links_of(page, base)
    for stem in ("newsletter", "videos", "all"):
        for ext in ("xml", "atom"):
            url = f"https://dx.example.go.jp/dayori/feeds/{stem}.{ext}"
            assert url in linked, url
            data = (built.site / "feeds" / f"{stem}.{ext}").read_bytes()
            assert b"xml-stylesheet" not in data
            assert not feedparser.parse(data).bozo
    for source, where in (("subscribe/index.html", "https://dx.example.go.jp/dayori/subscribe/"),
                          ("newsletter/1/index.html", "https://dx.example.go.jp/dayori/newsletter/1/")):
        footer = html_of(built, source).xpath("//footer")[0]
        assert base in links_of(footer, where), source
    subscribe = html_of(built, "subscribe/index.html").xpath("//article")[0]
    assert base in links_of(subscribe, "https://dx.example.go.jp/dayori/subscribe/")


def test_search_finds_articles_but_not_the_guide_or_the_home_listing(built: Project) -> None:
    index = whole_index(lambda path: (built.site / path).read_bytes())
    pages = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert {"newsletter/1/", "newsletter/3/", "subscribe/"} <= pages
    assert "guide/" not in pages and "" not in pages
    assert not any("編集ガイド" in doc["title"] for doc in index["docs"])


def test_preview_search_marks_draft_hits(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "公開済みの号")
    project.add_issue(2, "2026-11-25", "書きかけの号", draft=True)
    project.add_issue(3, "2026-12-04", "来週の号")
    project.build(command="serve")
    index = whole_index(lambda path: (project.site / path).read_bytes())
    titles = {doc["location"]: doc["title"] for doc in index["docs"] if "#" not in doc["location"]}
    assert titles["newsletter/2/"].startswith("【下書き】") and "書きかけの号" in titles["newsletter/2/"]
    assert titles["newsletter/3/"].startswith("【公開前】")
    assert "【" not in titles["newsletter/1/"]


def test_tags_are_in_japanese_reading_order_with_counts(built: Project) -> None:
    page = html_of(built, "tags/index.html")
    items = [li.text_content() for li in page.xpath("//ul[@class='dayori-tagcloud']/li")]
    names = [re.sub(r"\s*（\d+件）$", "", item).strip() for item in items]
    assert names == ["AI", "Excel", "あいさつ", "会議", "テレワーク"]  # 会議 is read カイギ
    assert "会議（3件）" in items[3].replace(" ", "")
    assert "下書き専用" not in names


def test_issue_pages_mark_the_newsletter_tab_and_lists_take_the_width(built: Project) -> None:
    for path in ("newsletter/1/index.html", "newsletter/index.html"):
        active = html_of(built, path).xpath("//li[contains(@class, 'md-tabs__item--active')]")
        assert [li.text_content().strip() for li in active] == ["業務合理化便り"], path
    tags = html_of(built, "tags/index.html")
    active = tags.xpath("//li[contains(@class, 'md-tabs__item--active')]")
    assert [li.text_content().strip() for li in active] == ["タグ"]
    # Lists hide both side columns; an article keeps its table of contents.
    sidebars = tags.xpath("//div[contains(concat(' ', @class, ' '), ' md-sidebar ')]")
    assert len(sidebars) == 2 and all(s.get("hidden") is not None for s in sidebars)
    article = html_of(built, "newsletter/1/index.html")
    navigation, toc = article.xpath("//div[contains(concat(' ', @class, ' '), ' md-sidebar ')]")
    assert navigation.get("hidden") is not None and toc.get("hidden") is None


def test_home_page_title_names_the_site_once(built: Project) -> None:
    assert html_of(built, "index.html").findtext(".//title") == "業務合理化便り"
    assert html_of(built, "newsletter/1/index.html").findtext(".//title") == "第1号 会議の準備 - 業務合理化便り"


def test_email_says_dai_n_go_like_the_site(built: Project) -> None:
    message = email.message_from_bytes((built.site / "email" / "1" / "message.eml").read_bytes(),
                                       policy=email.policy.default)
    assert message["Subject"] == "【業務合理化便り 第1号】会議の準備"
    text = body_text(message, "plain")
    html = body_text(message, "html")
    assert "第1号" in text and "第1号" in html and "Vol." not in text + html


def test_sample_prose_has_no_spaces_around_bold_text() -> None:
    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("newsletter/**/*.md"), *root.glob("videos/*/index.md"), *root.glob("docs/*.md")]
    spaced = re.compile(r"[^\x00-\x7f] \*\*[^*\n]+\*\*|\*\*[^*\n]+\*\* [^\x00-\x7f]")
    found = [f"{path.relative_to(root)}:{n}" for path in files
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if spaced.search(line)]
    assert found == []



def test_preview_server_sends_atom_feeds_as_utf8(project: Project) -> None:
    """Without a charset Chromium shows an Atom feed as Latin-1 mojibake; `mkdocs serve` is ours to set."""
    project.add_issue(1, "2026-11-20", "公開済みの号")
    command = [sys.executable, "-m", "mkdocs", "serve", "-a", "127.0.0.1:0"]  # port 0: the system picks a free one
    server = start_preview(project.root, command, serve_env(DAYORI_TODAY="2026-11-26"))
    try:
        response = urllib.request.urlopen(server.url + "feeds/newsletter.atom", timeout=60)
        assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        assert "公開済みの号" in response.read().decode("utf-8")
    finally:
        stop(server.process)


def test_the_guides_windows_commands_run_what_make_runs() -> None:
    """Editors without make type the guide's commands instead: each must start what its make target starts
    (plain `mkdocs serve` would rebuild every page at each save, and would not check the port)."""
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `make ([\w-]+)`[^|]*\| `\.venv\\Scripts\\([^`]+)`", guide, re.MULTILINE)
    assert {target for target, _ in rows} >= {"serve", "site", "new-issue"}, rows
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target, command in rows:
        recipe = re.search(rf"^{re.escape(target)}:.*\n\t\$\(BIN\)/(.+)$", makefile, re.MULTILINE)
        assert recipe is not None, target
        assert re.sub(r"( --[\w-]+)? \$\(.*$", "", recipe.group(1)) == command, target
