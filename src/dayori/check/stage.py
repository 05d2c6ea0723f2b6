"""The check as a build stage: findings become log warnings (in strict mode, errors stop the build) and,
under `mkdocs serve`, a panel on each page."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from dayori.check.archive import SettingsError, check_files
from dayori.check.findings import Finding
from dayori.check.result import CheckResult
from dayori.config import Settings
from dayori.errors import Problem
from dayori.memo import Memo
from dayori.model import Content, Episode, Issue


def check_content(content: Content, settings: Settings, memo: Memo | None = None) -> CheckResult:
    """Checks what this build publishes (drafts too under serve); cached bodies cost a file read each."""
    if not settings.check.enabled:
        return CheckResult()
    items: list[Issue | Episode] = [*content.issues, *content.episodes]
    try:
        report = check_files(settings, [settings.root / item.source for item in items], memo=memo)
    except SettingsError as error:
        return CheckResult(problems=(Problem(Path("mkdocs.yml"), None, str(error)),))
    pages: dict[str, str] = {}
    for item in items:
        pages[str(item.source)] = str(item.source)
        if item.source.name == "index.md":
            pages[str(item.source.parent)] = str(item.source)
    by_page: dict[str, list[Finding]] = defaultdict(list)
    warnings, problems = [], []
    for finding in report.findings:
        page = pages.get(finding.path) or pages.get(str(Path(finding.path).parent), finding.path)
        by_page[page].append(finding)
        if settings.strict and finding.is_error:
            advice = f"（修正案：{finding.suggestion}）" if finding.suggestion else ""
            problems.append(Problem(Path(finding.path), finding.line,
                                    f"{finding.rule}: {finding.message}{advice}"))
        else:
            warnings.append(f"校正 {finding}")
    return CheckResult({page: tuple(found) for page, found in by_page.items()}, tuple(warnings), tuple(problems),
                       report.analysed, report.dictionary_loaded)
