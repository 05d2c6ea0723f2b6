"""The sample site as readers meet it in Chromium: search, playing an episode with captions, pages that load
nothing from other hosts and nothing broken, axe-core's WCAG 2.1 AA rules in light and dark, the hosted email on
a phone, and keyboard focus. The site is built once per session from the project's own sample content; every
page is also photographed at 1280 and 375 px into tests/screenshots/ for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from browser import axe_script, chromium, serve
from conftest import TODAY, copy_project

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
EPISODE = "videos/2026-10-02-teams-channel/"
PAGES = {
    "home": "",
    "archive": "newsletter/",
    "issue": "newsletter/2/",  # has a DX日記 card
    "gallery": "videos/",
    "episode": EPISODE,
    "subscribe": "subscribe/",
    "feeds": "feeds/",
    "tags": "tags/",
    "guide": "guide/",
    "email": "email/2/index.html",
}
WIDTHS = (1280, 375)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
EMAIL_WIDTH = 375
EMAIL_MIN_FONT_PX = 14


@dataclass(frozen=True)
class Site:
    """The served sample site and one Chromium; each check opens its own context (viewport, colour scheme)."""

    url: str
    browser: Any

    def new_page(self, *, width: int = 1280, scheme: str = "light") -> Any:
        # axe-core and Playwright's waiting run scripts of their own in the page, which the site's policy
        # refuses as it should; the policy itself is tested in test_csp.py.
        context = self.browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme,
                                           bypass_csp=True)
        return context.new_page()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The project's sample issues and episodes, built like `make site` (clips transcoded into the copy's cache).

    Built once: every browser test is in this module, and `--dist loadfile` keeps a module on one worker. Module
    scope rather than session, because a process can drive only one sync Playwright at a time and test_search.py
    starts its own."""
    with chromium() as browser:
        project = copy_project(tmp_path_factory.mktemp("browser") / "project", with_content=True)
        project.build(today=TODAY)
        with serve(project.site) as url:
            yield Site(url, browser)


@pytest.fixture
def opened(site: Site) -> Iterator[list[Any]]:
    """Pages a test opens, closed with their contexts afterwards."""
    pages: list[Any] = []
    yield pages
    for page in pages:
        page.context.close()


def open_page(site: Site, opened: list[Any], path: str, **options: Any) -> Any:
    page = site.new_page(**options)
    opened.append(page)
    page.goto(site.url + path)
    return page


@pytest.mark.parametrize(("query", "vol", "title"), [
    ("掲示板", 2, "Teams のチャネルとチャットを使い分ける"),   # mid-sentence kanji
    ("集計行", 6, "Excel の「テーブル」で集計表を壊れにくくする"),
])
def test_typing_a_japanese_word_shows_the_issue_containing_it(site: Site, opened: list[Any], query: str,
                                                               vol: int, title: str) -> None:
    page = open_page(site, opened, "")
    box = page.locator("input.md-search__input")
    box.click()
    box.fill(query)
    box.press("End")  # Material reads the box on keyup
    page.wait_for_function("""() => /件見つかりました|何も見つかりませんでした/.test(
        document.querySelector(".md-search-result__meta")?.textContent ?? "")""", timeout=15000)
    results = page.locator(".md-search-result__list")
    hrefs = results.locator("a.md-search-result__link").evaluate_all("links => links.map(a => a.href)")
    assert any(urlsplit(href).path == f"/newsletter/{vol}/" for href in hrefs), f"「{query}」: {hrefs}"
    assert title in results.inner_text()


@pytest.mark.parametrize("slug", ["2026-10-02-teams-channel", "2026-10-16-outlook-rules",
                                  "2026-11-06-shortcut-keys"])
