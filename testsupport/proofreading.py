"""How well the rules do on a labelled corpus (tests/proofreading_corpus.yml): recall per category, precision,
false alarms on correct sentences; the held-out part (written before the rules) is counted on its own."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dayori.check.analyzer import Analyzer
from dayori.check.base import Context
from dayori.check.document import analyse


@dataclass
class Score:
    """Counts of one part of the corpus: per rule true/false positives and misses, and the correct sentences."""

    sentences: int = 0
    correct: int = 0
    false_alarms: int = 0
    rules: dict[str, Counter[str]] = field(default_factory=dict)
    mistakes: list[str] = field(default_factory=list)

    def add(self, text: str, expected: set[str], found: set[str]) -> None:
        self.sentences += 1
        if not expected:
            self.correct += 1
            self.false_alarms += bool(found)
        for rule in expected | found:
            outcome = "tp" if rule in expected and rule in found else "fp" if rule in found else "fn"
            self.rules.setdefault(rule, Counter())[outcome] += 1
        if expected != found:
            self.mistakes.append(f"  {text[:40]!r}: expected {sorted(expected)}, found {sorted(found)}")

    def total(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.rules.values():
            total += counts
        return total

    @property
    def precision(self) -> float:
        total = self.total()
        return ratio(total["tp"], total["fp"])

    @property
    def recall(self) -> float:
        total = self.total()
        return ratio(total["tp"], total["fn"])

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.correct if self.correct else 0.0

    def recall_of(self, rule: str) -> float:
        counts = self.rules.get(rule, Counter())
        return ratio(counts["tp"], counts["fn"])

    def table(self, title: str) -> str:
        lines = [f"{title}: {self.sentences} sentences, {self.correct} correct",
                 f"  {'rule':<10} {'tp':>4} {'fp':>4} {'fn':>4} {'recall':>7} {'precision':>9}"]
        for rule in sorted(self.rules):
            c = self.rules[rule]
            lines.append(f"  {rule:<10} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} {ratio(c['tp'], c['fn']):>7.3f} "
                         f"{ratio(c['tp'], c['fp']):>9.3f}")
        lines.append(f"  overall recall {self.recall:.3f}, precision {self.precision:.3f}, false alarms on correct "
                     f"sentences {self.false_alarms}/{self.correct} = {100 * self.false_alarm_rate:.1f} %")
        return "\n".join(lines)


def ratio(hits: int, misses: int) -> float:
    return hits / (hits + misses) if hits + misses else 1.0


def load_corpus(path: Path) -> list[dict[str, Any]]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(entries, list)
    return entries


def score(entries: list[dict[str, Any]], context: Context | None = None) -> tuple[Score, Score, Score]:
    """(developed, held out, fresh held out): each entry's text is checked as a one-issue body, as an editor's
    file is. `held_out: true` was written before the rules; `held_out: fresh` after them, measured once."""
    context = context or Context("広報", 100, Analyzer())
    developed, held_out, fresh = Score(), Score(), Score()
    with tempfile.TemporaryDirectory(prefix="dayori-corpus-") as folder:
        for index, entry in enumerate(entries, start=1):
            path = Path(folder) / f"{index}.md"
            path.write_text(f"---\nvol: {index}\n---\n\n{entry['text']}\n", encoding="utf-8")
            found = {finding[2] for finding in analyse(path, context).findings}
            part = fresh if entry.get("held_out") == "fresh" else held_out if entry.get("held_out") else developed
            part.add(entry["text"], set(entry["expect"]), found)
    return developed, held_out, fresh
