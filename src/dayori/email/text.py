"""The plain-text part: readable on its own, with links as numbered footnotes instead of inline URLs.

Some recipients (and many spam filters) read only this part, so it carries everything the HTML does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin

from lxml.html import HtmlElement

_BLOCKS = {"p", "div", "blockquote", "dl", "table", "pre", "ul", "ol", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP = {"script", "style", "head", "title"}
_CJK = r"\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_SOFT_BREAK = re.compile(rf"(?<=[{_CJK}])\s*\n\s*(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")
RULE = "―" * 20


_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


@dataclass
class Footnotes:
    """Links of one message in order of first appearance; the same URL keeps its number."""

    urls: list[str] = field(default_factory=list)

    def number(self, url: str) -> int:
        if url not in self.urls:
            self.urls.append(url)
        return self.urls.index(url) + 1

    def render(self) -> str:
        """Addresses percent-encoded: a mail client ends a link at the first Japanese character of
        `videos/2026-12-04-会議のコツ/`."""
        return "\n".join(f"[{index}] {quote(url, safe=_URL_SAFE)}" for index, url in enumerate(self.urls, start=1))


def inline(text: str | None) -> str:
    """Markdown's soft line breaks vanish between Japanese characters and become spaces elsewhere. Most texts
    have neither breaks nor runs of spaces: printable (no white space but the ASCII space is) and without two
    spaces together, a text is its own result, which is known without the expressions."""
    if not text:
        return ""
    if text.isprintable() and "  " not in text:
        return text
    if "\n" in text:  # a soft break is a line end
        text = _SOFT_BREAK.sub("", text)
    return _SPACES.sub(" ", text)


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


@dataclass
class TextWriter:
    """Turns an email-safe body tree into text; `page_url` resolves the body's page-relative links."""

    page_url: str
    footnotes: Footnotes

    def body(self, root: HtmlElement) -> str:
        return tidy(self._children(root, 0))

    def _children(self, element: HtmlElement, depth: int) -> str:
        parts = [inline(element.text)]
        for child in element:
            if isinstance(child.tag, str):
                parts.append(self._element(child, depth))
            parts.append(inline(child.tail))
        return "".join(parts)

    def _element(self, element: HtmlElement, depth: int) -> str:
        tag = element.tag
        if tag in _SKIP:
            return ""
        if tag == "br":
            return "\n"
        if tag == "hr":
            return f"\n\n{RULE}\n\n"
        if tag == "pre":
            return "\n\n" + str(element.text_content()).strip("\n") + "\n\n"
        if tag == "img":
            alt = (element.get("alt") or "").strip()
            return f"[画像: {alt}]" if alt else "[画像]"
        if tag == "a":
            return self._link(element, depth)
        if tag in ("h1", "h2"):
            return f"\n\n■ {self._children(element, depth).strip()}\n\n"
        if tag in ("h3", "h4", "h5", "h6"):
            return f"\n\n◆ {self._children(element, depth).strip()}\n\n"
        if tag in ("ul", "ol"):
            return self._list(element, depth)
        if tag == "table":
            return self._table(element, depth)
        if tag == "blockquote":
            quoted = tidy(self._children(element, depth))
            return "\n\n" + "\n".join(f"> {line}" if line else ">" for line in quoted.split("\n")) + "\n\n"
        if tag == "dd":
            return "\n  " + self._children(element, depth).strip() + "\n"
        if tag == "dt":
            return "\n" + self._children(element, depth).strip()
        if tag in _BLOCKS:
            return "\n\n" + self._children(element, depth).strip() + "\n\n"
        return self._children(element, depth)

    def _link(self, element: HtmlElement, depth: int) -> str:
        label = self._children(element, depth).strip()
        href = (element.get("href") or "").strip()
        if "footnote-ref" in element.classes:
            return f"※{label}"
        if not href or href == "#":
            return label
        url = urljoin(self.page_url, href)
        if not label or label in (url, href):
            return f" {url} "
        return f"{label}[{self.footnotes.number(url)}]"

    def _list(self, element: HtmlElement, depth: int) -> str:
        indent = "  " * depth
        lines = []
        for number, item in enumerate((li for li in element if li.tag == "li"), start=1):
            content = tidy(self._children(item, depth + 1)).strip()
            plain = "list-style-type:none" in (item.get("style") or "")
            bullet = "" if plain else (f"{number}. " if element.tag == "ol" else "・")
            first, _, rest = content.partition("\n")
            lines.append(f"{indent}{bullet}{first}")
            lines += [f"{indent}  {line}" if line else "" for line in rest.split("\n")] if rest else []
        return "\n\n" + "\n".join(lines) + "\n\n"

    def _table(self, element: HtmlElement, depth: int) -> str:
        if "box" in element.classes:
            cells = element.xpath("./tr/td | ./tbody/tr/td")
            title = tidy(self._children(cells[0], depth)) if cells else ""
            body = "\n\n".join(tidy(self._children(cell, depth)) for cell in cells[1:])
            return f"\n\n【{title}】\n{body}\n\n"
        rows = []
        for row in element.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr"):
            cells = [" ".join(tidy(self._children(cell, depth)).split()) for cell in row if cell.tag in ("td", "th")]
            rows.append(" | ".join(cells))
        return "\n\n" + "\n".join(rows) + "\n\n"
