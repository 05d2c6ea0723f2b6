"""Precision and recall of the proofreading rules on a labelled corpus written for the project
(tests/proofreading_corpus.yml): true positives of every rule and clean sentences that look suspicious."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from dayori.check.analyzer import Analyzer
from dayori.check.document import analyse
from dayori.check.rules import RULES, Context

CORPUS = Path(__file__).with_name("proofreading_corpus.yml")
PRECISION_TARGET = 0.95
RECALL_TARGET = 0.90


def found_rules(text: str, folder: Path, index: int, context: Context) -> set[str]:
    path = folder / f"{index}.md"
    path.write_text(f"---\nvol: {index}\n---\n\n{text}\n", encoding="utf-8")
    return {finding[2] for finding in analyse(path, context).findings}


def table(counts: dict[str, Counter[str]]) -> tuple[str, float, float]:
    lines = [f"{'rule':<12} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}"]
    total: Counter[str] = Counter()
    for rule in sorted(counts):
        c = counts[rule]
        total += c
        lines.append(f"{rule:<12} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} {_ratio(c['tp'], c['fp']):>9.3f} "
                     f"{_ratio(c['tp'], c['fn']):>7.3f}")
    precision, recall = _ratio(total["tp"], total["fp"]), _ratio(total["tp"], total["fn"])
    lines.append(f"{'overall':<12} {total['tp']:>4} {total['fp']:>4} {total['fn']:>4} {precision:>9.3f} {recall:>7.3f}")
    return "\n".join(lines), precision, recall


def _ratio(hits: int, misses: int) -> float:
    return hits / (hits + misses) if hits + misses else 1.0


def test_corpus_is_large_and_covers_every_sentence_rule() -> None:
    entries = [e for e in yaml.safe_load(CORPUS.read_text(encoding="utf-8")) if not e.get("held_out")]
    assert len(entries) >= 150
    labelled = {rule for entry in entries for rule in entry["expect"]}
    archive_rules = {"表記ゆれ", "表記ルール", "タグのゆれ", "画像サイズ"}
    assert labelled == set(RULES) - archive_rules
    assert sum(1 for entry in entries if not entry["expect"]) >= 60


def test_precision_and_recall_meet_the_targets(tmp_path: Path) -> None:
    entries = [e for e in yaml.safe_load(CORPUS.read_text(encoding="utf-8")) if not e.get("held_out")]
    context = Context("広報", 100, Analyzer())
    counts: dict[str, Counter[str]] = {rule: Counter() for rule in RULES}
    mistakes = []
    for index, entry in enumerate(entries, start=1):
        expected, found = set(entry["expect"]), found_rules(entry["text"], tmp_path, index, context)
        for rule in expected | found:
            outcome = "tp" if rule in expected and rule in found else "fp" if rule in found else "fn"
            counts.setdefault(rule, Counter())[outcome] += 1
        if expected != found:
            mistakes.append(f"  {entry['text'][:40]!r}: expected {sorted(expected)}, found {sorted(found)}")
    report, precision, recall = table({rule: c for rule, c in counts.items() if c})
    print("\n" + report)
    message = report + "\n" + "\n".join(mistakes)
    assert precision >= PRECISION_TARGET, message
    assert recall >= RECALL_TARGET, message


@pytest.mark.parametrize("profile, text, fixed", [("通知", "電話またはメールで連絡してください。", "又は"),
                                                  ("広報", "電話又はメールで連絡してください。", "または")])
def test_profile_decides_kanji_or_kana_conjunctions(tmp_path: Path, profile: str, text: str, fixed: str) -> None:
    path = tmp_path / "1.md"
    path.write_text(f"---\nvol: 1\n---\n\n{text}\n", encoding="utf-8")
    findings = analyse(path, Context(profile, 100, Analyzer())).findings
    assert [(f[2], f[4]) for f in findings] == [("公用文表記", fixed)]
