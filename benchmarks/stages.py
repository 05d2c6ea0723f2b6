"""Where a build's time goes, in-process on the synthetic archive (no MkDocs rendering): each stage's seconds
cold and warm, the proofreading check's CPU seconds and what Sudachi's loading costs, the limits on editors' files,
the gate's and the feeds' share, and how the size of an issue's page grows with the archive."""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.common import TODAY, Options, Run, forget, timed_build
from testsupport.corpus import write_projects

RUNS = 3


def page_bytes(site: Path, pattern: str) -> float:
    return statistics.mean(p.stat().st_size for p in (site / "newsletter").glob(pattern))


def stage_seconds(project: Path, runs: int, *, cold: bool) -> dict[str, float]:
    """Each stage's time, in-process on the same corpus (no MkDocs rendering involved)."""
    from dayori import lastbuild
    from dayori.build import prepare
    from dayori.config import settings_from_file

    os.environ["DAYORI_TODAY"] = TODAY
    settings = settings_from_file(project / "mkdocs.yml")
    laps = []
    for _ in range(runs):
        if cold:
            shutil.rmtree(settings.cache_path, ignore_errors=True)
        else:  # each stage's own cache, as after an edit: an unchanged project reuses the whole last build
            (settings.cache_path / lastbuild.FILE).unlink(missing_ok=True)
        laps.append(prepare(settings).seconds)
    return {stage: statistics.median(lap[stage] for lap in laps) for stage in laps[0]}


def check_seconds(project: Path, runs: int) -> dict[str, float]:
    """`python -m dayori check` over the whole corpus in-process, cold and warm, with the CPU of the processes the
    check shares its analysis with (see `testsupport.proofreading.check_times`)."""
    from testsupport.proofreading import check_times

    return check_times(project, runs)


def limits_seconds(project: Path, runs: int) -> dict[str, float]:
    """What the limits on editors' files (`dayori.limits`) cost, in CPU seconds over the corpus: what every
    build does (a size from the file system, the tags counted) and what only a body rendered again does (its
    nesting measured before Markdown sees it). Their share of the builds is the slowdown they can cause."""
    from dayori.config import settings_from_file
    from dayori.errors import Problems
    from dayori.frontmatter import parse_document
    from dayori.limits import markdown_too_big, nesting, tag_problems
    from dayori.paths import markdown_files

    settings = settings_from_file(project / "mkdocs.yml")
    files = markdown_files(settings.newsletter_path)
    documents = [parse_document(path, path.read_bytes(), path, Problems()) for path in files]
    every, rendered = [], []
    for _ in range(runs):
        start = time.process_time()
        for path, document in zip(files, documents, strict=True):
            markdown_too_big(path.stat().st_size, settings.limits)
            tag_problems(tuple(document.data.get("tags") or ()) if document else (), settings.limits)
        every.append(time.process_time() - start)
        start = time.process_time()
        for document in documents:
            nesting(document.body if document else "")
        rendered.append(time.process_time() - start)
    return {"limits_every_build_cpu_seconds": statistics.median(every),
            "limits_rendered_bodies_cpu_seconds": statistics.median(rendered)}



def bench_stages(folder: Path, options: Options) -> dict[str, Any]:
    """One cold and one warm build of the project for scale, then each stage in-process; page sizes against an
    archive a tenth as big."""
    small_project, _ = write_projects(folder / "stages-small", max(1, options.issues // 10))
    timed_build(small_project)
    dayori, _ = write_projects(folder / f"stages-{options.issues}", options.issues)
    forget(dayori)
    cold_run: Run = timed_build(dayori)
    warm_run: Run = timed_build(dayori)
    cold_stages = stage_seconds(dayori, RUNS, cold=True)
    warm_stages = stage_seconds(dayori, RUNS, cold=False)
    check = check_seconds(dayori, RUNS)
    limits = limits_seconds(dayori, RUNS)
    issue_bytes = page_bytes(dayori / "site", "*/index.html")
    return {**check, **limits, "issues": options.issues,
            "limits_share_of_warm_build": limits["limits_every_build_cpu_seconds"] / warm_run.user,
            "limits_share_of_cold_build": (limits["limits_every_build_cpu_seconds"]
                                           + limits["limits_rendered_bodies_cpu_seconds"]) / cold_run.user,
            "check_cold_over_cold_build": check["check_cold_cpu_seconds"] / cold_run.user,
            "check_warm_over_warm_build": check["check_warm_cpu_seconds"] / warm_run.user,
            "feeds_share_of_cold_build": cold_stages["feeds"] / cold_run.wall,
            "gate_share_of_warm_build": warm_stages["gate"] / warm_run.wall,
            "gate_share_of_cold_build": cold_stages["gate"] / cold_run.wall,
            "email_ms_per_issue_cold": 1000 * cold_stages["email"] / options.issues,
            "email_ms_per_issue_warm": 1000 * warm_stages["email"] / options.issues,
            **{f"cold_stage_{name}_seconds": value for name, value in cold_stages.items()},
            **{f"warm_stage_{name}_seconds": value for name, value in warm_stages.items()},
            "bytes_per_issue_page": issue_bytes,
            "page_bytes_growth": issue_bytes / page_bytes(small_project / "site", "*/index.html")}


def show(site: dict[str, Any]) -> None:
    print(f"stages: {site['issues']} issues, in-process, medians of {RUNS}")
    for kind in ("cold", "warm"):
        prefix = f"{kind}_stage_"
        print(f"  {kind} stages (s)      " + ", ".join(f"{k[len(prefix):-8]} {v:.3f}" for k, v in site.items()
                                                     if k.startswith(prefix)))
    print(f"  feeds                 {100 * site['feeds_share_of_cold_build']:.1f} % of the cold build")
    print(f"  gate (every published file vetted) {100 * site['gate_share_of_warm_build']:.2f} % of the warm build "
          f"(target < 3 %), {100 * site['gate_share_of_cold_build']:.2f} % of the cold build")
    print(f"  email                 {site['email_ms_per_issue_cold']:.2f} ms per issue cold (render + inline + .eml), "
          f"{site['email_ms_per_issue_warm']:.2f} ms warm")
    print(f"  check (校正)          cold {site['check_cold_cpu_seconds']:.2f} s CPU = "
          f"{100 * site['check_cold_over_cold_build']:.1f} % of the cold build; warm {site['check_warm_cpu_seconds']:.3f} s"
          f" = {100 * site['check_warm_over_warm_build']:.1f} % of the warm build (target <= 5 %); Sudachi loads in "
          f"{site['sudachi_load_seconds']:.2f} s, only when a body is not cached")
    print(f"  limits (files)        {1000 * site['limits_every_build_cpu_seconds']:.1f} ms CPU every build = "
          f"{100 * site['limits_share_of_warm_build']:.2f} % of the warm build; with every body's nesting "
          f"{100 * site['limits_share_of_cold_build']:.2f} % of the cold build")
    print(f"  bytes / issue page    {site['bytes_per_issue_page']:.0f}; x{site['page_bytes_growth']:.3f} from a tenth "
          "of the archive")
