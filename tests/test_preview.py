"""`make serve` as an editor lives with it: a mistake shows a Japanese error page at every address (never a
hung browser), the terminal lists every problem each time, and fixing the file brings the page back."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from browser import chromium
from conftest import Project, issue_text
from testsupport.helpers import Preview, serve_command, serve_env, start_preview, stop

ISSUE = "newsletter/2026/1.md"
BROKEN = ("---\nvol: 1\ndate: 2026-11-02\ntitle: 最初の号\nsummary: 要約です。\ntags: [テスト]\n"
          "<b>bad</b>: 1\n---\n\n本文です。\n")
WAIT_MS = 120_000


@pytest.fixture
def preview(project: Project) -> Iterator[Preview]:
    project.write(ISSUE, BROKEN)
    running = start_preview(project.root)
    try:
        yield running
    finally:
        stop(running.process)


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
