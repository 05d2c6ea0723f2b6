"""The staff site as readers and editors meet it: real MkDocs builds of a temporary project."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import Project
from dayori.material.search import whole_index

BODY = """
## テレワークの準備

在宅勤務の前に、VPN の接続手順と手ぶれ補正の設定を確認しておきましょう。

- 勤怠の入力
- 連絡手段の確認

| 項目 | 内容 |
| --- | --- |
| VPN | 接続を確認 |
"""


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links.append((tag, dict(attrs)))


def parse(path: Path) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.links


def text_of(path: Path) -> str:
    return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))


@pytest.fixture
def three_issues(project: Project) -> Project:
    project.add_issue(1, "2025-12-26", "年末の整理術", BODY, tags=["テレワーク"])
    project.add_issue(2, "2026-01-09", "Teams の使い分け", BODY, tags=["Teams", "テレワーク"], authors=["山田 花子"])
    project.add_issue(3, "2026-01-16", "Outlook の仕分けルール", BODY + "\n" + "あ" * 1600, tags=["Outlook"])
    return project


def test_issue_page_has_stable_url_header_and_neighbours(three_issues: Project) -> None:
    three_issues.build()
    page = three_issues.site / "newsletter" / "2" / "index.html"
    text = text_of(page)
    assert "業務合理化便り 第2号" in text and "Teams の使い分け" in text
    assert "2026年1月9日（金）" in text and "執筆：山田 花子" in text
    assert "約1分で読めます" in text
    links = {attrs.get("rel"): attrs.get("href") for tag, attrs in parse(page) if tag == "a" and attrs.get("rel")}
    assert links["prev"] == "../1/" and links["next"] == "../3/"
    assert "約4分で読めます" in text_of(three_issues.site / "newsletter" / "3" / "index.html")


def test_archive_is_newest_first_and_grouped_by_year(three_issues: Project) -> None:
    three_issues.build()
    text = text_of(three_issues.site / "newsletter" / "index.html")
    assert text.index("2026年") < text.index("2025年")
    assert text.index("Outlook の仕分けルール") < text.index("Teams の使い分け") < text.index("年末の整理術")


def test_tag_pages_list_their_issues(three_issues: Project) -> None:
    three_issues.build()
    tag_page = three_issues.site / "tags" / "テレワーク" / "index.html"
    text = text_of(tag_page)
    assert "Teams の使い分け" in text and "年末の整理術" in text and "Outlook の仕分けルール" not in text
    assert "テレワーク" in text_of(three_issues.site / "tags" / "index.html")


def test_home_page_shows_the_latest_issue(three_issues: Project) -> None:
    three_issues.build()
    home = text_of(three_issues.site / "index.html")
    assert "最新号" in home and "Outlook の仕分けルール" in home


def test_headings_get_readable_japanese_anchors(three_issues: Project) -> None:
    three_issues.build()
    ids = [attrs.get("id") for tag, attrs in parse(three_issues.site / "newsletter" / "1" / "index.html") if tag == "h2"]
    assert "テレワークの準備" in ids


def test_drafts_and_scheduled_issues_leave_no_trace(project: Project) -> None:
    project.write("newsletter/2026/img/secret.png", b"\x89PNG draft-only image")
    project.add_issue(1, "2026-11-20", "公開済みの号", "公開本文です。")
    project.add_issue(2, "2026-11-25", "ひみつの下書き号", "下書きの本文ＸＹＺ ![図](img/secret.png)", draft=True)
    project.add_issue(3, "2026-12-04", "来週の予約号", "予約の本文ＡＢＣ")
    project.build(today="2026-11-26")
    everything = project.site_text()
    for secret in ("ひみつの下書き号", "下書きの本文ＸＹＺ", "来週の予約号", "予約の本文ＡＢＣ", "newsletter/2/", "newsletter/3/"):
        assert secret not in everything
    assert not (project.site / "newsletter" / "2").exists() and not (project.site / "newsletter" / "3").exists()
    assert b"draft-only image" not in b"".join(p.read_bytes() for p in project.site.rglob("*.png"))
    index = whole_index(lambda path: (project.site / path).read_bytes())
    assert {d["location"] for d in index["docs"]} >= {"newsletter/1/"}
    assert "newsletter/1/" in (project.site / "sitemap.xml").read_text()


def test_scheduled_issue_appears_on_its_date(project: Project) -> None:
    project.add_issue(3, "2026-12-04", "来週の予約号", "予約の本文")
    project.build(today="2026-12-04")
    assert "来週の予約号" in text_of(project.site / "newsletter" / "3" / "index.html")


def test_preview_shows_drafts_with_a_banner(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "公開済みの号")
    project.add_issue(2, "2026-11-25", "書きかけの号", draft=True)
    project.build(command="serve")
    text = text_of(project.site / "newsletter" / "2" / "index.html")
    assert "下書き" in text and "書きかけの号" in text
    assert "下書き" not in text_of(project.site / "newsletter" / "1" / "index.html").split("書きかけの号")[0]


def test_every_editor_mistake_is_listed_at_once_and_nothing_is_written(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "よい号")
    assert project.run_build().returncode == 0
    before = (project.site / "newsletter" / "1" / "index.html").read_bytes()
    project.write("newsletter/2026/2.md", "---\nvol: 2\ndate: 2026-11-20\ntitel: 題名\nsummary: 要約\ntags: [a]\n---\n本文\n")
    project.write("newsletter/2026/3.md", "---\nvol: 1\ndate: 2026-11-20\ntitle: t\nsummary: s\ntags: [a]\n---\n本文\n")
    project.write("newsletter/2026/6.md", "---\nvol: 6\ndate: 27/11/2026\ntitle: t\nsummary: s\ntags: [a]\n---\n本文\n")
    project.write("newsletter/2026/4.md", "---\nvol: 4\ndate: 2026-11-20\ntitle: [閉じていない\n---\n本文\n")
    project.write("newsletter/2026/5.md",
                  "---\nvol: 5\ndate: 2026-11-20\ntitle: t\nsummary: s\ntags: [a]\n---\n\n本文\n\n![図](img/none.png)\n"
                  "[前号](9.md)\n")
    result = project.run_build()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    expected = [
        "newsletter/2026/2.md:4: 「titel」は不明なキーです。「title」の書き間違いではありませんか？",
        "newsletter/2026/2.md:2: 必須のキー「title」",
        "newsletter/2026/3.md:2: ファイル名の号数（3）と vol（1）が違います。",
        "newsletter/2026/3.md:2: vol 1 は newsletter/2026/1.md でも使われています。",
        "newsletter/2026/6.md:3: 「date」（発行日）の値が正しくありません。日付は「2026-12-04」のように 年-月-日 で書いてください",
        "newsletter/2026/4.md:4: 「title」の値のかっこ「[」が閉じていません。",
        "newsletter/2026/5.md:11: リンク先または画像「img/none.png」が見つかりません。",
        "newsletter/2026/5.md:12: リンク先または画像「9.md」が見つかりません。",
    ]
    for line in expected:
        assert line in output, f"missing: {line}\n{output}"
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before


def test_duplicate_vol_names_both_files(project: Project) -> None:
    project.add_issue(7, "2026-11-20", "一つ目")
    project.write("newsletter/2026/7-copy.md", (project.root / "newsletter/2026/7.md").read_text())
    output = project.run_build().stderr
    assert "vol 7 は newsletter/2026/7-copy.md でも使われています" in output or \
           "vol 7 は newsletter/2026/7.md でも使われています" in output


def test_navigation_does_not_grow_with_the_number_of_issues(project: Project) -> None:
    def nav_of_first_issue() -> str:
        html = (project.site / "newsletter" / "1" / "index.html").read_text(encoding="utf-8")
        return html[html.index('<nav class="md-nav md-nav--primary'):html.index('<nav class="md-nav md-nav--secondary')]

    for vol in range(1, 4):
        project.add_issue(vol, f"2026-01-{vol:02d}", f"第{vol}号の題")
    project.build()
    few = nav_of_first_issue()
    for vol in range(4, 40):
        project.add_issue(vol, f"2026-{1 + vol // 28:02d}-{1 + vol % 28:02d}", f"第{vol}号の題")
    project.build()
    assert nav_of_first_issue() == few


def test_new_issue_takes_the_next_vol_and_never_overwrites(project: Project) -> None:
    project.add_issue(41, "2026-11-20", "既存の号")
    command = [sys.executable, "-m", "dayori", "new-issue"]
    env = {"DAYORI_TODAY": "2026-11-27", "PATH": "/usr/bin:/bin"}
    first = subprocess.run(command, cwd=project.root, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    created = project.root / "newsletter" / "2026" / "42.md"
    assert "vol: 42" in created.read_text() and "date: 2026-11-27" in created.read_text()
    assert project.run_build().returncode == 0  # the template is valid, and a draft: not published
    assert not (project.site / "newsletter" / "42").exists()
    created.write_text(created.read_text() + "\n編集中の本文\n")
    second = subprocess.run(command, cwd=project.root, env=env, capture_output=True, text=True)
    assert second.returncode == 0
    assert "編集中の本文" in created.read_text()
    assert "vol: 43" in (project.root / "newsletter" / "2026" / "43.md").read_text()


LOADED_BY_SRC = {"img", "script", "iframe", "video", "audio", "source", "track", "embed", "input"}
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon", "manifest",
                "prefetch", "preconnect", "dns-prefetch"}
CSS_URL = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)|url\(\s*["']?([^"')\s]+)""", re.IGNORECASE)


