"""Editor-facing problems: every one names its file and line, in plain Japanese, and they are reported together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One mistake in one input file, phrased for an editor: what is wrong and how to fix it."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def line_containing(text: str, needle: str) -> int | None:
    """The first line naming `needle`: where an editor looks when a tool has lost the line numbers
    (Markdown's tree, rendered HTML). Lines end at `\n` only, as editors count them: Word's vertical tab or a
    form feed pasted into a line does not start a new one."""
    return next((number for number, line in enumerate(text.split("\n"), start=1) if needle in line), None)


class ContentError(Exception):
    """Raised once with every problem found, so that an editor fixes them all in one round."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.path), p.line or 0))
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"入力に {len(self.problems)} 件の問題があります。直してから、もう一度ビルドしてください。"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


class Problems:
    """Collects problems while reading; `raise_if_any` stops the build before anything is written."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: Path, line: int | None, message: str) -> None:
        self.items.append(Problem(path, line, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ContentError(self.items)
