"""Shared pieces for tests that look at the built site in a real browser: Debian's Chromium driven by
Playwright (never a downloaded browser), a local HTTP server for a built site, and axe-core from npm.
Where Chromium or npm is missing the tests skip with the reason, they never pass without looking."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.server
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testsupport.pageload import CHROMIUM
from testsupport.pageload import chromium as launch_chromium
from testsupport.statichost import PrecompressedHandler, serve_folder

TESTS = Path(__file__).resolve().parent
AXE = TESTS / "node_modules" / "axe-core" / "axe.min.js"


def require_chromium() -> None:
    """Skips the calling test (or fixture) with the reason when Debian's Chromium is not installed."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not installed: {CHROMIUM} is missing (apt-get install chromium)")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium for the block; Playwright's own browser downloads are never used."""
    require_chromium()
    with launch_chromium() as browser:
        yield browser


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """`directory` over HTTP on 127.0.0.1 as the guide's web server settings serve it (compressed copies,
    cache lifetimes); yields the base URL ("http://…/")."""
    with serve_folder(directory, _QuietHandler) as url:
        yield url


def axe_script() -> Path:
    """axe.min.js at the version pinned in tests/package-lock.json, installed with `npm ci` on first use.

    `npm ci` deletes node_modules/ before it installs, so two workers running it would pull axe-core from under
    each other's pages: the install runs once, under a lock, and is marked done only when it finished."""
    lock = TESTS / "package-lock.json"
    marker = TESTS / "node_modules" / ".dayori-installed"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    with exclusive(TESTS / ".npm-ci.lock"):
        if AXE.is_file() and marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
            return AXE
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm not installed: cannot install axe-core for the accessibility checks "
                        "(apt-get install npm)")
        result = subprocess.run([npm, "ci", "--prefix", str(TESTS), "--no-audit", "--no-fund"],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not AXE.is_file():
            pytest.skip(f"npm ci --prefix tests could not install axe-core: {result.stderr.strip()[-500:]}")
        marker.write_text(wanted, encoding="utf-8")
    return AXE


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Holds an exclusive lock on `path` (created if missing) for the block, across processes such as xdist's
    workers; the kernel releases it if the holder dies."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _QuietHandler(PrecompressedHandler):
    """Static files with byte ranges, as web servers send video: without them Chromium keeps the clip's
    request open and cannot seek."""

    def send_head(self) -> Any:
        match = _RANGE.fullmatch(self.headers.get("Range", "").strip())
        path = Path(self.translate_path(self.path))
        if match is None or not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        first = int(match["first"]) if match["first"] else max(len(data) - int(match["last"] or 0), 0)
        last = min(int(match["last"]), len(data) - 1) if match["first"] and match["last"] else len(data) - 1
        if first > last:
            self.send_error(http.HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            return None
        self.send_response(http.HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        return io.BytesIO(data[first:last + 1])

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()


_RANGE = re.compile(r"bytes=(?P<first>\d*)-(?P<last>\d*)")
