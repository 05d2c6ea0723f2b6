"""The check over the whole archive: each file analysed once per content (cached), then the rules that need
every file at once (表記ゆれ, タグのゆれ) and the editors' settings (which rules, how strict)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import yaml

from dayori.check.analyzer import Analyzer
from dayori.check.base import Context, Entry
from dayori.check.document import Record
from dayori.check.findings import ERROR, WARNING, Finding, ordered
from dayori.check.parallel import analyse_files
from dayori.check.rules import RULES
from dayori.check.tables import PROFILES
from dayori.config import Settings
from dayori.limits import TOO_LARGE_TO_MEASURE, markdown_too_big, picture_size
from dayori.memo import Memo, recall, remember
from dayori.pack import Pack
from dayori.paths import RealPaths, episode_index, markdown_files
from dayori.store import code_version, digest, parsed_json, read_json, write_atomic

_LEVELS: dict[str | bool, str | bool | None] = {"オン": None, "on": None, True: None, "オフ": False, "off": False, False: False,
           "警告": WARNING, "warning": WARNING, "エラー": ERROR, "error": ERROR}
_CAPTIONS = ("*.vtt", "*.srt")
RECORDS = "records.pack"
"""Each file's analysis, in the check's cache folder (see `dayori.pack`)."""
KEPT_SUMMARIES = 3
"""The archive's findings kept, for as many sets of files: a build's, `make check`'s (with drafts) and one more.
A new set (a new issue) writes a new summary, so older ones are removed."""
OKURIGANA_SETTINGS = ("本則", "許容")


class SettingsError(ValueError):
    """`extra.dayori.check` or the project dictionary cannot be used; the message says what to write."""


@dataclass(frozen=True)
class Report:
    """Findings in report order, and how much work it took (files analysed, whether Sudachi was loaded)."""

    findings: tuple[Finding, ...]
    analysed: int = 0
    cached: int = 0
    dictionary_loaded: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.is_error)


@dataclass
class _Item:
    path: Path
    display: str
    record: Record = field(default_factory=Record)


def content_files(settings: Settings) -> list[Path]:
    """Every issue and episode file, drafts included: an editor checks before publishing."""
    folders = sorted(p for p in settings.videos_path.iterdir() if p.is_dir()) if settings.videos_path.is_dir() else []
    episodes = [index for folder in folders if (index := episode_index(folder)) is not None]
    return [*markdown_files(settings.newsletter_path), *episodes]


def check_files(settings: Settings, files: Iterable[Path], report: Iterable[Path] | None = None,
                analyzer: Analyzer | None = None, memo: Memo | None = None, workers: int | None = None) -> Report:
    """Checks `files` together (the archive-wide rules count them all); reports findings for `report`
    (default: all of them). Raises SettingsError for unusable settings.

    Files not in the cache are analysed on every core when there are enough of them to be worth it (a first
    check of the archive); `workers=1` keeps the work in this process (a caller that runs the check beside
    other work on the same cores). Without `workers`, the environment variable DAYORI_CHECK_WORKERS decides
    (1: this process only), else the cores there are. The findings do not depend on it.

    Each file's analysis is cached under its bytes' key, all of them in one file; the archive's findings are
    cached too, under the keys of all files and the settings (one entry per set of files: `make check` checks drafts, a build
    does not), so an unchanged archive costs one hash per file and one read. A `memo` keeps what was read
    in memory between the rebuilds of a preview, and the dictionary loaded."""
    levels = rule_levels(settings)
    workers = workers if workers is not None else workers_from_environment()
    dictionary_text, entries = project_dictionary(settings)
    analyzer = analyzer or recall(memo, lambda _: "analyzer", Analyzer)
    version = _engine_version()
    cache = settings.cache_path / "check"
    paths = RealPaths(settings.root)
    files, beyond = _within_limits(files, settings, paths)
    keyed = [(path, str(paths.display(path)), digest(version, settings.check.profile, settings.limits.nesting, settings.limits.caption_bytes,
                                                      settings.check.max_sentence_chars, dictionary_text,
                                                      settings.check.okurigana, list(settings.check.titles),
                                                      _input_bytes(path))) for path in files]
    whole = digest([(display, key) for _, display, key in keyed], levels)
    archive = cache / f"archive-{digest([display for _, display, _ in keyed])[:16]}.json"
    summary_key = ("check archive", str(archive), whole)
    summary = recall(memo, lambda _: summary_key, lambda: read_json(archive))
    analysed = 0
    if isinstance(summary, dict) and summary.get("key") == whole:
        rows, images = summary["findings"], summary["images"]
    else:
        context = check_context(settings, analyzer, entries)
        records, analysed = _records([(path, key) for path, _, key in keyed], cache / RECORDS, context, memo,
                                     workers)
        items = [_Item(path, display, record) for (path, display, _), record in zip(keyed, records, strict=True)]
        found = [(item.display, f) for item in items for f in _item_findings(item, levels)]
        found += _archive_findings(items, levels)
        rows = [[display, *astuple(f)] for display, f in found]
        images = [[item.display, str(item.path), *image] for item in items for image in item.record.images]
        write_atomic(archive, _json(remember(memo, summary_key, {"key": whole, "findings": rows, "images": images})))
        _remove_old_summaries(cache, archive)
    wanted = {str(paths.display(p)) for p in report} if report is not None else None
    findings = [Finding(*row[1:]) for row in rows if wanted is None or row[0] in wanted]
    findings += [finding for finding in beyond if wanted is None or finding.path in wanted]
    findings += [finding for display, path, source, line, column in images if wanted is None or display in wanted
                 if (finding := _image_finding(display, Path(path), source, line, column, settings,
                                               levels.get("画像サイズ")))]
    return Report(tuple(ordered(findings)), analysed, len(keyed) - analysed, analyzer.loaded)


WORKERS_VARIABLE = "DAYORI_CHECK_WORKERS"


def workers_from_environment() -> int | None:
    """How many processes may analyse, from DAYORI_CHECK_WORKERS (set by whoever already shares the cores out,
    such as a build that runs the check beside its page rendering); None when it is not set."""
    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdecimal() or int(value) < 1:
        raise SettingsError(f"環境変数 {WORKERS_VARIABLE} は 1 以上の整数にしてください（今は「{value}」）。"
                            "1 なら校正を一つのプロセスで行います。設定しなければ CPU の数から決めます。")
    return int(value)


def check_context(settings: Settings, analyzer: Analyzer, entries: tuple[Entry, ...]) -> Context:
    return Context(settings.check.profile, settings.check.max_sentence_chars, analyzer, entries,
                   settings.check.okurigana, tuple(settings.check.titles), settings.limits.nesting,
                   settings.limits.caption_bytes)


def _within_limits(files: Iterable[Path], settings: Settings, paths: RealPaths) -> tuple[list[Path], list[Finding]]:
    """The files the check can read, and a finding for each one too big to (`extra.dayori.limits`)."""
    kept, beyond = [], []
    for path in files:
        try:
            why = markdown_too_big(path.stat().st_size, settings.limits)
        except OSError as error:
            why = f"読めません（{error.strerror or error}）。"
        if why is None:
            kept.append(path)
        else:
            beyond.append(Finding(str(paths.display(path)), 1, 1, "ファイル", ERROR, why, ""))
    return kept, beyond


def _records(jobs: list[tuple[Path, str]], pack_path: Path, context: Context, memo: Memo | None,
             workers: int | None) -> tuple[list[Record], int]:
    """Each file's analysis, from the cache (under its key) or made now; and how many were made. The cache
    is saved with the records used here."""
    pack = Pack.of(pack_path, memo)
    records = [_stored(pack, key, memo) for _, key in jobs]
    missing = [index for index, record in enumerate(records) if record is None]
    made = analyse_files([jobs[index][0] for index in missing], context, workers)
    for index, record in zip(missing, made, strict=True):
        key = jobs[index][1]
        pack.put(key, record.to_json())
        remember(memo, ("check record", key), record.as_dict())
        records[index] = record
    pack.save()
    return [record for record in records if record is not None], len(missing)


def _remove_old_summaries(cache: Path, current: Path) -> None:
    dated = []
    for summary in cache.glob("archive-*.json"):
        with contextlib.suppress(OSError):  # removed meanwhile by another build
            dated.append((summary.stat().st_mtime_ns, summary))
    for _, old in sorted(dated, reverse=True)[KEPT_SUMMARIES:]:
        if old != current:
            old.unlink(missing_ok=True)


def _stored(pack: Pack, key: str, memo: Memo | None) -> Record | None:
    stored = pack.get(key)
    if stored is None:
        return None
    fields = recall(memo, lambda _: ("check record", key), lambda: _loaded(stored))
    return Record(**fields) if fields is not None else None


_RECORD_FIELDS = Record().as_dict().keys()


def _loaded(stored: bytes) -> dict[str, Any] | None:
    """A stored analysis's fields, or None when they are not a record's (then the file is analysed again)."""
    fields = parsed_json(stored)
    shaped = isinstance(fields, dict) and fields.keys() == _RECORD_FIELDS and all(
        isinstance(rows, list) and all(isinstance(row, list) for row in rows) for rows in fields.values())
    return fields if shaped else None


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


@lru_cache(maxsize=1)
def _engine_version() -> str:
    return code_version([*Path(__file__).parent.glob("*.py"), *Path(__file__).parent.glob("data/*")],
                        ["sudachipy", "sudachidict-core"]) + \
        digest(str(Path(__file__).parents[1] / "scaffold.py"))


def _input_bytes(path: Path) -> list[str]:
    """A file's bytes and its folder's captions (an episode's captions are checked with it)."""
    try:
        parts = [hashlib.sha256(path.read_bytes()).hexdigest()]
    except OSError:
        return []
    if path.name == "index.md":
        parts += [c.name + hashlib.sha256(c.read_bytes()).hexdigest() for pattern in _CAPTIONS for c in sorted(path.parent.glob(pattern))]
    return parts


def rule_levels(settings: Settings) -> dict[str, str | None]:
    """Each rule's severity, or None when it is off: defaults, then `extra.dayori.check.rules`."""
    if settings.check.profile not in PROFILES:
        raise SettingsError(f"extra.dayori.check.profile は「{'」か「'.join(PROFILES)}」にしてください"
                            f"（今は「{settings.check.profile}」）。")
    if settings.check.okurigana not in OKURIGANA_SETTINGS:
        raise SettingsError(f"extra.dayori.check.okurigana は「本則」か「許容」にしてください（今は「{settings.check.okurigana}」）。")
    levels: dict[str, str | None] = {name: rule.severity if rule.enabled else None for name, rule in RULES.items()}
    levels["ファイル"] = ERROR
    for name, value in settings.check.rules.items():
        if name not in RULES:
            raise SettingsError(f"extra.dayori.check.rules の「{name}」という規則はありません。"
                                f"使える規則: {'、'.join(RULES)}。")
        if value not in _LEVELS:
            raise SettingsError(f"extra.dayori.check.rules の {name} は オン・オフ・警告・エラー のどれかにしてください"
                                f"（今は「{value}」）。")
        level = _LEVELS[value]
        levels[name] = RULES[name].severity if level is None else level if isinstance(level, str) else None
    return levels


def project_dictionary(settings: Settings) -> tuple[str, tuple[Entry, ...]]:
    """docs/表記ルール.yml (or `check.dictionary`): `誤: 正` pairs, or prh's `rules:` list of
    `expected` with `pattern`/`patterns` (`/…/` is a regular expression)."""
    path = settings.root / settings.check.dictionary
    if not path.is_file():
        return "", ()
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"{settings.check.dictionary}: YAML として読めません（{error}）。") from error
    if not isinstance(data, dict):
        raise SettingsError(f"{settings.check.dictionary}: 「誤った書き方: 正しい書き方」の並びで書いてください。")
    entries: list[Entry] = []
    for wrong, right in data.items():
        if wrong in ("version", "rules", "imports"):
            continue
        entries.append(_entry(str(wrong), str(right), "", settings))
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise SettingsError(f"{settings.check.dictionary}: rules は一覧で書いてください。")
    for rule in rules:
        if not isinstance(rule, dict) or "expected" not in rule:
            raise SettingsError(f"{settings.check.dictionary}: rules の各項目には expected（正しい書き方）を書いてください。")
        patterns = rule.get("patterns", rule.get("pattern", [])) or []
        for pattern in patterns if isinstance(patterns, list) else [patterns]:
            entries.append(_entry(str(pattern), str(rule["expected"]), str(rule.get("prh", "")), settings))
    return text, tuple(entries)


