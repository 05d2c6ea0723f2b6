"""A site build proofreads and reads the tags in a second process (`dayori.sidework`): what it reports and
publishes is what the same work gives in the build's own process, and the build never loads the dictionary."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, Project, issue_text
from dayori.build import prepare
from dayori.check.stage import check_content
from dayori.config import settings_from_file
from dayori.reading import by_reading

PROBE = """
import json, sys
from pathlib import Path
from dayori.build import prepare
from dayori.config import settings_from_file
build = prepare(settings_from_file(Path(sys.argv[1])))
print(json.dumps({"sudachi": "sudachipy" in sys.modules, "warnings": list(build.check.warnings),
                  "analysed": build.check.analysed,
                  "tags": next(page.html for page in build.site.pages if page.url == "tags/")}))
"""


def test_the_check_runs_beside_the_build_with_the_same_findings(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "会議の準備", "資料をを共有します。", tags=["会議", "あいさつ", "Excel"])
    project.add_issue(2, "2026-11-13", "表計算", "表計算のこつです。", tags=["表計算"])
    env = {**os.environ, "DAYORI_TODAY": TODAY}
    result = subprocess.run([sys.executable, "-c", PROBE, str(project.root / "mkdocs.yml")], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["sudachi"] is False
    assert seen["analysed"] == 2
    assert any("助詞の重複" in warning and "newsletter/2026/1.md" in warning for warning in seen["warnings"])
    os.environ["DAYORI_TODAY"] = TODAY
    try:
        settings = settings_from_file(project.root / "mkdocs.yml")
        here = check_content(prepare(settings).content, settings)
    finally:
        os.environ.pop("DAYORI_TODAY", None)
    assert seen["warnings"] == list(here.warnings)
    labels = ["表計算", "会議", "Excel", "あいさつ"]
    listed = sorted(labels, key=lambda label: seen["tags"].index(f">{label}"))
    assert listed == by_reading(labels) == ["Excel", "あいさつ", "会議", "表計算"]  # 会議 is read カイギ


def test_a_build_that_stops_early_leaves_no_process_behind(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "壊れたリンク", "[ない号](99.md)")
    result = project.run_build()
    assert result.returncode != 0
    assert not list((project.root / ".cache/dayori").glob("*sidework*"))


def sidework_processes(project: Project) -> list[str]:
    """Processes still working for this project's build (their work file is in its cache)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                command = Path(f"/proc/{entry.name}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "dayori.sidework" in command and str(project.root) in command:
                found.append(command)
    return found


def test_a_build_stopped_while_reading_the_content_stops_the_check_it_started_first(project: Project) -> None:
    """The check's process starts before the content is read, to load its dictionary meanwhile: an editor's
    typo'd date stops the build there, before that process has any work, and it must not outlive the build."""
    project.add_issue(1, "2026-11-20", "会議の準備", "資料を共有します。")
    project.write("newsletter/2026/2.md", issue_text(2, "2026-02-30", "日付の誤り", "本文です。"))
    result = project.run_build()
    assert result.returncode != 0
    assert "2026年2月30日という日はありません" in result.stderr and "newsletter/2026/2.md" in result.stderr
    assert "Traceback" not in result.stderr
    assert not project.site.exists()
    assert not list((project.root / ".cache/dayori").glob("*sidework*"))
    assert sidework_processes(project) == []


def test_a_build_stopped_by_the_late_check_publishes_nothing_and_leaves_nothing_behind(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "会議の準備", "資料を共有します。")
    assert project.run_build().returncode == 0
    before = {path: path.read_bytes() for path in project.site.rglob("*") if path.is_file()}
    project.add_issue(2, "2026-11-27", "設定の確認", "設定をを確認します。")
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("strict: false", "strict: true"), encoding="utf-8")
    result = project.run_build(today="2026-11-28")
    assert result.returncode != 0
    assert "newsletter/2026/2.md" in result.stderr and "助詞の重複" in result.stderr
    assert {path: path.read_bytes() for path in project.site.rglob("*") if path.is_file()} == before
    assert not list((project.root / ".cache/dayori").glob("*sidework*"))
    assert sidework_processes(project) == []


