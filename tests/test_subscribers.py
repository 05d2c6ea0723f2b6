"""Subscriber lists as Japanese Excel saves them: CP932 or UTF-8 (BOM or not) CSV, `.xlsx`, headers in either
language with full-width letters and spaces; Alt+Enter and Word's control characters refused by row number,
never echoing an address or a name."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from dayori.delivery.subscribers import SubscribersFileError, read_subscribers

PEOPLE = [("yamada@example.go.jp", "山田 太郎"), ("sato@example.go.jp", "佐藤 花子")]


def _csv(path: Path, lines: list[str], encoding: str) -> Path:
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def _xlsx(path: Path, rows: list[list[object]], *, first_sheet: str = "購読者") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = first_sheet
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("退会者").append(["gone@example.go.jp", "退会済み"])
    workbook.save(path)
    return path


def _pairs(path: Path) -> list[tuple[str, str]]:
    subscribers = read_subscribers(path)
    assert subscribers.problems == []
    return [(r.address, r.name) for r in subscribers.recipients]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
@pytest.mark.parametrize("header", ["メールアドレス,氏名", "　メールアドレス　,　お名前　", "E-mail,名前",
                                    "Ｅメール,ＮＡＭＥ", "アドレス,name", "Address,Name", "メール アドレス,氏名"])
def test_csv_in_any_excel_encoding_with_japanese_or_english_headers(tmp_path, encoding, header):
    lines = [header] + [f"{address},{name}" for address, name in PEOPLE]
    assert _pairs(_csv(tmp_path / "list.csv", lines, encoding)) == PEOPLE


def test_columns_are_found_by_header_in_any_order(tmp_path):
    lines = ["番号,氏名,所属,メールアドレス"] + [f"{n},{name},DX室,{address}" for n, (address, name) in
                                             enumerate(PEOPLE, start=1)]
    assert _pairs(_csv(tmp_path / "list.csv", lines, "cp932")) == PEOPLE


def test_xlsx_first_sheet_with_japanese_headers(tmp_path):
    rows: list[list[object]] = [["氏名", "メールアドレス", "入庁年"], *([n, a, 2020] for a, n in PEOPLE)]
    assert _pairs(_xlsx(tmp_path / "list.xlsx", rows)) == PEOPLE


def test_rows_are_reported_by_the_line_or_row_the_editor_sees(tmp_path):
    """A quoted Alt+Enter spans two lines of the CSV: the row is reported where it starts, and the rows
    after it keep the numbers an editor finds in a text editor; in a workbook, Excel's row numbers."""
    text = ('メールアドレス,氏名\r\n"a@example.go.jp","山田\n太郎"\r\nb@example.go.jp,佐藤\r\n'
            '\r\nnot-an-address,鈴木\r\nc@example.go.jp,"高橋\t美咲"\r\n')
    csv_path = tmp_path / "list.csv"
    csv_path.write_bytes(text.encode("cp932"))
    xlsx_path = _xlsx(tmp_path / "list.xlsx", [["メールアドレス", "氏名"], ["a@example.go.jp", "山田\n太郎"],
                                               ["b@example.go.jp", "佐藤"], [], ["not-an-address", "鈴木"],
                                               ["c@example.go.jp", "高橋\t美咲"]])
    for path, lines in ((csv_path, [2, 6, 7]), (xlsx_path, [2, 5, 6])):
        subscribers = read_subscribers(path)
        assert [p.line for p in subscribers.problems] == lines
        assert [r.address for r in subscribers.recipients] == ["b@example.go.jp"]
        messages = [str(p) for p in subscribers.problems]
        assert messages[0].startswith(f"{path}:{lines[0]}: ") and "改行" in messages[0]
        assert "@" in messages[1] and "U+0009" in messages[2]
        for personal in ("a@example", "not-an-address", "山田", "鈴木", "高橋"):
            assert not any(personal in message for message in messages)


def test_an_unknown_header_is_explained_instead_of_reported_as_a_bad_address(tmp_path):
    subscribers = read_subscribers(_csv(tmp_path / "list.csv", ["宛先,名", "a@example.go.jp,山田"], "utf-8"))
    assert [p.line for p in subscribers.problems] == [1]
    assert "見出し" in subscribers.problems[0].message and subscribers.recipients == []


