"""Front matter with line numbers, so that every editor error can point at the line to fix.

Editors write front matter in Word, Excel and IME habits (full-width colons, tabs, `: ` inside a title, control
characters pasted from Word). YAML's own messages are English and point at the wrong place, so the usual mistakes
are recognised first and explained in Japanese with the fix. A file whose front matter cannot be read still
returns its body (`Document.broken`), so its body's mistakes are reported in the same run.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dayori.errors import Problems

FENCE = "---"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

INVALID = object()
"""The value of a key that was reported as unreadable; the schema neither converts it nor calls it missing."""

MAX_DEPTH = 5
"""Front matter holds values and lists of values; anything nested deeper is a mistake, and YAML's own reading
of a thousand nested brackets ends in Python's recursion limit."""
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_NUMBERS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})

_ALLOWED_CONTROLS = frozenset("\t\n")
_CONTROL_NAMES = {"\x00": "NUL", "\x0b": "垂直タブ", "\x0c": "改ページ", "\x1b": "ESC", "\x7f": "DEL",
                  "\x85": "NEL", "\u2028": "行区切り", "\u2029": "段落区切り", "\ufeff": "BOM"}
_KEY = r"^(?P<indent>[ \t]*)(?P<key>[A-Za-z_][\w-]*)"
_FULL_WIDTH_COLON = re.compile(_KEY + r"[ 　]*：")
_NO_SPACE_AFTER_COLON = re.compile(_KEY + r":(?=[^\s])")
_VALUE = re.compile(_KEY + r":[ \t]+(?P<value>.*)$")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\\U0000[dD][89a-fA-F][0-9a-fA-F]{2}")


@dataclass(frozen=True)
class Document:
    """A Markdown file split into its front matter (with each key's line) and its body.

    `broken` is true when the front matter could not be read at all (already reported): `data` is then empty,
    but the body can still be checked."""

    path: Path
    data: dict[str, Any]
    key_lines: dict[str, int]
    body: str
    body_line: int
    header: str = ""
    broken: bool = False
    texts: dict[str, Any] = field(default_factory=dict)
    """Each key's value as the editor typed it (a list's items each as typed): `title: yes` is the text
    "yes" to a title, though YAML reads it as true, and `date: 2026-02-30` is a date to explain, not an error
    of YAML's."""

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def read_document(path: Path, display: Path, problems: Problems) -> Document | None:
    """Reads `path`; problems are reported against `display` (the path as the editor knows it).

    None only when there is no front matter to separate from a body (no fences, not UTF-8)."""
    return parse_document(path, path.read_bytes(), display, problems)


