"""The email's frame (the template around the body) with its CSS inlined once per process, and each body
inlined alone: css-inline parsed the whole document, its 10 KB frame and stylesheet, for every issue, the
largest single cost of making the emails.

The frame is inlined with a placeholder for each value (`_slots`) and for the body; a value is then put in
its place as the inliner would have written it, which is the value itself for a plain one (`_PLAIN`: nothing
the template escapes, the parser decodes or the inliner's serializer escapes). The body is inlined in a frame
of the same ancestors (`_WRAP_BEFORE`: the same elements and classes, which is all the stylesheet's selectors
look at) and followed by what the template follows it with (`</td></tr>` and a row), so that a body the
parser lets out of its cell is seen: what came out must be exactly the wrapper's own markup around the
body's, else the document is inlined whole as before. Either way the email is the same, byte for byte.
"""

from __future__ import annotations

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

Piece = str | int
"""Text of the inlined frame, or the number of the value that goes there."""


@dataclass
class Frame:
    """One template and inliner; what it learnt of them is kept for the process (a build renders hundreds of
    issues with a handful of shapes)."""

    template: jinja2.Template
    inliner: css_inline.CSSInliner
    shapes: dict[tuple[Any, ...], tuple[list[Piece], list[Piece]] | None] = field(default_factory=dict)
    wrapper: tuple[str, str, str] | None = None
    """The body wrapper's head, and what the inliner makes of it before and after the body."""

    def inlined(self, values: Mapping[str, Any]) -> str:
        """`inliner.inline(template.render(values))`."""
        fast = self._fast(values)
        return fast if fast is not None else self.inliner.inline(self.template.render(values))

    def _fast(self, values: Mapping[str, Any]) -> str | None:
        body = values.get(BODY_NAME)
        if not isinstance(body, Markup) or _HEAD_ONLY.search(body):
            return None
        slots: list[str] = []
        shape = _shape(values, slots)
        if shape is None:
            return None
        if shape not in self.shapes:
            self.shapes[shape] = self._inlined_frame(values, len(slots))
        frame = self.shapes[shape]
        if frame is None:
            return None
        inner = self._inlined_body(str(body))
        if inner is None:
            return None
        before, after = frame
        return "".join([*_filled(before, slots), inner, *_filled(after, slots)])

    def _inlined_frame(self, values: Mapping[str, Any], count: int) -> tuple[list[Piece], list[Piece]] | None:
        numbered = iter(range(count))
        rendered = self.template.render(_placeheld(values, numbered))
        if rendered.count(_BODY) != 1 or _AFTER_BODY not in rendered:
            return None
        if self.wrapper is None:
            head = rendered[:rendered.index("<body")]
            before, after = _split(self.inliner.inline(head + _WRAP_BEFORE + _BODY + _WRAP_AFTER))
            self.wrapper = head, before, after
        inlined = self.inliner.inline(rendered)
        if inlined.count(_BODY) != 1:
            return None
        before, after = _split(inlined)
        return _pieces(before), _pieces(after)

    def _inlined_body(self, body: str) -> str | None:
        assert self.wrapper is not None
        head, before, after = self.wrapper
        inlined = self.inliner.inline(head + _WRAP_BEFORE + body + _WRAP_AFTER)
        if not (inlined.startswith(before) and inlined.endswith(after)
                and len(inlined) >= len(before) + len(after)):
            return None
        return inlined[len(before):len(inlined) - len(after)]


def _shape(values: Mapping[str, Any], slots: list[str]) -> tuple[Any, ...] | None:
    """What the frame's markup depends on (every value is a placeholder in it but empty ones, which the
    template tests, and `_KEYED` ones), with the values that go in its placeholders added to `slots`; None
    when a value is not one a placeholder can stand for."""
    shape: list[Any] = []
    for name, value in values.items():
        if name == BODY_NAME:
            shape.append(name)
        elif isinstance(value, list):
            items = [_shape(item, slots) if isinstance(item, dict) else None for item in value]
            if any(item is None for item in items):
                return None
            shape.append((name, tuple(items)))
        elif name in _KEYED or value is None or (isinstance(value, str) and not value):
            shape.append((name, type(value), value))
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            shape.append(name)
            slots.append(str(value))
        elif type(value) is str and _PLAIN.fullmatch(value):
            shape.append(name)
            slots.append(value)
        else:
            return None
    return tuple(shape)


def _placeheld(values: Mapping[str, Any], numbered: Any) -> dict[str, Any]:
    """`values` with the placeholders `_shape` counted in their place, in the same order."""
    held: dict[str, Any] = {}
    for name, value in values.items():
        if name == BODY_NAME:
            held[name] = _BODY
        elif isinstance(value, list):
            held[name] = [_placeheld(item, numbered) for item in value]
        elif name in _KEYED or value is None or (isinstance(value, str) and not value):
            held[name] = value
        else:
            held[name] = f"dayori{next(numbered)}slot"
    return held


def _split(inlined: str) -> tuple[str, str]:
    before, _, after = inlined.partition(_BODY)
    return before, after


def _pieces(text: str) -> list[Piece]:
    parts = _SLOT.split(text)
    return [int(part[6:-4]) if number % 2 else part for number, part in enumerate(parts)]


def _filled(pieces: list[Piece], slots: list[str]) -> list[str]:
    return [slots[piece] if isinstance(piece, int) else piece for piece in pieces]
