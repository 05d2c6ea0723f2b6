"""`make serve` as an editor lives with it: a mistake shows a Japanese error page at every address (never a
hung browser), the terminal lists every problem each time, and fixing the file brings the page back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from browser import chromium
from conftest import TODAY, Project, issue_text

ISSUE = "newsletter/2026/1.md"
BROKEN = ("---\nvol: 1\ndate: 2026-11-02\ntitle: 最初の号\nsummary: 要約です。\ntags: [テスト]\n"
          "<b>bad</b>: 1\n---\n\n本文です。\n")
WAIT_MS = 120_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "dayori.material.serve", "--port", str(port)]


def serve_env() -> dict[str, str]:
    return {**os.environ, "DAYORI_TODAY": TODAY, "NO_COLOR": "1"}


@dataclass
class Preview:
    """`make serve` in a subprocess, with everything it prints kept for the test to read."""

    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_output(self, text: str, count: int = 1) -> None:
        deadline = time.monotonic() + WAIT_MS / 1000
        while self.output().count(text) < count:
            assert self.process.poll() is None, f"make serve stopped:\n{self.output()}"
            assert time.monotonic() < deadline, f"never printed {text!r} {count} times:\n{self.output()}"
            time.sleep(0.1)


@pytest.fixture
def preview(project: Project) -> Iterator[Preview]:
    project.write(ISSUE, BROKEN)
    port = free_port()
    process = subprocess.Popen(serve_command(port), cwd=project.root, env=serve_env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    running = Preview(process, f"http://127.0.0.1:{port}/dayori/")
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: running.lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        running.wait_for_output("プレビュー: http")
        yield running
    finally:
        stop(process)


def stop(process: subprocess.Popen[Any]) -> None:
    """The preview server asked to end, and made to if it does not within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def error_list(page: Any) -> str:
    page.wait_for_function("document.querySelector('h1')?.textContent === 'プレビューを作れませんでした'",
                           timeout=WAIT_MS)
    return str(page.locator("main").inner_text())


def save(project: Project, text: str) -> None:
    """As an editor's save: new content and a new modification time, so the server's watcher sees it."""
    path = project.write(ISSUE, text)
    later = time.time() + 1
    os.utime(path, (later, later))


@pytest.mark.browser
def test_a_mistake_shows_an_error_page_everywhere_and_the_fix_brings_the_page_back(
        project: Project, preview: Preview) -> None:
    preview.wait_for_output(f"{ISSUE}:7")
    with chromium() as browser:
        page = browser.new_page(bypass_csp=True)  # Playwright's waiting evaluates script (see test_csp.py)
        page.goto(preview.url + "newsletter/1/")
        shown = error_list(page)
        assert f"{ISSUE}:7" in shown and "「<b>bad</b>」は不明なキーです" in shown
        assert page.locator("main b").count() == 0, "editor text reached the page as markup"

        save(project, issue_text(1, "2026-11-02", "最初の号", "本文です。"))
        page.wait_for_function("document.title.includes('最初の号')", timeout=WAIT_MS)

        save(project, BROKEN)
        assert f"{ISSUE}:7" in error_list(page)
        preview.wait_for_output(f"{ISSUE}:7", count=2)
        save(project, BROKEN + "\n")
        preview.wait_for_output(f"{ISSUE}:7", count=3)

        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(preview.url + "assets/javascripts/bundle.js", timeout=60)
        assert "プレビューを作れませんでした" in missing.value.read().decode()

        save(project, issue_text(1, "2026-11-02", "直した号", "本文です。"))
        page.wait_for_function("document.title.includes('直した号')", timeout=WAIT_MS)
        assert "プレビューを作れませんでした" not in page.content()

        hand_written = project.write("docs/newsletter/index.md", "# 手で書いた一覧\n")
        assert "docs/newsletter/index.md" in error_list(page)
        hand_written.unlink()
        page.wait_for_function("document.title.includes('直した号')", timeout=WAIT_MS)

        config = project.root / "mkdocs.yml"
        good_config = config.read_text(encoding="utf-8")
        config.write_text(good_config + "\nnav: [\n", encoding="utf-8")
        assert "mkdocs.yml" in error_list(page)
        config.write_text(good_config, encoding="utf-8")
        page.wait_for_function("document.title.includes('直した号')", timeout=WAIT_MS)
    assert "Traceback" not in preview.output()


def test_a_busy_port_gets_a_japanese_hint_not_a_traceback(project: Project) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        result = subprocess.run(serve_command(port), cwd=project.root, env=serve_env(), capture_output=True,
                                text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert f"ポート {port} はほかのプログラムが使っています" in result.stderr
    assert f"make serve PORT={port + 1}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
