"""The email body's tree is parsed with plain `HtmlElement`s (`dayori.email.transform._fragment`) rather than
lxml.html's form, input, select and label classes: the email, its plain text, its notices and the rules'
violations are the ones lxml.html's own `fragment_fromstring` gives, whatever the markup."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from dayori.email import rules, transform
from dayori.email.text import Footnotes, TextWriter

PAGE = "https://example.jp/dayori/newsletter/2026/12/"
_PIECES = st.sampled_from([
    "<p>", "</p>", "本文", " ", "&amp;", "<!-- メモ -->", "<?php x ?>", "<form action=\"a\">", "</form>",
    "<input type=\"checkbox\" checked>", "<input type=\"text\" value=\"v\">", "<label>ラベル</label>",
    "<select><option>一</option></select>", "<textarea>書く</textarea>", "<ul class=\"task-list\">",
    "<li class=\"task-list-item\"><label class=\"task-list-control\"><input type=\"checkbox\" checked>"
    "<span class=\"task-list-indicator\"></span></label> 済み</li>", "</ul>",
    "<div class=\"admonition note\"><p class=\"admonition-title\">注</p><p>中</p></div>", "<a href=\"../x/\">",
    "</a>", "<img src=\"p.png\" alt=\"図\">", "<table><tr><td>表</td></tr></table>", "<ruby>漢<rt>かん</rt></ruby>",
    "<video src=\"v.mp4\"></video>", "<figure><figcaption>説明</figcaption></figure>", "<pre><code>x</code></pre>",
    "<h2 id=\"h\">見出し<a class=\"headerlink\" href=\"#h\">¶</a></h2>", "<br>", "<wbr>", "<section>", "</section>",
])


def _everything(html: str) -> Any:
    body = transform.email_body(html, PAGE, {}, {})
    text = TextWriter(PAGE, Footnotes()).body(body.root)
    return body.html, body.notices, rules.violations_in(body.root), text


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_the_body_is_the_one_lxml_html_gives(html: str) -> None:
    mine = _everything(html)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transform, "_fragment", lambda text: lxml_html.fragment_fromstring(text, create_parent="div"))
        assert mine == _everything(html)
