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
    items: list[Issue | Episode] = [*content.issues, *content.episodes]
    return check_sources([item.source for item in items], settings, memo)


def check_sources(sources: list[Path], settings: Settings, memo: Memo | None = None) -> CheckResult:
    """`check_content` of the issues and episodes whose files are `sources` (relative to the project): all the
    check needs of them (a site build's proofreading process gets these, not the content with its bodies)."""
    if not settings.check.enabled:
        return CheckResult()
    try:
        report = check_files(settings, [settings.root / source for source in sources], memo=memo)
    except SettingsError as error:
        return CheckResult(problems=(Problem(Path("mkdocs.yml"), None, str(error)),))
    pages: dict[str, str] = {}
    for source in sources:
        pages[str(source)] = str(source)
        if source.name == "index.md":
            pages[str(source.parent)] = str(source)
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
