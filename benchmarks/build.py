"""What editors wait for (issue 22): whole `mkdocs build` processes of the same 520-issue archive
(`testsupport.corpus`), A = plain MkDocs + Material with the same mkdocs.yml minus the hooks, B = the project.

- Warm: what an editor's next `make site` does. Each side builds once untimed, then into its previous `site/`,
  in interleaved pairs whose order alternates (AB, BA, AB, …) so that a slow spell of the disk or of a
  neighbour falls on both sides alike and neither always runs second on a warmer cache; the ratio is the median
  of the pairs' own ratios.
- Cold: a fresh checkout (CI that does not keep `.cache/`): no `site/`, no `.cache/`, moved aside before every
  run (`benchmarks.common.forget`), in pairs alternated the same way. The cold pairs run first, before any
  build of the benchmark has deleted a tree, as on the fresh machine CI checks out on: on ext4 without a journal
  (this benchmark's machines), creating a file scans past every inode freed in the last one to six minutes,
  and after the warm pairs (each of which deletes the tree it replaced, plain MkDocs all of it) Dayori's cold
  build, which creates 5,300 files and folders to plain's 1,440, spent up to 4.5 system seconds instead of 1.
  (The benchmark's own folder is deleted when it ends: wait six minutes before running it again. A freed inode
  counts as recent for a minute, or six while its block of the inode table is not written out, and creating
  files beside it keeps that block unwritten: two minutes after a run, the next one's cold Dayori builds still
  spent 2.3-2.7 system seconds instead of 0.95.)
- Dayori deletes the site it replaced in a process of its own after the build returns (the editor does not wait
  for it); the next run, of either side, starts once that is done, untimed (`benchmarks.common.settle`).

For each side: wall seconds, user and system CPU seconds and peak resident memory of the build process
(`os.wait4`), and of all its processes at once (sampled proportional shares: worker processes add up). Targets: warm ≤ 1.10×,
cold ≤ 1.5×, memory ≤ 100 MB (the larger of the two peaks).

Too noisy to judge (every reason is printed; the numbers are then indicative, re-run on a quiet machine):
- the plain builds' wall times spread by more than 15 % of their median (max − min), or the pairs' ratios by
  more than 10 % of theirs: the machine's speed changed under the measurement by more than the margin the
  warm target leaves;
- the plain builds got less than 85 % of a core (their user + system CPU over their wall time; plain MkDocs
  runs in one thread, so the rest was spent waiting for a CPU or the disk);
- the 1-minute load average before a pair exceeded the number of cores (the benchmark itself adds about 1).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Options, Run, forget, timed_build
from testsupport.corpus import write_projects

WARM_TARGET = 1.10
COLD_TARGET = 1.5
PEAK_TARGET_MB = 100.0
WALL_SPREAD = 0.15
RATIO_SPREAD = 0.10
CORE_SHARE = 0.85


@dataclass(frozen=True)
class Pair:
    plain: Run
    dayori: Run
    load: float
    """The 1-minute load average just before the pair."""
    started: float = 0.0
    """When the pair began (`time.monotonic`)."""

    def ratio(self, measure: Callable[[Run], float]) -> float:
        return measure(self.dayori) / measure(self.plain)


def wall(run: Run) -> float:
    return run.wall


def user(run: Run) -> float:
    return run.user


def system(run: Run) -> float:
    return run.system


def interleaved_pairs(plain: Path, dayori: Path, count: int, *, cold: bool) -> list[Pair]:
    """`count` pairs, A first in even pairs and B first in odd ones; `cold` empties each project before its run."""
    pairs = []
    for index in range(count):
        load, started = os.getloadavg()[0], time.monotonic()
        order = (plain, dayori) if index % 2 == 0 else (dayori, plain)
        runs: dict[Path, Run] = {}
        for project in order:
            if cold:
                forget(project)
            runs[project] = timed_build(project)
        pairs.append(Pair(runs[plain], runs[dayori], load, started))
    return pairs


def published_issues(plain_site: Path, dayori_site: Path) -> tuple[list[int], list[int]]:
    """The issue numbers each side published: plain MkDocs keeps the year folders, Dayori's pages drop them."""
    plain_pages = sorted(int(p.parent.name) for p in (plain_site / "newsletter").glob("*/*/index.html"))
    dayori_pages = sorted(int(p.parent.name) for p in (dayori_site / "newsletter").glob("*/index.html")
                          if p.parent.name.isdigit())
    return plain_pages, dayori_pages


def spread(values: Sequence[float]) -> float:
    return (max(values) - min(values)) / statistics.median(values)


def noise(pairs: Sequence[Pair], cores: int) -> list[str]:
    """Why these pairs cannot be judged (see the module's docstring), or nothing."""
    reasons = []
    plain_walls = [pair.plain.wall for pair in pairs]
    if len(pairs) > 1 and spread(plain_walls) > WALL_SPREAD:
        reasons.append(f"plain builds spread {100 * spread(plain_walls):.0f} % (> {100 * WALL_SPREAD:.0f} %)")
    ratios = [pair.ratio(wall) for pair in pairs]
    if len(pairs) > 1 and spread(ratios) > RATIO_SPREAD:
        reasons.append(f"pair ratios spread {100 * spread(ratios):.0f} % (> {100 * RATIO_SPREAD:.0f} %)")
    share = statistics.median((pair.plain.user + pair.plain.system) / pair.plain.wall for pair in pairs)
    if share < CORE_SHARE:
        reasons.append(f"plain builds got {100 * share:.0f} % of a core (< {100 * CORE_SHARE:.0f} %)")
    load = max(pair.load for pair in pairs)
    if load > cores:
        reasons.append(f"load average {load:.1f} > {cores} cores")
    return reasons