def _entry(pattern: str, expected: str, note: str, settings: Settings) -> Entry:
    if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
        try:
            return Entry(re.compile(pattern[1:-1]), re.sub(r"\$(\d)", r"\\\1", expected), note)
        except re.error as error:
            raise SettingsError(f"{settings.check.dictionary}: 「{pattern}」は正規表現として読めません（{error}）。") from error
    return Entry(re.compile(re.escape(pattern)), expected, note, pattern)


def _item_findings(item: _Item, levels: dict[str, str | None]) -> list[Finding]:
    findings = []
    folder = Path(item.display).parent
    for line, column, rule, message, suggestion, *where in item.record.findings:
        level = levels.get(rule)
        if level:
            path = str(folder / where[0]) if where else item.display
            findings.append(Finding(path, line, column, rule, level, message, suggestion))
    return findings


def _image_finding(display: str, document: Path, source: str, line: int, column: int, settings: Settings,
                   level: str | None) -> Finding | None:
    """Images are measured on every run (a file can be replaced under the same name); Pillow reads only
    the header."""
    if not level or "://" in source or source.startswith(("/", "data:")):
        return None
    image = document.parent / source.split("#")[0].split("?")[0]
    if image.suffix.lower() not in (".png", ".jpg", ".jpeg", ".gif", ".webp") or not image.is_file():
        return None
    try:
        with image.open("rb") as file:
            size = picture_size(file)
    except OSError:
        return None
    if size is None or size == TOO_LARGE_TO_MEASURE:
        return None  # the build refuses it with the limit on pixels
    width, height = size
    limit = settings.check.max_image_pixels
    if max(width, height) <= limit:
        return None
    return Finding(display, line, column, "画像サイズ", level,
                   f"画像「{source}」は {width}×{height} ピクセルで、上限（長い辺 {limit} ピクセル）を超えています。",
                   f"長い辺を {limit} ピクセル以下に縮小する")


