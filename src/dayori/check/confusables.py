"""誤変換 by context: homophones (決裁／決済) and same-reading kanji (図る／計る／測る) told apart by the words
around them, and misconversions that are never a word (最少限). The groups are data (data/confusables.yml);
this module only reads them and looks for them in Sudachi's analysis."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from dayori.check.analyzer import Token

DATA = Path(__file__).with_name("data") / "confusables.yml"
WINDOW = 15
"""Characters on each side of a word in which its context words count (a collocation is close by)."""
_GROUP_LINE = re.compile(r"^(?P<word>[^=:\s]+)=(?P<gloss>[^:]+):\s*(?P<contexts>.+)$")
_ALWAYS_LINE = re.compile(r"^(?P<wrong>[^>]+)>(?P<right>[^:]+):\s*(?P<reason>.+)$")
_KANA_TAIL = re.compile("[\u3041-\u309f]+$")
_SENTENCE_MARK = re.compile("[。！？!?\n]")


@dataclass(frozen=True)
class Member:
    """One word of a group: what it means and the words that show it is meant."""

    word: str
    gloss: str
    contexts: tuple[str, ...]

    @property
    def inflected(self) -> bool:
        """A word with okurigana (図る) is found by its dictionary form in any conjugation."""
        return bool(_KANA_TAIL.search(self.word))

    @property
    def stem(self) -> str:
        return _KANA_TAIL.sub("", self.word)


@dataclass(frozen=True)
class Group:
    source: str
    members: tuple[Member, ...]


@dataclass(frozen=True)
class Misspelling:
    wrong: str
    right: str
    reason: str
    source: str


@dataclass(frozen=True)
class ConfusionSet:
    sources: dict[str, str]
    groups: tuple[Group, ...]
    always: tuple[Misspelling, ...]
    by_lemma: dict[str, tuple[tuple[Group, Member], ...]]
    by_noun: dict[str, tuple[tuple[Group, Member], ...]]
    noun_pattern: re.Pattern[str]
    always_pattern: re.Pattern[str]
    always_by_wrong: dict[str, Misspelling]


@dataclass(frozen=True)
class Confusion:
    """A finding: `start`/`end` of the word in the text, the word meant instead and the reason."""

    start: int
    end: int
    written: str
    suggestion: str
    message: str


@lru_cache(maxsize=1)
def confusion_set() -> ConfusionSet:
    data = yaml.load(DATA.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    sources = {str(k): str(v) for k, v in data["sources"].items()}
    groups = tuple(_group(line) for line in data["groups"])
    always = tuple(_misspelling(line) for line in data["always"])
    by_lemma: dict[str, list[tuple[Group, Member]]] = {}
    by_noun: dict[str, list[tuple[Group, Member]]] = {}
    for group in groups:
        for member in group.members:
            (by_lemma if member.inflected else by_noun).setdefault(member.word, []).append((group, member))
    nouns = sorted(by_noun, key=len, reverse=True)
    wrongs = sorted((m.wrong for m in always), key=len, reverse=True)
    return ConfusionSet(sources, groups, always, {k: tuple(v) for k, v in by_lemma.items()},
                        {k: tuple(v) for k, v in by_noun.items()}, re.compile("|".join(map(re.escape, nouns))),
                        re.compile("|".join(map(re.escape, wrongs))), {m.wrong: m for m in always})


def _group(line: str) -> Group:
    source, *parts = (part.strip() for part in line.split(" | "))
    members = []
    for part in parts:
        match = _GROUP_LINE.match(part)
        if match is None:
            raise ValueError(f"{DATA.name}: 「{part}」は「語=意味: 文脈 …」の形ではありません")
        members.append(Member(match["word"], match["gloss"].strip(), tuple(match["contexts"].split())))
    return Group(source, tuple(members))


def _misspelling(line: str) -> Misspelling:
    source, rest = (part.strip() for part in line.split(" | ", 1))
    match = _ALWAYS_LINE.match(rest)
    if match is None:
        raise ValueError(f"{DATA.name}: 「{rest}」は「誤>正: 理由」の形ではありません")
    return Misspelling(match["wrong"], match["right"].strip(), match["reason"].strip(), source)


def confusions(text: str, tokens: list[Token]) -> Iterator[Confusion]:
    """Every word of a group whose own context is absent while another member's is present, and every
    misconversion of the `always` list that starts on a word boundary."""
    data = confusion_set()
    always = list(data.always_pattern.finditer(text))
    nouns = list(data.noun_pattern.finditer(text))
    begins = {t.begin for t in tokens} if always or nouns else set()
    ends = {t.end for t in tokens} if nouns else set()
    found: set[int] = set()
    for match in always:
        if match.start() in begins:
            wrong = data.always_by_wrong[match.group()]
            found.add(match.start())
            yield Confusion(match.start(), match.end(), wrong.wrong, wrong.right,
                            f"「{wrong.wrong}」は「{wrong.right}」の誤りです（{wrong.reason}）。")
    for start, end, written, candidates in _occurrences(nouns, tokens, begins, ends, data):
        if start in found:
            continue
        for group, member in candidates:
            hit = _decide(text, start, end, written, group, member)
            if hit is not None:
                found.add(start)
                yield hit
                break


def _occurrences(nouns: list[re.Match[str]], tokens: list[Token], begins: set[int], ends: set[int], data: ConfusionSet
                 ) -> Iterator[tuple[int, int, str, tuple[tuple[Group, Member], ...]]]:
    by_lemma = data.by_lemma
    for token in tokens:
        if token.lemma in by_lemma and token.kind in ("動詞", "形容詞"):
            yield token.begin, token.end, token.surface, by_lemma[token.lemma]
    proper = [(t.begin, t.end) for t in tokens if t.pos[1] == "固有名詞"] if nouns else []
    for match in nouns:
        start, end, word = match.start(), match.end(), match.group()
        if len(word) == 1 and not (start in begins and end in ends):
            continue
        if not (start in begins or end in ends) or any(a <= start < b for a, b in proper):
            continue
        yield start, end, word, data.by_noun[word]


def _decide(text: str, start: int, end: int, written: str, group: Group, member: Member) -> Confusion | None:
    window = _window(text, start, end)
    if any(_present(context, window) for context in member.contexts):
        return None
    for other in group.members:
        if other is member:
            continue
        context = next((c for c in other.contexts if _present(c, window)), None)
        if context is None:
            continue
        fixed = _respelled(written, member, other)
        shown = context.replace("〜", other.word if not other.inflected else other.stem)
        return Confusion(start, end, written, fixed,
                         f"「{written}」: 「{shown}」と一緒なら「{other.word}」（{other.gloss}）では？")
    return None


def _window(text: str, start: int, end: int) -> str:
    """The sentence around the word, at most WINDOW characters on each side, with the word itself as 〜."""
    before = _SENTENCE_MARK.split(text[max(start - WINDOW, 0):start])[-1]
    after = _SENTENCE_MARK.split(text[end:end + WINDOW], 1)[0]
    return before + "〜" + after


def _present(context: str, window: str) -> bool:
    """A one-character context counts only right beside the word (月〜, 〜は): alone it is in too many words."""
    if len(context) == 1:
        return context + "〜" in window or "〜" + context in window
    return context in window


def _respelled(written: str, member: Member, other: Member) -> str:
    """The other word in the written word's conjugation (計っ → 図っ); a noun is simply replaced."""
    if member.inflected and other.inflected and written.startswith(member.stem):
        return other.stem + written[len(member.stem):]
    return other.word


def group_count() -> int:
    data = confusion_set()
    return len(data.groups) + len(data.always)
