"""A 720p episode as readers abroad meet it, in Chromium: a phone on a line held at 300 kbit/s by the DevTools
protocol, a fast desktop, a browser that cannot use HLS, the sound alone, JavaScript off and the site's
Content-Security-Policy on. Nothing here uses a player script: the page's own <video> and <source> elements do
the work.

This Chromium plays HLS natively (`canPlayType('application/vnd.apple.mpegurl')` is "maybe") and has no switch to
turn that off. A browser without HLS skips the first <source> by its type and tries the next; Chromium does the
same with a <source> it cannot load, so the MP4 fallback is tested by making the playlist unreachable: the same
list of sources, walked in the same order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import m3u8
import pytest

from browser import chromium, serve
from conftest import copy_project
from media_clips import clip

pytestmark = pytest.mark.browser

SLUG = "2026-11-19-ladder"
EPISODE = f"videos/{SLUG}/"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CSP = "default-src 'self'; media-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'"


@dataclass(frozen=True)
class Site:
    url: str
    root: Path
    browser: Any


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One 720p episode of 10 s (five segments per rung) built like `make site`."""
    project = copy_project(tmp_path_factory.mktemp("adaptive") / "project", with_content=False)
    folder = project.root / "videos" / SLUG
    folder.mkdir(parents=True)
    (folder / "captions.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nはじめます。\n\n"
                                         "00:02.000 --> 00:04.000\n設定を開きます。\n", encoding="utf-8")
    (folder / "index.md").write_text("---\ntitle: 会議室の予約\ndate: 2026-11-19\nclip: clip.mp4\n"
                                     "captions: captions.vtt\nsummary: 会議室を予約します。\n---\n\n本文です。\n",
                                     encoding="utf-8")
    clip(folder / "clip.mp4", size="1280x720", seconds=10.0, rate=10)
    project.build()
    with chromium() as browser, serve(project.site) as url:
        yield Site(url, project.site, browser)


@pytest.fixture
def opened(site: Site) -> Iterator[list[Any]]:
    contexts: list[Any] = []
    yield contexts
    for context in contexts:
        context.close()


def open_episode(site: Site, opened: list[Any], viewport: dict[str, int], *, kbps: int | None = None,
                 javascript: bool = True) -> tuple[Any, list[str]]:
    """The episode page and the site paths it requested, in order."""
    context = site.browser.new_context(viewport=viewport, java_script_enabled=javascript, bypass_csp=True)
    opened.append(context)
    page = context.new_page()
    if kbps is not None:
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.emulateNetworkConditions", {"offline": False, "latency": 150,
                                                          "downloadThroughput": kbps * 1000 / 8,
                                                          "uploadThroughput": kbps * 1000 / 8})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path))
    page.goto(site.url + EPISODE, wait_until="load", timeout=120_000)
    return page, requested


def press_play(page: Any) -> None:
    """As a reader does with the keyboard: focus the player and press Space (muted, as autoplay rules require
    for a page nobody interacted with before)."""
    video = page.locator("video")
    video.evaluate("v => { v.muted = true }")
    video.focus()
    page.keyboard.press("Space")


def played(page: Any, seconds: float, timeout: float) -> None:
    """Polled from outside the page (Playwright's `wait_for_function` runs in the page, which JavaScript off
    forbids)."""
    deadline = time.monotonic() + timeout
    while (now := page.evaluate("document.querySelector('video').currentTime")) < seconds:
        assert time.monotonic() < deadline, f"only {now} s played after {timeout} s"
        page.wait_for_timeout(100)


def media_of(requested: list[str]) -> list[str]:
    """Segments and whole files, as `<rung>/<file>`."""
    return ["/".join(path.split("/")[-2:]) for path in requested if path.endswith((".m4s", ".mp4", ".m4a"))]


def test_chromium_here_plays_hls_natively(site: Site, opened: list[Any]) -> None:
    page, _ = open_episode(site, opened, PHONE)
    assert page.evaluate("document.querySelector('video').canPlayType('application/vnd.apple.mpegurl')") != ""


