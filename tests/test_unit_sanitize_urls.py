"""`dayori.sanitize` and `dayori.urls` on their own, with Hypothesis mixing the attacks editors never mean and
the text they always write. Outputs are read back with lxml, an independent parser."""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

import lxml.html
from hypothesis import given, settings
from hypothesis import strategies as st

from dayori.sanitize import clean, clean_text, findings, for_feed
from dayori.urls import absolutize, relative

ATTACKS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>',
           '<a href=" JaVaScRiPt:alert(1)">x</a>', "<svg onload=alert(1)><circle/></svg>", "<iframe src=//evil>",
           '<div style="background:url(//evil/x.png)">x</div>', "<style>body{}</style>", '<object data="x.swf">',
           '<meta http-equiv="refresh" content="0;url=//evil">', '<a href="data:text/html,<script>1</script>">x</a>',
           "<scr<script>ipt>alert(1)</script>", '<p onclick="x()" data-md-component="source">x</p>',
           '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>', "<base href=//evil/>",
           "<!--<script>-->", "<input onfocus=alert(1) autofocus>", '<video poster="javascript:x"></video>']
FRIENDLY = ["<p>会議の時短</p>", "<b>太字</b>", '<a href="../2/">前の号</a>', "<table><tr><td>1</td></tr></table>",
            '<img src="img/a.png" alt="図">', "A&B < C", "\x0b", "全角：コロン", "<ul><li>一</li></ul>"]
html_soup = st.lists(st.sampled_from(ATTACKS + FRIENDLY) | st.text(max_size=8), max_size=8).map("".join)
LOADS = ("src", "href", "poster", "action", "formaction", "data", "background")


def elements(html: str) -> list[lxml.html.HtmlElement]:
    if not html.strip():
        return []
    return list(lxml.html.fragment_fromstring(html, create_parent="div").iter())


def unsafe(html: str) -> list[str]:
    found = []
    for element in elements(html):
        if not isinstance(element.tag, str):
            continue
        if element.tag in {"script", "iframe", "object", "embed", "style", "base", "meta", "link", "svg", "math"}:
            found.append(element.tag)
        for name, value in element.attrib.items():
            if name.startswith("on") or name.startswith("data-md-"):
                found.append(name)
            if name in LOADS and urlsplit(value.strip()).scheme.lower() not in {"", "http", "https", "mailto", "tel"}:
                found.append(f"{name}={value}")
            if name == "style" and "url(" in value.lower():
                found.append(value)
    return found


@given(html_soup)
def test_nothing_clean_lets_through_can_run_or_load_from_elsewhere(html: str) -> None:
    assert unsafe(clean(html)) == []


@given(html_soup)
def test_cleaning_twice_changes_nothing(html: str) -> None:
    once = clean(html)
    assert clean(once) == once


@given(html_soup)
def test_feed_bodies_are_clean_with_absolute_links(html: str) -> None:
    narrowed = for_feed(html, "https://dx.example.go.jp/dayori/newsletter/12/")
    assert unsafe(narrowed) == []
    for element in elements(narrowed):
        for name in ("src", "href", "poster"):
            value = element.get(name) if isinstance(element.tag, str) else None
            if value:
                assert urlsplit(value).scheme in {"http", "https", "mailto"}, value


@given(st.text())
def test_clean_text_drops_only_what_xml_forbids(text: str) -> None:
    kept = clean_text(text)
    assert all(c in "\t\n\r" or (ord(c) >= 0x20 and c != "\x7f" and not 0xD800 <= ord(c) <= 0xDFFF
                                 and c not in "\ufffe\uffff") for c in kept)
    assert [c for c in text if c in "会議\t\nＡ："] == [c for c in kept if c in "会議\t\nＡ："]


@given(st.integers(0, 20))
def test_a_script_is_reported_on_the_line_the_editor_wrote_it(before: int) -> None:
    markdown = "本文です。\n\n" * before + "<script>alert(1)</script>\n"
    html = "".join("<p>本文です。</p>\n" for _ in range(before)) + "<script>alert(1)</script>\n"
    assert [line for line, _, _ in findings(html, markdown)] == [2 * before + 1]


segment = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
site_path = st.lists(segment, max_size=4)


@given(site_path, st.booleans(), site_path)
def test_a_relative_link_leads_from_the_page_to_the_target(target: list[str], folder: bool, page: list[str]) -> None:
    wanted = "/".join(target) + ("/" if folder and target else "")
    page_url = "/".join(page) + "/" if page else ""
    link = relative(wanted, page_url)
    reached = posixpath.normpath(posixpath.join(page_url or ".", link))
    assert reached == (posixpath.normpath(wanted) if wanted else ".")
    assert link.endswith("/") == wanted.endswith("/") or link == "."


def obvious_relative(target: str, from_page: str) -> str:
    """`relative` as it was first written, with `posixpath.relpath`: the fast one must give the same answer."""
    if urlsplit(target).scheme or target.startswith(("#", "mailto:")):
        return target
    path, _, fragment = target.partition("#")
    rel = posixpath.relpath(path or ".", from_page.strip("/") or ".")
    if path.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return rel + (f"#{fragment}" if fragment else "")


odd_path = st.lists(st.sampled_from(["", ".", "..", "a", "b", "第12号", "img", "x.png", "c:d", "?q=1", "%20"]),
                    max_size=6).map("/".join)


@settings(max_examples=400)  # a microsecond each: the default ten would rarely meet a leading slash and a `..`
@given(odd_path, st.sampled_from(["", "#", "#top", "#見出し"]), odd_path)
def test_relative_links_are_those_of_relpath(path: str, fragment: str, page: str) -> None:
    """Empty, `.` and `..` steps, leading and doubled slashes, colons and fragments: every answer is the same as
    `posixpath.relpath`'s (the working directory's depth shows where `..` climbs above the site)."""
    assert relative(path + fragment, page) == obvious_relative(path + fragment, page)


@given(st.sampled_from(["https://example.com/a", "#top", "mailto:dx@example.go.jp", "tel:03"]), site_path)
def test_absolute_links_and_fragments_stay_as_written(target: str, page: list[str]) -> None:
    assert relative(target, "/".join(page) + "/") == target


@given(st.lists(st.sampled_from(['<img src="img/a.png">', '<a href="../3/">x</a>', '<a href="#top">x</a>',
                                 '<a href="https://example.com/">x</a>', "<p>本文</p>", '<video poster="p.jpg">']),
                max_size=6).map("".join))
def test_absolute_urls_are_made_once(html: str) -> None:
    base = "https://dx.example.go.jp/dayori/newsletter/12/"
    once = absolutize(html, base)
    assert absolutize(once, base) == once
    for element in elements(once):
        for name in ("src", "href", "poster"):
            value = element.get(name)
            if value:
                assert value.startswith("https://"), value