@pytest.mark.parametrize(("data", "hint"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), ".xls"),
    ("メールアドレス\ta@example.go.jp".encode("utf-16"), "UTF-8"),
    (b"PK\x03\x04 not really a workbook", ".xlsx"),
])
def test_files_that_cannot_be_read_get_a_japanese_message(tmp_path, data, hint):
    path = tmp_path / "list.bin"
    path.write_bytes(data)
    with pytest.raises(SubscribersFileError) as caught:
        read_subscribers(path)
    assert str(caught.value).startswith(f"{path}: ") and hint in str(caught.value) and "保存" in str(caught.value)


def test_a_table_that_starts_lower_right_keeps_excel_row_numbers(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"] = "メールアドレス", "氏名"
    sheet["B4"], sheet["C4"] = "a@example.go.jp", "山田\n太郎"
    sheet["B6"], sheet["C6"] = "b@example.go.jp", "佐藤 花子"
    workbook.save(tmp_path / "list.xlsx")
    subscribers = read_subscribers(tmp_path / "list.xlsx")
    assert [p.line for p in subscribers.problems] == [4]
    assert [(r.address, r.name) for r in subscribers.recipients] == [("b@example.go.jp", "佐藤 花子")]


def test_the_active_sheet_is_read_and_a_hidden_sheet_with_addresses_is_named(tmp_path):
    """Last year's list on a hidden first sheet, this year's on the sheet Excel shows: this year's is used, and
    the hidden one is named in a warning, with how many addresses it holds (never the addresses)."""
    workbook = Workbook()
    old = workbook.active
    old.title = "昨年度"
    old.append(["メールアドレス", "氏名"])
    old.append(["gone@example.go.jp", "退職者"])
    old.sheet_state = "hidden"
    current = workbook.create_sheet("今年度")
    current.append(["メールアドレス", "氏名"])
    for address, name in PEOPLE:
        current.append([address, name])
    workbook.create_sheet("メモ").append(["連絡先は総務課"])
    workbook.active = 1
    path = tmp_path / "list.xlsx"
    workbook.save(path)
    subscribers = read_subscribers(path)
    assert [(r.address, r.name) for r in subscribers.recipients] == PEOPLE
    notices = " ".join(subscribers.notices)
    assert "シート「今年度」を読みました" in notices
    assert "シート「昨年度」（非表示）にもメールアドレスが 1 件" in notices and "メモ" not in notices
    assert "gone@" not in notices


@pytest.mark.parametrize(("separator", "name"), [(";", "セミコロン"), ("\t", "タブ")])
@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig"])
def test_semicolon_and_tab_separated_lists_are_read_and_the_separator_named(tmp_path, separator, name, encoding):
    lines = [separator.join(["氏名", "メールアドレス"])] + [separator.join([n, a]) for a, n in PEOPLE]
    path = _csv(tmp_path / "list.csv", lines, encoding)
    subscribers = read_subscribers(path)
    assert [(r.address, r.name) for r in subscribers.recipients] == PEOPLE and subscribers.problems == []
    assert any(name in notice for notice in subscribers.notices)


_names = st.text(st.characters(codec="cp932", exclude_categories=("Cc", "Cs", "Zl", "Zp"),
                                exclude_characters="¢£¬‖−〜"), max_size=12)
_locals = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}[a-z0-9]", fullmatch=True).filter(lambda s: ".." not in s)


@given(people=st.lists(st.tuples(_locals, _names), min_size=1, max_size=8, unique_by=lambda p: p[0]),
       separator=st.sampled_from([",", ";", "\t"]), encoding=st.sampled_from(["cp932", "utf-8-sig", "utf-8"]),
       header=st.booleans())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_list_excel_could_write_reads_back_the_same_people(tmp_path, people, separator, encoding, header):
    """Whatever the separator, encoding and names (commas, semicolons, quotes and tabs inside them included), the
    people read are the people written."""
    rows = [[f"{local}@example.go.jp", name.strip()] for local, name in people]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    if header:
        writer.writerow(["メールアドレス", "氏名"])
    writer.writerows(rows)
    path = tmp_path / f"list-{separator.encode().hex()}-{encoding}.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    subscribers = read_subscribers(path)
    assert subscribers.problems == []
    assert [(r.address, r.name) for r in subscribers.recipients] == [(a, n) for a, n in rows]
