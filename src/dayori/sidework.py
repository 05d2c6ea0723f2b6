"""Work a site build hands to other processes, so that it runs on the other core while this one renders the
pages: the proofreading check with the tags' readings the tag page is sorted by, the emails, and on a first
build a share of the bodies' Markdown (the records for the render cache come back in its answer) while this
process renders the rest, and the pictures' phone-sized and WebP copies (their sizes, which the pages give,
are known without them; the builder publishes them with the emails).

The check and the readings need SudachiPy's dictionary, which takes most of a second to load and most of the
memory of a build; the emails, a tenth of a second of inlining per issue on a first build. In other
processes they cost the build neither. The results are the ones the same functions return in this process
(they are those functions, called there), so the site is the same either way. A preview does everything in
its own process, where its memo keeps the dictionary loaded and the emails in memory between saves.

Each process is a plain `python -m dayori.sidework` (not `multiprocessing`, which would run the main script
of whatever program called the build again): it reads its work from a file in the cache and answers on its
standard output, one answer per step. Work started before its arguments are known (`begin`) gets them on
its standard input.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import dayori

if TYPE_CHECKING:
    import subprocess

    from dayori.config import Settings


@dataclass
class SideWork:
    """Work under way in another process; `answer()` gives its steps' results in order."""

    process: subprocess.Popen[bytes]
    work: Path

    def give(self, *args: Any) -> None:
        """The arguments of work started by `begin`; a process that already ended is reported by `answer`."""
        stdin = self.process.stdin
        assert stdin is not None, "give() is for work started by begin()"
        try:
            pickle.dump(args, stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.close()
        except (BrokenPipeError, OSError):
            return

    def answer(self) -> Any:
        try:
            kind, value = pickle.load(self.process.stdout)  # type: ignore[arg-type]
        except (EOFError, pickle.UnpicklingError) as error:
            raise RuntimeError(f"a build process ended without an answer (exit code {self.process.wait()})") \
                from error
        if kind == "error":
            raise value
        return value

    def close(self) -> None:
        """Ends the other process (at once, when the build stopped early) and removes its work file."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self.work.unlink(missing_ok=True)


def start(task: str, settings: Settings, *args: Any) -> SideWork:
    """Starts one of `_TASKS` with `settings` and `args` in another process."""
    return _spawn(task, settings, args)


def begin(task: str, settings: Settings) -> SideWork:
    """Starts one of `_TASKS` before its arguments are known (`SideWork.give` hands them over): meanwhile its
    process gets ready (`_READY`). The check's dictionary takes half a second to load, and the build waits
    for the tags' readings it gives: loaded while the build reads the content, it no longer holds the build up."""
    return _spawn(task, settings, None)


def _spawn(task: str, settings: Settings, args: tuple[Any, ...] | None) -> SideWork:
    import subprocess  # here: the other processes, which import this module too, start none

    from dayori.store import temporary_beside

    work = temporary_beside(settings.cache_path / f"sidework-{task}.pickle")
    with open(work, "wb") as stored:
        pickle.dump((task, settings, args), stored, protocol=pickle.HIGHEST_PROTOCOL)
    ready = _READY.get(task) if args is None else None
    first = [task] if ready is not None and ready.wanted(settings) else []
    env = engine_environment(DAYORI_CHECK_WORKERS="1")  # the build itself is the other core's work
    process = subprocess.Popen([sys.executable, "-m", "dayori.sidework", str(work), *first], stdout=subprocess.PIPE,
                               stdin=subprocess.DEVNULL if args is not None else subprocess.PIPE, env=env)
    return SideWork(process, work)


def engine_environment(**extra: str) -> dict[str, str]:
    """This environment, in which `python -m dayori.…` imports this same engine (a checkout's `src/` too, run
    without being installed), with `extra` variables."""
    source = str(Path(dayori.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (source, os.environ.get("PYTHONPATH")))),
            **extra}


def _readings_then_check(settings: Settings, labels: list[str], sources: list[Path]) -> list[Callable[[], Any]]:
    from dayori.check.stage import check_sources
    from dayori.reading import by_reading

    gc.set_threshold(CHECK_COLLECTION_THRESHOLD)
    return [lambda: by_reading(labels, settings.cache_path) and None, lambda: check_sources(sources, settings)]


def _bodies(settings: Settings, bodies: Any, pages: Any) -> list[Callable[[], Any]]:
    from dayori.content import prerender

    return [lambda: prerender(settings, bodies, pages)]


def _emails(settings: Settings, content: Any, media: Any, pictures: Any) -> list[Callable[[], Any]]:
    from dayori.email import build_emails

    return [lambda: build_emails(content, settings, media, None, pictures=pictures)]


def _pictures(settings: Settings, missing: Any) -> list[Callable[[], Any]]:
    from dayori.attachments import encode_missing

    return [lambda: encode_missing(missing)]


CHECK_COLLECTION_THRESHOLD = 10_000
"""Objects made (and not yet freed) between two runs of Python's cycle collector in the proofreading process,
rather than 700: its analysis makes hundreds of thousands of words that reference counting frees and that
make no cycles, and every run walked the words of the file under analysis (and, now and then, every object
of the process): a thirtieth of its time. Its peak memory stays the same."""

_TASKS: dict[str, Callable[..., list[Callable[[], Any]]]] = {"check": _readings_then_check, "emails": _emails,
                                                             "bodies": _bodies, "pictures": _pictures}


@dataclass(frozen=True)
class _Ready:
    """What a task's process does while it waits for its arguments (see `begin`): `first`, if the build finds
    it `wanted`, before the process imports the engine (the memory the engine takes then does not add to what
    `first` takes, so the process's peak is lower), then `meanwhile`."""

    wanted: Callable[[Settings], bool]
    first: Callable[[], None]
    meanwhile: Callable[[], None]


def _readings_missing(settings: Settings) -> bool:
    """Without kept readings (a first build) the build waits for the tags' readings, read with the dictionary;
    otherwise the check loads it only if an issue needs analysing, as it always did."""
    from dayori.reading import READINGS_FILE

    return not (settings.cache_path / READINGS_FILE).exists()


def _load_dictionary() -> None:
    """Loading reads through 75 MB of the dictionary (handed back at once, see `release_dictionary_pages`):
    done before anything else, that is the peak of the proofreading process's memory, not 13 MB above it."""
    from dayori.reading import sudachi_dictionary

    sudachi_dictionary()


def _import_check() -> None:
    from dayori.check import stage  # noqa: F401  (what the check imports, imported while waiting)


_READY: dict[str, _Ready] = {"check": _Ready(_readings_missing, _load_dictionary, _import_check)}


def _serve(work: Path, given: IO[bytes], out: IO[bytes]) -> None:
    with open(work, "rb") as stored:
        task, settings, args = pickle.load(stored)
    if args is None:
        if (ready := _READY.get(task)) is not None:
            ready.meanwhile()
        try:
            args = pickle.load(given)
        except (EOFError, pickle.UnpicklingError):  # the build stopped before it had work for this process
            return
    for step in _TASKS[task](settings, *args):
        try:
            answer: tuple[str, Any] = ("done", step())
        except Exception as error:  # raised again in the build, as if the work had been done there
            answer = ("error", error)
        pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


if __name__ == "__main__":
    for name in sys.argv[2:]:  # what the build found worth getting ready for (see `_Ready`)
        _READY[name].first()
    _serve(Path(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
