"""Work a site build hands to a second process, so that it runs on the other core while this one renders the
pages and emails: the proofreading check, and the tags' readings the tag page is sorted by.

Both need SudachiPy's dictionary, which takes most of a second to load and most of the memory of a build;
kept in the other process, it costs the build neither. The results are the ones the same functions return in
this process (they are those functions, called there), so the site is the same either way. A preview keeps
them in its own process, where its memo keeps the dictionary loaded between saves.

The other process is a plain `python -m dayori.sidework` (not `multiprocessing`, which would run the main
script of whatever program called the build again): it reads its work from a file in the cache and answers
on its standard output, first that the readings are in the cache, then the check's result.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import dayori
from dayori.config import Settings
from dayori.model import Content
from dayori.store import temporary_beside

if TYPE_CHECKING:
    from dayori.check.stage import CheckResult


@dataclass
class SideWork:
    """The readings and the check, under way in another process."""

    process: subprocess.Popen[bytes]
    work: Path
    readings_done: bool = False

    def wait_for_readings(self) -> None:
        """Before the tag page is made: its order then comes from the readings cache, not the dictionary."""
        if not self.readings_done:
            _answer(self.process)
            self.readings_done = True

    def check_result(self) -> CheckResult:
        self.wait_for_readings()
        result: CheckResult = _answer(self.process)
        self.close()
        return result

    def close(self) -> None:
        """Ends the other process (at once, when the build stopped early) and removes its work file."""
        if self.process.poll() is None and not self.process.stdout.closed:  # type: ignore[union-attr]
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()  # type: ignore[union-attr]
        self.work.unlink(missing_ok=True)


def start(content: Content, settings: Settings) -> SideWork:
    """Starts the readings, then the check, in one other process (one dictionary load for both)."""
    work = temporary_beside(settings.cache_path / "sidework.pickle")
    with open(work, "wb") as stored:
        pickle.dump(([group.label for group in content.tags()], content, settings), stored,
                    protocol=pickle.HIGHEST_PROTOCOL)
    source = str(Path(dayori.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (source, os.environ.get("PYTHONPATH"))))}
    process = subprocess.Popen([sys.executable, "-m", "dayori.sidework", str(work)], stdout=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=env)
    return SideWork(process, work)


def _answer(process: subprocess.Popen[bytes]) -> Any:
    try:
        kind, value = pickle.load(process.stdout)  # type: ignore[arg-type]
    except (EOFError, pickle.UnpicklingError) as error:
        raise RuntimeError(f"the proofreading process ended without an answer (exit code {process.wait()})") from error
    if kind == "error":
        raise value
    return value


def _serve(work: Path, out: IO[bytes]) -> None:
    from dayori.check.stage import check_content
    from dayori.reading import by_reading

    with open(work, "rb") as stored:
        labels, content, settings = pickle.load(stored)
    for task in (lambda: by_reading(labels, settings.cache_path) and None, lambda: check_content(content, settings)):
        try:
            answer: tuple[str, Any] = ("done", task())
        except Exception as error:  # raised again in the build, as if the work had been done there
            answer = ("error", error)
        pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), sys.stdout.buffer)
