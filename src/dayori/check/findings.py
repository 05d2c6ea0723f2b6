"""What the check reports: one finding per place, phrased for an editor, in a stable order."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

ERROR = "エラー"
WARNING = "警告"


@dataclass(frozen=True)
class Finding:
    """One place an editor should look at: where, which rule, what is wrong and what to write instead."""

    path: str
    line: int
    column: int
    rule: str
    severity: str
    message: str
    suggestion: str = ""

    def __str__(self) -> str:
        advice = f"（修正案：{self.suggestion}）" if self.suggestion else ""
        return f"{self.path}:{self.line}:{self.column}: {self.rule}: {self.message}{advice}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Errors before warnings, then by file and place, so the most urgent fixes come first (and always in
    the same order: two findings at one place are ordered by what they say)."""
    return sorted(set(findings), key=lambda f: (not f.is_error, f.path, f.line, f.column, f.rule, f.message,
                                                f.suggestion))


def as_json(findings: Iterable[Finding]) -> str:
    severity = {ERROR: "error", WARNING: "warning"}
    rows = [{**asdict(f), "severity": severity.get(f.severity, f.severity)} for f in findings]
    return json.dumps(rows, ensure_ascii=False, indent=2)
