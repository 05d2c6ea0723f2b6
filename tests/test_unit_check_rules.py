"""Each proofreading rule on its own: a sentence with the rule's mistake, checked alone as a one-issue body, is
found by that rule (the corpus in tests/proofreading_corpus.yml measures how well; this names the rule that
broke). Rules that need the whole archive or a file's pictures are attacked end to end in test_check.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from dayori.check.analyzer import Analyzer
from dayori.check.base import Context
from dayori.check.document import analyse
from dayori.check.rules import RULES
from testsupport.proofreading import load_corpus

CORPUS = load_corpus(Path(__file__).with_name("proofreading_corpus.yml"))
WHOLE_ARCHIVE_RULES = {"表記ゆれ": "test_archive_variants_report_the_minority_with_the_majority",
                       "タグのゆれ": "test_archive_variants_report_the_minority_with_the_majority",
                       "表記ルール": "test_project_dictionary_and_inline_switch",
                       "画像サイズ": "test_big_images_are_reported_with_their_size"}
"""Rules that compare a file with others or read its pictures, and the test_check.py test that attacks each."""


def examples(rule: str) -> list[str]:
    return [entry["text"] for entry in CORPUS if entry["expect"] == [rule]][:3]


@pytest.fixture(scope="module")
def context() -> Context:
    return Context("広報", 100, Analyzer())


def found(text: str, context: Context, folder: Path) -> set[str]:
    path = folder / "1.md"
    path.write_text(f"---\nvol: 1\n---\n\n{text}\n", encoding="utf-8")
    return {finding[2] for finding in analyse(path, context).findings}


def test_every_rule_has_examples_or_an_end_to_end_test() -> None:
    named = (Path(__file__).with_name("test_check.py")).read_text(encoding="utf-8")
    for rule in RULES:
        assert examples(rule) or f"def {WHOLE_ARCHIVE_RULES.get(rule, '?')}(" in named, f"{rule} is tested nowhere"


@pytest.mark.parametrize("rule", [rule for rule in RULES if examples(rule)])
def test_a_rules_own_mistake_is_found_by_it(rule: str, context: Context, tmp_path: Path) -> None:
    results = {text: found(text, context, tmp_path) for text in examples(rule)}
    assert any(rule in result for result in results.values()), results
