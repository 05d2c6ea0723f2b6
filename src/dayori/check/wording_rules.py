"""The rules about word choice that readers' eyes skip: 誤変換, 敬語, 二重否定, 重言, 衍字, 送り仮名, カタカナ語, and
the 公用文 rules that need the sentence's structure (形式名詞, 等, の方, 並びに・若しくは).

Wording rules are not applied inside quotes that discuss wording (「見れる」ではなく…), titles of laws and
documents (〇〇法及び同法施行規則) or proper names: see `protected_spans`."""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Iterable, Iterator

from dayori.check.analyzer import Token
from dayori.check.base import Context, Hit, SegmentCheck
from dayori.check.confusables import confusions
from dayori.check.text import Segment
from dayori.check.wording import (
    HONORIFIC_VERBS,
    HUMBLE_VERBS,
    KATAKANA_ERRORS,
    NEGATIONS,
    OKURIGANA_ALLOWED,
    OKURIGANA_ERRORS,
    PLEONASM_PATTERNS,
    PLEONASMS,
)

HIRA = "\u3041-\u309f"
KATA = "\u30a1-\u30fa\u30fc"
KANJI = "\u3005\u4e00-\u9fff"

WORDING_RULES = frozenset({"誤変換", "敬語", "二重否定", "重言", "ら抜き", "衍字", "送り仮名", "カタカナ語", "公用文表記",
                           "接続詞", "冗長表現", "漢字表記", "を行う", "表記ルール"})
"""Rules about which words are written: quotes that discuss wording and titles are left to their authors."""

# --- where wording rules do not look ---------------------------------------------------------------------

_QUOTE = re.compile(r"「[^「」]{1,30}」|『[^『』]{1,30}』")
_DISCUSSED = re.compile(r"(?:ではなく|でなく|じゃなく|と|って|は|や|、?[「『→]|\s?→|など|の(?:代わり|ほう|方が|ような|ように))")
_TITLE = re.compile(
    f"[{KANJI}{KATA}・]+(?:に関する|のための|における|に基づく|の)?[{KANJI}{KATA}・]*"
    "(?:法律|法|規程|規則|基準|要綱|要領|条例|指針|施行令|政令|省令|ガイドライン)(?![{KANJI}])")
_COMMON_ENDINGS = frozenset({"方法", "手法", "文法", "用法", "寸法", "作法", "技法", "製法", "療法", "工法", "説法", "違法",
                             "合法", "不法", "司法", "立法", "適法", "無法", "便法", "論法", "話法", "算法", "規則", "基準"})


def protected_spans(text: str, context: Context) -> list[tuple[int, int]]:
    """Quotes followed by と・という・ではなく・は (the sentence talks about the quoted words), titles of laws and
    documents (a run of kanji ending in 法・規程・規則・基準… and the configured titles)."""
    spans = [(m.start(), m.end()) for m in _QUOTE.finditer(text)
             if _DISCUSSED.match(text, m.end()) or text[m.start() - 1:m.start()] in ("」", "』")]
    for match in _TITLE.finditer(text):
        word = match.group()
        if len(word) >= 3 and word not in _COMMON_ENDINGS and not word.endswith(("方法", "手法")):
            spans.append((match.start(), match.end()))
    for title in context.titles:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(title), text)]
    return spans


def inside(spans: list[tuple[int, int]], start: int) -> bool:
    """A hit at a title's end (the 及び after 〇〇法) belongs to the title's wording too."""
    return any(begin <= start <= end for begin, end in spans)


# --- 誤変換 -------------------------------------------------------------------------------------------------

