"""The email's frame (the template around the body) with its CSS inlined once per process, and each body
inlined alone: css-inline parsed the whole document, its 10 KB frame and stylesheet, for every issue, the
largest single cost of making the emails.

The frame is inlined with a placeholder for each value (`_shape`) and for the body; a value is then put in
its place as the inliner would have written it, which is the value itself for a plain one (`_PLAIN`: nothing
the template escapes, the parser decodes or the inliner's serializer escapes). The body is inlined in a frame
of the same ancestors (`_WRAP_BEFORE`: the same elements and classes, which is all the stylesheet's selectors
look at) and followed by what the template follows it with (`</td></tr>` and a row), so that a body the
parser lets out of its cell is seen: what came out must be exactly the wrapper's own markup around the
body's, else the document is inlined whole as before. Either way the email is the same, byte for byte. The
wrapper carries only the style rules that may match in the body (`_kept`): css-inline parses its
stylesheet on every call, and most rules are for the frame alone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import css_inline
import jinja2
from markupsafe import Markup

BODY_NAME = "body_html"
_KEYED = frozenset({"filler", "still_width", "still_height"})
"""Values the frame is inlined with as they are (constants, and numbers inside a `style` attribute, which the
inliner rewrites): each of their values is a shape of its own."""
_PLAIN = re.compile("[^&<>\"'\x00-\x1f\x7f-\x9f\xa0\ufeff\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]*")
_SLOT = re.compile(r"(dayori\d+slot)")
_BODY = "dayoribodyslot"
_AFTER_BODY = _BODY + "</td></tr>\n<tr><td"
"""What the template writes after the body, which `_WRAP_AFTER` begins with."""
_WRAP_BEFORE = ('<body class="font"><div><table class="outer"><tr><td><table class="container"><tr>'
                '<td class="content">')
_WRAP_AFTER = ('</td></tr>\n<tr><td class="dayori-after">.</td></tr></table></td></tr></table></div></body>'
               "</html>")
_HEAD_ONLY = re.compile(r"<(?:style|link)\b", re.IGNORECASE)
"""Elements that bring a stylesheet: in a body they would style the frame too."""

_KEPT_AT_MOST = 256
"""Shapes, wrappers and sets of rules a frame keeps (a build has a handful of each; a preview's process keeps
its frame for the whole session)."""

Piece = str | int
"""Text of the inlined frame, or the number of the value that goes there."""


@dataclass
class Frame:
    """One template and inliner; what it learnt of them is kept for the process (a build renders hundreds of
    issues with a handful of shapes)."""

    template: jinja2.Template
    inliner: css_inline.CSSInliner
    shapes: dict[tuple[Any, ...], tuple[list[Piece], list[Piece]] | None] = field(default_factory=dict)
    head: str | None = None
    """The frame's head, up to `<body`: the one of its first shape (its title aside, the same in every one)."""
    rules: tuple[_Rule, ...] | None = None
    """Its stylesheet's rules, when `_rules` could read it."""
    named: frozenset[str] = frozenset()
    """The classes its rules name."""
    kept: dict[frozenset[str], tuple[int, ...]] = field(default_factory=dict)
    """The rules kept for a body by the classes of `named` it has (a handful of sets in a build)."""
    wrappers: dict[tuple[int, ...] | None, tuple[str, str, str]] = field(default_factory=dict)
    """For the rules a body is inlined with (all, None), the wrapper's head and what the inliner makes of the
    wrapper before and after the body."""

    def inlined(self, values: Mapping[str, Any]) -> str:
        """`inliner.inline(template.render(values))`."""
        fast = self._fast(values)
        return fast if fast is not None else self.inliner.inline(self.template.render(values))

    def _fast(self, values: Mapping[str, Any]) -> str | None:
        body = values.get(BODY_NAME)
        if not isinstance(body, Markup) or _HEAD_ONLY.search(body):
            return None
        slots: list[str] = []
        found = _shape(values, slots)
        if found is None:
            return None
        shape, held = found
        if shape not in self.shapes:
            if len(self.shapes) >= _KEPT_AT_MOST:
                self.shapes.clear()
            self.shapes[shape] = self._inlined_frame(held)
        frame = self.shapes[shape]
        if frame is None:
            return None
        inner = self._inlined_body(str(body))
        if inner is None:
            return None
        before, after = frame
        return "".join([*_filled(before, slots), inner, *_filled(after, slots)])

    def _inlined_frame(self, held: Mapping[str, Any]) -> tuple[list[Piece], list[Piece]] | None:
        rendered = self.template.render(held)
        if rendered.count(_BODY) != 1 or _AFTER_BODY not in rendered:
            return None
        if self.head is None:
            self.head = rendered[:rendered.index("<body")]
            self.rules = _rules(self.head)
            self.named = frozenset(name for rule in self.rules or () for needs in rule.needs for name in needs)
        inlined = self.inliner.inline(rendered)
        if inlined.count(_BODY) != 1:
            return None
        before, after = _split(inlined)
        return _pieces(before), _pieces(after)

    def _inlined_body(self, body: str) -> str | None:
        kept = self._kept(body)
        if kept not in self.wrappers:
            if len(self.wrappers) >= _KEPT_AT_MOST:
                self.wrappers.clear()
            self.wrappers[kept] = self._wrapper(kept)
        head, before, after = self.wrappers[kept]
        inlined = self.inliner.inline(head + _WRAP_BEFORE + body + _WRAP_AFTER)
        if not (inlined.startswith(before) and inlined.endswith(after)
                and len(inlined) >= len(before) + len(after)):
            return None
        return inlined[len(before):len(inlined) - len(after)]

    def _kept(self, body: str) -> tuple[int, ...] | None:
        """The rules that may style an element of `body`: each that has a selector all of whose classes are
        the wrapper's or in one of the body's `class` attributes (or anything that looks like one)."""
        if self.rules is None:
            return None
        names = set(_WRAP_CLASSES)
        for found in _CLASS_ATTRIBUTE.finditer(body):
            value = found.group(found.lastindex or 1) or ""
            names.update((html.unescape(value) if "&" in value else value).lower().split())
        named = self.named.intersection(names)
        kept = self.kept.get(named)
        if kept is None:
            if len(self.kept) >= _KEPT_AT_MOST:
                self.kept.clear()
            kept = self.kept[named] = tuple(number for number, rule in enumerate(self.rules)
                                            if any(needs <= named for needs in rule.needs))
        return kept

    def _wrapper(self, kept: tuple[int, ...] | None) -> tuple[str, str, str]:
        assert self.head is not None
        if kept is None or self.rules is None:
            head = self.head
        else:
            rules = "\n".join(self.rules[number].text for number in kept)
            head = f"<!DOCTYPE html>\n<html><head><style>\n{rules}\n</style></head>\n"
        before, after = _split(self.inliner.inline(head + _WRAP_BEFORE + _BODY + _WRAP_AFTER))
        return head, before, after


