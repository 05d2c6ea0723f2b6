"""`make serve` keeps the engine's results in memory between rebuilds (`dayori.memo`). Each edit below tries
to make the preview show something stale: after every one, the rebuild through the session's memo must equal
a build from nothing (its own empty cache), file for file and page for page."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import sample_files
from conftest import TODAY, Project, issue_text
from dayori.build import Build, prepare
from dayori.config import settings_from_file
from dayori.errors import ContentError
from dayori.memo import Memo
from media_clips import clip
from testsupport.helpers import add_episode

PNG_RED = sample_files.png(1, 1, colour=(255, 0, 0))
PNG_BLUE = sample_files.png(1, 1, colour=(0, 0, 255))


def seen(build: Build) -> dict[str, Any]:
    """Everything a reader of the preview can see: every page, the home page's list, every file's bytes,
    the proofreading panel's findings and the log's warnings."""
    return {"pages": {page.url: page for page in build.site.pages}, "latest": build.site.latest_html,
            "files": {output.dest: output.data() for output in build.outputs},
            "findings": build.check.findings, "warnings": build.warnings}


class Session:
    """One `make serve`: the same memo for every rebuild, as the adapter keeps it."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.memo = Memo()
        self.builds = 0

    def rebuild(self) -> Build:
        settings = settings_from_file(self.project.root / "mkdocs.yml")
        build = prepare(settings, preview=True, memo=self.memo)
        fresh_cache = self.project.root / ".cache" / f"fresh-{self.builds}"
        shutil.copytree(settings.cache_path / "media", fresh_cache / "media")  # transcodes are not remembered
        fresh = prepare(replace(settings, cache_dir=str(fresh_cache.relative_to(self.project.root))), preview=True)
        self.builds += 1
        assert seen(build) == seen(fresh)
        shutil.rmtree(fresh_cache)
        return build