def misconversion(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for found in confusions(segment.text, tokens):
        yield Hit("誤変換", found.start, found.message, found.suggestion)


# --- 敬語 ---------------------------------------------------------------------------------------------------

_O_NI_NARARERU = re.compile(f"[おご][{KANJI}{HIRA}]{{1,6}}?にな(?=られ)")
_NARARERU_ENDINGS = (("ました", "りました"), ("ます", "ります"), ("ません", "りません"), ("た", "った"), ("て", "って"),
                     ("る", "る"))
_HUMBLE_SASETE = re.compile(r"(?:拝見|拝読|拝聴|拝借|拝受|拝察)させていただ|伺わせていただ|参らせていただ|申させていただ")
_O_SHITE_KUDASAI = re.compile(f"[おご][{KANJI}]{{1,4}}[{HIRA}]?して(?:ください|下さい|くださ)")
_GO_SARERU = re.compile(f"(?<![{KANJI}])ご[{KANJI}]{{2,4}}され(?=[るまたて])")
_SAIRE = re.compile(f"([{KANJI}])([かがたなばまらわ]|さ(?=さ))させ")
_SASETE = re.compile(r"させていただ|せていただ")
_U_ROW = dict(zip("かがさたなばまらわ", "くぐすつぬぶむるう", strict=True))


def honorifics(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    text = segment.text
    if "れ" in text:
        yield from _double_honorifics(text, tokens)
    if "拝" in text:
        yield from _humble_passive(tokens)
    if "いただ" in text:
        for match in _HUMBLE_SASETE.finditer(text):
            yield Hit("敬語", match.start(), f"「{match.group()}く」は謙譲語に「させていただく」を重ねた過剰な敬語です。",
                      "拝見しました／伺います のように一つにする")
    if "くださ" in text or "下さ" in text:
        yield from _humble_request(text, tokens)
    if "され" in text:
        for match in _GO_SARERU.finditer(text):
            yield Hit("敬語", match.start(), f"「{match.group()}る」は謙譲の「ご〜する」に尊敬の「れる」を重ねています。",
                      match.group()[:-2] + "になる")
    if "させ" in text:
        yield from _saire(segment, context)
    sasete = list(_SASETE.finditer(text)) if "いただ" in text else []
    if len(sasete) >= 3:
        yield Hit("敬語", sasete[0].start(), f"「させていただく」が {len(sasete)} 回続き、回りくどくなっています。",
                  "「いたします」「します」に言い換える")


def _prefixed(tokens: list[Token]) -> set[int]:
    """Where an honorific お・ご・御 starts a word."""
    return {t.begin for t in tokens if t.kind == "接頭辞" or t.surface.startswith(("お", "ご", "御"))}


def _double_honorifics(text: str, tokens: list[Token]) -> Iterator[Hit]:
    """お〜になられる, and a 尊敬語 or 謙譲語 verb with れる・られる on top."""
    prefixes = _prefixed(tokens) if "られ" in text else set()
    for match in _O_NI_NARARERU.finditer(text) if prefixes else ():
        if match.start() not in prefixes:
            continue
        after = text[match.end() + 2:match.end() + 5]
        ending = next((fixed for said, fixed in _NARARERU_ENDINGS if after.startswith(said)), "る")
        yield Hit("敬語", match.start(), f"「{match.group()}られ…」は「お〜になる」に「られる」を重ねた二重敬語です。",
                  match.group() + ending)
    for first, second in itertools.pairwise(tokens):
        if second.normalized not in ("れる", "られる") or second.kind != "助動詞" or first.end != second.begin:
            continue
        if first.lemma in HONORIFIC_VERBS:
            yield Hit("敬語", first.begin, f"「{first.surface}{second.surface}」は尊敬語「{first.lemma}」に「れる」を重ねた"
                      "二重敬語です。", HONORIFIC_VERBS[first.lemma])
        elif first.lemma in HUMBLE_VERBS and first.kind == "動詞":
            yield Hit("敬語", first.begin, f"「{first.surface}{second.surface}」は謙譲語「{first.lemma}」に「れる」を付けて"
                      "相手の動作に使っています。", HUMBLE_VERBS[first.lemma])


def _humble_passive(tokens: list[Token]) -> Iterator[Hit]:
    for first, second, third in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if first.lemma in ("拝見", "拝読", "拝聴") and second.lemma == "する" and third.normalized in ("れる", "られる"):
            yield Hit("敬語", first.begin, f"「{first.surface}{second.surface}{third.surface}」は謙譲語を相手の動作に使っています。",
                      HUMBLE_VERBS[first.lemma])


def _humble_request(text: str, tokens: list[Token]) -> Iterator[Hit]:
    """お〜してください: the humble お〜する asked of the reader."""
    prefixes: set[int] | None = None
    for match in _O_SHITE_KUDASAI.finditer(text):
        prefixes = _prefixed(tokens) if prefixes is None else prefixes
        if match.start() not in prefixes:
            continue
        fixed = re.sub(r"[" + HIRA + r"]?して(ください|下さい|くださ)$", lambda m: "ください", match.group())
        yield Hit("敬語", match.start(), f"「{match.group()}」は謙譲の「お〜する」を相手の動作に使っています。",
                  fixed if not fixed.endswith("くださ") else match.group())


def _saire(segment: Segment, context: Context) -> Iterator[Hit]:
    """さ入れ言葉: a 五段 verb takes せる, not させる (休ませていただく, not 休まさせていただく)."""
    for match in _SAIRE.finditer(segment.text):
        verb = match.group(1) + _U_ROW[match.group(2)]
        types = [kind for _, kind in context.analyzer.verb_types(verb)]
        if types and all(kind.startswith("五段") for kind in types):
            yield Hit("敬語", match.start(), f"「{match.group()}」はさ入れ言葉です（「{verb}」は五段活用）。",
                      match.group(1) + match.group(2) + "せ")


# --- 二重否定 / 重言 ------------------------------------------------------------------------------------------

_NEGATIONS = tuple((re.compile(pattern), advice) for pattern, advice in NEGATIONS)
_PLEONASMS = re.compile("|".join(re.escape(w) for w, _ in sorted(PLEONASMS, key=lambda p: -len(p[0]))))
_PLEONASM_FIX = dict(PLEONASMS)
_PLEONASM_PATTERNS = tuple((re.compile(pattern), advice) for pattern, advice in PLEONASM_PATTERNS)


def double_negatives(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    for pattern, advice in _NEGATIONS:
        for match in pattern.finditer(segment.text):
            start = _phrase_start(segment.text, match.start())
            yield Hit("二重否定", start, f"「{segment.text[start:match.end()]}…」は二重否定で、読み手が意味を取りにくくなります。",
                      advice)


def _phrase_start(text: str, index: int) -> int:
    """Back to the start of the verb phrase (after the last particle or punctuation), for a readable quote."""
    start = index
    while start > 0 and start > index - 8 and text[start - 1] not in "、。をにがはでともへ「」（）\n ":
        start -= 1
    return start


def pleonasms(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    """The list's phrases, then the patterns where the list found nothing (各課ごと is reported once)."""
    listed: set[int] = set()
    for match in _PLEONASMS.finditer(segment.text):
        listed.add(match.start())
        yield Hit("重言", match.start(), f"「{match.group()}」は同じ意味の言葉を重ねています（重言）。", _PLEONASM_FIX[match.group()])
    for pattern, advice in _PLEONASM_PATTERNS:
        for match in pattern.finditer(segment.text):
            if match.start() in listed:
                continue
            yield Hit("重言", match.start(), f"「{match.group()}」は同じ意味の言葉を重ねています（重言）。", advice)


# --- 衍字 ---------------------------------------------------------------------------------------------------

_DOUBLED_ENDINGS = re.compile(
    f"(?:[まで]すす(?![めぐきけそ])|(?:まし|でし|っ|かっ)たた(?![{HIRA}])|(?<=[{HIRA}])るる"
    f"|んん|(?:ださ|なさ)いい(?=[。、]|$)|ませんん)")
_LEGIT_DOUBLES = frozenset({"々", "ー"})
_REPEAT = re.compile(f"([{KATA}]{{1,3}})\\1")
"""A katakana word Sudachi does not know with a piece typed twice (パスワードド, バックアップップ)."""


def stray_characters(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    """A character typed twice that makes no word: 確認しします, 予約約しました, パスワードド, しましたた."""
    reported: set[int] = set()
    text = segment.text

    def hit(at: int, wrong: str, right: str) -> Iterator[Hit]:
        if at not in reported:
            reported.add(at)
            yield Hit("衍字", at, f"「{wrong}」に同じ字が重なっています。", right)

    doubled_at = [match.end() for match in _DOUBLED_CHARACTER.finditer(text)]
    for first, second in _meeting_on_a_doubled_character(doubled_at, tokens):
        if _same_ending_twice(first, second):
            yield from hit(second.begin, first.surface + second.surface, first.surface)
        elif _kanji_twice(first, second):
            yield from hit(second.begin, first.surface + second.surface[:1], first.surface)
    for token in tokens if _REPEAT.search(text) else ():
        repeat = _REPEAT.search(token.surface) if token.oov else None
        if repeat is not None:
            at = token.begin + repeat.start() + len(repeat.group(1))
            yield from hit(at, token.surface, token.surface[:repeat.start()] + token.surface[repeat.start() + len(repeat.group(1)):])
    for match in _DOUBLED_ENDINGS.finditer(text) if doubled_at else ():  # each ending has a character doubled
        doubled = next(i for i in range(match.start(), match.end() - 1) if text[i] == text[i + 1])
        yield from hit(doubled + 1, match.group(), match.group()[:doubled - match.start()] + match.group()[doubled - match.start() + 1:])


_DOUBLED_CHARACTER = re.compile(r"(.)(?=\1)")
_begin = operator.attrgetter("begin")


def _meeting_on_a_doubled_character(boundaries: list[int], tokens: list[Token]) -> Iterator[tuple[Token, Token]]:
    """Neighbouring words where the last character of the first is the first of the second (し|します): the
    only places a doubled character can be (`boundaries`, where the second of two same characters stands),
    found by one scan of the text rather than of every word."""
    for boundary in boundaries:
        index = bisect.bisect_left(tokens, boundary, key=_begin)
        if 0 < index < len(tokens) and tokens[index].begin == boundary and tokens[index - 1].end == boundary:
            yield tokens[index - 1], tokens[index]


def _same_ending_twice(first: Token, second: Token) -> bool:
    """し・た・る typed twice as two one-character words (確認しします, しましたた), or a verb's し doubled by
    する (いたしします)."""
    if first.surface == second.surface and first.lemma == second.lemma and len(first.surface) == 1:
        return first.kind in ("動詞", "助動詞", "接尾辞") and first.surface not in _LEGIT_DOUBLES
    return (second.surface == "し" and second.lemma == "する" and first.kind == "動詞" and first.surface.endswith("し")
            and first.pos[5].startswith("連用形"))


def _kanji_twice(first: Token, second: Token) -> bool:
    """A noun's last kanji repeated as a word of its own (手順順, 予約約しました); 会社社長 is two words."""
    return (len(first.surface) >= 2 and second.surface[:1] == first.surface[-1:] and first.kind == "名詞"
            and first.pos[1] != "固有名詞" and second.kind in ("名詞", "動詞", "接尾辞")
            and re.fullmatch(f"[{KANJI}][{HIRA}]*", second.surface) is not None)


# --- 送り仮名 ------------------------------------------------------------------------------------------------

_OKURIGANA_ERRORS = re.compile("|".join(map(re.escape, sorted(OKURIGANA_ERRORS, key=len, reverse=True))))


def okurigana(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    """「送り仮名の付け方」: a list of slips (著るしい), and any one-kanji word whose okurigana differs from the
    dictionary's standard form (断わる → 断る); the 許容 forms are right when the setting says 許容."""
    slips = list(_OKURIGANA_ERRORS.finditer(segment.text))
    begins = {t.begin for t in tokens} if slips else set()
    done: set[int] = set()
    for match in slips:
        if match.start() in begins:
            done.add(match.start())
            right = OKURIGANA_ERRORS[match.group()]
            yield Hit("送り仮名", match.start(), f"「{match.group()}」の送り仮名が違います（{match.group()} → {right}）。", right)
    for token in tokens:
        if token.lemma == token.normalized or token.begin in done or token.kind not in ("動詞", "形容詞", "副詞", "形状詞"):
            continue
        fixed = _standard_okurigana(token)
        if fixed is None or not context.analyzer.same_reading(token.lemma, token.normalized):
            continue
        allowed = token.lemma in OKURIGANA_ALLOWED
        if allowed and context.okurigana == "許容":
            continue
        kind = "「送り仮名の付け方」の許容の形です。本則では" if allowed else "送り仮名が違います。正しくは"
        yield Hit("送り仮名", token.begin, f"「{token.surface}」は{kind}「{fixed}」です。", fixed)


def _standard_okurigana(token: Token) -> str | None:
    lemma, normal = token.lemma, token.normalized
    if lemma == normal or not lemma or not normal:
        return None
    kanji = [c for c in lemma if "\u4e00" <= c <= "\u9fff"]
    if len(kanji) != 1 or kanji != [c for c in normal if "\u4e00" <= c <= "\u9fff"]:
        return None
    if not lemma.startswith(kanji[0]) or not normal.startswith(kanji[0]):
        return None
    shared = 0
    while shared < min(len(lemma), len(normal)) - 1 and lemma[-1 - shared] == normal[-1 - shared]:
        shared += 1
    head, right_head = lemma[:len(lemma) - shared], normal[:len(normal) - shared]
    if not token.surface.startswith(head):
        return None
    return right_head + token.surface[len(head):]


# --- カタカナ語 -----------------------------------------------------------------------------------------------

_KATAKANA = re.compile("|".join(map(re.escape, sorted(KATAKANA_ERRORS, key=len, reverse=True))))
_KATAKANA_CHARS = frozenset(chr(c) for c in range(0x30A1, 0x30FB)) | {"ー"}


def katakana(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    """A misspelling of the list, alone (ウィルスに) or inside a katakana compound (ウィルスメール,
    コンピューターウィルス), however Sudachi splits it: the rest of the compound must be words of their own,
    so a longer word that merely contains a misspelling (インストルメンタル, ザワークラウト) is left alone."""
    text = segment.text
    proper = [(t.begin, t.end) for t in tokens if t.pos[1] == "固有名詞" and len(t.surface) > 1]
    for match in _KATAKANA.finditer(text):
        start, end, wrong = match.start(), match.end(), match.group()
        right = KATAKANA_ERRORS[wrong]
        if any(a <= start and end <= b and text[a:b] != wrong for a, b in proper):
            continue
        if _inside_another_word(tokens, start, end, right):
            continue
        first, last = _katakana_run(text, start, end)
        if not (context.analyzer.nouns_alone(text[first:start]) and context.analyzer.nouns_alone(text[end:last].lstrip("ー"))):
            continue
        yield Hit("カタカナ語", start, f"「{wrong}」は「{right}」と書きます。", right)


def _katakana_run(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the katakana around text[start:end] begins and ends (a compound is written without a break)."""
    while start > 0 and text[start - 1] in _KATAKANA_CHARS:
        start -= 1
    while end < len(text) and text[end] in _KATAKANA_CHARS:
        end += 1
    return start, end


def _inside_another_word(tokens: list[Token], start: int, end: int, right: str) -> bool:
    """A dictionary word around the match that is not a spelling of the right form (インストルメンタル around
    インストル; but コンピューターウィルス is Sudachi's word for コンピューターウイルス, so it counts)."""
    return any(t.begin <= start and end <= t.end and t.end - t.begin > end - start and not t.oov
               and right not in t.normalized for t in tokens if t.end > start and t.begin < end)


# --- 公用文: 形式名詞・等・の方 ---------------------------------------------------------------------------------

_PREDICATES = ("動詞", "形容詞", "助動詞")
_FORMAL_NEXT = {"時": re.compile(r"(?:は|に|には|にも|も|の|、)"),
                "所": re.compile(r"(?:、|です|でした|だ|である|であり|で、|でございます)"),
                "物": re.compile(r"(?:とする|とします|とし|である|です|では|とみな|と認め|と解)")}
_FORMAL_KANA = {"時": "とき", "所": "ところ", "物": "もの"}
_VAGUE_HOU = re.compile(
    r"の方(?:を(?:ご覧|ご確認|確認|お送り|送付|提出|お願い|記入|ご記入|ご用意|ご提出|ご連絡)|で(?:確認|対応|処理|用意|手配|準備|調整|検討)"
    r"|は(?:郵送|メール|窓口|後日|以上|大丈夫|よろし))")
_PERSONS = ("担当", "職員", "係", "窓口", "皆さん", "利用者", "受付", "年配", "目上", "相手", "先方", "申請者", "来庁者")


def official_nouns(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    previous: Token | None = None
    for token in tokens:
        kana = _FORMAL_KANA.get(token.surface)
        if (kana and token.kind == "名詞" and previous is not None and previous.kind in _PREDICATES
                and previous.end == token.begin and _FORMAL_NEXT[token.surface].match(segment.text, token.end)):
            yield Hit("公用文表記", token.begin, f"形式名詞の「{token.surface}」は公用文では「{kana}」と書きます。", kana)
        if (token.surface == "等" and context.profile == "広報" and token.pos[1] in ("普通名詞", "名詞的")
                and previous is not None and previous.end == token.begin and previous.kind == "名詞"):
            yield Hit("公用文表記", token.begin, "「等」は広報では「など」と書きます（設定 check.profile）。", "など")
        previous = token
    for match in _VAGUE_HOU.finditer(segment.text):
        before = segment.text[max(0, match.start() - 4):match.start()]
        if before.endswith(_PERSONS):
            continue
        yield Hit("公用文表記", match.start(), "「〜の方」はぼかした言い方です。公用文では「の方」を付けずに書きます。",
                  "「の方」を消す")


# --- 接続詞: 並びに・若しくは の使い方 ------------------------------------------------------------------------

_AND_SMALL = re.compile("及び|および")
_AND_LARGE = re.compile("並びに|ならびに")
_OR_LARGE = re.compile("又は|または")
_OR_SMALL = re.compile("若しくは|もしくは")


def conjunction_structure(segment: Segment, tokens: list[Token], context: Context) -> Iterator[Hit]:
    """並びに joins groups already joined by 及び, and 若しくは joins inside a group that 又は joins: used alone,
    each is the wrong word; the fix keeps the meaning (及び, 又は) in the spelling of the profile."""
    from dayori.check.rules import sentences

    starts = {t.begin for t in tokens}
    for start, sentence in sentences(segment.text):
        for wrong, partner, fixed in ((_AND_LARGE, _AND_SMALL, ("及び", "および")), (_OR_SMALL, _OR_LARGE, ("又は", "または"))):
            if partner.search(sentence):
                continue
            for match in wrong.finditer(sentence):
                if start + match.start() not in starts:
                    continue
                right = fixed[0] if context.profile == "通知" else fixed[1]
                role = "及び" if fixed[0] == "及び" else "又は"
                yield Hit("接続詞", start + match.start(),
                          f"「{match.group()}」は「{role}」と組んで段階を分けるときの言葉です。一段階だけなら「{right}」です。", right)


def structural_conjunctions(text: str) -> set[int]:
    """Where `conjunction_structure` reports: the kana/kanji rule stays silent there (one fix, not two)."""
    from dayori.check.rules import sentences

    found = set()
    for start, sentence in sentences(text):
        for wrong, partner in ((_AND_LARGE, _AND_SMALL), (_OR_SMALL, _OR_LARGE)):
            if not partner.search(sentence):
                found |= {start + m.start() for m in wrong.finditer(sentence)}
    return found


def _any(patterns: Iterable[str]) -> re.Pattern[str]:
    """One expression that matches where any of `patterns` does: a quick test before running them one by one."""
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


WORDING_CHECKS: tuple[tuple[SegmentCheck, re.Pattern[str] | None], ...] = (
    (misconversion, None), (honorifics, re.compile("[れ拝]|いただ|くださ|下さ|させ")),
    (double_negatives, _any(pattern for pattern, _ in NEGATIONS)),
    (pleonasms, None), (stray_characters, None),
    (okurigana, None), (katakana, _KATAKANA), (official_nouns, re.compile("[時所物等]|の方")),
    (conjunction_structure, re.compile(f"{_AND_LARGE.pattern}|{_OR_SMALL.pattern}")),
)
"""Each rule with what a segment must contain for it to find anything (None: it looks at every segment)."""