def _archive_findings(items: list[_Item], levels: dict[str, str | None]) -> list[tuple[str, Finding]]:
    findings: list[tuple[str, Finding]] = []
    if levels.get("表記ゆれ"):
        findings += _variants(items, str(levels["表記ゆれ"]))
    if levels.get("タグのゆれ"):
        findings += _tag_variants(items, str(levels["タグのゆれ"]))
    return findings


def _majority(counts: Counter[str], standard: str) -> str:
    """The most used spelling; on a tie, the dictionary's standard one, then the first in Japanese order."""
    return max(counts, key=lambda spelling: (counts[spelling], spelling == standard, [-ord(c) for c in spelling]))


def _same_kind(spellings: Iterable[str]) -> bool:
    """Variants worth a warning differ in okurigana or long vowels, not in their kanji (見る／観る)."""
    kanji = {frozenset(c for c in s if "\u4e00" <= c <= "\u9fff") for s in spellings}
    return len(kanji) == 1


def _variants(items: list[_Item], level: str) -> list[tuple[str, Finding]]:
    pairs = Counter(map(itemgetter(0, 1), chain.from_iterable(item.record.words for item in items)))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (normalized, spelling), count in pairs.items():
        counts[normalized][spelling] = count
    mixed = {normalized: spellings for normalized, spellings in counts.items()
             if len(spellings) > 1 and _same_kind(spellings)}
    findings = []
    for item in items:
        for normalized, spelling, line, column in item.record.words:
            spellings = mixed.get(normalized)
            if spellings is None:
                continue
            best = _majority(spellings, normalized.split("/")[0])
            if spelling != best and spellings[spelling] < spellings[best]:
                tally = "、".join(f"{s} {n} 回" for s, n in spellings.most_common())
                findings.append((item.display, Finding(item.display, line, column, "表記ゆれ", level,
                                        f"「{spelling}」と「{best}」の書き方が混じっています（{tally}）。", best)))
    return findings


def _tag_variants(items: list[_Item], level: str) -> list[tuple[str, Finding]]:
    by_key: dict[str, Counter[str]] = defaultdict(Counter)
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        for tag, key, _, _ in item.record.tags:
            by_key[key][tag] += 1
            first_seen.setdefault(tag, index)
    findings = []
    for item in items:
        for tag, key, line, column in item.record.tags:
            tags = by_key[key]
            if len(tags) < 2:
                continue
            best = max(tags, key=lambda t: (tags[t], -first_seen[t]))
            if tag != best:
                findings.append((item.display, Finding(item.display, line, column, "タグのゆれ", level,
                                        f"タグ「{tag}」は既にあるタグ「{best}」と書き方だけが違います。", best)))
    return findings
