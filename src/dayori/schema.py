"""Typed front-matter schemas for issues and episodes; each error names the key, its line and the fix."""

from __future__ import annotations

import calendar
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


DATE_EXAMPLE = "2026-12-04"
_WEEKDAYS = "月火水木金土日"
_ERAS = {"令和": (2018, dt.date(2019, 5, 1), None), "R": (2018, dt.date(2019, 5, 1), None),
         "平成": (1988, dt.date(1989, 1, 8), dt.date(2019, 4, 30)), "H": (1988, dt.date(1989, 1, 8), dt.date(2019, 4, 30))}
_DATE = re.compile(r"(?:(?P<era>令和|平成|R|H)\s*(?P<era_year>\d{1,2}|元)|(?P<year>\d{4}))\s*[-/.年]\s*"
                   r"(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
                   r"(?:\s*\((?P<weekday>[月火水木金土日])(?:曜日?)?\))?(?P<rest>.*)", re.IGNORECASE)
_TIME = re.compile(r"T?\s*\d{1,2}\s*[:時]", re.IGNORECASE)


def as_date(value: Any) -> dt.date:
    """A day, as editors type it: `2026-12-04`, also `2026/12/4`, `2026年12月4日（金）`, `令和8年12月4日` and
    full-width digits. A time is refused rather than dropped: an issue is published by the first build on its
    day, so `10:00` would promise what the build does not do."""
    if isinstance(value, dt.datetime):
        raise Invalid(_WITH_TIME)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid(_DATE_FORMS)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = _DATE.fullmatch(text)
    if match is None:
        raise Invalid(_DATE_FORMS)
    rest = match["rest"].strip()
    if rest:
        raise Invalid(_WITH_TIME if _TIME.match(rest) else _DATE_FORMS)
    year, month, day = _year(match), int(match["month"]), int(match["day"])
    if not 1900 <= year <= 2999:
        raise Invalid(f"{year}年は発行日として使えません。西暦 4 桁で書いてください（例: {DATE_EXAMPLE}）。")
    if not 1 <= month <= 12:
        raise Invalid(f"{month}月という月はありません。月は 1〜12 で書いてください（例: {DATE_EXAMPLE}）。")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise Invalid(f"{year}年{month}月{day}日という日はありません（{year}年{month}月は{last}日までです）。"
                      f"日付を確かめてください（例: {DATE_EXAMPLE}）。")
    date = dt.date(year, month, day)
    _check_era(match, date)
    weekday = match["weekday"]
    if weekday and _WEEKDAYS[date.weekday()] != weekday:
        raise Invalid(f"{year}年{month}月{day}日は{_WEEKDAYS[date.weekday()]}曜日です（{weekday}曜日と書かれています）。"
                      "日付か曜日を直してください。")
    return date


_DATE_FORMS = (f"日付は「{DATE_EXAMPLE}」のように 年-月-日 で書いてください（2026/12/4、2026年12月4日、"
               "令和8年12月4日 の形も使えます）。")
_WITH_TIME = (f"日付だけを書いてください（例: date: {DATE_EXAMPLE}）。時刻は指定できません。"
              "発行日になってから最初のビルドで公開されます。")


def _year(match: re.Match[str]) -> int:
    if match["year"]:
        return int(match["year"])
    era_year = 1 if match["era_year"] == "元" else int(match["era_year"])
    if era_year < 1:
        raise Invalid(f"{match['era']}0年はありません。元年か 1 以上の年を書いてください（例: 令和8年12月4日）。")
    return _ERAS[match["era"].upper() if len(match["era"]) == 1 else match["era"]][0] + era_year


def _check_era(match: re.Match[str], date: dt.date) -> None:
    era = match["era"]
    if not era:
        return
    _, first, last = _ERAS[era.upper() if len(era) == 1 else era]
    if date < first or (last is not None and date > last):
        raise Invalid(f"{match.group(0)} は{era}の期間にない日付です。西暦で書いてください（例: {DATE_EXAMPLE}）。")


def as_text(value: Any) -> str:
    if isinstance(value, list | dict):
        raise Invalid("一覧ではなく、1 つの文で書いてください（[ ] や { } で囲まないでください）。")
    if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip():
        raise Invalid("空でない文字列を書いてください。")
    return str(value).strip()


def as_names(value: Any) -> tuple[str, ...]:
    """Names of folders or files, compared as Unicode (NFC): a name typed on Windows and the same name
    saved on a Mac (NFD) are one name."""
    return tuple(dict.fromkeys(unicodedata.normalize("NFC", name) for name in as_text_list(value)))


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
    """Seconds, or minutes and seconds as a player shows them (`1:30`)."""
    if isinstance(value, str) and re.fullmatch(r"\d{1,3}:[0-5]\d(?:\.\d+)?", value.strip()):
        minutes, seconds = value.strip().split(":")
        return int(minutes) * 60 + float(seconds)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise Invalid("0 以上の秒数を数字で書いてください（例: 3.5。1 分 30 秒なら 90 か 1:30）。")
    return float(value)


def as_file_name(value: Any) -> str:
    text = unicodedata.normalize("NFC", as_text(value))
    if "/" in text or "\\" in text or text.startswith("."):
        raise Invalid("同じフォルダーにあるファイルの名前だけを書いてください（例: clip.mp4）。フォルダーの外は指定できません。")
    return text


@dataclass(frozen=True)
class Key:
    """`textual` keys read the value as typed (see `Document.texts`): a title `yes` is not true."""

    name: str
    convert: Convert
    required: bool
    meaning: str
    default: Any = None
    textual: bool = False


ISSUE_KEYS = (
    Key("vol", as_int, True, "号数"),
    Key("date", as_date, True, "発行日", textual=True),
    Key("title", as_text, True, "タイトル", textual=True),
    Key("summary", as_text, True, "要約（1〜2 文）", textual=True),
    Key("tags", as_text_list, True, "タグ", textual=True),
    Key("authors", as_text_list, False, "執筆者", (), textual=True),
    Key("draft", as_bool, False, "下書きかどうか", False),
    Key("videos", as_names, False, "関連する DX日記", (), textual=True),
)

EPISODE_KEYS = (
    Key("title", as_text, True, "タイトル", textual=True),
    Key("date", as_date, True, "公開日", textual=True),
    Key("clip", as_file_name, True, "動画ファイル名", textual=True),
    Key("summary", as_text, True, "要約（1〜2 文）", textual=True),
    Key("tags", as_text_list, False, "タグ", (), textual=True),
    Key("captions", as_file_name, False, "字幕ファイル名（.vtt または .srt）", textual=True),
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
            problems.add(display, document.line_of(name), f"「{name}」は不明なキーです。{_key_hint(name, known)}")
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
            values[key.name] = key.convert(document.texts.get(key.name, value) if key.textual else value)
        except Invalid as error:
            problems.add(display, document.line_of(key.name), f"「{key.name}」（{key.meaning}）の値が正しくありません。{error}")
    return values if len(problems.items) == found else None


def _key_hint(name: str, known: dict[str, Key]) -> str:
    """The key meant: the same name in half-width lower case (`Ｔｉｔｌｅ`, `Title`), or a near spelling."""
    folded = unicodedata.normalize("NFKC", name).strip().casefold()
    if folded in known:
        return f"キーは半角の小文字で「{folded}」と書いてください。"
    guess = difflib.get_close_matches(folded, known, n=1, cutoff=0.6)
    return f"「{guess[0]}」の書き間違いではありませんか？" if guess else f"使えるキーは {', '.join(known)} です。"


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []
