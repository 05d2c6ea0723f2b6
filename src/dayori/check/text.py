"""The text an editor wrote, without Markdown's marks, with the line and column of every character.

Code, URLs, link targets and HTML are not prose and are left out; `<!-- dayori: 校正オフ 規則名 -->` turns
rules off for the paragraph it stands in or the one right after it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

PLACEHOLDER = "\ufffc"
"""Stands for code, a URL or a key: not prose, but not nothing either (it separates words)."""
ALL_RULES = "*"

PARAGRAPH, LIST, TABLE, HEADING, FIELD, CAPTION = "paragraph", "list", "table", "heading", "field", "caption"

_DIRECTIVE = re.compile(r"<!--\s*dayori:\s*校正オフ(?P<names>[^>]*?)\s*-->")
_IGNORE = re.compile(r"<!--\s*校正\s*[:：]\s*無視(?P<names>[^>]*?)\s*-->")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^(#{1,6})\s+")
_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SKIPPED_LINE = re.compile(r"^\s*(?:!!!|\?\?\?|\{:|\*\[|\[\^?[^\]]+\]:\s|<)")
_INLINE = re.compile(
    r"(?=[`!\[<{*_~h+\\])"  # what every kind of mark starts with: elsewhere one test, not one per kind
    r"(?:(?P<code>`+)(?:.+?)(?P=code)"
    r"|!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]*)(?:\s+\"[^\"]*\")?\)(?:\{[^}]*\})?"
    r"|\[(?P<text>[^\]]+)\](?:\([^)]*\)|\[[^\]]*\])(?:\{[^}]*\})?"
    r"|(?P<skip>\[\^[^\]]+\]|<!--.*?-->|</?[A-Za-z][^>]*>|\{:?[^}]*\}|\*\*|__|~~)"
    r"|(?P<opaque><https?://[^>]+>|https?://[^\s)）」』、。]+|\+\+[^+\s]+(?:\+[^+\s]+)*\+\+)"
    r"|\\(?P<escaped>[\\`*_{}\[\]()#+\-.!|]))"
)


@dataclass
class Segment:
    """A paragraph, list item, table cell, heading, front matter value or caption cue, as plain text."""

    kind: str
    text: str = ""
    places: list[tuple[int, int]] = field(default_factory=list)
    off: frozenset[str] = frozenset()

    def place(self, index: int) -> tuple[int, int]:
        places = self.places
        if 0 <= index < len(places):
            return places[index]
        if not places:
            return (1, 1)
        return places[min(max(index, 0), len(places) - 1)]

    def add(self, text: str, places: list[tuple[int, int]]) -> None:
        self.text += text
        self.places += places

    def turned_off(self, rule: str) -> bool:
        return ALL_RULES in self.off or rule in self.off


@dataclass(frozen=True)
class Image:
    source: str
    line: int
    column: int


@dataclass
class Extract:
    """What one body yields: its prose, its images, its level-1 headings and the lines rules are off on."""

    segments: list[Segment] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    top_headings: list[int] = field(default_factory=list)
    off_lines: dict[int, frozenset[str]] = field(default_factory=dict)


def directive_rules(comment: str) -> frozenset[str] | None:
    match = _DIRECTIVE.search(comment)
    if match is None:
        return None
    names = frozenset(match.group("names").replace("、", " ").replace(",", " ").split())
    return names or frozenset({ALL_RULES})


def ignored_lines(lines: list[str], first: int = 1) -> dict[int, frozenset[str]]:
    """`<!-- 校正: 無視 規則名 -->` silences that rule's finding on the next line that has text (or on its own
    line, after text); without a name, every rule's. Line numbers start at `first`."""
    found: dict[int, frozenset[str]] = {}
    pending: frozenset[str] | None = None
    for number, line in enumerate(lines, start=first):
        match = _IGNORE.search(line)
        rest = _IGNORE.sub("", line).strip() if match else line.strip()
        if pending is not None and rest:
            found[number] = found.get(number, frozenset()) | pending
            pending = None
        if match:
            names = frozenset(match.group("names").replace("、", " ").replace(",", " ").split()) or frozenset({ALL_RULES})
            if rest:
                found[number] = found.get(number, frozenset()) | names
            else:
                pending = (pending or frozenset()) | names
    return found


def silenced(ignored: dict[int, frozenset[str]], line: int, rule: str) -> bool:
    names = ignored.get(line, frozenset())
    return ALL_RULES in names or rule in names


def inline(text: str, line: int, column: int, images: list[Image] | None = None) -> tuple[str, list[tuple[int, int]]]:
    """`text` (starting at `column` of `line`) without inline Markdown, and each kept character's place."""
    out: list[str] = []
    places: list[tuple[int, int]] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(text[position:match.start()])
        places += _places(line, column + position, column + match.start())
        position = match.end()
        if match.group("code") or match.group("opaque"):
            out.append(PLACEHOLDER)
            places.append((line, column + match.start()))
        elif match.group("src") is not None or match.group("alt") is not None:
            if images is not None and match.group("src"):
                images.append(Image(match.group("src"), line, column + match.start()))
            inner, inner_places = inline(match.group("alt"), line, column + match.start("alt"))
            out += inner
            places += inner_places
        elif match.group("text") is not None:
            inner, inner_places = inline(match.group("text"), line, column + match.start("text"))
            out += inner
            places += inner_places
        elif match.group("escaped"):
            out.append(match.group("escaped"))
            places.append((line, column + match.start("escaped")))
    out.append(text[position:])
    places += _places(line, column + position, column + len(text))
    return "".join(out), places


