"""`make bench` (benchmarks/): the build section times real `mkdocs build` processes of both sides on the
synthetic archive and reports sane numbers, and the archive reads like real issues, with proofreading findings
that warn but never stop a build. Tiny sizes: the numbers' values are the benchmark's business, not the tests'."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.build import Pair, bench_build, noise, published_issues, show
from benchmarks.common import Options, Run, TreeMemory, forget, process_tree, proportional_bytes
from conftest import ROOT, TODAY
from testsupport.corpus import SLIPS, issue_date, issue_markdown, write_projects


def test_the_build_bench_times_both_sides_building_the_same_issues(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    result = bench_build(tmp_path, Options(issues=6, pairs=2, cold_pairs=1))
    assert result["issues"] == result["published"] == 6
    project = tmp_path / "build-6"
    plain, dayori = published_issues(project / "plain" / "site", project / "dayori" / "site")
    assert plain == dayori == [1, 2, 3, 4, 5, 6]
    for kind, pairs in (("warm", 2), ("cold", 1)):
        part = result[kind]
        assert part["pairs"] == len(part["pair_ratios"]) == pairs
        for side in ("plain", "dayori"):
            assert part[f"{side}_wall_seconds"] > 0 and part[f"{side}_user_seconds"] > 0
            assert part[f"{side}_system_seconds"] >= 0
            assert 10 < part[f"{side}_peak_mb"] < 4000  # a Python process running MkDocs, in MB
            assert part[f"{side}_memory_mb"] >= part[f"{side}_peak_mb"]
            assert part[f"{side}_user_seconds"] + part[f"{side}_system_seconds"] < 4 * part[f"{side}_wall_seconds"]
        assert part["wall_ratio_min"] <= part["wall_ratio"] <= part["wall_ratio_max"]
        assert all(ratio > 0 for ratio in part["pair_ratios"]) and part["user_ratio"] > 0
        assert all(isinstance(reason, str) for reason in part["noise"])
    # The cold pairs come first, before any build of the bench deleted the tree it replaced.
    assert max(result["cold"]["pair_starts"]) < min(result["warm"]["pair_starts"])
    one = result["cold"]
    assert one["wall_ratio"] == pytest.approx(one["dayori_wall_seconds"] / one["plain_wall_seconds"])
    show(result)
    printed = capsys.readouterr().out
    assert "target <= 1.10x" in printed and "target <= 1.50x" in printed and "target <= 100 MB" in printed
    assert ("TOO NOISY TO JUDGE" in printed) == bool(result["warm"]["noise"] or result["cold"]["noise"])


def test_make_bench_runs_one_section_from_the_repository_root(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "build", "--issues", "2", "--pairs", "1",
                             "--cold-pairs", "1", "--output", str(output)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "warm B/A" in result.stdout and "cold B/A" in result.stdout
    assert json.loads(output.read_text(encoding="utf-8"))["build"]["published"] == 2
    assert re.search(r"^bench:.*\n(?:\t.*\n)*\t.*-m benchmarks", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)


WORKERS = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import sys, time; held = b'x' * 80_000_000; print(1, flush=True); time.sleep(3)"],
                         stdout=subprocess.PIPE)
child.stdout.readline()
print(child.pid, flush=True)
child.wait()
"""


