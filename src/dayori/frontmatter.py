"""Front matter with line numbers, so that every editor error can point at the line to fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dayori.errors import Problems

FENCE = "---"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    """A Markdown file split into its front matter (with each key's line) and its body."""

    path: Path
    data: dict[str, Any]
    key_lines: dict[str, int]
    body: str
    body_line: int

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def read_document(path: Path, display: Path, problems: Problems) -> Document | None:
    """Reads `path`; problems are reported against `display` (the path as the editor knows it)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.add(display, None, "文字コードが UTF-8 ではありません。メモ帳などで「UTF-8」を選んで保存し直してください。")
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
    header = "\n".join(lines[1:end])
    try:
        node = yaml.compose(header, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.context_mark or error.problem_mark
        line = mark.line + 2 if mark else 1
        problems.add(display, line, f"front matter の YAML の書き方に誤りがあります（{error.problem}）。"
                                    "「キー: 値」の形になっているか、コロンの後に半角スペースがあるか、"
                                    "引用符やかっこが閉じているかを確かめてください。")
        return None
    if node is not None and not isinstance(node, yaml.MappingNode):
        problems.add(display, 2, "front matter は「キー: 値」の並びで書いてください。")
        return None
    data: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    for key_node, value_node in node.value if node else []:
        name = str(key_node.value)
        key_lines[name] = key_node.start_mark.line + 2
        try:
            data[name] = _LOADER("").construct_object(value_node, deep=True)
        except (ValueError, yaml.YAMLError):
            problems.add(display, key_lines[name], f"「{name}」の値を読み取れません。"
                                                   "日付なら YYYY-MM-DD の形式で、実在する日付を書いてください。")
            return None
    body = "\n".join(lines[end + 1:])
    return Document(path, data, key_lines, body, end + 2)