def parse_document(path: Path, raw: bytes, display: Path, problems: Problems) -> Document | None:
    """`read_document` on bytes already read (`path` is where they came from)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        problems.add(display, line, "文字コードが UTF-8 ではありません。メモ帳などで「UTF-8」を選んで保存し直してください。")
        return None
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        problems.add(display, 1, "1 行目に front matter の開始行「---」がありません。ファイルの先頭に「---」を書き、"
                                 "その下に vol や title などを書いて、もう一度「---」で閉じてください。")
        return None
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == FENCE)
    except StopIteration:
        problems.add(display, 1, "front matter の終わりを示す「---」の行がありません。設定の最後の行の次に「---」だけの行を書いてください。")
        return None
    header_lines = [_without_controls(line, number, display, problems) for number, line in enumerate(lines[1:end], 2)]
    header = "\n".join(header_lines)
    body = "\n".join(lines[end + 1:])
    broken = Document(path, {}, {}, body, end + 2, header, broken=True)
    try:
        node = yaml.compose(header, Loader=_LOADER)
    except yaml.YAMLError as error:
        _report_yaml_error(error, header_lines, display, problems)
        return broken
    if node is not None and not isinstance(node, yaml.MappingNode):
        hints = _common_mistakes(header_lines)
        if hints:
            for line, message in hints:
                problems.add(display, line, message)
        else:
            problems.add(display, 2, "front matter は「キー: 値」の並びで書いてください（例: title: 題名）。")
        return broken
    data: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    texts: dict[str, Any] = {}
    for key_node, value_node in node.value if node else []:
        line = key_node.start_mark.line + 2
        if not isinstance(key_node, yaml.ScalarNode):
            problems.add(display, line, "キーは「title」のような名前だけを書いてください（例: title: 題名）。")
            continue
        name = str(key_node.value)
        if name in key_lines:
            problems.add(display, line, f"「{name}」が {key_lines[name]} 行目と {line} 行目の 2 か所に書かれています。"
                                        "どちらを使うか決めて、もう一方の行を消してください。")
            data[name] = INVALID
            continue
        key_lines[name] = line
        shape = _shape_problem(value_node)
        if shape is not None:
            problems.add(display, line, f"「{name}」の値{shape}")
            data[name] = INVALID
            continue
        data[name] = _value(name, value_node, line, display, problems)
        texts[name] = _typed(value_node, data[name])
    return Document(path, data, key_lines, body, end + 2, header, texts=texts)


def _shape_problem(node: yaml.Node) -> str | None:
    """Why a value's shape cannot be front matter: an alias (`*name`, which also lets a few lines expand into
    millions of items) or nesting deeper than any key needs; walked without recursion."""
    seen: set[int] = set()
    pending = [(node, 1)]
    while pending:
        current, depth = pending.pop()
        if id(current) in seen:
            return "に YAML の別名（* で始まる参照）があります。front matter では使えません。値をそのまま書いてください。"
        seen.add(id(current))
        if depth > MAX_DEPTH:
            return "の入れ子が深すぎます。1 つの値か、[Teams, Outlook] のような一覧で書いてください。"
        if isinstance(current, yaml.SequenceNode):
            pending += [(child, depth + 1) for child in current.value]
        elif isinstance(current, yaml.MappingNode):
            pending += [(child, depth + 1) for pair in current.value for child in pair]
    return None


def _typed(node: yaml.Node, value: Any) -> Any:
    """The value as typed: a scalar's text, a list of its items' texts (other items as read)."""
    if value is INVALID:
        return INVALID
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        return [child.value if isinstance(child, yaml.ScalarNode) else item
                for child, item in zip(node.value, value, strict=True)]
    return value


def _value(name: str, node: yaml.Node, line: int, display: Path, problems: Problems) -> Any:
    """The key's value; INVALID after reporting one that cannot be used."""
    if isinstance(node, yaml.ScalarNode) and not node.style and _LEADING_ZERO.fullmatch(node.value):
        # YAML 1.1 reads `027` as octal 23; an editor writing vol: 027 means 27.
        return int(node.value.replace("_", ""), 10)
    if isinstance(node, yaml.ScalarNode) and node.tag in _NUMBERS and ":" in node.value:
        return node.value  # YAML 1.1 reads `12:30` as 750 (base 60); the editor meant the text
    try:
        value = _LOADER("").construct_object(node, deep=True)
    except ValueError:
        if isinstance(node, yaml.ScalarNode) and node.tag == _TIMESTAMP:
            return node.value  # `2026-02-30`: the schema explains what is wrong with the date
        problems.add(display, line, f"「{name}」の値を読み取れません。日付なら YYYY-MM-DD の形式で、実在する日付を書いてください。")
        return INVALID
    except yaml.YAMLError:
        problems.add(display, line, f"「{name}」の値を読み取れません。「!」で始まる YAML の型の指定は使えません。"
                                    f"値全体を引用符で囲んでください（例: {name}: \"値\"）。")
        return INVALID
    hidden = _hidden_character(value)
    if hidden is not None:
        problems.add(display, line, f"「{name}」の値に見えない制御文字（{hidden}）が入っています。"
                                    "Word などからの貼り付けで入ることがあります。値を打ち直してください。")
        return INVALID
    return value


def _without_controls(line: str, number: int, display: Path, problems: Problems) -> str:
    """The line without invisible control characters, each reported: YAML would stop at the first one with
    an English traceback and hide every other problem."""
    if not _HIDDEN.search(line):  # almost every line: one scan in C instead of a call per character
        return line
    found = [c for c in line if _is_hidden(c)]
    names = "、".join(dict.fromkeys(_describe(c) for c in found))
    problems.add(display, number, f"見えない制御文字（{names}）が入っています。Word などからの貼り付けで入ることがあります。"
                                  "この行を消して、キーボードで打ち直してください。")
    return "".join(c for c in line if not _is_hidden(c))


