"""Captions for DX日記: editors may hand in WebVTT or SRT; the site always publishes WebVTT.

A caption file with a mistake is an editor's error, reported with its line, because a player silently drops
a cue it cannot parse and a viewer who relies on captions loses that sentence without anyone noticing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dayori.errors import Problem

_TIME = r"(?:(\d{1,3}):)?(\d{2}):(\d{2})([.,])(\d{3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s+-->\s+{_TIME}(?P<settings>\s+.*)?$")
_FONT = re.compile(r"</?font[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class _Cue:
    line: int
    start: float
    end: float
    settings: str
    text: tuple[str, ...]


def captions_to_vtt(path: Path) -> tuple[str | None, list[Problem]]:
    """The WebVTT text to publish (None when there are problems) and every problem found, with lines."""
    suffix = path.suffix.lower()
    if suffix not in (".vtt", ".srt"):
        return None, [Problem(path, None, f"字幕ファイルの形式「{path.suffix or '拡張子なし'}」には対応していません。"
                                          "WebVTT（.vtt）か SRT（.srt）で保存してください。")]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(path, None, "字幕ファイルが見つかりません。captions: に書いたファイル名と、"
                                          "フォルダー内のファイル名が同じか確かめてください。")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        return None, [Problem(path, line, "字幕ファイルの文字コードが UTF-8 ではありません（Shift_JIS などで保存され"
                                          "ています）。メモ帳などで「UTF-8」を選んで保存し直してください。")]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if suffix == ".srt":
        cues, problems = _parse(path, lines, start=0, srt=True)
    else:
        if not lines or not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
            return None, [Problem(path, 1, "WebVTT の 1 行目は「WEBVTT」で始めてください。")]
        cues, problems = _parse(path, lines, start=_after_header(lines), srt=False)
    if not problems and not cues:
        problems.append(Problem(path, None, "字幕が 1 つもありません。話している内容を字幕として書いてください。"))
    if problems:
        return None, problems
    return _render(cues), []


def _after_header(lines: list[str]) -> int:
    index = 1
    while index < len(lines) and lines[index].strip():
        index += 1
    return index


def _parse(path: Path, lines: list[str], *, start: int, srt: bool) -> tuple[list[_Cue], list[Problem]]:
    cues: list[_Cue] = []
    problems: list[Problem] = []
    for first, block in _blocks(lines, start):
        if not srt and re.match(r"^(NOTE|STYLE|REGION)(\s|$)", block[0]):
            continue
        cue = _cue(path, first, block, srt, problems)
        if cue is None:
            continue
        if cues and cue.start < cues[-1].start:
            problems.append(Problem(path, cue.line, "字幕の開始時刻が前の字幕より早くなっています。"
                                                    "時刻の順に並べてください。"))
        cues.append(cue)
    return cues, problems


def _blocks(lines: list[str], start: int) -> list[tuple[int, list[str]]]:
    """Blocks separated by blank lines, each with the 1-based line number of its first line."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for number, line in enumerate(lines[start:], start=start + 1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _cue(path: Path, first: int, block: list[str], srt: bool, problems: list[Problem]) -> _Cue | None:
    timing_at = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
    if timing_at is None:
        problems.append(Problem(path, first, "字幕の時刻の行（例: 00:00:01.000 --> 00:00:03.500）がありません。"
                                             "字幕と字幕の間には空行を 1 行だけ入れてください。"))
        return None
    line = first + timing_at
    match = _TIMING.match(block[timing_at])
    if not match:
        example = "00:00:01,000 --> 00:00:03,500" if srt else "00:00:01.000 --> 00:00:03.500"
        problems.append(Problem(path, line, f"時刻の書き方が正しくありません。「{example}」の形で書いてください。"))
        return None
    groups = match.groups()
    separators = {groups[3], groups[8]}
    if not srt and "," in separators:
        problems.append(Problem(path, line, "WebVTT では秒の小数点に「.」を使います（「,」は SRT の書き方です）。"))
        return None
    start, end = _seconds(groups[:5]), _seconds(groups[5:10])
    text = tuple(block[timing_at + 1:])
    if end <= start:
        problems.append(Problem(path, line, "字幕の終了時刻が開始時刻より後になっていません。"))
        return None
    if not text:
        problems.append(Problem(path, line, "この時刻の字幕の文が空です。文を書くか、時刻の行を消してください。"))
        return None
    if any("-->" in t for t in text):
        problems.append(Problem(path, line + 1, "字幕の文の中に「-->」は書けません。"
                                                "字幕と字幕の間に空行があるか確かめてください。"))
        return None
    return _Cue(line, start, end, (match.group("settings") or "").strip() if not srt else "", text)


def _seconds(parts: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, _, millis = parts
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0) + int(millis or 0) / 1000


def _stamp(value: float) -> str:
    millis = round(value * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _render(cues: list[_Cue]) -> str:
    """The published file holds the cues and nothing else: the header's text, NOTE blocks (editors' memos),
    STYLE and REGION blocks (which may load from other hosts) and cue identifiers stay behind, and a cue
    keeps its position settings but not a region. SRT's <font> tags have no WebVTT meaning and are dropped;
    <i>, <b>, <u> are the same in both."""
    parts = ["WEBVTT", ""]
    for cue in cues:
        settings = " ".join(s for s in cue.settings.split() if not s.startswith("region:"))
        parts.append(f"{_stamp(cue.start)} --> {_stamp(cue.end)}" + (f" {settings}" if settings else ""))
        parts.extend(_FONT.sub("", line) for line in cue.text)
        parts.append("")
    return "\n".join(parts)
