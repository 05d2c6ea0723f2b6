"""The proofreading rules: each has a name editors use (in settings, in 校正オフ, in reports), a default
severity and a check. Rules look at one segment of prose, at a whole document, or at raw lines."""

from __future__ import annotations

import bisect
import itertools
import operator
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from dayori.check.analyzer import Token
from dayori.check.base import Analysed, Context, Hit, SegmentCheck
from dayori.check.findings import ERROR, WARNING
from dayori.check.tables import (
    AUXILIARY_VERBS,
    CONJUNCTIONS,
    COUNTERS,
    FORMAL_AFTER_PREDICATE,
    JOYO_2010,
    KANA_WORDS,
    KANJI_IN_KANA,
)
from dayori.check.text import (
    FIELD,
    HEADING,
    PARAGRAPH,
    PLACEHOLDER,
    TABLE,
    Segment,
)
from dayori.check.wording_rules import WORDING_CHECKS, WORDING_RULES, inside, protected_spans, structural_conjunctions

HIRA = "\u3041-\u309f"
KATA = "\u30a1-\u30fa\u30fc"
KANJI = "\u3005\u4e00-\u9fff"
JAPANESE = f"[{HIRA}{KATA}{KANJI}]"


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str
    summary: str
    enabled: bool = True


RULES = {rule.name: rule for rule in (
    Rule("全角英数", WARNING, "全角の英字・数字（Ｗｅｂ、１２）は半角で書きます。"),
    Rule("半角カナ", ERROR, "半角カタカナ（ｻｰﾊﾞｰ）は全角で書きます。"),
    Rule("長音符", ERROR, "カタカナの伸ばす音に「－」「一」などが入っています（テレワ－ク）。"),
    Rule("句読点", WARNING, "「、。」と「，．」が混じっている、または半角の「,.」が日本語の後にあります。"),
    Rule("助詞の重複", ERROR, "同じ助詞が続いています（資料をを）。"),
    Rule("語の重複", ERROR, "同じ語が続いています（クリッククリック）。"),
    Rule("ら抜き", WARNING, "ら抜き言葉（見れる、来れる）です。"),
    Rule("冗長表現", WARNING, "「することができる」は「できる」で足ります。"),
    Rule("を行う", WARNING, "「確認を行う」は「確認する」と短く書けます（初期設定はオフ）。", enabled=False),
    Rule("括弧", ERROR, "かっこやかぎかっこが閉じていません。"),
    Rule("漢字表記", WARNING, "常用漢字で書ける語が交ぜ書きになっています（進ちょく→進捗）。"),
    Rule("公用文表記", WARNING, "形式名詞・補助動詞・接続詞などの書き方が公用文と違います（事→こと、但し→ただし）。"),
    Rule("か所・か月", WARNING, "「3ヶ月」「5箇所」は「3か月」「5か所」と書きます。"),
    Rule("桁区切り", WARNING, "4 桁以上の数は 3 桁ごとにコンマで区切ります（1000円→1,000円）。"),
    Rule("文の長さ", WARNING, "文が長すぎます。"),
    Rule("文体", WARNING, "です・ます体の文章に、である体（だ・である・〜する。）の文が混じっています。"),
    Rule("不可視文字", ERROR, "目に見えない文字（ゼロ幅スペース、制御文字）が入っています。"),
    Rule("結合文字", ERROR, "濁点が別の文字になっている（NFD）か、互換漢字が入っています。"),
    Rule("誤入力", ERROR, "日本語の中に英字が 1〜2 文字だけ入っています（確認sします）。"),
    Rule("誤変換", WARNING, "同じ読みの別の語になっています（電子決済で回議する→決裁）。前後の言葉から判断します。"),
    Rule("敬語", WARNING, "二重敬語（お越しになられる）、謙譲語の誤用（申される）、さ入れ言葉、「させていただく」の重ねすぎです。"),
    Rule("二重否定", WARNING, "否定を二度重ねた言い方です（使えないわけではない）。"),
    Rule("重言", WARNING, "同じ意味の言葉を重ねています（一番最初、後で後悔する）。"),
    Rule("衍字", ERROR, "同じ字が重なっています（確認しします、予約約）。"),
    Rule("送り仮名", WARNING, "「送り仮名の付け方」と違う送り仮名です（著るしい→著しい、断わる→断る）。"),
    Rule("カタカナ語", WARNING, "よくあるカタカナ語の書き誤りです（ディスクトップ→デスクトップ）。"),
    Rule("接続詞", WARNING, "「並びに」「若しくは」を一段階だけの接続に使っています（→及び、又は）。"),
    Rule("表記ゆれ", WARNING, "同じ語の書き方がバックナンバーの中でそろっていません（サーバ／サーバー）。"),
    Rule("表記ルール", WARNING, "docs/表記ルール.yml で決めた書き方と違います。"),
    Rule("ひな形", ERROR, "make new-issue のひな形の文やタグ（タグ1）が残っています。"),
    Rule("タグのゆれ", WARNING, "既にあるタグと書き方だけが違うタグです（テレワーク／テレワ－ク）。"),
    Rule("見出し", ERROR, "本文に「# 」の見出しがあります。本文の見出しは「## 」からです。"),
    Rule("画像サイズ", WARNING, "画像の縦か横が上限のピクセル数を超えています。"),
)}




