"""The browser backs the promise up: every kind of page carries a Content-Security-Policy under which the
theme's own scripts still work (search in its worker, the palette toggle, tabs, the video) and
the browser reports no violation, while a script or a load from another host that slipped into a page is
refused by Chromium itself. The preview server answers only requests addressed to this computer."""

from __future__ import annotations

import html
import http.client
import os
import re
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import chromium, serve
from conftest import TODAY, Project, copy_project
from testsupport.helpers import start_preview, stop, wait_for

PAGES = {"home": "", "archive": "newsletter/", "issue": "newsletter/2/", "tabs": "newsletter/12/", "gallery": "videos/",
         "episode": "videos/2026-10-02-teams-channel/", "subscribe": "subscribe/", "feeds": "feeds/", "tags": "tags/",
         "guide": "guide/", "hosted email": "email/2/index.html", "email list": "email/index.html", "404": "404.html"}
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, Project]]:
    with chromium() as browser:
        project = copy_project(tmp_path_factory.mktemp("csp") / "project", with_content=True)
        project.add_issue(12, "2026-11-20", "タブの号", textwrap.dedent("""\
            手順は OS で違います。

            === "Windows"
                ++ctrl+c++ を押します。
            === "Mac"
                ++cmd+c++ を押します。

            ```python
            print("コピーできるコード")
            ```
            """))
        project.build(today=TODAY)
        with serve(project.site) as url:
            yield url, browser, project


def opened(browser: Any, url: str) -> tuple[Any, list[str]]:
    context = browser.new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, console


def wait_until(page: Any, expression: str, timeout: float = 60) -> None:
    """Polls from the test: Playwright's own waiting evaluates a string in the page, which the policy
    forbids (no `unsafe-eval`), as it should."""
    from playwright.sync_api import Error

    def true() -> bool:
        try:
            return bool(page.evaluate(f"() => Boolean({expression})"))
        except Error:
            return False  # the page is reloading
    wait_for(true, f"the page making {expression} true", timeout=timeout, interval=0.1)


def violations(page: Any, console: list[str]) -> list[str]:
    reported = list(page.evaluate("window.__violations"))
    return reported + [text for text in console if "Content Security Policy" in text]


@pytest.mark.browser
@pytest.mark.parametrize("kind", PAGES)
def test_every_kind_of_page_works_under_its_policy_without_a_violation(site: tuple[str, Any, Project],
                                                                       kind: str) -> None:
    url, browser, _ = site
    page, console = opened(browser, url + PAGES[kind])
    try:
        if kind == "home":
            box = page.locator("input.md-search__input")
            box.click()
            box.fill("Teams")
            box.press("End")  # Material reads the box on keyup; its worker answers
            page.wait_for_selector(".md-search-result__item", timeout=30_000)
            page.keyboard.press("Escape")  # closes the search
            toggle = page.locator("form[data-md-component='palette'] label:not([hidden])").first
            scheme = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
            toggle.click()
            wait_until(page, f"document.body.getAttribute('data-md-color-scheme') !== {scheme!r}")
        elif kind == "tabs":
            page.locator(".tabbed-labels label").nth(1).click()
            assert page.locator(".tabbed-block").nth(1).is_visible()
        elif kind == "episode":
            page.evaluate("document.querySelector('video').muted = true")
            page.evaluate("document.querySelector('video').play()")
            wait_until(page, "document.querySelector('video').currentTime > 0.2")
        page.wait_for_timeout(300)
        assert violations(page, console) == [], kind
    finally:
        page.context.close()


