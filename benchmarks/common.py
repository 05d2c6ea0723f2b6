"""What every section of the benchmark shares: its options, and one `mkdocs build` timed as a whole process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TODAY = "2026-11-26"
"""The day the benchmarks pretend it is: the synthetic archive's 520th issue (2026-11-20) is published."""


@dataclass(frozen=True)
class Options:
    issues: int = 520
    pairs: int = 5
    """Warm A/B pairs of the build section (the median of at least 5 is what issue 22 asks for)."""
    cold_pairs: int = 3


@dataclass(frozen=True)
class Run:
    """One whole build process: wall time (what an editor waits), user and system CPU seconds and peak resident
    memory of the process and the processes it waited for (`os.wait4`: the kernel's own account, nothing
    sampled). With worker processes the peak is the largest single process, not their sum."""

    wall: float
    user: float
    system: float
    peak_mb: float


def build_env() -> dict[str, str]:
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DAYORI_TODAY": TODAY}


def mkdocs_command() -> list[str]:
    """The virtual environment's `mkdocs` script, as `make site` ends up running it."""
    script = Path(sys.executable).with_name("mkdocs")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "mkdocs"]


def timed_build(project: Path) -> Run:
    """`mkdocs build -q` in `project`, in a new process; its output is kept only to explain a failure."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen([*mkdocs_command(), "build", "-q"], cwd=project, env=build_env(),
                                   stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            log.seek(0)
            output = log.read().decode("utf-8", "replace")
            raise RuntimeError(f"mkdocs build failed in {project} (exit {process.returncode}):\n{output[-3000:]}")
    # Linux counts ru_maxrss in KiB.
    return Run(wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss * 1024 / 1e6)


def forget(project: Path) -> None:
    """The state of a fresh checkout: no `site/`, no engine cache, no leftover temporary site folders."""
    for leftover in [project / "site", project / ".cache", *project.glob(".site.tmp-*"), *project.glob(".site.old-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