def test_the_memory_of_worker_processes_adds_up() -> None:
    """A build that hands work to a process: the tree's memory counts the worker, the parent's alone would not."""
    parent = subprocess.Popen([sys.executable, "-c", WORKERS], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    memory = TreeMemory(parent.pid)
    memory.start()
    worker = int(parent.stdout.readline())
    assert worker in process_tree(parent.pid)
    parent.wait(timeout=60)
    memory.stop()
    assert memory.peak > 80_000_000


SHARING = """
import os, sys, time
held = bytearray(b'x' * 80_000_000)
child = os.fork()
if child == 0:
    time.sleep(3)
    os._exit(0)
print(child, flush=True)
os.waitpid(child, 0)
"""


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="the kernel gives no proportional sizes")
def test_memory_two_processes_share_counts_once() -> None:
    """A worker forked with the parent's 80 MB still mapped: the machine holds them once, and so does the sum."""
    parent = subprocess.Popen([sys.executable, "-c", SHARING], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    try:
        child = int(parent.stdout.readline())
        together = sum(map(proportional_bytes, (parent.pid, child)))
        assert 80_000_000 <= together < 120_000_000
    finally:
        parent.wait(timeout=60)


def test_a_cold_run_starts_from_a_fresh_checkout_and_nothing_of_the_previous_build_is_lost_to_it(
        tmp_path: Path) -> None:
    """What a build wrote is moved out of the project (a fresh checkout has none of it), twice in a row."""
    project = tmp_path / "dayori"
    for round_ in range(2):
        for name in ("site", ".cache/dayori", ".site.tmp-1-ab", ".site.old-2-cd"):
            (project / name).mkdir(parents=True)
            (project / name / "index.html").write_text(str(round_), encoding="utf-8")
        (project / "mkdocs.yml").write_text("site_name: x\n", encoding="utf-8")
        forget(project)
        assert sorted(p.name for p in project.iterdir()) == ["mkdocs.yml"]
    moved = sorted(p.relative_to(tmp_path / "trash").parts[1:] for p in (tmp_path / "trash").rglob("index.html"))
    assert len(moved) == 8 and moved.count(("site", "index.html")) == 2


def _run(wall: float, cpu: float) -> Run:
    return Run(wall=wall, user=cpu * 0.9, system=cpu * 0.1, peak_mb=50.0)


def test_a_quiet_series_is_judged_and_each_kind_of_noise_is_named() -> None:
    quiet = [Pair(_run(2.0, 1.9), _run(2.2, 2.1), 0.5) for _ in range(5)]
    assert noise(quiet, cores=2) == []
    drifting = [Pair(_run(2.0 * (1 + 0.1 * n), 1.9 * (1 + 0.1 * n)), _run(2.2, 2.1), 0.5) for n in range(5)]
    assert any("plain builds spread" in reason for reason in noise(drifting, cores=2))
    assert any("pair ratios spread" in reason for reason in noise(drifting, cores=2))
    starved = [Pair(_run(2.0, 1.2), _run(2.2, 1.3), 0.5) for _ in range(5)]
    assert noise(starved, cores=2) == ["plain builds got 60 % of a core (< 85 %)"]
    loaded = [Pair(_run(2.0, 1.9), _run(2.2, 2.1), load) for load in (0.5, 3.5, 1.0)]
    assert noise(loaded, cores=2) == ["load average 3.5 > 2 cores"]


@given(plain=st.lists(st.floats(1.0, 1.04), min_size=1, max_size=9), ratio=st.floats(0.5, 5.0),
       scale=st.floats(0.1, 100.0))
def test_steady_builds_are_never_called_noisy_whatever_their_speed_or_ratio(plain: list[float], ratio: float,
                                                                             scale: float) -> None:
    """Within 4 % of each other, on a core of their own: judged, at any machine speed and any B/A ratio."""
    pairs = [Pair(_run(scale * wall, scale * wall), _run(scale * wall * ratio, scale * wall * ratio), 0.0)
             for wall in plain]
    assert noise(pairs, cores=1) == []


def test_the_archive_varies_like_real_issues_and_is_the_same_for_the_same_seed() -> None:
    issues = [issue_markdown(vol, issue_date(vol), random.Random(vol)) for vol in range(1, 41)]
    sentences = [s for text in issues for s in re.findall(r"[^。\n]+。", text.split("---", 2)[2])]
    assert len(sentences) > 400 and len(set(sentences)) > 0.8 * len(sentences)
    lengths = sorted(len(text) for text in issues)
    assert lengths[0] < 0.6 * lengths[-1]
    assert issue_markdown(7, issue_date(7), random.Random(7)) == issues[6]
    assert any(slip in text for text in issues for slip in SLIPS)


def test_the_archive_has_proofreading_warnings_and_no_error(tmp_path: Path) -> None:
    """A slip in about one issue in six, as editors make them: the check warns; nothing would stop a build."""
    dayori, plain = write_projects(tmp_path, 30)
    assert sorted(p.relative_to(dayori) for p in dayori.glob("newsletter/*/*.md")) == sorted(
        p.relative_to(plain / "docs") for p in plain.glob("docs/newsletter/*/*.md"))
    checked = subprocess.run([sys.executable, "-m", "dayori", "check", "--format", "json"], cwd=dayori,
                             capture_output=True, text=True, timeout=300, env={**os.environ, "DAYORI_TODAY": TODAY})
    findings = json.loads(checked.stdout)
    assert findings and {finding["severity"] for finding in findings} == {"warning"}, checked.stderr
    assert len({finding["path"] for finding in findings}) >= 2
