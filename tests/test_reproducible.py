"""Two builds of the same inputs give the same bytes, so a deploy shows only real changes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import feedparser
import pytest

from conftest import Project


def digests(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.fixture
def issues(project: Project) -> Project:
    project.add_issue(1, "2026-10-02", 'Teams <script>alert(1)</script> & "引用" 🎉', "## 見出し\n\n本文 & <b>太字</b>")
    project.add_issue(2, "2026-10-09", "Outlook の仕分けルール", "[前号](1.md)\n\n本文", tags=["Outlook", "メール"])
    return project


def test_two_builds_are_byte_identical(issues: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    issues.build()
    first = digests(issues.site)
    shutil.rmtree(issues.site)
    issues.build()
    second = digests(issues.site)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    assert any(name.startswith("feeds/") for name in first)


def test_feeds_carry_no_build_time(issues: Project) -> None:
    issues.build()
    feed = (issues.site / "feeds" / "newsletter.xml").read_text(encoding="utf-8")
    assert "<lastBuildDate>Fri, 09 Oct 2026 09:00:00 +0900</lastBuildDate>" in feed
    parsed = feedparser.parse(feed)
    assert not parsed.bozo
    assert parsed.entries[1].title == 'Teams <script>alert(1)</script> & "引用" 🎉'
    assert "<script" not in feed


def test_every_page_announces_the_feeds(issues: Project) -> None:
    issues.build()
    for page in ("index.html", "newsletter/1/index.html", "subscribe/index.html"):
        html = (issues.site / page).read_text(encoding="utf-8")
        assert 'rel="alternate" type="application/rss+xml"' in html
        assert 'type="application/atom+xml"' in html