def test_a_build_that_fails_while_rendering_pages_stops_its_other_processes(project: Project) -> None:
    """The check and the emails are still being made while MkDocs renders the pages; a failure there (here a
    second hook that breaks on one page) must not leave them running or their work files in the cache."""
    project.add_issue(1, "2026-11-20", "会議の準備", "資料を共有します。")
    (project.root / "hooks" / "breaks.py").write_text(
        "def on_page_content(html, page, **kwargs):\n"
        "    if page.url == 'newsletter/1/':\n"
        "        raise RuntimeError('テスト用の故障')\n"
        "    return html\n", encoding="utf-8")
    config = project.root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert "  - hooks/dayori_hook.py\n" in text
    config.write_text(text.replace("  - hooks/dayori_hook.py\n", "  - hooks/dayori_hook.py\n  - hooks/breaks.py\n"),
                      encoding="utf-8")
    result = project.run_build()
    assert result.returncode != 0
    assert "テスト用の故障" in result.stderr
    assert not project.site.exists() or not (project.site / "newsletter" / "1" / "index.html").exists()
    assert not list((project.root / ".cache/dayori").glob("*sidework*"))
    assert sidework_processes(project) == []


def test_a_first_build_shares_rendering_with_another_process_and_reports_the_same(project: Project) -> None:
    """A first build of many bodies has a helper render one in three (`prerender`), whose records come back in
    its answer: the content, and the problems in their order, are those of rendering everything here, and a
    helper that renders nothing only costs time. The render cache is one file, written by the build alone."""
    import functools
    from dataclasses import replace

    from dayori.build import _render_helper
    from dayori.content import HELPED_FROM, HELPER_PARTS, RENDER_CACHE, load_content, prerender
    from dayori.errors import ContentError
    from dayori.pack import Pack

    count = HELPED_FROM + 8
    for vol in range(1, count + 1):
        body = f"## 第{vol}号の見出し\n\n本文その{vol}です。[前の号]({vol - 1}.md)" if vol > 1 else "最初の号です。"
        project.add_issue(vol, f"2025-{1 + vol // 28:02d}-{1 + vol % 28:02d}", f"第{vol}の話題", body)
    broken = [vol for vol in range(1, count + 1) if (vol - 1) % HELPER_PARTS == HELPER_PARTS - 1][:2]
    for vol in broken:  # in the helper's share, whatever the order the files are read in: a link to nowhere
        project.add_issue(vol, f"2025-{1 + vol // 28:02d}-{1 + vol % 28:02d}", f"第{vol}の話題", "[ない号](999.md)")
    project.add_issue(2, "2025-01-03", "第2の話題", "[ない号](998.md)")
    os.environ["DAYORI_TODAY"] = TODAY
    try:
        base = settings_from_file(project.root / "mkdocs.yml")
        outcomes: list[Any] = []
        for name, helper in (("alone", None), ("helped", _render_helper), ("idle", lambda settings, bodies, pages: dict)):
            settings = replace(base, cache_dir=f".cache/{name}")
            try:
                load_content(settings, helper=functools.partial(helper, settings) if helper else None)
            except ContentError as error:
                outcomes.append([str(problem) for problem in error.problems])
            for vol in broken:
                project.add_issue(vol, f"2025-{1 + vol // 28:02d}-{1 + vol % 28:02d}", f"第{vol}の話題", "直しました。")
            project.add_issue(2, "2025-01-03", "第2の話題", "直しました。")
            outcomes.append(load_content(settings, helper=functools.partial(helper, settings) if helper else None))
            for vol in broken:
                project.add_issue(vol, f"2025-{1 + vol // 28:02d}-{1 + vol % 28:02d}", f"第{vol}の話題", "[ない号](999.md)")
            project.add_issue(2, "2025-01-03", "第2の話題", "[ない号](998.md)")
            assert len(Pack(settings.cache_path / RENDER_CACHE)) >= count
            assert sorted(path.name for path in settings.cache_path.iterdir()) == [RENDER_CACHE]
        shared = replace(base, cache_dir=".cache/shared")  # what a helper makes is what this process looks for
        given: list[Any] = []  # what a build hands its helper: the bodies it read, every item's address

        def keep(bodies: list[Any], pages: dict[Path, str]) -> Callable[[], dict[str, bytes]]:
            given.extend([bodies, pages])
            return dict
        with contextlib.suppress(ContentError):
            load_content(replace(base, cache_dir=".cache/given"), helper=keep)
        assert len(given[0]) == len(range(HELPER_PARTS - 1, count, HELPER_PARTS))
        made = prerender(shared, *given)
        assert len(made) == len(given[0])
        assert not (shared.cache_path / RENDER_CACHE).exists()  # the helper answers; it writes no cache
        with contextlib.suppress(ContentError):
            load_content(shared)
        assert len(Pack(shared.cache_path / RENDER_CACHE)) == count
    finally:
        os.environ.pop("DAYORI_TODAY", None)
    alone, helped, idle = outcomes[0:2], outcomes[2:4], outcomes[4:6]
    assert len(alone[0]) == 3 and "999.md" in alone[0][1] and "998.md" in alone[0][0]
    assert helped == alone and idle == alone