def is_other_host(url: str) -> bool:
    return bool(re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", url, re.IGNORECASE))


def external_references(site: Path) -> list[str]:
    """What would make a browser load something from another host (links a reader may follow don't count)."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix in {".css", ".js", ".html", ".xsl"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(site)}: {m.group(0)}" for m in CSS_URL.finditer(text)
                      if is_other_host(m.group(1) or m.group(2))]
        if path.suffix == ".html":
            for tag, attrs in parse(path):
                urls = [attrs.get("src") or "", attrs.get("poster") or "", attrs.get("srcset") or ""]
                rels = set((attrs.get("rel") or "").lower().split())
                if tag == "link" and rels & LOADING_RELS:
                    urls.append(attrs.get("href") or "")
                if tag in LOADED_BY_SRC | {"link", "video"}:
                    found += [f"{path.relative_to(site)}: <{tag}> {url}" for url in urls if url and is_other_host(url)]
    return found


def test_nothing_loads_from_another_host(three_issues: Project) -> None:
    three_issues.write("newsletter/2026/3.md", (three_issues.root / "newsletter/2026/3.md").read_text()
                       + "\n[デジタル庁](https://www.digital.go.jp/)\n")
    three_issues.build()
    assert external_references(three_issues.site) == []
    for tag, attrs in parse(three_issues.site / "index.html"):
        if tag in {"script", "img"}:
            assert "//" not in (attrs.get("src") or "")
        if tag == "link" and attrs.get("rel") in {"stylesheet", "preload", "preconnect"}:
            assert "//" not in (attrs.get("href") or "")




def test_a_subscriber_list_never_reaches_the_site(project: Project) -> None:
    secret = "kanri.taro@example.go.jp"
    project.write("docs/subscribers.csv", f"address,name\n{secret},管理 太郎\n")
    project.write("newsletter/2026/subscribers.csv", f"address\n{secret}\n")
    project.add_issue(1, "2026-11-20", "名簿の号", "本文です。")
    project.build()
    assert secret not in project.site_text()
    assert not list(project.site.rglob("*.csv"))
    project.add_issue(1, "2026-11-20", "名簿の号", "[名簿](subscribers.csv)")
    result = project.run_build()
    assert result.returncode != 0 and "「subscribers.csv」は名簿や表のファイルなので公開できません" in result.stderr
