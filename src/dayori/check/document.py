"""One file's analysis (an issue, or an episode with its captions): what the cache keeps per body.

Findings are kept with every rule on; which rules count and how strongly is decided at report time, so
changing a rule's setting does not analyse anything again."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dayori.check.analyzer import Analyzer
from dayori.check.base import Analysed, Context, Hit
from dayori.check.rules import document_hits, raw_hits, segment_hits
from dayori.check.tables import STYLE_STOPWORDS
from dayori.check.text import (
    ALL_RULES,
    Extract,
    Segment,
    captions,
    field_segment,
    ignored_lines,
    markdown,
    silenced,
)
from dayori.config import LimitSettings
from dayori.errors import Problems
from dayori.frontmatter import parse_document
from dayori.limits import nesting, nesting_too_deep
from dayori.paths import find_entry
from dayori.scaffold import TEMPLATE

TEXT_FIELDS = ("title", "summary")
HEADING_MESSAGE = "本文に「# 」の見出しは使えません（号のタイトルが「# 」の見出しになります）。"
_KANJI = re.compile("[\u3005\u4e00-\u9fff]")
_KATAKANA_WORD = re.compile("[\u30a1-\u30fa\u30fc]+")


class Words:
    """`Record.words` as four columns rather than a list per word: a first check keeps every body's words until
    the last body is read (90,000 for 520 issues), for the archive's 表記ゆれ count. Iterates as rows."""

    __slots__ = ("columns", "keys", "lines", "spellings")

    def __init__(self, rows: Iterable[Sequence[Any]] = ()) -> None:
        self.keys: list[str] = []
        self.spellings: list[str] = []
        self.lines = array("q")
        self.columns = array("q")
        for key, spelling, line, column in rows:
            self.append(key, spelling, line, column)

    def append(self, key: str, spelling: str, line: int, column: int) -> None:
        self.keys.append(key)
        self.spellings.append(spelling)
        self.lines.append(line)
        self.columns.append(column)

    def __iter__(self) -> Iterator[tuple[str, str, int, int]]:
        return zip(self.keys, self.spellings, self.lines, self.columns, strict=True)

    def __len__(self) -> int:
        return len(self.keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Words) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Words({self.rows()!r})"

    def rows(self) -> list[list[Any]]:
        return [list(row) for row in self]


