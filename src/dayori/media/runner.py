"""The one place that starts ffmpeg: its own progress reports for the person waiting, the last error line for
the editor."""

from __future__ import annotations

import re
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")


class FfmpegFailed(Exception):
    """ffmpeg exited non-zero; `last_line` is its last error line without the `[demuxer @ 0x…]` noise."""

    def __init__(self, returncode: int, last_line: str) -> None:
        self.returncode = returncode
        self.last_line = last_line
        super().__init__(f"ffmpeg exited with {returncode}: {last_line}")


def run_ffmpeg(cmd: list[str], *, cwd: Path | None = None,
               on_progress: Callable[[float], None] | None = None) -> None:
    """Runs a command built with `-progress pipe:1`, passing each `out_time` (seconds of output written) to
    `on_progress`: ffmpeg's own count, so the estimate needs no guess about encoding speed."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               cwd=cwd, text=True, encoding="utf-8", errors="replace")
    errors: deque[str] = deque(maxlen=20)
    reader = threading.Thread(target=_collect, args=(process.stderr, errors), daemon=True)
    reader.start()
    assert process.stdout is not None
    for line in process.stdout:
        seconds = _progress_seconds(line)
        if seconds is not None and on_progress is not None:
            on_progress(seconds)
    returncode = process.wait()
    reader.join()
    if returncode != 0:
        raise FfmpegFailed(returncode, _last_line(errors))


def _collect(stream: object, sink: deque[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        if line.strip():
            sink.append(line.rstrip())


def _progress_seconds(line: str) -> float | None:
    key, _, value = line.strip().partition("=")
    if key != "out_time_us" or not value.lstrip("-").isdigit():
        return None
    return int(value) / 1_000_000


def _last_line(lines: deque[str]) -> str:
    """The most telling line: ffmpeg ends with generic "Terminating thread…" lines, so prefer the last line
    that names a cause."""
    cleaned = [_PREFIX.sub("", line).strip() for line in lines]
    generic = ("Terminating thread", "Task finished with error", "Nothing was written", "Could not open encoder")
    telling = [line for line in cleaned if line and not line.startswith(generic)]
    return (telling or cleaned or ["（ffmpeg はエラーの内容を出力しませんでした）"])[-1]


def ffmpeg_version(exe: str) -> str:
    """The first line of `ffmpeg -version`: part of every cache key, so a new ffmpeg remakes the outputs."""
    result = subprocess.run([exe, "-version"], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()[0].strip()