def test_episode_plays_and_its_captions_load(site: Site, opened: list[Any], slug: str) -> None:
    page = open_page(site, opened, f"videos/{slug}/")
    video = page.locator("video")
    video.evaluate("v => { v.muted = true; return v.play() }")  # autoplay policy: only muted video may start
    page.wait_for_function("document.querySelector('video').currentTime > 0.5", timeout=15000)
    assert video.evaluate("v => !v.paused && !v.error")
    video.evaluate("v => { v.textTracks[0].mode = 'hidden' }")
    page.wait_for_function("(document.querySelector('video').textTracks[0].cues || []).length > 0",
                           timeout=10000)
    track = video.evaluate("""v => { const t = v.textTracks[0]
        return {language: t.language, kind: t.kind, first: t.cues[0].text, count: t.cues.length} }""")
    assert (track["language"], track["kind"]) == ("ja", "captions")
    assert track["count"] >= 2 and track["first"].strip(), track


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_only_from_the_site_and_nothing_fails(site: Site, opened: list[Any], name: str) -> None:
    """Also writes the screenshots: each page is opened at both widths anyway."""
    SCREENSHOTS.mkdir(exist_ok=True)
    host = urlsplit(site.url).netloc
    foreign: list[str] = []
    failed: list[str] = []
    for width in WIDTHS:
        page = site.new_page(width=width)
        opened.append(page)
        page.on("request", lambda request: foreign.append(request.url)
                if urlsplit(request.url).netloc != host and not request.url.startswith(("data:", "blob:")) else None)
        page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
                if response.status >= 400 else None)
        page.goto(site.url + PAGES[name])
        page.wait_for_load_state("networkidle")
        page.evaluate("""() => Promise.all([...document.images].map(image => {
            image.loading = "eager"  // a full-page shot does not scroll lazy images into view
            return image.complete ? null : new Promise(done => { image.onload = image.onerror = done })
        }))""")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    assert foreign == [], f"{PAGES[name] or 'ホーム'} が外部に要求: {sorted(set(foreign))}"
    assert failed == [], f"{PAGES[name] or 'ホーム'} で失敗した要求: {sorted(set(failed))}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_axe_violations(site: Site, opened: list[Any], name: str, scheme: str) -> None:
    axe = axe_script()
    page = open_page(site, opened, PAGES[name], scheme=scheme)
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(axe))
    violations = page.evaluate("""tags => axe.run(document, {runOnly: {type: "tag", values: tags}})
        .then(result => result.violations.map(v => ({rule: v.id, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary)})))""", WCAG_TAGS)
    assert violations == [], "\n".join(
        f"{v['rule']} ({v['help']})\n    " + "\n    ".join(v["nodes"]) for v in violations)


def test_hosted_email_fits_a_phone_with_readable_text(site: Site, opened: list[Any]) -> None:
    page = open_page(site, opened, PAGES["email"], width=EMAIL_WIDTH)
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= EMAIL_WIDTH
    small = page.evaluate("""() => [...document.body.querySelectorAll("*")]
        .filter(el => [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim()))
        .filter(el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
        .map(el => ({size: parseFloat(getComputedStyle(el).fontSize), text: el.textContent.trim().slice(0, 40)}))""")
    assert small, "no text found in the hosted email"
    too_small = [item for item in small if item["size"] < EMAIL_MIN_FONT_PX]
    assert too_small == [], f"{EMAIL_MIN_FONT_PX}px 未満の文字: {too_small}"


_FOCUS = """() => {
    const el = document.activeElement
    // A visually hidden input (Material's palette switch) shows its focus on the label right after it.
    const hidden = el.tagName === "INPUT" && el.getBoundingClientRect().width === 0
    const shown = hidden && el.nextElementSibling?.tagName === "LABEL" ? el.nextElementSibling : el
    const style = getComputedStyle(shown)
    const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
    const rect = shown.getBoundingClientRect()
    return {
        tag: el.tagName.toLowerCase(),
        classes: typeof el.className === "string" ? el.className : "",
        label: (el.getAttribute("aria-label") || el.getAttribute("placeholder") || el.textContent || "").trim().slice(0, 30),
        region: el.closest(".md-search") ? "search" : el.closest(".md-tabs, .md-nav") ? "navigation"
            : el.tagName === "VIDEO" ? "video" : "other",
        visible: (outlined || style.boxShadow !== "none") && rect.width > 0 && rect.height > 0,
    }
}"""