def segment_hits(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    """Every rule's hits; wording rules stay out of quoted wording, titles of laws and documents."""
    protected: list[tuple[int, int]] | None = None  # found at the first wording hit: most segments have none
    text = segment.text
    for check, needs in _SEGMENT_RULES:
        if needs is not None and needs.search(text) is None:
            continue
        for hit in check(segment, tokens, context):
            if hit.rule in WORDING_RULES:
                if protected is None:
                    protected = protected_spans(segment.text, context)
                if protected and inside(protected, hit.start):
                    continue
            yield hit


def document_hits(analysed: list[Analysed], context: Context) -> Iterator[tuple[Segment, Hit]]:
    yield from _punctuation(analysed)
    yield from _style(analysed)


_WIDTH = re.compile("[Ａ-Ｚａ-ｚ０-９]+|[\uff66-\uff9f]+")


def _chars(compiled: re.Pattern[str]) -> Callable[[Segment, list[Token], Context], Iterator[Hit]]:
    """A rule that is a pattern of characters, fixed by NFKC (全角英数, 半角カナ)."""

    def check(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
        for match in compiled.finditer(segment.text):
            fixed = unicodedata.normalize("NFKC", match.group())
            kind = "全角の英数字" if match.group()[0] > "\uff00" and match.group()[0] < "\uff5f" else "半角カタカナ"
            yield Hit("全角英数" if kind == "全角の英数字" else "半角カナ", match.start(),
                      f"「{match.group()}」は{kind}です。", fixed)
    return check


_LONG_VOWEL = re.compile("(?<=[\u30a1-\u30fa])(?:[－‐−―—\\-一](?=[\u30a1-\u30fa])|一(?=[をにがでへはも](?!つ)))")


def _long_vowel(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for match in _LONG_VOWEL.finditer(segment.text):
        word = re.search(f"[{KATA}－‐−―—\\-一]*$", segment.text[:match.start()])
        tail = re.match(f"[{KATA}]*", segment.text[match.end():])
        assert word is not None and tail is not None
        wrong = word.group() + match.group() + tail.group()
        yield Hit("長音符", match.start(), f"「{wrong}」の「{match.group()}」は長音記号「ー」ではありません。",
                  wrong.replace(match.group(), "ー"))


_PARTICLES = frozenset("をがにはへでとのも")


def _doubled(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    surfaces = [token.surface for token in tokens]
    if not any(map(operator.eq, surfaces, surfaces[1:])):  # most segments: no word follows itself
        return
    for first, second in itertools.pairwise(tokens):
        if first.surface != second.surface or first.end != second.begin:
            continue
        if first.kind == "助詞" and first.surface in _PARTICLES and second.kind == "助詞":
            yield Hit("助詞の重複", second.begin, f"助詞「{first.surface}」が続いています。", first.surface)
        elif (len(first.surface) >= 2 and first.kind in ("名詞", "動詞", "形容詞") and first.pos[1] != "数詞"
              and PLACEHOLDER not in first.surface and not first.surface.isascii()):
            yield Hit("語の重複", second.begin, f"「{first.surface}」が 2 回続いています。", first.surface)


_ICHIDAN = ("上一段", "下一段", "カ行変格")


def _ranuki(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for token in tokens:
        if token.kind != "動詞" or not token.lemma.endswith("れる") or token.normalized == token.lemma:
            continue
        stem = token.lemma[:-2]
        if token.normalized == stem + "る" and token.surface.startswith(stem + "れ") and _one_step(stem + "る", context):
            yield Hit("ら抜き", token.begin, f"「{token.surface}」はら抜き言葉です。", stem + "られ" + token.surface[len(stem) + 1:])
            continue
        rest = token.surface[len(stem):]
        if not token.surface.startswith(stem + "れ") or not token.reading.endswith(_katakana(rest)):
            continue
        reading = token.reading[:len(token.reading) - len(rest)] + "ル"
        types = [kind for said, kind in context.analyzer.verb_types(stem + "る") if said == reading]
        if stem + "る" == "来る" or (types and all(t.startswith(_ICHIDAN) for t in types)):
            yield Hit("ら抜き", token.begin, f"「{token.surface}」はら抜き言葉です。", stem + "られ" + rest[1:])


def _one_step(verb: str, context: Context) -> bool:
    """一段 verbs and 来る take られる for the potential; Sudachi reads 寝れる as a spelling of 寝る."""
    types = [kind for _, kind in context.analyzer.verb_types(verb)]
    return verb in ("来る", "くる") or (bool(types) and all(t.startswith(_ICHIDAN) for t in types))


def _katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


_REDUNDANT = re.compile(f"([{KANJI}{KATA}]*)することが(でき|可能)")


def _redundant(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for match in _REDUNDANT.finditer(segment.text):
        word = match.group(1)
        rest = segment.text[match.end():match.end() + 3]
        ending = re.match(r"[るまなたてれ][すいせ]?", rest) if match.group(2) == "でき" else None
        fixed = f"{word}でき{ending.group() if ending else 'る'}" if word else "できる"
        yield Hit("冗長表現", match.start(), f"「{match.group()}…」は「{word}できる」で足ります。", fixed)


def _perform(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for noun, particle, verb in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if (noun.pos[:3] == ("名詞", "普通名詞", "サ変可能") and particle.surface == "を"
                and verb.normalized == "行う" and verb.kind == "動詞"):
            yield Hit("を行う", noun.begin, f"「{noun.surface}を{verb.surface}」は「{noun.surface}する」と書けます。",
                      f"{noun.surface}する")


_PAIRS = {"（": "）", "「": "」", "『": "』", "【": "】", "〔": "〕", "［": "］", "｛": "｝", "〈": "〉", "《": "》",
          "(": ")", "[": "]"}
_CLOSERS = {closer: opener for opener, closer in _PAIRS.items()}
_NUMBERING = re.compile(r"^\s*(?:[0-9０-９]{1,3}|[a-zA-Zａ-ｚ]|[ア-ン]|[①-⑳])[)）]")


_BRACKET = re.compile("[" + re.escape("".join(_PAIRS) + "".join(_CLOSERS)) + "]")


def _brackets(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    text = segment.text
    numbering = _NUMBERING.match(text)
    stack: list[int] = []
    for match in _BRACKET.finditer(text, numbering.end() if numbering else 0):  # the other characters do nothing
        index = match.start()
        char = text[index]
        if char in _PAIRS:
            stack.append(index)
        elif char in _CLOSERS:
            opener = _CLOSERS[char]
            if stack and text[stack[-1]] == opener:
                stack.pop()
            elif any(text[i] == opener for i in stack):
                while text[stack[-1]] != opener:
                    unclosed = stack.pop()
                    yield _unclosed(text, unclosed)
                stack.pop()
            elif char not in ")]" or index == 0 or not re.match(r"[:;]", text[index - 1]):
                yield Hit("括弧", index, f"「{char}」に対応する「{opener}」がありません。", f"「{opener}」を補うか「{char}」を消す")
    for unclosed in stack:
        yield _unclosed(text, unclosed)


def _unclosed(text: str, index: int) -> Hit:
    opener = text[index]
    return Hit("括弧", index, f"「{opener}」が閉じられていません。", f"「{_PAIRS[opener]}」を補う")


_KANJI_IN_KANA = re.compile("|".join(sorted(KANJI_IN_KANA, key=len, reverse=True)))
_HAS_HIRAGANA = re.compile(f"[{HIRA}]")
_HAS_KANJI = re.compile(f"[{KANJI}]")
_ALL_KANJI = re.compile(f"[{KANJI}]+")


def _kanji(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for token in tokens:
        if token.surface != token.normalized and _kanji_for_kana(token.surface, token.normalized):
            yield Hit("漢字表記", token.begin, f"「{token.surface}」は常用漢字で「{token.normalized}」と書けます。",
                      token.normalized)
    for match in _KANJI_IN_KANA.finditer(segment.text):
        if _word_edge(segment.text, match.start(), match.end(), tokens):
            fixed = KANJI_IN_KANA[match.group()]
            yield Hit("漢字表記", match.start(), f"「{match.group()}」は常用漢字で「{fixed}」と書けます。", fixed)


@lru_cache(maxsize=65_536)
def _kanji_for_kana(surface: str, normalized: str) -> bool:
    """Whether a word written half in kana (進ちょく) is written in 常用 kanji now (進捗): a question about the
    word alone, so asked once per word."""
    if surface in KANJI_IN_KANA:
        return False
    missing = set(normalized) - set(surface)
    return bool(missing and missing <= JOYO_2010 and _ALL_KANJI.fullmatch(normalized)
                and _HAS_HIRAGANA.search(surface) and _HAS_KANJI.search(surface))


def _word_edge(text: str, start: int, end: int, tokens: list[Token]) -> bool:
    """Whether a match starts and ends on token boundaries (き損 inside 書き損じ is not the word き損)."""
    begins = {t.begin for t in tokens}
    ends = {t.end for t in tokens}
    return start in begins and end in ends


_PREDICATES = ("動詞", "形容詞", "助動詞")


def _official(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for index, token in enumerate(tokens):
        if token.surface not in _OFFICIAL_SURFACES and token.normalized not in AUXILIARY_VERBS:
            continue
        previous = tokens[index - 1] if index else None
        fixed = _official_fix(token, previous, context, honorific=index > 1 and tokens[index - 2].kind == "接頭辞")
        if token.surface == "又" and segment.text.startswith("又は", token.begin):
            fixed = ""
        if fixed:
            yield Hit("公用文表記", token.begin, f"「{token.surface}」は公用文では「{fixed}」と書きます。", fixed)
    yield from _conjunctions(segment, tokens, context)


_OFFICIAL_SURFACES = frozenset({*FORMAL_AFTER_PREDICATE, "様", "又", *KANA_WORDS})
"""The words `_official_fix` can respell, besides the helper verbs it finds by their normalised form."""


def _official_fix(token: Token, previous: Token | None, context: Context, *, honorific: bool = False) -> str:
    """The kana a word takes in 公用文, or "". `honorific`: the word before `previous` is お・ご, as in
    「お問い合わせ下さい」, where 下さい helps the verb and is written in kana."""
    if token.surface in FORMAL_AFTER_PREDICATE and token.kind == "名詞" and previous is not None \
            and previous.kind in _PREDICATES and previous.end == token.begin:
        return FORMAL_AFTER_PREDICATE[token.surface]
    if token.surface == "様" and token.pos[1] == "助動詞語幹":
        return "よう"
    if token.surface in KANA_WORDS and token.kind in ("接続詞", "副詞", "形状詞", "名詞", "形容詞"):
        return KANA_WORDS[token.surface]
    if token.surface == "又" and token.kind == "接続詞":
        return "また"
    spelling = AUXILIARY_VERBS.get(token.normalized)
    if spelling and token.surface.startswith(spelling[0]) and token.kind in ("動詞", "形容詞"):
        helper = token.normalized in ("出来る", "有る", "無い") or (
            previous is not None and previous.end == token.begin and (
                previous.surface in ("て", "で") or previous.pos[2] == "サ変可能" or previous.surface == "ご覧"
                or (honorific and previous.kind in ("名詞", "動詞"))))
        if helper:
            return spelling[1] + token.surface[len(spelling[0]):]
    return ""


def _conjunctions(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    """及び・並びに・又は・若しくは: kanji for 通知, kana for 広報 (the profile setting)."""
    table = CONJUNCTIONS if context.profile == "広報" else _KANJI_CONJUNCTIONS
    if not _CONJUNCTION_WORDS[context.profile == "広報"].search(segment.text):
        return
    starts = {t.begin for t in tokens} - structural_conjunctions(segment.text)
    for wrong, fixed in table.items():
        for match in re.finditer(wrong + ("(?![まみむめもさしすせそ])" if wrong == "および" else ""), segment.text):
            if match.start() in starts:
                yield Hit("公用文表記", match.start(),
                          f"「{wrong}」は{context.profile}では「{fixed}」と書きます（設定 check.profile）。", fixed)


_KANJI_CONJUNCTIONS = {kana: kanji for kanji, kana in CONJUNCTIONS.items()}
_CONJUNCTION_WORDS = {True: re.compile("|".join(CONJUNCTIONS)), False: re.compile("|".join(_KANJI_CONJUNCTIONS))}
"""A quick test: most segments hold no conjunction of the other spelling at all."""


_COUNTER_WORD = re.compile(r"(?<=[0-9０-９一二三四五六七八九十百千数何])([ヶヵケカ箇個])(?=[所月国])")


def _counter_words(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for match in _COUNTER_WORD.finditer(segment.text):
        if match.group() == "個" and segment.text[match.end()] != "所":
            continue
        word = match.group() + segment.text[match.end()]
        yield Hit("か所・か月", match.start(), f"「{word}」は「か{word[1]}」と書きます。", "か" + word[1])


_COUNTER = "|".join(sorted(map(re.escape, COUNTERS), key=len, reverse=True))
_BIG_NUMBER = re.compile(rf"(?<![0-9A-Za-z_,.．-])([0-9]{{4,}})(?![0-9,.])(?=\s?(?:{_COUNTER}))")
_BAD_GROUPING = re.compile(r"(?<![0-9A-Za-z_,.])[0-9]{1,3}(?:,[0-9]{3})*,(?:[0-9]{1,2}|[0-9]{4,})(?![0-9])")


_FOUR_DIGITS = re.compile("[0-9]{4}")


def _thousands(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    """Quick tests first: a big number has four digits in a row, a wrong grouping a comma."""
    text = segment.text
    for match in _BIG_NUMBER.finditer(text) if _FOUR_DIGITS.search(text) else ():
        number = match.group(1)
        if number.startswith("0"):
            continue
        yield Hit("桁区切り", match.start(), f"「{number}」は 3 桁ごとにコンマで区切ります。", f"{int(number):,}")
    for match in _BAD_GROUPING.finditer(text) if "," in text else ():
        digits = match.group().replace(",", "")
        yield Hit("桁区切り", match.start(), f"「{match.group()}」のコンマの位置が 3 桁ごとになっていません。",
                  f"{int(digits):,}")


_SENTENCE_MARKS = re.compile(r"[「『（(」』）)。！？!?]")


def sentences(text: str) -> Iterator[tuple[int, str]]:
    """Sentences of a segment with their start: split at 。！？ outside brackets (a quoted sentence in 「」
    belongs to the sentence around it)."""
    depth = 0
    start = 0
    for match in _SENTENCE_MARKS.finditer(text):
        char, index = match.group(), match.start()
        if char in "「『（(":
            depth += 1
        elif char in "」』）)":
            depth = max(0, depth - 1)
        elif depth == 0 and (index + 1 == len(text) or text[index + 1] not in "。！？!?」』）"):
            yield start, text[start:index + 1]
            start = index + 1
    if text[start:].strip():
        yield start, text[start:]


def _length(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    if segment.kind in (HEADING, TABLE) or len(segment.text) <= context.max_sentence_chars:
        return
    for start, sentence in sentences(segment.text):
        if len(sentence) <= context.max_sentence_chars:
            continue
        count = len("".join(sentence.split()))  # the characters that are not white space
        if count > context.max_sentence_chars:
            lead = len(sentence) - len(sentence.lstrip())
            yield Hit("文の長さ", start + lead, f"この文は {count} 字あります（目安は {context.max_sentence_chars} 字以内）。",
                      "「〜ので、」「〜が、」などの所で 2 つ以上の文に分ける")


_IME = re.compile(f"(?<=[{HIRA}{KANJI}{KATA}])([a-z]{{1,2}})(?=[{HIRA}、。]|$)")


def _ime(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for match in _IME.finditer(segment.text):
        before = segment.text[max(0, match.start() - 4):match.start()].split("\n")[-1]
        after = segment.text[match.end():match.end() + 3].split("\n")[0]
        yield Hit("誤入力", match.start(), f"「{before}{match.group()}{after}」に英字「{match.group()}」が紛れ込んでいます。",
                  before + after)


def _project_dictionary(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    if not context.dictionary:
        return
    literals = context.dictionary_words
    any_literal = literals is not None and literals.search(segment.text) is not None
    for entry in context.dictionary:
        if entry.literal and (not any_literal or entry.literal not in segment.text):
            continue
        for match in entry.pattern.finditer(segment.text):
            fixed = match.expand(entry.expected) if "\\" in entry.expected else entry.expected
            if segment.text.startswith(fixed, match.start()) or match.group() == fixed:
                continue
            note = f"（{entry.note}）" if entry.note else ""
            yield Hit("表記ルール", match.start(), f"「{match.group()}」は「{fixed}」と書く決まりです{note}。", fixed)


_OFFICIAL_WORDS = re.compile("|".join(map(re.escape, sorted(
    {*FORMAL_AFTER_PREDICATE, "様", "又", *KANA_WORDS, *(stem for stem, _ in AUXILIARY_VERBS.values()), *CONJUNCTIONS,
     *CONJUNCTIONS.values()}, key=len, reverse=True))))
"""Every word `_official` can report starts with one of these: a segment without any is passed over."""

_SEGMENT_RULES: tuple[tuple[SegmentCheck, re.Pattern[str] | None], ...] = (
    (_chars(_WIDTH), re.compile("[Ａ-Ｚａ-ｚ０-９\uff66-\uff9f]")), (_long_vowel, re.compile("[－‐−―—\\-一]")), (_doubled, None),
    (_ranuki, re.compile("れ")), (_redundant, re.compile("することが(?:でき|可能)")), (_perform, re.compile("行|おこな")),
    (_brackets, _BRACKET), (_kanji, None),
    (_official, _OFFICIAL_WORDS), (_counter_words, re.compile("[ヶヵケカ箇個]")), (_thousands, re.compile("[0-9]")), (_length, None),
    (_ime, re.compile("[a-z]")), (_project_dictionary, None), *WORDING_CHECKS,
)
"""Each rule with what a segment must contain for it to find anything (None: it looks at every segment): a
character class where the rule's own expression starts with a lookbehind or alternatives, which the regular
expression engine tries at every character."""


_WESTERN = {"，": "、", "．": "。"}
_ASCII_PUNCTUATION = re.compile(f"(?<={JAPANESE})([,.])(?=\\s|$|{JAPANESE})")


def _punctuation(analysed: list[Analysed]) -> Iterator[tuple[Segment, Hit]]:
    """The document's own choice of 、。 or ，． wins; the other is a slip (公用文 allows ，． in 事務連絡,
    never both). Half-width ,. right after Japanese always is."""
    western_used = any("，" in segment.text or "．" in segment.text for segment, _ in analysed)
    marks = [(segment, index, char) for segment, _ in analysed for index, char in enumerate(segment.text)
             if char in "、。，．" and not (char == "．" and _between_digits(segment.text, index))] if western_used else []
    western = sum(1 for _, _, char in marks if char in _WESTERN)
    if 0 < western < len(marks):
        keep_western = western > len(marks) - western
        for segment, index, char in marks:
            if (char in _WESTERN) != keep_western:
                right = {v: k for k, v in _WESTERN.items()}[char] if keep_western else _WESTERN[char]
                yield segment, Hit("句読点", index, f"「、。」と「，．」が混じっています（「{char}」）。", right)
    for segment, _ in analysed:
        text = segment.text
        for match in _ASCII_PUNCTUATION.finditer(text) if "," in text or "." in text else ():
            right = "、" if match.group() == "," else "。"
            yield segment, Hit("句読点", match.start(), f"日本語の後に半角の「{match.group()}」があります。", right)


def _between_digits(text: str, index: int) -> bool:
    return 0 < index < len(text) - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()


_POLITE = frozenset({"です", "ます"})
_PLAIN_FIX = {"である": "です", "であった": "でした", "だ": "です", "だった": "でした", "ではない": "ではありません",
              "であろう": "でしょう", "だろう": "でしょう"}


def _style(analysed: list[Analysed]) -> Iterator[tuple[Segment, Hit]]:
    """In a document written in です・ます, a paragraph sentence ending in だ・である or a bare verb stands out.
    Lists, tables, headings and captions may be in plain style (公用文作成の考え方: 箇条書き)."""
    endings: list[tuple[Segment, int, str, str]] = []
    for segment, tokens in analysed:
        if segment.kind not in (PARAGRAPH, FIELD):
            continue
        for start, sentence in sentences(segment.text):
            end = start + len(sentence.rstrip())
            if not sentence.rstrip().endswith("。"):
                continue
            inside = tokens[bisect.bisect_left(tokens, start, key=_begin):bisect.bisect_right(tokens, end - 1, key=_end)]
            kind, at, words = _ending(inside)
            endings.append((segment, at, kind, words))
    polite = sum(1 for e in endings if e[2] == "polite")
    plain = [e for e in endings if e[2] == "plain"]
    if polite < 2 or len(plain) >= polite:
        return
    for segment, at, _, words in plain:
        fixed = _PLAIN_FIX.get(words, "です・ます体（例：「〜する」→「〜します」）")
        yield segment, Hit("文体", at, f"です・ます体の文章に「{words}。」で終わる文が混じっています。", fixed)


_begin = operator.attrgetter("begin")
_end = operator.attrgetter("end")


def _ending(tokens: list[Token]) -> tuple[str, int, str]:
    """How a sentence ends: polite (です・ます), plain (だ・である・終止形) or neither (体言止め, ください).
    Most sentences end politely, which their last three words tell: the others are looked at whole."""
    tail = []
    for token in reversed(tokens):
        if _a_word(token):
            tail.append(token)
            if len(tail) == 3:
                break
    if not tail:
        return "neither", 0, ""
    if any(t.normalized in _POLITE for t in tail):
        return "polite", tail[0].begin, ""
    return _not_polite([t for t in tokens if _a_word(t)], tokens)


def _a_word(token: Token) -> bool:
    """Whether a token counts as a sentence's word for its style (not punctuation, a space or a 終助詞)."""
    return token.kind not in ("補助記号", "空白") and token.pos[1] != "終助詞"


def _not_polite(words: list[Token], tokens: list[Token]) -> tuple[str, int, str]:
    last = words[-1]
    if "」" in tokens[-1].surface or "）" in tokens[-1].surface:
        return "neither", last.begin, ""
    tail = "".join(t.surface for t in words[-3:])
    for copula in sorted(_PLAIN_FIX, key=len, reverse=True):
        if tail.endswith(copula):
            begin = next(t.begin for t in reversed(words) if t.begin <= last.end - len(copula))
            return "plain", begin, copula
    if (last.pos[5].startswith("終止形") and last.kind in ("動詞", "形容詞")) or (
            last.kind == "助動詞" and last.pos[5].startswith("終止形") and last.normalized in ("ない", "た", "ぬ")):
        start = next((t for t in reversed(words[:-1]) if t.kind in ("名詞", "助詞")), None)
        begin = start.end if start is not None else words[0].begin
        return "plain", begin, "".join(t.surface for t in words if t.begin >= begin)
    return "neither", last.begin, ""


_INVISIBLE = {"\u200b": "ゼロ幅スペース", "\u200c": "ゼロ幅非接合子", "\u200d": "ゼロ幅接合子", "\u2060": "単語結合子",
              "\ufeff": "ゼロ幅ノーブレークスペース（BOM）", "\u00ad": "ソフトハイフン", "\u180e": "モンゴル語母音区切り",
              "\u2028": "行区切り文字", "\u2029": "段落区切り文字"}


_SUSPECT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(_INVISIBLE) + "]")


def raw_hits(line: str) -> Iterator[tuple[int, str, str, str]]:
    """(column, rule, message, suggestion) for characters no one can see or that look the same but are not:
    invisible and control characters, decomposed kana (NFD from a Mac) and compatibility kanji."""
    if unicodedata.is_normalized("NFC", line) and not _SUSPECT.search(line):
        return
    for index, char in enumerate(line):
        name = _INVISIBLE.get(char)
        if name is None and (unicodedata.category(char) == "Cc" and char != "\t"):
            name = f"制御文字 U+{ord(char):04X}"
        if name is not None:
            yield index + 1, "不可視文字", f"目に見えない文字（{name}）が入っています。", "この文字を消す"
        elif unicodedata.combining(char) and index > 0:
            composed = unicodedata.normalize("NFC", line[index - 1:index + 1])
            if len(composed) == 1:
                yield index, "結合文字", f"「{line[index - 1]}」と濁点・半濁点が別々の文字になっています（NFD）。", composed
        elif "\uf900" <= char <= "\ufaff" and unicodedata.normalize("NFC", char) != char:
            yield index + 1, "結合文字", f"「{char}」は互換漢字（U+{ord(char):04X}）です。検索や読み上げで別の字になります。", \
                unicodedata.normalize("NFC", char)