def test_the_bodies_helper_finds_japanese_and_mac_saved_names_as_the_build_does(project: Project) -> None:
    """The helper gets the files as the build read them: a picture saved on a Mac (NFD) and typed in NFC, an
    issue's file named in Japanese, a link to one, and a slip in a name's case give the helper's share the
    same bodies and the same problems as rendering everything in the build."""
    import functools
    import unicodedata
    from dataclasses import replace

    from dayori.build import _render_helper
    from dayori.content import HELPED_FROM, load_content
    from dayori.errors import ContentError
    from sample_files import png

    project.write("newsletter/2025/img/" + unicodedata.normalize("NFD", "ダイアログ.png"), png())
    names = {vol: f"{vol}-会議のコツ" for vol in range(1, HELPED_FROM + 9)}
    for vol, name in names.items():
        body = (f"![画面](img/ダイアログ.png)\n\n[前の号](<{names[vol - 1]}.md>)" if vol > 1 else "最初の号です。")
        if vol % 7 == 0:
            body += "\n\n![画面](img/だいあろぐ.PNG)"
        project.write(f"newsletter/2025/{name}.md",
                      issue_text(vol, f"2025-{1 + vol // 28:02d}-{1 + vol % 28:02d}", f"第{vol}の話題", body))
    answered: list[int] = []

    def counted(settings: Any, bodies: Any, pages: Any) -> Callable[[], dict[str, bytes]]:
        wait = _render_helper(settings, bodies, pages)

        def records() -> dict[str, bytes]:
            made = wait()
            answered.append(len(made))
            return made
        return records
    os.environ["DAYORI_TODAY"] = TODAY
    outcomes: list[Any] = []
    try:
        base = settings_from_file(project.root / "mkdocs.yml")
        for slips in (True, False):
            for name in names.values():
                text = (project.root / f"newsletter/2025/{name}.md").read_text(encoding="utf-8")
                project.write(f"newsletter/2025/{name}.md", text.replace("だいあろぐ.PNG", "ダイアログ.png")
                              if not slips else text)
            for name, helper in (("alone", None), ("helped", counted)):
                settings = replace(base, cache_dir=f".cache/{name}-{slips}")
                try:
                    outcomes.append(load_content(settings, helper=functools.partial(helper, settings)
                                                 if helper else None))
                except ContentError as error:
                    outcomes.append([str(problem) for problem in error.problems])
    finally:
        os.environ.pop("DAYORI_TODAY", None)
    assert answered == [len(names) // 3] * 2  # the helper rendered its share
    with_slips, fixed = outcomes[0:2], outcomes[2:4]
    assert with_slips[0] == with_slips[1] and fixed[0] == fixed[1]
    assert len(with_slips[0]) == len([vol for vol in names if vol % 7 == 0]), with_slips[0]
    assert all("だいあろぐ.PNG" in problem for problem in with_slips[0]), with_slips[0]
    assert all(len(issue.body.assets) == 1 for issue in fixed[0].issues if issue.vol > 1)


PEAK_PROBE = """
import os, sys
from pathlib import Path
from dayori import sidework
from dayori.config import settings_from_file
root = Path(sys.argv[1])
settings = settings_from_file(root / "mkdocs.yml")
side = sidework.begin("check", settings)
side.give(["会議", "研修", "Excel"], sorted(path.relative_to(root) for path in (root / "newsletter").rglob("*.md")))
side.answer()
analysed = side.answer().analysed
_, _, usage = os.wait4(side.process.pid, 0)
side.close()
print(analysed, usage.ru_maxrss)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's peak memory is read on Linux")
def test_a_first_builds_proofreading_process_stays_under_100_mb_however_much_it_analyses(tmp_path: Path) -> None:
    """Issue 22: no process of a build above 100 MB. The proofreading process's peak is the dictionary's pages
    the kernel maps for it (see `dayori.reading.release_dictionary_pages` and `sidework._load_dictionary`):
    117 MiB on these issues before that (125 MiB on 520), 92 MiB since. Its parent is a small process: a
    process's peak counts its parent's memory when it was started (Linux keeps it through `exec`)."""
    from testsupport.corpus import write_projects

    root, _ = write_projects(tmp_path, 120)
    result = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(root)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    analysed, peak = (int(word) for word in result.stdout.split())
    assert analysed == 120
    assert peak < 100 * 1024  # kilobytes
