"""The Content-Security-Policy every published page carries: the browser itself refuses anything that does not
come from the site, so that a mistake in a sanitiser cannot load from another host or run a script.

Pages carry it as `<meta http-equiv>` (a static site has no say in its headers); the guide gives the same
policy as a header for the web server. Inline scripts and `<style>` blocks are allowed one by one, by the hash
of their text, and only those the theme or the engine itself writes; `style=""` attributes are allowed
(`style-src-attr`), because Markdown writes table alignment that way and the email's hosted copy is styled
inline for Outlook: an attribute can colour and lay out, but not load anything (images and fonts have their
own directives). `data:` images are allowed because the theme draws its icons with them in its stylesheet.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable

DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("style-src-attr", "'unsafe-inline'"),
    ("img-src", "'self' data:"),
    ("media-src", "'self'"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),
    ("worker-src", "'self'"),
    ("manifest-src", "'self'"),
    ("frame-src", "'none'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
)
HEADER_ONLY = (("frame-ancestors", "'self'"),)
"""Directives a `<meta>` cannot carry (browsers ignore them there); the web server's header adds them."""

_META = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n?', re.IGNORECASE)
_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_CHARSET = re.compile(r"<meta charset=[\"']?utf-8[\"']?\s*/?>", re.IGNORECASE)
_STYLE_BLOCK = re.compile(r"<style(?:\s[^>]*)?>(.*?)</style>", re.IGNORECASE | re.DOTALL)


def source_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline script or style text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def policy(scripts: Iterable[str] = (), styles: Iterable[str] = (), *, header: bool = False) -> str:
    """The policy, allowing the inline `scripts` and `styles` given by their text.

    With `header`, the same policy as the web server's header (docs/guide.md): it cannot know each page's
    hashes, so it allows inline scripts and styles in general, and each page's `<meta>` policy, which the
    browser enforces as well, narrows them to the page's own hashes."""
    extra = {"script-src": sorted({source_hash(text) for text in scripts}),
             "style-src": sorted({source_hash(text) for text in styles})}
    if header:
        extra = {"script-src": ["'unsafe-inline'"], "style-src": ["'unsafe-inline'"]}
    directives = [*DIRECTIVES, *(HEADER_ONLY if header else ())]
    return "; ".join(" ".join([name, value, *extra.get(name, [])]) for name, value in directives)


def meta(scripts: Iterable[str] = (), styles: Iterable[str] = ()) -> str:
    return f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy(scripts, styles))}">'


def with_policy(page: str, scripts: Iterable[str] = (), styles: Iterable[str] = ()) -> str:
    """`page` with its policy first in `<head>`, after `<meta charset>` (which must stay in the first bytes),
    before anything it governs; replacing a policy it had."""
    page = _META.sub("", page)
    tag = meta(scripts, styles)
    head = _HEAD.search(page)
    if head is None:
        return page
    charset = _CHARSET.search(page, head.end())
    if charset is not None and page[head.end():charset.start()].strip():
        page = page[:charset.start()] + page[charset.end():]  # moved up, before a <style> the inliner put first
    elif charset is not None:
        return f"{page[:charset.end()]}\n{tag}{page[charset.end():]}"
    return f'{page[:head.end()]}\n<meta charset="utf-8">\n{tag}{page[head.end():]}'


def head_styles(page: str) -> list[str]:
    """The text of each `<style>` block in the page's `<head>`: the engine's own (bodies never keep one)."""
    head = page.split("</head>", 1)[0]
    return [match.group(1) for match in _STYLE_BLOCK.finditer(_without_comments(head))]


def _without_comments(text: str) -> str:
    return re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)


def allow_script(page: str, text: str) -> str:
    """`page` whose policy also allows the inline script `text` (one a preview server adds as it serves)."""
    match = _META.search(page)
    if match is None:
        return page
    content = re.search(r'content="([^"]*)"', match.group(0))
    if content is None:
        return page
    current = html.unescape(content.group(1))
    updated = current.replace("script-src 'self'", f"script-src 'self' {source_hash(text)}", 1)
    tag = f'<meta http-equiv="Content-Security-Policy" content="{html.escape(updated)}">\n'
    return page[:match.start()] + tag + page[match.end():]