@dataclass
class Record:
    """What one file yields, as JSON-able lists: findings `[line, column, rule, message, suggestion]`,
    words `[normalised, spelling, line, column]` for 表記ゆれ, tags `[tag, key, line, column]` and images
    `[source, line, column]`. A caption's finding has a sixth item, its file's name (beside index.md)."""

    findings: list[list[Any]] = field(default_factory=list)
    words: Words | list[list[Any]] = field(default_factory=Words)
    """Rows as `Words` once made (a list of rows is taken too: the cache's JSON)."""
    tags: list[list[Any]] = field(default_factory=list)
    images: list[list[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.words, Words):
            self.words = Words(self.words)

    def as_dict(self) -> dict[str, list[list[Any]]]:
        words = self.words.rows() if isinstance(self.words, Words) else self.words
        return {"findings": self.findings, "words": words, "tags": self.tags, "images": self.images}

    def to_json(self) -> bytes:
        """What the cache stores (read back with `Record(**json.loads(...))`); the words' rows go to JSON as
        tuples (the same text as lists), not copied into a list each."""
        words = list(self.words) if isinstance(self.words, Words) else self.words
        return json.dumps({"findings": self.findings, "words": words, "tags": self.tags, "images": self.images},
                          ensure_ascii=False).encode("utf-8")

    def add(self, segment: Segment, hit: Hit) -> None:
        if not segment.turned_off(hit.rule):
            self.findings.append([*segment.place(hit.start), hit.rule, hit.message, hit.suggestion])


def analyse(path: Path, context: Context) -> Record:
    """Reads and checks one Markdown file; a file that cannot be read yields one finding saying why."""
    record = Record()
    problems = Problems()
    raw_bytes = path.read_bytes()
    document = parse_document(path, raw_bytes, path, problems)
    if document is None:
        for problem in problems.items:
            record.findings.append([problem.line or 1, 1, "ファイル", problem.message, ""])
        return record
    deepest = nesting(document.body)
    if deepest.depth > context.max_nesting:
        too_deep = nesting_too_deep(deepest, LimitSettings(nesting=context.max_nesting))
        record.findings.append([document.body_line + deepest.line - 1, 1, "ファイル", str(too_deep), ""])
        return record
    raw = raw_bytes.decode("utf-8-sig").replace("\r\n", "\n")
    raw_lines = raw.split("\n")
    extract = markdown(document.body, document.body_line)
    segments = [*_fields(document.data, document.key_lines, raw_lines), *extract.segments]
    captions_file = _captions_file(path, document.data, context.max_caption_bytes)
    caption_segments = list(captions(captions_file.read_text(encoding="utf-8-sig", errors="replace"))) \
        if captions_file else []
    every = [*segments, *caption_segments]
    every_tokens = context.analyzer.tokens_of([segment.text for segment in every])
    analysed = list(zip(segments, every_tokens[:len(segments)], strict=True))
    caption_analysed = list(zip(caption_segments, every_tokens[len(segments):], strict=True))
    for segment, tokens in analysed:
        for hit in segment_hits(segment, tokens, context):
            record.add(segment, hit)
    for segment, hit in document_hits(analysed, context):
        record.add(segment, hit)
    _raw_findings(record, raw_lines, extract)
    _template_findings(record, document.data, document.key_lines, raw_lines, document.body_line)
    for line in extract.top_headings:
        if not _off(extract, line, "見出し"):
            record.findings.append([line, 1, "見出し", HEADING_MESSAGE, "「## 」から始める"])
    record.words = _words(analysed, context.analyzer)
    record.tags = _tags(document.data, document.key_lines, raw_lines, context.analyzer)
    record.images = [[image.source, image.line, image.column] for image in extract.images]
    if captions_file is not None:
        record.findings += [[*f, captions_file.name] for f in _caption_findings(captions_file, caption_analysed, context)]
    return _without_silenced(record, ignored_lines(raw_lines))


def _without_silenced(record: Record, ignored: dict[int, frozenset[str]]) -> Record:
    """Findings an editor silenced with `<!-- 校正: 無視 規則名 -->` are not kept (captions have their own lines)."""
    if ignored:
        record.findings = [f for f in record.findings if len(f) > 5 or not silenced(ignored, f[0], f[2])]
    return record


def analyse_prose(segments: list[Segment], lines: list[str], context: Context) -> Record:
    """A document that is prose only (a Word file's paragraphs, a text file's lines): the same sentence and
    document rules as an issue; `lines` are its paragraphs or lines, numbered from 1, for the raw checks."""
    record = Record()
    analysed = list(zip(segments, context.analyzer.tokens_of([s.text for s in segments]), strict=True))
    for segment, tokens in analysed:
        for hit in segment_hits(segment, tokens, context):
            record.add(segment, hit)
    for segment, hit in document_hits(analysed, context):
        record.add(segment, hit)
    for number, line in enumerate(lines, start=1):
        for column, rule, message, suggestion in raw_hits(line):
            record.findings.append([number, column, rule, message, suggestion])
    return _without_silenced(record, ignored_lines(lines))


def _off(extract: Extract, line: int, rule: str) -> bool:
    off = extract.off_lines.get(line, frozenset())
    return ALL_RULES in off or rule in off


def _fields(data: dict[str, Any], key_lines: dict[str, int], raw_lines: list[str]) -> list[Segment]:
    segments = []
    for name in TEXT_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and name in key_lines:
            line = key_lines[name]
            segments.append(field_segment(value, line, raw_lines[line - 1] if line <= len(raw_lines) else ""))
    return segments


def _captions_file(path: Path, data: dict[str, Any], max_bytes: int) -> Path | None:
    """The captions to check with the episode; none beyond the limit on size, which the build refuses."""
    name = data.get("captions")
    if not isinstance(name, str) or not name:
        return None
    candidate = find_entry(path.parent, name)
    if candidate is None or not candidate.is_file() or candidate.suffix.lower() not in (".vtt", ".srt"):
        return None
    return candidate if candidate.stat().st_size <= max_bytes else None


def _caption_findings(captions_file: Path, analysed: list[Analysed], context: Context) -> list[list[Any]]:
    """Caption findings carry their own file's name: they are reported against the .vtt/.srt, not index.md."""
    record = Record()
    for segment, tokens in analysed:
        for hit in segment_hits(segment, tokens, context):
            record.add(segment, hit)
    for number, line in enumerate(captions_file.read_text(encoding="utf-8", errors="replace").split("\n"), 1):
        for column, rule, message, suggestion in raw_hits(line.lstrip("\ufeff") if number == 1 else line):
            record.findings.append([number, column, rule, message, suggestion])
    return record.findings


def _raw_findings(record: Record, raw_lines: list[str], extract: Extract) -> None:
    for number, line in enumerate(raw_lines, start=1):
        for column, rule, message, suggestion in raw_hits(line):
            if not _off(extract, number, rule):
                record.findings.append([number, column, rule, message, suggestion])


def _template() -> tuple[dict[str, Any], list[str]]:
    """What `make new-issue` writes and an editor must replace: its front matter values and body sentences."""
    _, header, body = TEMPLATE.split("---", 2)
    values = yaml.safe_load(header.format(vol=1, date="2000-01-01"))
    phrases = []
    for line in body.split("\n"):
        text = re.sub(r"^\s*(?:\d+\.|[-*])\s+", "", line).strip()
        if not text or text.startswith(("#", "<!--", "| ---")):
            continue
        for part in re.split(r"(?<=。)|\|", text):
            part = part.strip()
            if len(part) >= 5 and "`" not in part:
                phrases.append(part)
    return values, phrases


_TEMPLATE_VALUES, _TEMPLATE_PHRASES = _template()
_PLACEHOLDER_TAG = re.compile(r"^(?:タグ|tag|TAG)\s*[0-9０-９]+$")


def _template_findings(record: Record, data: dict[str, Any], key_lines: dict[str, int], raw_lines: list[str],
                       body_line: int) -> None:
    def add(line: int, needle: str, message: str, suggestion: str) -> None:
        raw = raw_lines[line - 1] if 0 < line <= len(raw_lines) else ""
        record.findings.append([line, max(raw.find(needle), 0) + 1, "ひな形", message, suggestion])

    for name in ("title", "summary"):
        if name in key_lines and data.get(name) == _TEMPLATE_VALUES[name]:
            add(key_lines[name], str(data[name]), f"{name} がひな形の文のままです。", "この号の内容に書き換える")
    for name in ("tags", "authors"):
        values = data.get(name) if isinstance(data.get(name), list) else []
        for value in values or []:
            if isinstance(value, str) and (value in _TEMPLATE_VALUES[name] or _PLACEHOLDER_TAG.match(value)):
                add(key_lines.get(name, 1), value, f"{name} の「{value}」はひな形の仮の値です。",
                    "タグ一覧から選ぶ" if name == "tags" else "執筆者の名前を書く")
    for number, line in enumerate(raw_lines[body_line - 1:], start=body_line):
        for phrase in _TEMPLATE_PHRASES:
            if phrase in line and not line.lstrip().startswith("<!--"):
                add(number, phrase, f"ひな形の文「{phrase}」が残っています。", "本文に書き換えるか消す")


def _words(analysed: list[Analysed], analyzer: Analyzer) -> Words:
    """Nouns and verbs whose spelling may vary (サーバ／サーバー, 問合せ／問い合わせ), for the archive's count;
    a word is its normalised form and its reading, so 使える is not counted as a spelling of 使う."""
    words = Words()
    keys, spellings, lines, columns = words.keys, words.spellings, words.lines, words.columns
    for segment, tokens in analysed:
        if segment.turned_off("表記ゆれ"):
            continue
        places = segment.places
        for token in tokens:
            kind = token.kind
            if (kind != "名詞" and kind != "動詞") or not _variable(kind, token.pos[1], token.lemma, token.normalized):
                continue
            reading = ""
            if kind == "動詞":
                reading = analyzer.lemma_reading(token)
                if not reading:
                    continue
            keys.append(sys.intern(f"{token.normalized}/{reading}"))
            begin = token.begin
            line, column = places[begin] if 0 <= begin < len(places) else segment.place(begin)
            spellings.append(token.lemma)
            lines.append(line)
            columns.append(column)
    return words


@lru_cache(maxsize=65_536)
def _variable(kind: str, subkind: str, lemma: str, normalized: str) -> bool:
    """Whether a word's spelling counts for 表記ゆれ (asked once per word: words recur in every issue)."""
    if kind not in ("名詞", "動詞") or subkind == "数詞" or len(lemma) < 2:
        return False
    if normalized in STYLE_STOPWORDS or lemma.isascii() or not lemma.isprintable():
        return False
    if unicodedata.normalize("NFKC", lemma) != lemma:
        return False
    return bool(_KANJI.search(lemma)) or bool(_KATAKANA_WORD.fullmatch(lemma))


def tag_key(tag: str, analyzer: Analyzer) -> str:
    """Tags that differ only in width, case, long vowels or okurigana share a key (テレワーク／テレワ－ク)."""
    folded = unicodedata.normalize("NFKC", tag).lower()
    folded = re.sub(r"(?<=[\u30a1-\u30fa])[-‐−―—一](?=[\u30a1-\u30fa])", "ー", folded)
    key = "".join(t.normalized for t in analyzer.tokens(folded)) if not folded.isascii() else folded
    return re.sub(r"[\s・\-_ー]", "", key)


def _tags(data: dict[str, Any], key_lines: dict[str, int], raw_lines: list[str], analyzer: Analyzer) -> list[list[Any]]:
    tags = data.get("tags")
    if not isinstance(tags, list) or "tags" not in key_lines:
        return []
    line = key_lines["tags"]
    raw = raw_lines[line - 1] if line <= len(raw_lines) else ""
    return [[tag, tag_key(tag, analyzer), line, max(raw.find(tag), 0) + 1] for tag in tags if isinstance(tag, str)]
