"""The front matter the adapter gives MkDocs for each generated page, read back the way MkDocs reads it; and the
same front matter handed to MkDocs as a value (`_as_read`), which MkDocs then no longer reads from the stub."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from mkdocs.utils.meta import get_data

from dayori.material.adapter import _UNSURE, _as_read, _stub, _stub_meta
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


PLAIN = st.recursive(st.none() | st.booleans() | st.integers() | WORDY | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(WORDY | st.text(max_size=5), inner,
                                                                                 max_size=3), max_leaves=8)


@settings(max_examples=300)
@given(WORDY | st.text(max_size=30), WORDY | st.text(max_size=30), st.dictionaries(st.text(max_size=8), PLAIN,
                                                                                  max_size=4),
       st.booleans(), st.booleans(), st.sampled_from(["", "newsletter/", "tags/"]))
def test_the_front_matter_handed_to_mkdocs_is_what_it_reads_from_the_stub(
        title: str, description: str, meta: dict[str, Any], searchable: bool, listing: bool, section: str) -> None:
    """The same values, of the same types, with every mapping's keys in the order MkDocs reads them (PyYAML
    writes them sorted), so that nothing a template or plugin does with them can differ."""
    page = Page(url="newsletter/1/", title=title, html="", description=description, meta=meta,
                searchable=searchable, listing=listing, section=section)
    markdown, read = get_data(_stub(page))
    handed = _as_read(_stub_meta(page))
    assert markdown == ""
    assert repr(handed) == repr(read)


@given(st.sampled_from([dt.date(2026, 11, 26), dt.datetime(2026, 11, 26, 9, 30), 1.5, ("a", "b"), {1: "one"},
                        b"bytes", [dt.date(2026, 1, 1)], {"nested": 0.1}]))
def test_front_matter_of_other_types_is_left_to_mkdocs_to_read(value: object) -> None:
    """A value whose way back through YAML may not be itself (a date read back as a date, a float written
    shorter, a tuple PyYAML's safe writer refuses): MkDocs reads the stub, as it did."""
    page = Page(url="newsletter/1/", title="題", html="", description="", meta={"value": value})
    assert _as_read(_stub_meta(page)) is _UNSURE
