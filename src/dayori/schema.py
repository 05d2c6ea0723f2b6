"""Typed front-matter schemas for issues and episodes; each error names the key, its line and the fix."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dayori.errors import Problems
from dayori.frontmatter import INVALID, Document

Convert = Callable[[Any], Any]


class Invalid(ValueError):
    """A value that cannot be used; the message says in Japanese what to write instead."""


MAX_NUMBER = 999_999
"""Issue numbers are weekly; anything longer than six digits is a typo, and would break file names and mail."""


def as_int(value: Any) -> int:
    if isinstance(value, str) and unicodedata.normalize("NFKC", value).strip().isdecimal():
        raise Invalid(f"数字は半角で書いてください（例: {unicodedata.normalize('NFKC', value).strip()}）。"
                      "全角の数字は使えません。")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("1 以上の整数を半角数字で書いてください（例: 12）。")
    if value > MAX_NUMBER:
        raise Invalid(f"号数が大きすぎます（{MAX_NUMBER} まで）。桁を打ち間違えていないか確かめてください。")
    return value


def as_date(value: Any) -> dt.date:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise Invalid("日付は YYYY-MM-DD の形式で、実在する日付を書いてください（例: 2026-11-27）。")
    return value


def as_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip():
        raise Invalid("空でない文字列を書いてください。")
    return str(value).strip()


def as_text_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
        raise Invalid("[Teams, Outlook] のように、かっこの中にカンマ区切りで書いてください。")
    return tuple(dict.fromkeys(str(v).strip() for v in value))


def as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("true か false で書いてください。")
    return value


def as_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise Invalid("0 以上の秒数を数字で書いてください（例: 3.5）。")
    return float(value)


def as_file_name(value: Any) -> str:
    text = as_text(value)
    if "/" in text or "\\" in text or text.startswith("."):
        raise Invalid("同じフォルダーにあるファイルの名前だけを書いてください（例: clip.mp4）。フォルダーの外は指定できません。")
    return text


@dataclass(frozen=True)
class Key:
    name: str
    convert: Convert
    required: bool
    meaning: str
    default: Any = None


ISSUE_KEYS = (
    Key("vol", as_int, True, "号数"),
    Key("date", as_date, True, "発行日"),
    Key("title", as_text, True, "タイトル"),
    Key("summary", as_text, True, "要約（1〜2 文）"),
    Key("tags", as_text_list, True, "タグ"),
    Key("authors", as_text_list, False, "執筆者", ()),
    Key("draft", as_bool, False, "下書きかどうか", False),
    Key("videos", as_text_list, False, "関連する DX日記", ()),
)

EPISODE_KEYS = (
    Key("title", as_text, True, "タイトル"),
    Key("date", as_date, True, "公開日"),
    Key("clip", as_file_name, True, "動画ファイル名"),
    Key("summary", as_text, True, "要約（1〜2 文）"),
    Key("tags", as_text_list, False, "タグ", ()),
    Key("captions", as_file_name, False, "字幕ファイル名（.vtt または .srt）"),
    Key("poster_at", as_seconds, False, "サムネイルにする位置（秒）"),
    Key("draft", as_bool, False, "下書きかどうか", False),
    Key("newsletter", as_int, False, "関連する業務合理化便りの号数"),
)


def validate(document: Document, keys: tuple[Key, ...], display: Path, problems: Problems) -> dict[str, Any] | None:
    """Every key converted, or None after reporting every missing, unknown or malformed key."""
    known = {key.name: key for key in keys}
    found = len(problems.items)
    for name in document.data:
        if name not in known:
            guess = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"「{guess[0]}」の書き間違いではありませんか？" if guess else f"使えるキーは {', '.join(known)} です。"
            problems.add(display, document.line_of(name), f"「{name}」は不明なキーです。{hint}")
    values: dict[str, Any] = {}
    for key in keys:
        value = document.data.get(key.name)
        if value is INVALID:
            values[key.name] = key.default
            continue
        if key.name in document.data and _empty(value):
            if key.required:
                problems.add(display, document.line_of(key.name),
                             f"「{key.name}」（{key.meaning}）の値が空です。「{key.name}:」の後に半角スペースと値を書いてください。")
            values[key.name] = key.default
            continue
        if key.name not in document.data:
            if key.required:
                problems.add(display, 2, f"必須のキー「{key.name}」（{key.meaning}）がありません。front matter に追加してください。")
            values[key.name] = key.default
            continue
        try:
            values[key.name] = key.convert(document.data[key.name])
        except Invalid as error:
            problems.add(display, document.line_of(key.name), f"「{key.name}」（{key.meaning}）の値が正しくありません。{error}")
    return values if len(problems.items) == found else None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []
