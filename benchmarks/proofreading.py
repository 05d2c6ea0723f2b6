"""The proofreading check (校正): its accuracy on the labelled corpus (tests/proofreading_corpus.yml), per
category, for the developed part and, apart, the held-out parts; and its time on the synthetic archive, in-process
(CPU) and as an editor runs it (a new process, wall time), cold and warm."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import TODAY, Options
from benchmarks.stages import check_seconds
from testsupport.corpus import ROOT, write_projects


def bench_proofreading(folder: Path, options: Options) -> dict[str, Any]:
    """The labelled corpus (tests/proofreading_corpus.yml): recall per category, precision and false alarms,
    for the developed part and, apart, the held-out part written before the rules; and the check's time on
    `issues` generated issues, cold (Sudachi loads, every body analysed) and warm (every body cached)."""
    from testsupport.proofreading import load_corpus, score

    corpus = ROOT / "tests" / "proofreading_corpus.yml"
    result: dict[str, Any] = {}
    if corpus.is_file():
        for name, part in zip(("developed", "held_out", "fresh_held_out"), score(load_corpus(corpus)), strict=True):
            result[name] = {"sentences": part.sentences, "correct": part.correct, "recall": part.recall,
                            "precision": part.precision, "false_alarm_rate": part.false_alarm_rate,
                            "recall_by_rule": {rule: part.recall_of(rule) for rule in sorted(part.rules)},
                            "table": part.table(name.replace("_", " "))}
    project, _ = write_projects(folder / f"proofreading-{options.issues}", options.issues)
    result["check_seconds"] = {**check_seconds(project, 3), **check_wall_seconds(project)}
    return result


def check_wall_seconds(project: Path) -> dict[str, float]:
    """`python -m dayori check` as an editor runs it: a new process, cold (no cache) then warm; wall time."""
    env = {**os.environ, "DAYORI_TODAY": TODAY}
    seconds = {}
    shutil.rmtree(project / ".cache" / "dayori" / "check", ignore_errors=True)
    for kind in ("cold", "warm"):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dayori", "check"], cwd=project, env=env, capture_output=True, check=False)
        seconds[f"check_{kind}_wall_seconds"] = time.perf_counter() - start
    return seconds



def show(values: dict[str, Any]) -> None:
    print("proofreading (校正) on tests/proofreading_corpus.yml; targets: recall >= 0.90 overall and >= 0.80 per "
          "category, false alarms <= 2 % of correct sentences")
    for part in ("developed", "held_out", "fresh_held_out"):
        if part in values:
            print(values[part]["table"])
    timing = values["check_seconds"]
    print(f"  check of the generated issues: cold {timing['check_cold_cpu_seconds']:.2f} s CPU "
          f"({timing['check_cold_wall_seconds']:.2f} s wall, new process; target <= 3 s), warm "
          f"{timing['check_warm_cpu_seconds']:.3f} s CPU ({timing['check_warm_wall_seconds']:.2f} s wall)")