def summary(pairs: Sequence[Pair], cores: int) -> dict[str, Any]:
    ratios = [pair.ratio(wall) for pair in pairs]
    sides = {"plain": [pair.plain for pair in pairs], "dayori": [pair.dayori for pair in pairs]}
    return {
        "pairs": len(pairs),
        **{f"{name}_{measure.__name__}_seconds": statistics.median(measure(run) for run in runs)
           for name, runs in sides.items() for measure in (wall, user, system)},
        **{f"{name}_peak_mb": max(run.peak_mb for run in runs) for name, runs in sides.items()},
        **{f"{name}_all_peak_mb": max(run.all_peak_mb for run in runs) for name, runs in sides.items()},
        **{f"{name}_memory_mb": max(run.memory_mb for run in runs) for name, runs in sides.items()},
        "wall_ratio": statistics.median(ratios), "wall_ratio_min": min(ratios), "wall_ratio_max": max(ratios),
        "user_ratio": statistics.median(pair.ratio(user) for pair in pairs),
        "system_ratio": statistics.median(pair.ratio(system) for pair in pairs),
        "pair_ratios": ratios, "pair_starts": [pair.started for pair in pairs],
        "max_load": max(pair.load for pair in pairs), "noise": noise(pairs, cores),
    }


def bench_build(folder: Path, options: Options) -> dict[str, Any]:
    """The cold pairs, then the warm pairs (see the module's docstring), on one archive; raises if the two sides
    published different issues."""
    started = time.perf_counter()
    dayori, plain = write_projects(folder / f"build-{options.issues}", options.issues)
    cores = os.cpu_count() or 1
    cold = interleaved_pairs(plain, dayori, options.cold_pairs, cold=True)
    timed_build(plain)
    timed_build(dayori)
    warm = interleaved_pairs(plain, dayori, options.pairs, cold=False)
    plain_pages, dayori_pages = published_issues(plain / "site", dayori / "site")
    if plain_pages != dayori_pages or len(plain_pages) != options.issues:
        raise RuntimeError(f"the two sides published different issues: plain {len(plain_pages)}, "
                           f"Dayori {len(dayori_pages)} of {options.issues}")
    return {"issues": options.issues, "published": len(dayori_pages), "cores": cores,
            "warm": summary(warm, cores), "cold": summary(cold, cores),
            "bench_seconds": time.perf_counter() - started}


def verdict(value: float, target: float) -> str:
    return "within" if value <= target else "OVER"


def show(result: dict[str, Any]) -> None:
    print(f"build: {result['issues']} issues ({result['published']} published by both sides), whole `mkdocs build` "
          f"processes, A = plain MkDocs + Material, B = Dayori; medians; {result['cores']} cores")
    print(f"  {'':18}{'wall s':>8}{'user s':>8}{'sys s':>8}{'peak MB':>9}{'all MB':>8}")
    for kind, target in (("warm", WARM_TARGET), ("cold", COLD_TARGET)):
        part = result[kind]
        for side, label in (("plain", "A plain"), ("dayori", "B dayori")):
            print(f"  {kind + ' ' + label:18}{part[side + '_wall_seconds']:8.2f}{part[side + '_user_seconds']:8.2f}"
                  f"{part[side + '_system_seconds']:8.2f}{part[side + '_peak_mb']:9.0f}{part[side + '_all_peak_mb']:8.0f}")
        print(f"  {kind + ' B/A':18}{part['wall_ratio']:7.2f}x{part['user_ratio']:7.2f}x{part['system_ratio']:7.2f}x"
              f"   pairs {part['pairs']}: {part['wall_ratio_min']:.2f}-{part['wall_ratio_max']:.2f}x; "
              f"target <= {target:.2f}x: {verdict(part['wall_ratio'], target)}{' (too noisy to judge)' if part['noise'] else ''}")
    peak = max(result["warm"]["dayori_memory_mb"], result["cold"]["dayori_memory_mb"])
    print(f"  memory B            {peak:.0f} MB (A {result['warm']['plain_memory_mb']:.0f} MB); target <= "
          f"{PEAK_TARGET_MB:.0f} MB: {verdict(peak, PEAK_TARGET_MB)}  (peak: largest process, kernel's count; "
          "all: every process of the build at once, proportional shares, sampled)")
    reasons = [f"{kind}: {reason}" for kind in ("warm", "cold") for reason in result[kind]["noise"]]
    if reasons:
        print("  TOO NOISY TO JUDGE (re-run on a quiet machine): " + "; ".join(reasons))
    else:
        print(f"  machine quiet enough to judge (load <= {max(result['warm']['max_load'], result['cold']['max_load']):.1f}, "
              "spreads and core share within bounds)")
