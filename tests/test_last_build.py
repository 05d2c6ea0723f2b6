"""The next build of an unchanged project takes the last good build's result (`dayori.lastbuild`); any change to
what the result was made from builds again, and what readers get is then exactly what a first build gives."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import TODAY, Project, copy_project
from dayori.build import prepare
from dayori.config import settings_from_file
from dayori.lastbuild import FILE

REUSED = "前回の結果を再利用"


def digests(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file() and p.suffix != ".gz" and p.name != "sitemap.xml"}


def prepared(project: Project, today: str = TODAY) -> dict[str, float]:
    os.environ["DAYORI_TODAY"] = today
    try:
        return prepare(settings_from_file(project.root / "mkdocs.yml")).seconds
    finally:
        os.environ.pop("DAYORI_TODAY", None)


def three_issues(project: Project) -> Project:
    for vol in (1, 2, 3):
        project.add_issue(vol, f"2026-10-0{vol}", f"第{vol}の話題", f"## 見出し\n\n本文その{vol}です。")
    return project


def test_an_unchanged_project_reuses_the_last_build(project: Project) -> None:
    three_issues(project)
    assert REUSED not in prepared(project)
    assert set(prepared(project)) == {REUSED}
    assert REUSED not in project.run_build().stderr  # what MkDocs publishes from docs/ is part of it
    result = project.run_build()
    assert result.returncode == 0, result.stderr
    assert REUSED in result.stderr


def test_an_edited_issue_changes_its_page_feed_and_email_only(project: Project) -> None:
    three_issues(project)
    project.build()
    project.build()
    before = digests(project.site)
    project.add_issue(2, "2026-10-02", "第2の話題", "## 見出し\n\n書き直した本文です。")
    project.build()
    after = digests(project.site)
    assert "書き直した本文" in (project.site / "newsletter/2/index.html").read_text(encoding="utf-8")
    assert "書き直した本文" in (project.site / "email/2/index.html").read_text(encoding="utf-8")
    assert "書き直した本文" in (project.site / "email/2/message.txt").read_text(encoding="utf-8")
    feed = feedparser.parse((project.site / "feeds/newsletter.xml").read_bytes())
    bodies = {entry.title: " ".join(part.value for part in entry.get("content", [])) for entry in feed.entries}
    assert "書き直した本文" in bodies["第2の話題"] and "本文その1" in bodies["第1の話題"]
    for vol in (1, 3):
        for name in (f"newsletter/{vol}/index.html", f"email/{vol}/message.eml"):
            assert before[name] == after[name]
    assert before["newsletter/2/index.html"] != after["newsletter/2/index.html"]


def test_the_day_is_part_of_what_a_build_is_made_from(project: Project) -> None:
    three_issues(project)
    project.add_issue(4, "2026-12-03", "予約した号")
    project.build()
    assert not (project.site / "newsletter/4/index.html").exists()
    project.build(today="2026-12-03")
    assert "予約した号" in (project.site / "newsletter/4/index.html").read_text(encoding="utf-8")
    project.build()
    assert not (project.site / "newsletter/4/index.html").exists()


def test_a_settings_change_builds_again(project: Project) -> None:
    three_issues(project)
    project.build()
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("footer: デジタル推進室 DXチーム（内線 1234）",
                                                                 "footer: 新しい連絡先（内線 9999）"), encoding="utf-8")
    project.build()
    assert "内線 9999" in (project.site / "email/1/message.txt").read_text(encoding="utf-8")


def test_a_removed_cached_file_is_made_again(project: Project) -> None:
    three_issues(project)
    project.build()
    shutil.rmtree(project.root / ".cache/dayori/email")
    project.build()
    assert "本文その1" in (project.site / "email/1/message.txt").read_text(encoding="utf-8")


def test_a_docs_page_saved_again_with_the_same_bytes_is_still_published(project: Project) -> None:
    """Editors' programs save by writing a new file and renaming it over the old: same bytes, another file,
    which the gate must see again before it is published."""
    three_issues(project)
    project.build()
    page = project.root / "docs/about.md"
    replacement = page.with_name(".about.md.tmp")
    replacement.write_bytes(page.read_bytes())
    os.replace(replacement, page)
    project.build()
    assert (project.site / "about/index.html").is_file()


def test_an_unreadable_kept_result_is_simply_built_again(project: Project) -> None:
    three_issues(project)
    project.build()
    (project.root / ".cache/dayori" / FILE).write_bytes(b"\x80\x05not a pickle")
    project.build()
    assert "本文その3" in (project.site / "newsletter/3/index.html").read_text(encoding="utf-8")
    (project.root / ".cache/dayori" / FILE).write_bytes(b"")
    assert REUSED not in prepared(project)
    assert REUSED in prepared(project)


@settings(max_examples=4)
@given(st.text(alphabet=st.sampled_from("あア漢字abc123 ！、。*_`#-\n"), min_size=1, max_size=40),
       st.sampled_from(["newsletter/2026/2.md", "docs/about.md", "newsletter/2026/files/memo.pdf"]))
def test_a_rebuild_after_any_edit_equals_a_first_build(tmp_path_factory: pytest.TempPathFactory, text: str,
                                                       where: str) -> None:
    """What a warm build publishes after an edit is byte for byte what a first build of the same files does."""
    base = tmp_path_factory.mktemp("edit")
    warm = three_issues(copy_project(base / "warm", with_content=False))
    warm.write("newsletter/2026/files/memo.pdf", b"%PDF-1.4\n%%EOF\n")
    warm.add_issue(1, "2026-10-01", "第1の話題", "[資料](files/memo.pdf)")
    warm.build()
    time.sleep(0.01)
    path = warm.root / where
    if where.endswith(".pdf"):
        path.write_bytes(b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n")
    else:
        path.write_text(path.read_text(encoding="utf-8") + "\n\n" + text + "\n", encoding="utf-8")
    warm.build()
    cold = Project(base / "cold")
    shutil.copytree(warm.root, cold.root, ignore=shutil.ignore_patterns(".cache", "site", ".site.*"))
    cold.build()
    assert digests(warm.site) == digests(cold.site)


def test_a_retitled_issue_gets_a_new_page_head_and_kept_page_stubs_never_outlive_their_front_matter(
        project: Project, tmp_path: Path) -> None:
    """A build takes the last build's page stubs (the front matter MkDocs reads) by what they were made from: a
    new title makes a new stub, and a damaged stub file is simply made again."""
    from dayori.material.adapter import STUBS_FILE

    three_issues(project)
    project.build()
    project.add_issue(2, "2026-10-02", "改題した<題名>", "## 見出し\n\n本文その2です。")
    project.build()
    page = (project.site / "newsletter/2/index.html").read_text(encoding="utf-8")
    assert "<title>第2号 改題した&lt;題名&gt; - " in page and "第2の話題" not in page
    (project.root / ".cache/dayori" / STUBS_FILE).write_bytes(b"\x80\x05not a pickle")
    project.build()
    cold = Project(tmp_path / "cold")
    shutil.copytree(project.root, cold.root, ignore=shutil.ignore_patterns(".cache", "site", ".site.*"))
    cold.build()
    assert digests(project.site) == digests(cold.site)


def test_kept_outputs_and_search_terms_damaged_in_the_cache_are_made_again(project: Project, tmp_path: Path) -> None:
    """The kept result's larger outputs (feeds) are files in the cache, and the search index's terms are kept
    between builds: a kept file edited or damaged there never reaches the site."""
    from dayori.lastbuild import KEPT
    from dayori.material.adapter import TERMS_FILE

    for vol in (1, 2, 3):
        project.add_issue(vol, f"2026-10-0{vol}", f"第{vol}の話題", f"## 見出し\n\n本文その{vol}です。" * 400)
    assert project.run_build().returncode == 0
    result = project.run_build()
    assert result.returncode == 0 and REUSED in result.stderr, result.stderr
    kept = sorted((project.root / ".cache/dayori" / KEPT).iterdir())
    assert any(path.suffix == ".xml" for path in kept)
    for path in kept:
        path.write_bytes(path.read_bytes().replace("本文その".encode(), "ＺＺ改変印ＺＺ".encode()))
    (project.root / ".cache/dayori" / TERMS_FILE).write_bytes(b"\x80\x05not a pickle")
    result = project.run_build()
    assert result.returncode == 0 and REUSED not in result.stderr, result.stderr
    cold = Project(tmp_path / "cold")
    shutil.copytree(project.root, cold.root, ignore=shutil.ignore_patterns(".cache", "site", ".site.*"))
    cold.build()
    assert digests(project.site) == digests(cold.site)
    assert "ＺＺ改変印ＺＺ" not in project.site_text()
    feed = feedparser.parse((project.site / "feeds/newsletter.xml").read_bytes())
    assert any("本文その1" in entry.get("summary", "") + str(entry.get("content", "")) for entry in feed.entries)
