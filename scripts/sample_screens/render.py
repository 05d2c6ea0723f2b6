"""Photographs the sample screens (`*.html` here: Japanese UIs drawn in HTML) into the sample issues' images.

Run once with `.venv/bin/python scripts/sample_screens/render.py`; the PNGs are committed. Uses Debian's
Chromium (as the browser tests do), never a downloaded one.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import ViewportSize, sync_playwright

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent.parent / "newsletter" / "2026" / "img"
SIZE: ViewportSize = {"width": 600, "height": 340}


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport=SIZE)
        for source in sorted(HERE.glob("*.html")):
            page.goto(source.as_uri())
            page.screenshot(path=IMAGES / f"{source.stem}.png")
        browser.close()


if __name__ == "__main__":
    main()
