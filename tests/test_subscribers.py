"""Subscriber lists as Japanese Excel saves them: CP932 or UTF-8 (BOM or not) CSV, `.xlsx`, headers in either
language with full-width letters and spaces; Alt+Enter and Word's control characters refused by row number,
never echoing an address or a name."""

from __future__ import annotations

from pathlib import Path

import pytest
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
