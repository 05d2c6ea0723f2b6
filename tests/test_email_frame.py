"""The email's frame inlined once and each body alone (`dayori.email.frame`) give the document css-inline makes
of the whole template, byte for byte, whatever the values and the body, including bodies whose markup the
parser lets out of their cell, and values the template escapes or the parser changes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from dayori.email import frame as frame_module
from dayori.email.frame import Frame
from dayori.email.render import _PREHEADER_FILLER, _environment, _inliner


def _whole(values: dict[str, Any]) -> str:
    return _inliner().inline(_environment().get_template("issue.html").render(values))


def _frame() -> Frame:
    return Frame(_environment().get_template("issue.html"), _inliner())


def _values(body: str, *, title: str = "会議資料のコツ", summary: str = "要点を三つに", url: str = "https://example.jp/a/",
            videos: list[dict[str, Any]] | None = None, vol: int = 12) -> dict[str, Any]:
    return {"subject": f"【便り 第{vol}号】{title}", "site_name": "業務合理化便り", "vol": vol,
            "date_label": "2026年11月26日", "title": title, "summary": summary, "preheader": summary or title,
            "filler": _PREHEADER_FILLER, "body_html": Markup(body), "videos": videos or [], "issue_url": url,
            "footer": "総務課", "unsubscribe_url": "https://example.jp/stop/", "browser_url": url + "email/"}


def _video(title: str, summary: str, still: bool, height: int) -> dict[str, Any]:
    return {"title": title, "summary": summary, "url": "https://example.jp/v/", "duration": "1:05",
            "still_url": "https://example.jp/v/still.jpg" if still else None, "still_width": 600,
            "still_height": height}


ORDINARY = ('<h2 id="a">はじめに</h2><p>本文と<a href="https://example.jp/x">リンク</a>。</p>'
            '<table class="box" role="presentation"><tr><td class="box-title">メモ</td></tr>'
            '<tr><td class="box-body"><p>中身</p></td></tr></table><ul><li>一</li><li>二</li></ul>'
            '<div class="scroll"><table class="data"><tr><th>手順</th></tr><tr><td>申請</td></tr></table></div>'
            '<pre><code>print("x")</code></pre><p class="footnote">注</p>')


def test_an_ordinary_issue_takes_the_fast_way_and_is_the_same() -> None:
    frame = _frame()
    for vol, body in enumerate([ORDINARY, "<p>短い</p>", ORDINARY + "<p>続き</p>"], start=1):
        values = _values(body, vol=vol, videos=[_video("動画", "説明", True, 338)] if vol == 2 else None)
        assert frame._fast(values) is not None
        assert frame.inlined(values) == _whole(values)
    assert len(frame.shapes) == 2  # with and without a video: the frame is inlined once for each
    assert frame.rules and None not in frame.wrappers  # bodies are inlined with the rules that may style them


def test_a_frame_keeps_a_bounded_number_of_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A preview's process keeps its frame for the whole session: stills of ever new heights do not grow it."""
    monkeypatch.setattr(frame_module, "_KEPT_AT_MOST", 3)
    frame = _frame()
    for height in range(1, 9):
        values = _values(ORDINARY, videos=[_video("動画", "説明", True, height)])
        assert frame.inlined(values) == _whole(values)
        assert len(frame.shapes) <= 3


ESCAPING = ["x</td>", "x</td></tr>", "x</td></tr></tbody>", "x</td></tr></table>y", "x</table>",
            '<td class="content">y', "x</td><td>y", "<tr><td>y", "<table><tr><td>open", "<caption>c",
            '<style>.title h1 { color: red; }</style>', '<link rel="stylesheet" href="a.css">',
            '<body class="x" id="y">', '<html data-x="1">', "</body></html>tail", "<b>unclosed", "<a href=x>a<a>b",
            "<frameset></frameset>", "<template><td>t</td></template>", "<svg><style>p{}</style></svg>"]


def test_bodies_that_leave_their_cell_are_inlined_whole() -> None:
    frame = _frame()
    for body in ESCAPING:
        values = _values(body)
        assert frame.inlined(values) == _whole(values), body


_SPECIAL = st.lists(st.sampled_from([*"あ a&<>\"'\u00a0\r\n\t\x00\x0c=;/-", "&amp;", "&nbsp;", "dayori1slot",
                                  "dayoribodyslot", "<!--", "-->"]), max_size=8).map("".join)
def test_classes_written_with_entities_style_the_body_as_in_the_whole_template() -> None:
    frame = _frame()
    for body in ['<p class="b&#111;x-title">x</p>', '<p class="&#x66;ootnote">x</p>', '<p class="foot&NewLine;note">x</p>',
                 '<table class="data"><tr><td class="box-b&#x6F;dy">x</td></tr></table>', "<p class=footnote>x</p>",
                 "<p class='caption'>x</p>", '<p CLASS\n=  "footnote">x</p>', '<p\tclass="a  footnote\tb">x</p>']:
        values = _values(body)
        assert frame.inlined(values) == _whole(values), body


_TEXT = st.one_of(st.sampled_from(["", "会議の資料", "a b", "第1回", "https://example.jp/a/"]), _SPECIAL)
_PIECES = st.sampled_from(["<p>", "</p>", "<p class=\"caption\">", "<b>", "</b>", "<a href=\"h\">", "</a>",
                           "<table class=\"data\"><tr><td>", "</td></tr></table>", "<ul><li>", "</li></ul>",
                           "<div class=\"scroll\">", "</div>", "<pre><code>", "</code></pre>", "テキスト", "&amp;",
                           "<br>", "<img src=\"i.png\" width=\"10\">", "<span class=\"badge\">", "</span>",
                           "<td>", "</td>", "<tr>", "</tr>", "</table>", "<table>", "<h3>", "</h3>", "<!-- c -->",
                           "<blockquote>", "</blockquote>", "dayoribodyslot", "dayori0slot",
                           "<span class=\"b&#111;x-title\">", "<p class=\"FOOTNOTE\">", "<div class=\"footnote\">",
                           "<td class=\"box-body\">", "<p class=\"title\"><a href=\"x\">", "<p class=\"video-text\">",
                           "<table class=\"box\"><tr><td class=\"box-title\">", "<div class=\"footer\"><p>", "<p style=\"color: red\">", "<code>", "</code>"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(_PIECES, max_size=14), title=_TEXT, summary=_TEXT, url=_TEXT,
       videos=st.lists(st.tuples(_TEXT, _TEXT, st.booleans(), st.sampled_from([0, 338, 450])), max_size=2),
       vol=st.sampled_from([0, 1, 520]))
def test_any_values_and_body_give_the_document_of_the_whole_template(
        pieces: list[str], title: str, summary: str, url: str, videos: list[tuple[str, str, bool, int]],
        vol: int) -> None:
    values = _values("".join(pieces), title=title, summary=summary, url=url, vol=vol,
                     videos=[_video(*video) for video in videos])
    assert _FRAME.inlined(values) == _whole(values)


_FRAME = _frame()
"""Kept between examples, as in a build: the shapes learnt from one example serve the next ones."""
