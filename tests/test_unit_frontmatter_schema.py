"""`dayori.frontmatter` and `dayori.schema` on their own: bytes in, values or a Japanese message with its line out.
Fast (no build): the properties run on every `make test`; `make fuzz` searches further."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from dayori.errors import Problems
from dayori.frontmatter import parse_document
from dayori.schema import ISSUE_KEYS, Invalid, as_date, as_int, as_seconds, as_text_list, validate

SHOWN = Path("newsletter/2026/12.md")
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20) \
    .filter(lambda s: s.strip() == s and s.strip() and s != "\ufeff" and "\ufeff" not in s)


def parsed(source: str) -> tuple[object, Problems]:
    problems = Problems()
    return parse_document(SHOWN, source.encode("utf-8"), SHOWN, problems), problems


def issue(**values: object) -> str:
    front = {"vol": 12, "date": "2026-11-26", "title": "会議の時短", "summary": "要約です。", "tags": ["Teams"], **values}
    return "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n\n本文です。\n"


@given(title=text, summary=text, tags=st.lists(text, min_size=1, max_size=3))
def test_what_an_editor_writes_is_what_is_read(title: str, summary: str, tags: list[str]) -> None:
    document, problems = parsed(issue(title=title, summary=summary, tags=tags))
    assert not problems, problems.items
    values = validate(document, ISSUE_KEYS, SHOWN, problems)  # type: ignore[arg-type]
    assert values is not None, problems.items
    assert (values["title"], values["summary"], values["tags"]) == (title, summary, tuple(dict.fromkeys(tags)))


@given(newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_windows_line_ends_and_a_bom_are_normal(newline: str, bom: bool) -> None:
    source = issue().replace("\n", newline)
    problems = Problems()
    document = parse_document(SHOWN, (b"\xef\xbb\xbf" if bom else b"") + source.encode(), SHOWN, problems)
    assert document is not None and not problems
    assert document.key_lines["title"] == 4 and document.body.strip() == "本文です。"


@pytest.mark.parametrize(("line", "words"), [
    ("title： 会議の時短", "全角"), ("title:会議", "半角スペース"), ("\ttitle: 会議", "タブ"),
    ("title: 会議\x0b資料", "制御文字"),
])
def test_word_and_ime_habits_get_a_japanese_message_on_their_line(line: str, words: str) -> None:
    source = "---\nvol: 12\n" + line + "\n---\n本文\n"
    _, problems = parsed(source)
    assert [(p.line, words in p.message) for p in problems.items][:1] == [(3, True)], problems.items


def test_an_unknown_key_names_the_key_meant() -> None:
    document, problems = parsed(issue(Title="x"))
    assert validate(document, ISSUE_KEYS, SHOWN, problems) is None  # type: ignore[arg-type]
    assert any("「title」" in p.message and p.line == 8 for p in problems.items), problems.items


def test_no_fences_and_not_utf8_are_explained() -> None:
    for raw, words in ((b"title: x\n", "「---」"), ("---\ntitle: 会議\n---\n".encode("cp932"), "UTF-8")):
        problems = Problems()
        assert parse_document(SHOWN, raw, SHOWN, problems) is None
        assert words in problems.items[0].message


@given(st.dates(dt.date(1990, 1, 1), dt.date(2999, 12, 31)))
def test_a_day_is_read_in_every_form_editors_type(day: dt.date) -> None:
    forms = [day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日",
             f"{day.year}-{day.month:02d}-{day.day:02d}".translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))]
    if day >= dt.date(2019, 5, 1) and day.year - 2018 < 100:  # era years have one or two digits
        forms.append(f"令和{day.year - 2018}年{day.month}月{day.day}日")
    assert {as_date(form) for form in forms} == {day}


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "2026-11-26 10:00", "平成31年5月1日", "明日"])
def test_days_that_do_not_exist_or_carry_a_time_are_refused(value: str) -> None:
    with pytest.raises(Invalid):
        as_date(value)


@given(st.integers(1, 999_999))
def test_issue_numbers(number: int) -> None:
    assert as_int(number) == number
    with pytest.raises(Invalid, match="半角"):
        as_int(str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９")))


@pytest.mark.parametrize("value", [0, -1, True, 1_000_000, "12", 1.5])
def test_what_is_not_an_issue_number(value: object) -> None:
    with pytest.raises(Invalid):
        as_int(value)


@given(st.integers(0, 999), st.integers(0, 59))
def test_seconds_as_a_player_shows_them(minutes: int, seconds: int) -> None:
    assert as_seconds(f"{minutes}:{seconds:02d}") == minutes * 60 + seconds


def test_tags_keep_their_first_order_without_repeats() -> None:
    assert as_text_list(["Teams", " Excel ", "Teams"]) == ("Teams", "Excel")
    assert as_text_list("Teams") == ("Teams",)
    with pytest.raises(Invalid):
        as_text_list([["入れ子"]])