@dataclass(frozen=True)
class _Rule:
    text: str
    needs: tuple[frozenset[str], ...]
    """For each of its selectors, the classes (in lower case) an element or its ancestors must have for it
    to match; none for a selector `_SIMPLE` does not describe (`:not(.x)` matches without .x)."""


def _rules(head: str) -> tuple[_Rule, ...] | None:
    """The style rules of the head's one stylesheet, without its at-rules (`@media`, never inlined), or None
    when the head or its stylesheet is not as simple as the template's (comments, strings in selectors): a
    body is then inlined with the whole head. css-inline parses the stylesheet for every body, and most of
    its rules are for the frame alone."""
    sheets = _STYLE_BLOCK.findall(_COMMENT.sub("", head))
    if len(sheets) != 1 or "/*" in sheets[0]:
        return None
    rules: list[_Rule] = []
    position, css = 0, sheets[0]
    while css[position:].strip():
        found = _CSS_RULE.match(css, position)
        if found is None:
            return None
        position = found.end()
        selectors = found.group("selectors")
        if selectors is not None:
            rules.append(_Rule(found.group(0).strip(), tuple(
                frozenset(name.lower() for name in _CLASS.findall(selector)) if _SIMPLE.fullmatch(selector.strip())
                else frozenset() for selector in selectors.split(","))))
    return tuple(rules)


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL | re.IGNORECASE)
_CSS_RULE = re.compile(r"\s*(?:@[^{};]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}|(?P<selectors>[^{}@;/\\\"']+)\{[^{}]*\})")
_SIMPLE = re.compile(r"[A-Za-z0-9_.\s-]+")
"""A selector of type and class names and descendant combinators."""
_CLASS = re.compile(r"\.([A-Za-z0-9_-]+)")
_CLASS_ATTRIBUTE = re.compile(r"""class\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*))""", re.IGNORECASE)
_WRAP_CLASSES = frozenset({"font", "outer", "container", "content"})
"""The classes of the body's ancestors in the frame and in `_WRAP_BEFORE`."""


def _shape(values: Mapping[str, Any], slots: list[str]) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """What the frame's markup depends on (every value is a placeholder in it but empty ones, which the
    template tests, and `_KEYED` ones), and `values` with those placeholders in place, numbered as the values
    that go in them are added to `slots`; None when a value is not one a placeholder can stand for."""
    shape: list[Any] = []
    held: dict[str, Any] = {}
    for name, value in values.items():
        if name == BODY_NAME:
            shape.append(name)
            held[name] = _BODY
        elif isinstance(value, list):
            items, held[name] = [], []
            for item in value:
                found = _shape(item, slots) if isinstance(item, dict) else None
                if found is None:
                    return None
                items.append(found[0])
                held[name].append(found[1])
            shape.append((name, tuple(items)))
        elif name in _KEYED or value is None or (isinstance(value, str) and not value):
            shape.append((name, type(value), value))
            held[name] = value
        elif (isinstance(value, int) and not isinstance(value, bool) and value > 0) or \
                (type(value) is str and _PLAIN.fullmatch(value)):
            shape.append(name)
            held[name] = f"dayori{len(slots)}slot"
            slots.append(str(value))
        else:
            return None
    return tuple(shape), held


def _split(inlined: str) -> tuple[str, str]:
    before, _, after = inlined.partition(_BODY)
    return before, after


def _pieces(text: str) -> list[Piece]:
    parts = _SLOT.split(text)
    return [int(part[6:-4]) if number % 2 else part for number, part in enumerate(parts)]


def _filled(pieces: list[Piece], slots: list[str]) -> list[str]:
    return [slots[piece] if isinstance(piece, int) else piece for piece in pieces]
