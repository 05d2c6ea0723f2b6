"""What every section of the benchmark shares: its options, and one `mkdocs build` timed as a whole process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
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
    sampled). With worker processes that peak is the largest single process, so `all_peak_mb` adds up the
    build's whole process tree, sampled every `SAMPLE_SECONDS` (Linux; 0 where /proc cannot tell): each
    process's proportional share (PSS), so that pages the processes share (Python's own, the libraries', a file
    two of them map) count once, as the machine holds them once."""

    wall: float
    user: float
    system: float
    peak_mb: float
    all_peak_mb: float = 0.0

    @property
    def memory_mb(self) -> float:
        """What the memory target is judged on: the larger of the exact single-process peak and the sampled sum."""
        return max(self.peak_mb, self.all_peak_mb)


SAMPLE_SECONDS = 0.05


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
        memory = TreeMemory(process.pid)
        memory.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        memory.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            log.seek(0)
            output = log.read().decode("utf-8", "replace")
            raise RuntimeError(f"mkdocs build failed in {project} (exit {process.returncode}):\n{output[-3000:]}")
    settle(project)
    # Linux counts ru_maxrss in KiB.
    return Run(wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss * 1024 / 1e6, memory.peak / 1e6)


class TreeMemory(threading.Thread):
    """The resident memory of a process and all its descendants together, at its highest while sampled."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, sum(map(proportional_bytes, process_tree(self.pid))))

    def stop(self) -> None:
        self._done.set()
        self.join()


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc's list of each thread's children."""
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                waiting.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def proportional_bytes(pid: int) -> int:
    """The process's proportional set size: its private pages plus its share of each page mapped by several
    processes (summed over processes, what the machine holds; resident sizes would count shared pages once per
    process). Where the kernel has no `smaps_rollup` (before Linux 4.14), the resident size."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


SETTLE_SECONDS = 120.0


def settle(project: Path) -> None:
    """Untimed: waits until the tree a build replaced is deleted. Dayori deletes it in a process of its own
    after the build returns (`dayori.sitedir.delete_later`): the editor does not wait for it, and the next
    run, of either side, must not share the disk with it."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while any(project.glob(".site.old-*")) and time.monotonic() < deadline:
        time.sleep(0.02)


def forget(project: Path) -> None:
    """The state of a fresh checkout: no `site/`, no engine cache, no leftover temporary site folders. They are
    moved aside (into `trash` beside the project, deleted with the benchmark's folder), not deleted: a fresh
    checkout follows no deletion, and on ext4 without a journal, as this benchmark's machines' disks are, the
    inode allocator skips, one by one, every inode freed in the last one to six minutes (`recently_deleted` in
    Linux's `fs/ext4/ialloc.c`), so that each file created after a large deletion costs more system time. Measured
    on 520 issues, 3 alternated runs each, with the deletion written out (`sync`) first: Dayori's cold build
    spent 2.4-2.8 system seconds after a deletion, 0.9-1.1 after a move."""
    trash = project.parent / "trash" / f"{project.name}-{time.monotonic_ns()}"
    for leftover in [project / "site", project / ".cache", *project.glob(".site.tmp-*"), *project.glob(".site.old-*")]:
        if leftover.exists():
            trash.mkdir(parents=True, exist_ok=True)
            leftover.rename(trash / leftover.name)
