"""How well the rules do on a labelled corpus (tests/proofreading_corpus.yml): recall per category, precision,
false alarms on correct sentences; the held-out part (written before the rules) is counted on its own. And how
long the check of a whole archive takes (`check_times`), for `make bench`."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
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


def check_times(project: Path, runs: int = 3) -> dict[str, float]:
    """The check of a project's whole archive in this process, as `python -m dayori check` and a build run it:
    cold (no check cache: Sudachi loads and every body is analysed, on every core) and warm (every body cached,
    the dictionary never loaded). Wall seconds; CPU seconds of this process and of the processes it started
    (the analysis is shared out between processes, so this process's CPU alone would hide most of the work);
    and the cold check's CPU on one core. Medians of `runs`."""
    import resource  # Linux and macOS, as `make bench`

    from dayori.check import check_files, content_files
    from dayori.config import settings_from_file

    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    settings = settings_from_file(project / "mkdocs.yml")
    files = content_files(settings)
    laps: dict[str, list[float]] = {}
    for _ in range(runs):
        for kind, workers in (("cold_one_core", 1), ("cold", None), ("warm", None)):
            if kind != "warm":
                shutil.rmtree(settings.cache_path / "check", ignore_errors=True)
            wall, used = time.perf_counter(), cpu()
            report = check_files(settings, files, workers=workers)
            laps.setdefault(f"check_{kind}_seconds", []).append(time.perf_counter() - wall)
            laps.setdefault(f"check_{kind}_cpu_seconds", []).append(cpu() - used)
            assert report.analysed == (0 if kind == "warm" else len(files))
        start = time.perf_counter()
        Analyzer().tokens("辞書")
        laps.setdefault("sudachi_load_seconds", []).append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in laps.items()}
