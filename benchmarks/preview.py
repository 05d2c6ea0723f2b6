"""What an editor waits in `make serve`: from saving one issue to the server answering with the changed page
(the watcher's delay included), for Dayori and for plain MkDocs serving the same Markdown."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import Options, build_env
from testsupport.corpus import write_projects

EDITS = 5


def bench_edit_to_served(folder: Path, options: Options) -> dict[str, float]:
    dayori, plain = write_projects(folder / f"serve-{options.issues}", options.issues)
    vol = max(1, options.issues // 2)
    dayori_seconds = _edits_served(dayori, vol, f"newsletter/{vol}/", EDITS, ["-m", "dayori.material.serve", "--port", "{port}"])
    plain_seconds = _edits_served(plain, vol, f"newsletter/{year_of(plain, vol)}/{vol}/", EDITS,
                                  ["-m", "mkdocs", "serve", "-a", "127.0.0.1:{port}"])
    return {"dayori_edit_to_served_seconds": dayori_seconds, "plain_edit_to_served_seconds": plain_seconds,
            "edit_to_served_over_plain": dayori_seconds / plain_seconds}


def year_of(project: Path, vol: int) -> str:
    return next((project / "docs" / "newsletter").glob(f"*/{vol}.md")).parent.name


def _edits_served(project: Path, vol: int, url_path: str, edits: int, command: list[str]) -> float:
    """`command` names the port `{port}`: Dayori runs as `make serve` does, plain MkDocs as `mkdocs serve`."""
    import urllib.request

    source = next(project.glob(f"**/newsletter/*/{vol}.md"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = build_env()
    server = subprocess.Popen([sys.executable, *(part.format(port=port) for part in command), "-q"],
                              cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/dayori/{url_path}"

    def page() -> str:
        try:
            with urllib.request.urlopen(url, timeout=300) as response:
                return str(response.read().decode("utf-8"))
        except OSError:
            return ""

    try:
        deadline = time.monotonic() + 600
        while not page():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mkdocs serve did not start in {project}")
            time.sleep(0.2)
        original = source.read_text(encoding="utf-8")
        waits = []
        for edit in range(edits):
            marker = f"編集の目印{edit}番"
            source.write_text(original + f"\n{marker}です。\n", encoding="utf-8")
            start = time.perf_counter()
            while marker not in page():
                time.sleep(0.02)
            waits.append(time.perf_counter() - start)
            time.sleep(1.0)
        return statistics.median(waits)
    finally:
        server.terminate()
        server.wait(timeout=60)


