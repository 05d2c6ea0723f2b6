"""カタカナ語: the curated misspellings are found inside katakana compounds (ウィルスメール, コンピューターウィルス,
ディスクトップパソコン), however Sudachi splits them, and longer correct words that merely contain a misspelling
(インストルメンタル) or the right spellings in the same compounds are left alone."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dayori.check.analyzer import Analyzer
from dayori.check.base import Context
from dayori.check.document import analyse
from dayori.check.wording import KATAKANA_ERRORS

CONTEXT = Context("広報", 100, Analyzer())
WORDS = ("メール", "パソコン", "データ", "ソフト", "サービス", "ツール", "チェック", "ファイル", "サーバー", "システム",
         "ポリシー", "ボタン", "セミナー", "リスト", "コンピューター", "クラウド", "ネットワーク", "ライセンス")
"""Katakana nouns an issue joins into compounds."""
KATAKANA_WRONGS = sorted(wrong for wrong in KATAKANA_ERRORS if all("\u30a1" <= c <= "\u30fc" for c in wrong))
RIGHTS = sorted({right for right in KATAKANA_ERRORS.values() if all("\u30a1" <= c <= "\u30fc" for c in right)})


def katakana_findings(text: str) -> list[tuple[int, str]]:
    """(column, suggestion) of each カタカナ語 finding on the body's only line, as the check reports them."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "1.md"
        path.write_text(f"---\nvol: 1\n---\n\n{text}\n", encoding="utf-8")
        return [(f[1], f[4]) for f in analyse(path, CONTEXT).findings if f[2] == "カタカナ語"]


@given(st.sampled_from(KATAKANA_WRONGS), st.sampled_from(("", *WORDS)), st.sampled_from(("", *WORDS)))
def test_a_misspelling_is_found_alone_and_inside_compounds(wrong: str, before: str, after: str) -> None:
    text = f"{before}{wrong}{after}の設定を確認します。"
    assert (len(before) + 1, KATAKANA_ERRORS[wrong]) in katakana_findings(text), text


@given(st.sampled_from(RIGHTS), st.sampled_from(("", *WORDS)), st.sampled_from(("", *WORDS)))
def test_the_right_spelling_in_the_same_compounds_is_never_flagged(right: str, before: str, after: str) -> None:
    text = f"{before}{right}{after}の設定を確認します。"
    assert katakana_findings(text) == [], text


@pytest.mark.parametrize("text, found", [
    ("ウィルスメールに注意してください。", [(1, "ウイルス")]),
    ("コンピューターウィルスの被害です。", [(8, "ウイルス")]),  # one word in Sudachi's dictionary
    ("ディスクトップパソコンを買います。", [(1, "デスクトップ")]),  # split ディスク|トップ|パソコン
    ("毎晩のバッグアップデータを見ます。", [(4, "バックアップ")]),  # split バッグ|アップデータ
    ("ユーザーアカウト管理の手順です。", [(5, "アカウント")]),  # one unknown word to Sudachi
    ("インストルメンタルの曲を流します。", []),  # a word of its own that contains インストル
    ("ザワークラウトを食堂で出します。", []),  # クラウト after a part that is no word alone
    ("ギブスンのギターを展示します。", []),
    ("昼休みにスウィングジャズを流します。", []),
    ("ウイルス対策ソフトとウイルスメールの見分け方です。", []),
])
def test_compounds_however_sudachi_splits_them(text: str, found: list[tuple[int, str]]) -> None:
    assert katakana_findings(text) == found
