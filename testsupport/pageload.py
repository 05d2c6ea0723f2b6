"""A page as a reader on a slow link gets it: Chromium on a phone's screen with the network held at
300 kbit/s and 200 ms (Chrome DevTools' network emulation), first contentful paint from the Performance API,
and the bytes that crossed the link before it and in the first 15 seconds. For the slow-link test and
`make bench`; Playwright drives Debian's Chromium (a test dependency)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-gpu"]

KBIT_PER_SECOND = 300
LATENCY_MS = 200
VIEWPORT = {"width": 390, "height": 844}
WATCH_SECONDS = 15.0


@dataclass(frozen=True)
class PageLoad:
    first_paint_ms: float
    bytes_before_paint: int
    bytes_in_watch: int
    requested: tuple[str, ...] = field(default=())
    """Every URL the page and its workers asked for while watched."""


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium (never a browser Playwright downloads); the caller checks `CHROMIUM` exists."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def measure(browser: Any, url: str, watch_seconds: float = WATCH_SECONDS,
            then: Callable[[Any], None] | None = None) -> PageLoad:
    """One first visit (empty cache) of `url`, watched for `watch_seconds` after navigation starts; `then`
    is given the page afterwards, on the same slow link. Bytes are what the network reports as received,
    piece by piece (compressed bodies as they arrive, responses still under way included)."""
    context = browser.new_context(viewport=VIEWPORT, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        requested: list[str] = []
        context.on("request", lambda request: requested.append(request.url))
        session = context.new_cdp_session(page)
        received: list[tuple[float, int]] = []
        session.on("Network.dataReceived",
                   lambda event: received.append((float(event["timestamp"]), int(event["encodedDataLength"]))))
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        rate = KBIT_PER_SECOND * 1000 / 8
        session.send("Network.emulateNetworkConditions", {"offline": False, "latency": LATENCY_MS,
                                                          "downloadThroughput": rate, "uploadThroughput": rate})
        started: list[float] = []
        session.on("Network.requestWillBeSent", lambda event: started.append(float(event["timestamp"])))
        page.goto(url, wait_until="commit", timeout=int(watch_seconds * 4000))
        page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0",
                               timeout=int(watch_seconds * 4000))
        paint_ms = float(page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime"))
        page.wait_for_timeout(max(watch_seconds * 1000 - float(page.evaluate("performance.now()")), 0))
        start = min(started)  # the page's own request, a moment after the navigation's time origin
        before = sum(size for when, size in received if (when - start) * 1000 <= paint_ms)
        within = sum(size for when, size in received if when - start <= watch_seconds)
        load = PageLoad(paint_ms, before, within, tuple(requested))
        if then is not None:
            then(page)
        return load
    finally:
        context.close()
