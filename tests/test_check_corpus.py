"""Recall, precision and false alarms of the proofreading rules on a labelled corpus written for the project
(tests/proofreading_corpus.yml): errors of every rule, and correct sentences that look suspicious. The part
tagged `held_out` was written before the issue-20 rules and is measured on its own (`make bench` prints both)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dayori.check.analyzer import Analyzer
from dayori.check.base import Context
from dayori.check.confusables import group_count
from dayori.check.document import analyse
from dayori.check.rules import RULES
from testsupport.proofreading import Score, load_corpus, score

CORPUS = Path(__file__).with_name("proofreading_corpus.yml")
PRECISION_TARGET = 0.95
RECALL_TARGET = 0.90
CATEGORY_RECALL_TARGET = 0.80
FALSE_ALARM_TARGET = 0.02
ISSUE_20_RULES = ("誤変換", "敬語", "二重否定", "重言", "ら抜き", "衍字", "送り仮名", "カタカナ語", "公用文表記", "接続詞")


@pytest.fixture(scope="module")
def scores() -> tuple[Score, Score, Score]:
    return score(load_corpus(CORPUS))


def test_corpus_is_large_balanced_and_covers_every_sentence_rule() -> None:
    entries = load_corpus(CORPUS)
    assert len(entries) >= 600
    labelled = {rule for entry in entries for rule in entry["expect"]}
    archive_rules = {"表記ゆれ", "表記ルール", "タグのゆれ", "画像サイズ"}
    assert labelled == set(RULES) - archive_rules
    assert sum(1 for entry in entries if not entry["expect"]) >= 0.4 * len(entries)
    held_out = [entry for entry in entries if entry.get("held_out")]
    assert len(held_out) >= 150
    assert {rule for entry in held_out for rule in entry["expect"]} >= set(ISSUE_20_RULES)


def test_confusion_set_has_300_groups_each_with_a_source() -> None:
    from dayori.check.confusables import confusion_set

    data = confusion_set()
    assert group_count() >= 300
    assert {group.source for group in data.groups} | {m.source for m in data.always} <= set(data.sources)
    assert all(len(group.members) >= 2 and all(m.contexts for m in group.members) for group in data.groups)


def test_developed_part_meets_the_targets(scores: tuple[Score, Score, Score]) -> None:
    developed, _, _ = scores
    report = developed.table("developed") + "\n" + "\n".join(developed.mistakes)
    print("\n" + report)
    assert developed.precision >= PRECISION_TARGET, report
    assert developed.recall >= RECALL_TARGET, report
    assert developed.false_alarm_rate <= FALSE_ALARM_TARGET, report
    for rule in ISSUE_20_RULES:
        assert developed.recall_of(rule) >= CATEGORY_RECALL_TARGET, (rule, report)


def test_held_out_part_meets_the_targets(scores: tuple[Score, Score, Score]) -> None:
    """Sentences written before the rules. Their first measurement (recall 0.899, precision 0.908, false
    alarms 1/64) showed bugs that were then fixed, so this part is no longer blind: see the fresh part."""
    _, held_out, _ = scores
    report = held_out.table("held out") + "\n" + "\n".join(held_out.mistakes)
    print("\n" + report)
    assert held_out.recall >= RECALL_TARGET, report
    assert held_out.false_alarm_rate <= FALSE_ALARM_TARGET, report
    for rule in ISSUE_20_RULES:
        assert held_out.recall_of(rule) >= CATEGORY_RECALL_TARGET, (rule, report)


def test_fresh_held_out_part_meets_the_targets(scores: tuple[Score, Score, Score]) -> None:
    """Sentences written after the rules and measured once (recall 0.917, no false alarm): the blind number.
    It showed カタカナ語 inside compounds (ウィルスメール) missed: 18 more sentences on that were written before
    compound matching was built (カタカナ語 1/13 found, no false alarm) and measured once after it (13/13, none
    of their 8 correct sentences flagged). Since then every category holds the 0.80 floor here too."""
    _, _, fresh = scores
    report = fresh.table("fresh held out") + "\n" + "\n".join(fresh.mistakes)
    print("\n" + report)
    assert fresh.sentences >= 78 and fresh.recall >= RECALL_TARGET, report
    assert fresh.false_alarm_rate <= FALSE_ALARM_TARGET and fresh.precision >= PRECISION_TARGET, report
    for rule in ISSUE_20_RULES:
        assert fresh.recall_of(rule) >= CATEGORY_RECALL_TARGET, (rule, report)


def _rules(tmp_path: Path, text: str, context: Context) -> list[tuple[str, str]]:
    path = tmp_path / "1.md"
    path.write_text(f"---\nvol: 1\n---\n\n{text}\n", encoding="utf-8")
    return [(f[2], f[4]) for f in analyse(path, context).findings]


@pytest.mark.parametrize("profile, text, fixed", [("通知", "電話またはメールで連絡してください。", "又は"),
                                                  ("広報", "電話又はメールで連絡してください。", "または")])
def test_profile_decides_kanji_or_kana_conjunctions(tmp_path: Path, profile: str, text: str, fixed: str) -> None:
    assert _rules(tmp_path, text, Context(profile, 100, Analyzer())) == [("公用文表記", fixed)]


@pytest.mark.parametrize("profile, text, fixed", [("通知", "申請書並びに添付書類を提出してください。", "及び"),
                                                  ("広報", "申請書ならびに添付書類を提出してください。", "および"),
                                                  ("通知", "電話若しくはメールで連絡してください。", "又は"),
                                                  ("広報", "電話若しくはメールで連絡してください。", "または")])
def test_a_lone_narabini_or_moshikuwa_gets_the_word_that_keeps_the_meaning(tmp_path: Path, profile: str, text: str,
                                                                            fixed: str) -> None:
    """One finding, whose fix is the one-level conjunction in the profile's spelling (not ならびに for 並びに)."""
    assert _rules(tmp_path, text, Context(profile, 100, Analyzer())) == [("接続詞", fixed)]


@pytest.mark.parametrize("setting, found", [("本則", [("送り仮名", "断る")]), ("許容", [])])
def test_okurigana_setting_decides_the_allowed_forms(tmp_path: Path, setting: str, found: list[tuple[str, str]]) -> None:
    context = Context("広報", 100, Analyzer(), okurigana=setting)
    assert _rules(tmp_path, "依頼を断わることもあります。", context) == found
    assert _rules(tmp_path, "効果が著るしく向上しました。", context) == [("送り仮名", "著しく")]


def test_configured_titles_are_not_checked(tmp_path: Path) -> None:
    text = "会の設立趣意書及び会則を配ります。"
    assert ("公用文表記", "および") in _rules(tmp_path, text, Context("広報", 100, Analyzer()))
    assert _rules(tmp_path, text, Context("広報", 100, Analyzer(), titles=("会の設立趣意書",))) == []


def test_misconversion_says_which_word_and_why(tmp_path: Path) -> None:
    path = tmp_path / "1.md"
    path.write_text("---\nvol: 1\n---\n\n電子決済で回議してから施行します。\n", encoding="utf-8")
    [finding] = analyse(path, Context("広報", 100, Analyzer())).findings
    assert finding[2:] == ["誤変換", "「決済」: 「回議」と一緒なら「決裁」（上役が案を承認すること）では？", "決裁"]