def test_a_phone_at_300_kbits_loads_nothing_before_play_then_starts_on_the_lowest_rung(site: Site,
                                                                                     opened: list[Any]) -> None:
    page, requested = open_episode(site, opened, PHONE, kbps=300)
    assert not [p for p in requested if p.endswith((".m3u8", ".m4s", ".mp4", ".m4a"))], requested
    poster = next(p for p in requested if p.endswith("poster.jpg"))
    assert (site.root / poster.lstrip("/")).stat().st_size <= 25_000
    press_play(page)
    played(page, 1.0, timeout=60)  # the bench measures how soon; the bound is 8 s
    media = media_of(requested)
    assert media and all(name.startswith("240p/") for name in media), media
    state = page.evaluate("(() => { const v = document.querySelector('video'); return {src: v.currentSrc,"
                          " width: v.videoWidth, error: v.error && v.error.message} })()")
    assert state["src"].endswith("/index.m3u8") and state["width"] == 426 and state["error"] is None, state


def test_on_a_fast_line_the_player_climbs_to_720p(site: Site, opened: list[Any]) -> None:
    page, requested = open_episode(site, opened, DESKTOP)
    press_play(page)
    page.wait_for_function("document.querySelector('video').videoWidth === 1280", timeout=60_000)
    played(page, 3.0, timeout=60)
    media = media_of(requested)
    assert media[0].startswith("240p/"), media
    assert any(name.startswith("720p/") and name.endswith(".m4s") for name in media), media


@pytest.mark.parametrize(("viewport", "expected"), [(PHONE, "240p.mp4"), (DESKTOP, "720p.mp4")])
def test_without_hls_the_smallest_suitable_mp4_plays(site: Site, opened: list[Any], viewport: dict[str, int],
                                                     expected: str) -> None:
    context = site.browser.new_context(viewport=viewport, bypass_csp=True)
    opened.append(context)
    page = context.new_page()
    page.route("**/*.m3u8", lambda route: route.abort())
    page.goto(site.url + EPISODE, wait_until="load")
    press_play(page)
    played(page, 1.0, timeout=60)
    source = page.evaluate("document.querySelector('video').currentSrc")
    assert source.endswith("/" + expected), source


def test_the_sound_alone_plays_as_a_download_and_as_a_stream(site: Site, opened: list[Any]) -> None:
    page, _ = open_episode(site, opened, PHONE)
    link = page.locator("a[download]", has_text="音声のみ")
    href = link.get_attribute("href")
    assert href is not None and href.endswith("/audio.m4a")
    assert any(unit in link.inner_text() for unit in ("KB", "MB")), link.inner_text()
    master = m3u8.loads(page.request.get(page.evaluate(
        "document.querySelector('source[type=\"application/vnd.apple.mpegurl\"]').src")).text())
    (sound,) = [v for v in master.playlists if v.stream_info.resolution is None]
    for address in (href, page.evaluate(f"new URL({sound.uri!r}, document.querySelector('source').src).href")):
        played_for = page.evaluate("""address => new Promise((done, fail) => {
            const audio = new Audio(address)
            audio.muted = true
            audio.addEventListener("error", () => fail(String(audio.error && audio.error.message)))
            audio.addEventListener("timeupdate", () => audio.currentTime >= 1 && done(audio.currentTime))
            audio.play().catch(fail)
        })""", address)
        assert played_for >= 1, address


def test_with_javascript_off_and_the_sites_csp_the_episode_still_plays(site: Site, opened: list[Any]) -> None:
    context = site.browser.new_context(viewport=PHONE, java_script_enabled=False)
    opened.append(context)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)

    def with_policy(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    page.route(f"**/{EPISODE}", with_policy)
    page.goto(site.url + EPISODE, wait_until="load")
    press_play(page)
    played(page, 1.0, timeout=60)
    assert page.evaluate("document.querySelector('video').currentSrc").endswith("/index.m3u8")
    assert refused == []
