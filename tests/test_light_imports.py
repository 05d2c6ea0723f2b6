"""A site build proofreads and makes the emails in other processes and only reads their results: reading them
must not import the checker or the email renderer (a tenth of a second of the build's critical path)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

from conftest import Project
from dayori.check import Finding, check_files, content_files
from dayori.check.result import CheckResult
from dayori.email import EmailReport, build_emails
from dayori.errors import Problem
from dayori.model import Output

CHECKER = ("dayori.check.archive", "dayori.check.rules", "dayori.check.analyzer", "dayori.check.parallel")
RENDERER = ("dayori.email.build", "dayori.email.render", "dayori.email.inline", "dayori.email.transform")


def _read_elsewhere(value: object, *, tell: str, heavy: tuple[str, ...]) -> tuple[object, list[str]]:
    """`value` read back by a fresh interpreter: what `tell` (an expression of `result`) says of it, and which
    of the `heavy` modules reading it imported."""
    script = ("import pickle, sys, json; result = pickle.loads(sys.stdin.buffer.read()); "
              f"print(json.dumps([{tell}, [m for m in {heavy!r} if m in sys.modules]]))")
    answer = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(value), capture_output=True,
                            check=True)
    told, imported = json.loads(answer.stdout)
    return told, imported


def test_a_check_result_is_read_without_importing_the_checker() -> None:
    finding = Finding("newsletter/2026/9.md", 3, 1, "表記ゆれ", "エラー", "「出来る」は「できる」と書きます。", "できる")
    result = CheckResult({"newsletter/2026/9.md": (finding,)}, ("校正 …",), (), 1, False)
    summary, imported = _read_elsewhere(result, tell="result.summary", heavy=CHECKER)
    assert summary == result.summary
    assert "エラー 1 件" in result.summary
    assert imported == []


def test_an_email_report_is_read_without_importing_the_renderer() -> None:
    report = EmailReport([Output("email/9/index.html", content="<p>第9号</p>".encode())], ["件名が長すぎます"],
                         [Problem(Path("newsletter/2026/9.md"), 4, "画像が見つかりません")])
    told, imported = _read_elsewhere(report, tell="[o.dest for o in result.outputs] + result.warnings",
                                     heavy=RENDERER)
    assert told == ["email/9/index.html", "件名が長すぎます"]
    assert imported == []


def test_the_checker_and_the_renderer_are_still_reached_from_their_packages() -> None:
    from dayori.check import archive
    from dayori.email import build

    assert check_files is archive.check_files and content_files is archive.content_files
    assert build_emails is build.build_emails


def test_the_builds_other_processes_start_without_what_they_never_use(project: Project) -> None:
    """Every other process of a site build (`python -m dayori.sidework`, `python -m dayori.compress`) pays its
    imports before it works: reading the settings it is given must not import the YAML reader (the settings come
    pickled), package metadata (only a cache's key asks for it) or the suggestions for a mistyped setting; the
    compressing process starts no process."""
    from dayori.config import settings_from_file

    script = ("import pickle, sys, json; import dayori.compress; compress = set(sys.modules); "
              "import dayori.sidework; pickle.loads(sys.stdin.buffer.read()); "
              "print(json.dumps([sorted({'subprocess'} & compress), "
              "sorted({'yaml', 'importlib.metadata', 'difflib', 'uuid'} & set(sys.modules))]))")
    settings = settings_from_file(project.root / "mkdocs.yml")
    answer = subprocess.run([sys.executable, "-c", script], input=pickle.dumps(settings), capture_output=True,
                            check=True)
    assert json.loads(answer.stdout) == [[], []]
