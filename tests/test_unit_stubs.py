"""The front matter the adapter gives MkDocs for each generated page, read back the way MkDocs reads it."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st
from mkdocs.utils.meta import get_data

from dayori.material.adapter import _stub
from dayori.model import Page

WORDY = st.text(st.sampled_from("第号会議の時短 :#-'\"&<>\\\t\n\u3000\x85\u2028\x7f\x00\ufeffAz0?*!|>%@`{}[],"), max_size=30)


@settings(max_examples=200)
@given(WORDY | st.text(max_size=30), WORDY | st.text(max_size=30), st.integers(-5, 10**6), st.dates(),
       st.booleans(), st.booleans(), st.booleans(), st.sampled_from(["", "newsletter/", "tags/"]))
def test_a_page_stub_reads_back_as_the_page_s_front_matter(title: str, description: str, vol: int, day: object,
                                                         draft: bool, searchable: bool, listing: bool,
                                                         section: str) -> None:
    """Editors' titles carry colons, quotes and `#`: MkDocs must read each exactly as written (escaped once for
    HTML). Control characters and line separators never reach a title (the front matter reports them), but a
    stub keeps them too (PyYAML's Python emitter wrote a closing U+0085 raw, read back as a space)."""
    page = Page(url="newsletter/1/", title=title, html="", description=description,
                meta={"vol": vol, "date": str(day), "draft": draft}, searchable=searchable, listing=listing,
                section=section)
    markdown, meta = get_data(_stub(page))
    expected = {"title": html.escape(title), "description": html.escape(description), "vol": vol, "date": str(day),
                "draft": draft}
    if not searchable:
        expected["search"] = {"exclude": True}
    if listing or section:
        expected["hide"] = ["navigation", "toc"] if listing else ["navigation"]
    assert markdown == ""
    assert meta == expected