@pytest.fixture
def session(project: Project, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setenv("DAYORI_TODAY", TODAY)
    for vol, day in ((1, "2026-11-05"), (2, "2026-11-12"), (3, "2026-11-19"), (4, "2026-11-26")):
        project.add_issue(vol, day, f"第{vol}の題", f"第{vol}号の本文です。\n\n## 見出し{vol}\n\n問い合わせは担当者へ。",
                          videos=["2026-11-18-teams-channel"] if vol == 3 else [])
    add_episode(project, "2026-11-18-teams-channel", newsletter=3)
    clip(project.root / "videos" / "2026-11-18-teams-channel" / "clip.mp4", size="160x90", seconds=1.0)
    project.write("newsletter/2026/img/shot.png", PNG_RED)
    result = Session(project)
    result.rebuild()
    return result


def edit(path: Path, change: Callable[[str], str]) -> None:
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def test_only_what_an_edit_changed_is_made_again(session: Session, project: Project) -> None:
    before = session.rebuild()
    edit(project.root / "newsletter/2026/4.md", lambda text: text + "\n書き足した一文です。\n")
    after = session.rebuild()
    pages_before = {page.url: page for page in before.site.pages}
    pages_after = {page.url: page for page in after.site.pages}
    remade = {url for url, page in pages_after.items() if page is not pages_before[url]}
    assert remade == {"newsletter/4/"}, "pages that do not show issue 4's body were rendered again"
    made_before = {output.dest: output.content for output in before.outputs}
    made_again = {output.dest for output in after.outputs if output.content is not made_before[output.dest]}
    assert {"feeds/newsletter.xml", "feeds/all.atom"} <= made_again
    assert "feeds/videos.xml" not in made_again, "a feed without issue 4 was made again"


EDITS: dict[str, Callable[[Project, pytest.MonkeyPatch], object]] = {
    "body": lambda p, _: edit(p.root / "newsletter/2026/2.md", lambda t: t.replace("本文です。", "本文を直しました。")),
    "title (neighbours, archive, tag, feeds, home)": lambda p, _: edit(
        p.root / "newsletter/2026/2.md", lambda t: t.replace("title: 第2の題", "title: 改めた題")),
    "summary": lambda p, _: edit(p.root / "newsletter/2026/3.md",
                                 lambda t: t.replace("summary: 第3の題についての要約です。", "summary: 新しい要約です。")),
    "tags": lambda p, _: edit(p.root / "newsletter/2026/1.md", lambda t: t.replace("[テスト]", "[テスト, Excel]")),
    "date into the future": lambda p, _: edit(p.root / "newsletter/2026/4.md",
                                              lambda t: t.replace("2026-11-26", "2026-12-24")),
    "draft": lambda p, _: edit(p.root / "newsletter/2026/1.md", lambda t: t.replace("tags:", "draft: true\ntags:")),
    "new issue": lambda p, _: p.add_issue(5, "2026-11-25", "新しい号", "新しい本文です。"),
    "deleted issue": lambda p, _: (p.root / "newsletter/2026/2.md").unlink(),
    "renamed file, same text": lambda p, _: (p.root / "newsletter/2026/3.md").rename(
        p.root / "newsletter/2026/3-teams.md"),
    "image added to a body": lambda p, _: edit(p.root / "newsletter/2026/1.md",
                                               lambda t: t + "\n![画面](img/shot.png)\n"),
    "episode title (the issue that lists it)": lambda p, _: edit(
        p.root / "videos/2026-11-18-teams-channel/index.md", lambda t: t.replace("チャネルの作り方", "チャネルの増やし方")),
    "site name": lambda p, _: edit(p.root / "mkdocs.yml", lambda t: t.replace("site_name: 業務合理化便り",
                                                                               "site_name: 業務効率化便り")),
    "the day turns": lambda _, monkeypatch: monkeypatch.setenv("DAYORI_TODAY", "2026-11-30"),
    "proofreading dictionary": lambda p, _: edit(p.root / "docs/表記ルール.yml",
                                                 lambda t: t.replace("問合せ: 問い合わせ", "問い合わせ: お問い合わせ")),
}


@pytest.mark.parametrize("change", EDITS.values(), ids=EDITS.keys())
def test_a_rebuild_after_an_edit_equals_a_build_from_nothing(
        session: Session, project: Project, monkeypatch: pytest.MonkeyPatch,
        change: Callable[[Project, pytest.MonkeyPatch], object]) -> None:
    change(project, monkeypatch)
    session.rebuild()


def test_an_image_replaced_under_the_same_name_is_shown(session: Session, project: Project) -> None:
    edit(project.root / "newsletter/2026/1.md", lambda text: text + "\n![画面](img/shot.png)\n")
    first = session.rebuild()
    project.write("newsletter/2026/img/shot.png", PNG_BLUE)
    second = session.rebuild()
    assert {o.dest for o in first.outputs if o.dest.startswith("media/files/")} != \
        {o.dest for o in second.outputs if o.dest.startswith("media/files/")}


def test_a_missing_image_added_later_is_found(session: Session, project: Project) -> None:
    edit(project.root / "newsletter/2026/1.md", lambda text: text + "\n![図](img/later.png)\n")
    with pytest.raises(ContentError, match=r"img/later\.png"):
        prepare(settings_from_file(project.root / "mkdocs.yml"), preview=True, memo=session.memo)
    project.write("newsletter/2026/img/later.png", PNG_BLUE)
    session.rebuild()


def test_fixing_a_mistake_shows_the_fixed_preview(session: Session, project: Project) -> None:
    path = project.root / "newsletter/2026/2.md"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("title: ", "title： "), encoding="utf-8")
    with pytest.raises(ContentError, match="全角"):
        prepare(settings_from_file(project.root / "mkdocs.yml"), preview=True, memo=session.memo)
    path.write_text(issue_text(2, "2026-11-12", "直した題", "直した本文です。"), encoding="utf-8")
    build = session.rebuild()
    assert "直した本文です。" in next(page.html for page in build.site.pages if page.url == "newsletter/2/")


def test_a_cache_deleted_while_the_preview_runs_is_made_again(session: Session, project: Project) -> None:
    shutil.rmtree(project.root / ".cache")
    edit(project.root / "newsletter/2026/2.md", lambda text: text + "\n書き足した一文です。\n")
    build = session.rebuild()
    assert all(output.source.is_file() for output in build.outputs if output.source is not None)
