"""The email's HTML is searched for its pictures and for the hosted copy's links without a regular expression
that begins with `\\s` (`dayori.email.inline.quoted_values`), and the plain text's words are left as they are
without one when they have nothing to change: the results are those of the expressions, whatever the input."""

from __future__ import annotations

import functools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dayori.email.inline import InlineImage, inline_images
from dayori.email.render import _relative_links
from dayori.email.text import _SOFT_BREAK, _SPACES, inline
from dayori.urls import relative

SITE = "https://dx.example.go.jp/dayori/"
PICTURE = InlineImage("0123456789abcdef0123@dx.example.go.jp", "png", "figure.png", b"\x89PNG")
HTML = st.lists(st.sampled_from([" ", "\n", "\t", "\x1c", "\u3000", "\xa0", "src", "href", "data-src", "=", '"', "'",
                                 "x", "a", "<img ", ">", SITE, f"{SITE}media/a.png", f"{SITE}#top", "#f", 'src="',
                                 f'href="{SITE}', f' src="{SITE}media/a.png"', "日本", '="', f'="{SITE}', "r", "ef",
                                 'https://h.example/href', ' https://h.example/ ', 'src="https://h.example/href="']),
                max_size=40).map("".join)


def _links_by_expression(html: str, site: str, page: str) -> str:
    return re.sub(f'(\\s(?:src|href)=")({re.escape(site)})([^"]*)"',
                  lambda m: f'{m.group(1)}{relative(m.group(3) or "./", page)}"', html)


def _pictures_by_expression(html: str, sources: dict[str, InlineImage | None]) -> tuple[str, list[str], list[str]]:
    found: list[str] = []
    missing: list[str] = []

    def swap(match: re.Match[str]) -> str:
        url = match.group(2)
        image = sources.get(url)
        if url in sources:
            found.append(url)
        if image is None:
            if url in sources and url not in missing:
                missing.append(url)
            return match.group(0)
        return f"{match.group(1)}cid:{image.cid}{match.group(3)}"

    return re.sub(r'(\ssrc=")([^"]+)(")', swap, html), found, missing


@settings(max_examples=3000, deadline=None)
@given(html=HTML, site=st.sampled_from([SITE, "https://a.example/", 'https://q"uote.example/', "https://h.example/href",
                                        "https://h.example/ ", "h"]),
       page=st.sampled_from(["email/3/", "email/12/"]))
def test_the_hosted_copys_links_are_the_expressions(html: str, site: str, page: str) -> None:
    assert _relative_links(html, site, page) == _links_by_expression(html, site, page)


@settings(max_examples=3000, deadline=None)
@given(html=HTML)
def test_the_pictures_found_are_the_expressions(html: str) -> None:
    """Each `src` is looked up once, in order; the pictures without a part stay links, once each."""
    sources: dict[str, InlineImage | None] = {f"{SITE}media/a.png": PICTURE, "x": None, "a": PICTURE, "": PICTURE}
    asked: list[str] = []

    def make(url: str) -> InlineImage | None:
        asked.append(url)
        return sources[url]

    replaced, parts, missing = inline_images(html, {url: functools.partial(make, url) for url in sources})
    expected, found, expected_missing = _pictures_by_expression(html, sources)
    assert (replaced, asked, missing) == (expected, found, expected_missing)
    assert parts == ((PICTURE,) if any(sources[url] for url in found) else ())


@settings(max_examples=2000, deadline=None)
@given(text=st.lists(st.sampled_from([" ", "  ", "\n", "\r\n", "\t", "\u3000", "\xa0", "\x85", "\u2028", "日", "本",
                                      "a", "b", "\x0b"]), max_size=12).map("".join))
def test_the_plain_texts_words_are_the_expressions(text: str) -> None:
    """`text.inline` of a text without breaks or runs of spaces is the text itself, as the expressions make it."""
    expected = _SPACES.sub(" ", _SOFT_BREAK.sub("", text) if "\n" in text else text)
    assert inline(text) == expected