def _places(line: int, first: int, end: int) -> zip[tuple[int, int]]:
    """(line, column) of the columns `first` to `end` (excluded) of one line."""
    return zip(itertools.repeat(line, max(end - first, 0)), range(first, end), strict=True)


def markdown(body: str, first_line: int) -> Extract:
    """Segments of a Markdown body whose first line is line `first_line` of the file."""
    result = Extract()
    block = _Block()
    fence: str | None = None
    comment: list[str] | None = None
    carried: frozenset[str] = frozenset()
    for number, raw in enumerate(body.split("\n"), start=first_line):
        if fence is not None:
            fence = None if raw.strip().startswith(fence) else fence
            continue
        if comment is not None:
            comment.append(raw)
            if "-->" in raw:
                block.off |= directive_rules("\n".join(comment)) or frozenset()
                comment = None
            continue
        stripped = raw.strip()
        if not stripped:
            carried = block.finish(result, carried)
            block = _Block()
            continue
        block.lines.append(number)
        fence_match = _FENCE.match(raw)
        if fence_match:
            fence = fence_match.group(1)
            continue
        block.off |= directive_rules(raw) or frozenset()
        if stripped.startswith("<!--") and "-->" not in stripped:
            comment = [raw]
            continue
        _line(raw, number, block, result)
    block.finish(result, carried)
    return result


@dataclass
class _Block:
    """Lines between blank lines: a 校正オフ comment anywhere in it covers all of it."""

    segments: list[Segment] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    off: frozenset[str] = frozenset()

    def start(self, kind: str) -> Segment:
        self.segments.append(Segment(kind))
        return self.segments[-1]

    def current(self, kinds: tuple[str, ...]) -> Segment | None:
        return self.segments[-1] if self.segments and self.segments[-1].kind in kinds else None

    def finish(self, result: Extract, carried: frozenset[str]) -> frozenset[str]:
        """Records the block; a comment-only block hands its directive on to the next paragraph."""
        off = self.off | carried
        prose = [segment for segment in self.segments if segment.text.strip()]
        if not prose:
            return off
        for segment in prose:
            segment.off = off
        result.segments += prose
        result.off_lines.update({line: off for line in self.lines})
        return frozenset()


def _line(raw: str, number: int, block: _Block, result: Extract) -> None:
    stripped = raw.strip()
    heading = _HEADING.match(raw)
    if heading:
        if len(heading.group(1)) == 1:
            result.top_headings.append(number)
        block.start(HEADING).add(*inline(raw[heading.end():], number, heading.end() + 1, result.images))
        return
    if _TABLE_RULE.match(raw):
        return
    if stripped.startswith("|"):
        _table_row(raw, number, block, result)
        return
    if _SKIPPED_LINE.match(raw):
        return
    quote = _QUOTE.match(raw)
    offset = quote.end() if quote else 0
    item = _LIST.match(raw, offset)
    if item:
        block.start(LIST).add(*inline(raw[item.end():], number, item.end() + 1, result.images))
        return
    text_start = len(raw) - len(raw[offset:].lstrip())
    segment = block.current((PARAGRAPH, LIST)) or block.start(PARAGRAPH)
    if segment.text:
        segment.add("\n", [segment.places[-1]])
    segment.add(*inline(raw[text_start:], number, text_start + 1, result.images))


def _table_row(raw: str, number: int, block: _Block, result: Extract) -> None:
    """Each cell of a table row is its own segment (a cell is a phrase, not part of a sentence)."""
    for cell in re.finditer(r"(?<=\|)([^|]*(?:\\\|[^|]*)*)(?=\|)|(?<=\|)([^|]+)$", raw):
        text = cell.group(0)
        if not text.strip():
            continue
        lead = len(text) - len(text.lstrip())
        block.start(TABLE).add(*inline(text.strip(), number, cell.start() + lead + 1, result.images))


def captions(text: str) -> Iterator[Segment]:
    """Cue texts of a WebVTT or SubRip file, one segment per cue (numbers, times and headers left out)."""
    current: Segment | None = None
    skipping = False
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        stripped = raw.strip().lstrip("\ufeff")
        if not stripped:
            if current is not None and current.text.strip():
                yield current
            current, skipping = None, False
            continue
        if skipping or "-->" in stripped:
            continue
        if current is None and (stripped.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")) or stripped.isdigit()):
            skipping = not stripped.isdigit()
            continue
        if current is None:
            current = Segment(CAPTION)
        elif current.text:
            current.add("\n", [current.places[-1]])
        lead = len(raw) - len(raw.lstrip())
        current.add(*inline(re.sub(r"<[^>]*>", lambda m: "", raw.strip()), number, lead + 1))
    if current is not None and current.text.strip():
        yield current


def field_segment(value: str, line: int, raw_line: str) -> Segment:
    """A front matter value; its column is where it stands on its line (or the line's start)."""
    found = raw_line.find(value)
    segment = Segment(FIELD)
    segment.add(value, [(line, (max(found, 0)) + 1 + (i if found >= 0 else 0)) for i in range(len(value))])
    return segment