@pytest.mark.browser
def test_a_script_that_slipped_into_a_page_is_refused_by_the_browser(site: tuple[str, Any, Project]) -> None:
    """As if a sanitiser had a hole: a script and a picture from another host written into a built page."""
    url, browser, project = site
    page_file = project.site / "newsletter" / "2" / "index.html"
    original = page_file.read_text(encoding="utf-8")
    injected = ('<script>window.__ran = true;</script><img src="http://evil.example/track.png" alt="">'
                '<a data-md-component="source" href="https://github.com/example/x">x</a>')
    page_file.write_text(original.replace("<article", injected + "<article", 1), encoding="utf-8")
    compressed = {copy: copy.read_bytes() for copy in (page_file.with_name("index.html.gz"),
                                                       page_file.with_name("index.html.br")) if copy.exists()}
    for copy in compressed:
        copy.unlink()  # the server would send the untouched compressed copy instead
    try:
        page, console = opened(browser, url + "newsletter/2/")
        try:
            assert page.evaluate("window.__ran === undefined")
            found = " ".join(violations(page, console))
            assert "script-src" in found and "img-src" in found and "evil.example" in found
        finally:
            page.context.close()
    finally:
        page_file.write_text(original, encoding="utf-8")
        for copy, data in compressed.items():
            copy.write_bytes(data)


def request(port: int, host: str | None, path: str = "/") -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.putrequest("GET", path, skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", errors="replace")
    finally:
        connection.close()


def started_preview(project: Project) -> tuple[subprocess.Popen[str], int]:
    """`make serve` once it serves, on the port the system gave it."""
    running = start_preview(project.root)
    return running.process, running.port


def test_the_preview_answers_only_this_computer(project: Project) -> None:
    """DNS rebinding: a page on another site whose name now points at 127.0.0.1 sends its own name."""
    project.add_issue(1, "2026-11-20", "下書きの号", "下書きの本文です。", draft=True)
    process, port = started_preview(project)
    try:
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
            status, body = request(port, host, "/dayori/newsletter/1/")
            assert status == 200 and "下書きの本文" in body, host
            assert "Content-Security-Policy" in body and "livereload" in body
        refused: list[str | None] = [f"evil.example:{port}", "localhost", f"localhost:{port + 1}",
                                     f"127.0.0.1.evil.example:{port}", f"localhost:{port}@evil.example", "", None]
        for other in refused:
            status, body = request(port, other, "/dayori/newsletter/1/")
            assert status == 403 and "下書き" not in body, other
    finally:
        stop(process)


@pytest.mark.browser
def test_the_preview_page_reloads_under_its_policy(site: tuple[str, Any, Project], project: Project) -> None:
    """MkDocs' server adds its reload script to every page it serves; the page's policy allows exactly it."""
    project.add_issue(1, "2026-11-20", "最初の号", "本文です。")
    process, port = started_preview(project)
    try:
        page, console = opened(site[1], f"http://127.0.0.1:{port}/dayori/newsletter/1/")
        try:
            assert violations(page, console) == []
            issue = project.root / "newsletter" / "2026" / "1.md"
            issue.write_text(issue.read_text(encoding="utf-8").replace("本文です。", "直した本文です。"), encoding="utf-8")
            later = os.path.getmtime(issue) + 1
            os.utime(issue, (later, later))
            wait_until(page, "document.body.innerText.includes('直した本文')", timeout=120)
            assert violations(page, console) == []
        finally:
            page.context.close()
    finally:
        stop(process)


def test_the_policy_is_in_the_guides_server_examples() -> None:
    from dayori.csp import policy

    guide = (Path(__file__).resolve().parents[1] / "docs" / "guide.md").read_text(encoding="utf-8")
    header = policy(header=True)
    assert guide.count(header) >= 3  # Apache, nginx, IIS


def test_the_preview_error_page_allows_exactly_its_own_script_and_style() -> None:
    from dayori.csp import source_hash
    from dayori.errors import Problem
    from dayori.preview import error_page

    page = error_page([Problem(Path("newsletter/2026/1.md"), 3, "<script>alert(1)</script>")], "id", "/dayori/").html
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    allowed = html.unescape(policy.group(1))
    inline = re.findall(r"<script>(.*?)</script>", page, re.DOTALL) + re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    assert len(inline) == 2 and all(source_hash(text) in allowed for text in inline)
    assert allowed.count("sha256-") == 2 and "unsafe-inline'" not in allowed.replace("style-src-attr 'unsafe-inline'", "")
    assert page.index("Content-Security-Policy") < page.index("<style>")
