"""A site build proofreads in another process and only reads the result: reading it must not import the
checker (its rules, analyser and process pool are a tenth of a second of the build's critical path)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

from dayori.check import Finding, check_files, content_files
from dayori.check.stage import CheckResult

CHECKER = ("dayori.check.archive", "dayori.check.rules", "dayori.check.analyzer", "dayori.check.parallel")


def test_a_check_result_is_read_without_importing_the_checker() -> None:
    finding = Finding("newsletter/2026/9.md", 3, 1, "表記ゆれ", "エラー", "「出来る」は「できる」と書きます。", "できる")
    result = CheckResult({"newsletter/2026/9.md": (finding,)}, ("校正 …",), (), 1, False)
    script = ("import pickle, sys, json; result = pickle.loads(sys.stdin.buffer.read()); "
              f"print(json.dumps([result.summary, [m for m in {CHECKER!r} if m in sys.modules]]))")
    answer = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(result), capture_output=True,
                            check=True)
    summary, imported = json.loads(answer.stdout)
    assert summary == result.summary
    assert "エラー 1 件" in summary
    assert imported == []


def test_the_checker_is_still_reached_from_its_package() -> None:
    from dayori.check import archive

    assert check_files is archive.check_files and content_files is archive.content_files
