"""The analysis of many files on every core: a first check of the archive (or one after the rules changed)
analyses hundreds of bodies, each on its own, so they are shared out between processes.

The calling process works too, taking chunks from the end of the list while the other processes take them
from the front, so no one waits for a slow start (a spawned process imports the engine first). Each file's
record is the same whichever process makes it, and the records come back in the files' order, so the
findings never depend on how the work was shared."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from dayori.check.base import Context
from dayori.check.confusables import confusion_set
from dayori.check.document import Record, analyse

WORTH_A_FORK = 150_000
"""Bytes of Markdown to analyse (about 50 issues) from which a forked process pays for itself."""
WORTH_A_SPAWN = 600_000
"""The same for a new interpreter (Windows, macOS, or a process with threads), which imports the engine and
loads the dictionary first (about 0.4 s)."""
CHUNKS_PER_PROCESS = 16

Job = Path
"""A file to analyse."""


def analyse_files(jobs: list[Job], context: Context, workers: int | None = None) -> list[Record]:
    """The records of `jobs`' files in their order (the caller stores them: one cache file, not one each)."""
    method = _start_method()
    processes = workers if workers is not None else _useful_processes(jobs, method)
    if processes <= 1 or len(jobs) < 2:
        return analyse_here(jobs, context)
    context.analyzer.load()
    confusion_set()  # loaded before the fork, so forked processes share them
    chunks = _chunks(jobs, processes)
    try:
        pool = ProcessPoolExecutor(processes - 1, mp_context=multiprocessing.get_context(method),
                                   initializer=_start_worker, initargs=(context,))
    except (OSError, NotImplementedError, ImportError):  # no process support here (a locked-down sandbox)
        return analyse_here(jobs, context)
    with pool:
        futures = [pool.submit(_analyse_in_worker, chunk) for chunk in chunks]
        made: dict[int, list[Record]] = {}
        for index in reversed(range(len(chunks))):
            if futures[index].cancel():
                made[index] = analyse_here(chunks[index], context)
        return [record for index, chunk in enumerate(chunks)
                for record in made.get(index) or _result(futures[index], chunk, context)]


def analyse_here(jobs: list[Job], context: Context) -> list[Record]:
    return [analyse(path, context) for path in jobs]  # not nested beyond the limit: see `analyse`


def _result(future: Future[list[Record]], chunk: list[Job], context: Context) -> list[Record]:
    """A worker's records; if the process died (killed for memory), its chunk is analysed here."""
    try:
        return future.result()
    except BrokenProcessPool:
        return analyse_here(chunk, context)


def _useful_processes(jobs: list[Job], method: str) -> int:
    if multiprocessing.current_process().daemon:  # a pool's worker cannot start processes of its own
        return 1
    size = 0
    for path in jobs:
        try:
            size += path.stat().st_size
        except OSError:
            continue
    worth = WORTH_A_FORK if method == "fork" else WORTH_A_SPAWN
    return max(1, min(_cores(), size // worth))


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _start_method() -> str:
    """fork where it is safe (Linux, no other thread that could hold a lock the copy would inherit), else a
    new interpreter."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _chunks(jobs: list[Job], processes: int) -> list[list[Job]]:
    size = max(1, -(-len(jobs) // (processes * CHUNKS_PER_PROCESS)))
    return [jobs[start:start + size] for start in range(0, len(jobs), size)]


_worker_context: list[Context] = []
"""The context of this worker process (set once when it starts)."""


def _start_worker(context: Context) -> None:
    _worker_context.append(context)


def _analyse_in_worker(jobs: list[Job]) -> list[Record]:
    return analyse_here(jobs, _worker_context[0])
