"""What the check gives the build, in a module of its own: a site build proofreads in another process and
reads this back without importing the checker (its rules, analyser and process pool)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dayori.check.findings import Finding
from dayori.errors import Problem


@dataclass(frozen=True)
class CheckResult:
    """Findings by the page's source file (`newsletter/2026/9.md`), the log's lines and the build's problems."""

    findings: dict[str, tuple[Finding, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    analysed: int = 0
    dictionary_loaded: bool = False

    @property
    def summary(self) -> str:
        """The one line `make site` ends with: how many findings of each severity, and where to see them."""
        found = [f for page in self.findings.values() for f in page]
        if not found:
            return "校正: 指摘はありません。"
        errors = sum(1 for f in found if f.is_error)
        return f"校正: エラー {errors} 件、警告 {len(found) - errors} 件（一覧は make check で見られます）。"