_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\ufeff]")
"""The characters `_is_hidden` finds (Cc is U+0000–U+001F and U+007F–U+009F, Cs the surrogates)."""


def _is_hidden(char: str) -> bool:
    category = unicodedata.category(char)
    return (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs" or char in "\u2028\u2029\ufeff"


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    name = _CONTROL_NAMES.get(char)
    return f"{name} {code}" if name else code


def _hidden_character(value: Any) -> str | None:
    """A control character or lone surrogate that came in through a YAML escape (`"\\x0b"`, `"\\ud800"`)."""
    if isinstance(value, str):
        return next((_describe(c) for c in value if _is_hidden(c)), None)
    if isinstance(value, list):
        return next((found for item in value if (found := _hidden_character(item)) is not None), None)
    if isinstance(value, dict):
        return next((found for item in value.values() if (found := _hidden_character(item)) is not None), None)
    return None


def _report_yaml_error(error: yaml.YAMLError, lines: list[str], display: Path, problems: Problems) -> None:
    hints = _common_mistakes(lines)
    if hints:
        for line, message in hints:
            problems.add(display, line, message)
        return
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 2 if mark is not None else 2
    problems.add(display, line, "front matter の YAML の書き方に誤りがあります。この行とその前の行が「キー: 値」の形か"
                                "（コロンは半角で、後ろに半角スペース）、引用符やかっこが閉じているかを確かめてください。")


def _common_mistakes(lines: list[str]) -> list[tuple[int, str]]:
    """The usual ways front matter goes wrong, each with its line (file line numbers) and the fix."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=2):
        message = _mistake(line)
        if message is not None:
            found.append((number, message))
    return found


def _mistake(line: str) -> str | None:
    if line.strip() == "" or line.lstrip().startswith("#"):
        return None
    if "\t" in line[:len(line) - len(line.lstrip())]:
        return "行頭にタブ文字があります。字下げにタブは使えません。タブを消して半角スペースで字下げしてください。"
    match = _FULL_WIDTH_COLON.match(line)
    if match:
        key = match["key"]
        return f"「{key}」の後のコロンが全角の「：」です。半角の「:」に直し、後ろに半角スペースを入れてください（例: {key}: 値）。"
    match = _NO_SPACE_AFTER_COLON.match(line)
    if match and not match["indent"]:
        key = match["key"]
        return f"「{key}:」の後に半角スペースがありません。コロンの後に半角スペースを入れてください（例: {key}: 値）。"
    match = _VALUE.match(line)
    if match is None:
        return None
    key, value = match["key"], match["value"].rstrip()
    if not value:
        return None
    surrogate = _SURROGATE_ESCAPE.search(value)
    if surrogate:
        return (f"「{key}」の値に見えない制御文字（壊れた文字 {surrogate.group()}）の表記があります。"
                "コピー元で文字が壊れています。その部分を打ち直してください。")
    if value[:1] in "\"'" and (len(value) < 2 or value[-1] != value[0]):
        return (f"「{key}」の値の引用符 {value[0]} が閉じていません。値の最後にも {value[0]} を付けて、"
                "同じ行の中で閉じてください。")
    if value[:1] in "*&!@`%":
        return (f"「{key}」の値が「{value[0]}」で始まっています。YAML ではこの記号で値を始められないので、"
                f"値全体を引用符で囲んでください（例: {key}: \"{value}\"）。")
    closing = {"[": "]", "{": "}"}.get(value[:1])
    if closing and not value.endswith(closing):
        return f"「{key}」の値のかっこ「{value[0]}」が閉じていません。同じ行の最後に「{closing}」を付けてください。"
    if value[:1] not in "\"'[{|>" and (": " in value or value.endswith(":")):
        return (f"「{key}」の値の中に「: 」があります。値全体を引用符で囲んでください"
                f"（例: {key}: \"{value}\"）。")
    return None
