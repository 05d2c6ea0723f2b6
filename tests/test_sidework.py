"""A site build proofreads and reads the tags in a second process (`dayori.sidework`): what it reports and
publishes is what the same work gives in the build's own process, and the build never loads the dictionary."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import TODAY, Project
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
