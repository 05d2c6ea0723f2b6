"""The analyzer's shortcuts against SudachiPy itself: a dictionary word known by its id, a short text's tokens
remembered, the dictionary's pages handed back after loading. Each must give exactly what asking Sudachi
afresh gives, whatever the text and in whatever order texts come."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dayori.check.analyzer import Analyzer, Token
from dayori.reading import release_dictionary_pages, sudachi_dictionary

_ALPHABET = st.sampled_from(
    list("会議資料確認共有設定送信添付見れる来れる計る図る測る決裁決済行なう断わる一二三千百万")
    + list("あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんっー")
    + list("アイウエオカキクケコサシスセソタチツテトパスワードドテレワークサーバ")
    + list("ｱｲｳｻｰﾊﾞﾟＡＢＣ１２３abcXYZ0123456789、。，．・「」（）()!? \n\t")
    + ["㍉", "①", "か\u3099", "𠮟", "\u200b", "👍", "徳島(とくしま)", "3,000円", "二千三百", "1000"]
    + ["\u3000", "\x0b", "\x07", "\x0c", "\r", "💡", "行った", "見ました", "問合せ", "申し込み", "Ｗｅｂ", "ＩＴ", "ﾃﾚﾜｰｸ"])
TEXTS = st.lists(st.lists(_ALPHABET, max_size=30).map("".join), min_size=1, max_size=8)


def _sudachi(text: str) -> list[Token]:
    """The tokens as read from every morpheme's own fields, one call per field."""
    from sudachipy import SplitMode  # type: ignore[import-untyped]

    if not text.strip():
        return []
    tokens = []
    for m in sudachi_dictionary().tokenizer(mode=SplitMode.C).tokenize(text):
        pos = tuple(m.part_of_speech())
        tokens.append(Token(m.surface(), m.normalized_form(), m.dictionary_form(), pos, m.begin(), m.end(),
                            m.reading_form() if pos[0] == "動詞" else "", m.is_oov(), pos[0]))
    return tokens


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_every_word_reads_as_sudachi_reads_it_however_often_it_was_met(texts: list[str]) -> None:
    analyzer = Analyzer()
    for text in [*texts, *reversed(texts)]:  # the second time, every word and short text is known
        assert analyzer.tokens(text) == _sudachi(text)


def test_the_fields_the_analyzer_loads_read_every_corpus_sentence_as_all_of_sudachis_fields_do() -> None:
    """The analyzer's tokenizer loads a subset of Sudachi's fields (not the dictionary's surfaces): words whose
    dictionary or normalised form is another entry (行った, 問合せ, ｻｰﾊﾞｰ) must read the same as with all."""
    from testsupport.proofreading import load_corpus

    analyzer = Analyzer()
    for entry in load_corpus(Path(__file__).with_name("proofreading_corpus.yml")):
        assert analyzer.tokens(entry["text"]) == _sudachi(entry["text"]), entry["text"]


def test_a_joined_number_or_guessed_word_is_never_taken_for_the_word_it_starts_with() -> None:
    """Sudachi joins 1|0|0|0 into one token with a number's id: it must not be read as the 1 met before."""
    analyzer = Analyzer()
    for text in ["1", "1000円", "12", "千", "二千三百円", "3,000件", "パスワードドを入力", "ｻｰﾊﾞｰとサーバー", "テレワ－ク"]:
        assert analyzer.tokens(text) == _sudachi(text)
        assert analyzer.tokens(text) == _sudachi(text)


def test_a_remembered_short_text_cannot_be_changed_by_whoever_got_its_tokens() -> None:
    analyzer = Analyzer()
    first = analyzer.tokens("まとめ")
    first.clear()
    assert analyzer.tokens("まとめ") == _sudachi("まとめ") != []


def test_a_long_text_is_analysed_in_pieces_with_offsets_into_the_whole() -> None:
    text = "会議の資料を共有します。" * 1500
    tokens = Analyzer().tokens(text)
    assert "".join(t.surface for t in tokens) == text
    assert all(text[t.begin:t.end] == t.surface for t in tokens)


def _mapped_kilobytes(path: str) -> int:
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as smaps:
        for line in smaps:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                inside = line.rstrip("\n").endswith(" " + path)
            elif inside and line.startswith("Rss:"):
                total += int(head[1])
    return total


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pages are handed back on Linux only")
def test_the_dictionary_pages_read_while_loading_are_handed_back_and_analyses_stay_the_same() -> None:
    import importlib.util

    spec = importlib.util.find_spec("sudachidict_core")
    assert spec is not None and spec.origin is not None
    path = str((Path(spec.origin).parent / "resources" / "system.dic").resolve())
    sudachi_dictionary()
    before = Analyzer().tokens("見れる資料を電子決済で回します。")
    release_dictionary_pages()
    assert _mapped_kilobytes(path) < 1024
    assert Analyzer().tokens("見れる資料を電子決済で回します。") == before == _sudachi("見れる資料を電子決済で回します。")
    assert _mapped_kilobytes(path) > 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pages are handed back on Linux only")
def test_analysing_maps_the_dictionary_pieces_read_not_their_64_kb_surroundings() -> None:
    """A hundred paragraphs read here and there in the dictionary: 75 MB of it mapped if every page read
    maps its neighbours (the kernel's fault-around), 37 MB in pieces (see `reading._cut_in_pieces`)."""
    import importlib.util
    import random

    from testsupport.corpus import paragraph

    spec = importlib.util.find_spec("sudachidict_core")
    assert spec is not None and spec.origin is not None
    path = str((Path(spec.origin).parent / "resources" / "system.dic").resolve())
    sudachi_dictionary()
    release_dictionary_pages()
    assert _mapped_kilobytes(path) < 1024
    analyzer, rng = Analyzer(), random.Random(22)
    for _ in range(100):
        analyzer.tokens(paragraph(rng))
    assert 0 < _mapped_kilobytes(path) < 55 * 1024


ROWS = st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8), st.integers(1, 10**9), st.integers(1, 10**6)),
                max_size=30)


@settings(max_examples=60, deadline=None)
@given(ROWS)
def test_a_records_words_kept_in_columns_read_back_as_the_rows_the_cache_stores(rows: list[tuple[str, str, int, int]]) -> None:
    import json

    from dayori.check.document import Record

    record = Record(findings=[[1, 1, "文体", "m", "s"]], words=[list(row) for row in rows])
    assert list(record.words) == rows
    assert record.as_dict()["words"] == [list(row) for row in rows]
    assert Record(**json.loads(record.to_json())) == record