def test_keyboard_reaches_search_navigation_and_video_controls_with_visible_focus(site: Site,
                                                                                  opened: list[Any]) -> None:
    page = open_page(site, opened, EPISODE)
    page.wait_for_load_state("load")
    stops: list[dict[str, Any]] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        stop = page.evaluate(_FOCUS)
        if stops and stops[-1]["region"] == "video" and stop["region"] != "video":
            break
        stops.append(stop)
    regions = {stop["region"] for stop in stops}
    assert {"search", "navigation", "video"} <= regions, stops
    assert any(stop["tag"] == "input" for stop in stops if stop["region"] == "search"), stops
    assert sum(stop["region"] == "navigation" for stop in stops) >= 5, stops  # every tab
    assert sum(stop["region"] == "video" for stop in stops) >= 3, stops  # the player, then play, seek, …
    invisible = [stop for stop in stops if not stop["visible"]]
    assert invisible == [], f"フォーカスが見えない: {invisible}"


def test_on_a_phone_the_menu_opens_from_the_keyboard_and_hidden_links_take_no_focus(site: Site,
                                                                                     opened: list[Any]) -> None:
    page = open_page(site, opened, "newsletter/", width=375)
    page.wait_for_load_state("load")
    stops = []
    for _ in range(12):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(_FOCUS) | {"menu": page.evaluate(
            "document.activeElement.getAttribute('for') === '__drawer'")})
        if stops[-1]["menu"]:
            break
    assert stops[-1]["menu"] and stops[-1]["visible"], stops
    assert not any(stop["region"] == "navigation" for stop in stops), stops  # the closed menu is skipped
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    focused = page.evaluate(_FOCUS)
    assert focused["region"] == "navigation" and focused["visible"], focused
    page.keyboard.press("Escape")
    page.wait_for_timeout(400)
    assert page.evaluate("document.getElementById('__drawer').checked") is False
    assert page.evaluate("document.activeElement.getAttribute('for')") == "__drawer"


def test_japanese_text_breaks_strictly_and_never_slants(site: Site, opened: list[Any]) -> None:
    """Small kana and ー never start a line, headings break between phrases where Chromium can, and emphasis
    is upright (Japanese fonts have no italic; the browser would slant the glyphs)."""
    page = open_page(site, opened, PAGES["issue"])
    page.wait_for_load_state("load")
    styles = page.evaluate("""() => {
        const article = document.querySelector("article")
        const emphasis = article.appendChild(document.createElement("em"))
        emphasis.textContent = "強調"
        const style = element => getComputedStyle(element)
        return {paragraph: style(article.querySelector("p")).lineBreak,
                heading: style(article.querySelector("h1")).wordBreak,
                emphasis: style(emphasis).fontStyle}
    }""")
    assert styles["paragraph"] == "strict", styles
    assert styles["heading"] == "auto-phrase", styles
    assert styles["emphasis"] == "normal", styles


@pytest.mark.parametrize("feed", ["feeds/newsletter.atom", "feeds/newsletter.xml"])
def test_a_feed_opened_in_chromium_is_readable_japanese_without_xslt(site: Site, opened: list[Any], feed: str) -> None:
    """A reader who clicks a feed link sees its Japanese titles (no mojibake), and Chromium is never asked to
    run an XSLT stylesheet, which it is removing."""
    page = site.new_page()
    opened.append(page)
    response = page.goto(site.url + feed)
    assert response is not None and response.status == 200
    assert "xml" in response.headers["content-type"]
    assert b"<?xml-stylesheet" not in response.body()
    shown = page.evaluate("document.documentElement.innerText")  # Chromium's XML tree view
    assert "業務合理化便り" in shown and "Teams のチャネルとチャットを使い分ける" in shown, shown[:300]
