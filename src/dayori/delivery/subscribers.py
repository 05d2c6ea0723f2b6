"""The subscriber list as staff keep it in Excel: a CSV (UTF-8 with or without BOM, or Shift_JIS/CP932 as
Japanese Excel saves it) or an `.xlsx` workbook, with an address column and an optional name column, with or
without a header row in Japanese or English.

Every row is checked before anything is frozen or sent, because a name that cannot go into a mail header
would otherwise stop a send half-way. Mistakes are reported by line (row) number only: addresses and names
are personal data and never go to logs or the terminal.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dayori.errors import Problem

Rows = Iterable[tuple[int, list[str]]]
"""(line or row number as the editor sees it, cells)."""

_HEADER_ADDRESS = {"address", "email", "e-mail", "mail", "mailaddress", "emailaddress", "e-mailaddress",
                   "メールアドレス", "アドレス", "メール", "eメール", "eメールアドレス", "電子メール"}
_HEADER_NAME = {"name", "fullname", "氏名", "名前", "お名前", "なまえ"}
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_LABEL}(?:\.{_LABEL})+$")
_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS = "Excel の「名前を付けて保存」で「Excel ブック（.xlsx）」か「CSV UTF-8（コンマ区切り）」を選んで保存し直してください"


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str = ""

    @property
    def key(self) -> str:
        """Addresses differ only in case are the same mailbox in practice; one copy is enough."""
        return self.address.lower()


@dataclass
class SubscriberList:
    recipients: list[Recipient] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    """Rows that cannot be sent to as written: while there are any, nothing is frozen or sent."""
    duplicate_lines: list[int] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """What the sender should know about how the file was read (which sheet, which separator), in Japanese."""


class SubscribersFileError(Exception):
    """The file cannot be read at all (missing, an unknown encoding, an old or damaged workbook)."""


def address_problem(address: str) -> str | None:
    """Why an address cannot be used, in words an editor can act on, or None when it looks deliverable."""
    if not address:
        return "メールアドレスが空です"
    if not address.isascii():
        return "全角文字が含まれています。半角英数字で書いてください"
    if any(c.isspace() for c in address):
        return "空白か改行が含まれています"
    if not address.isprintable():
        return "制御文字が含まれています。メールアドレスを打ち直してください"
    if address.count("@") != 1:
        return "@ がないか、2 つ以上あります"
    if not _ADDRESS.match(address):
        return "メールアドレスの形式が正しくありません"
    return None


def name_problem(name: str) -> str | None:
    """Why a name cannot go into the To header: a line break (Excel's Alt+Enter) or an invisible control
    character (pasted from Word) would be refused by the mail library mid-send."""
    if any(c in _LINE_BREAKS for c in name):
        return "氏名のセルに改行があります（Excel の Alt+Enter）。改行を消して 1 行にしてください"
    control = next((c for c in name if unicodedata.category(c) in ("Cc", "Cs")), None)
    if control is not None:
        return f"氏名に見えない制御文字（U+{ord(control):04X}）が含まれています。氏名を打ち直してください"
    return None


def read_subscribers(path: Path) -> SubscriberList:
    """Valid, de-duplicated recipients in file order, and every row that has to be fixed first."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise SubscribersFileError(f"{path}: 購読者リストが見つかりません") from error
    except OSError as error:
        raise SubscribersFileError(f"{path}: 購読者リストを読めません（{error.strerror}）") from error
    if data.startswith(_OLE_MAGIC):
        raise SubscribersFileError(f"{path}: 古い Excel 形式（.xls）かパスワード付きのブックは読めません。"
                                   f"パスワードを外し、{_SAVE_AS}")
    if data.startswith(_ZIP_MAGIC):
        notices: list[str] = []
        result = check_rows(_workbook_rows(path, data, notices), path)
    else:
        text = _decode(path, data)
        delimiter = _delimiter(text)
        notices = [f"{path}: 区切り文字を{_DELIMITER_NAMES[delimiter]}として読みました。"] if delimiter != "," else []
        result = check_rows(_csv_rows(path, text, delimiter), path)
    result.notices[:0] = notices
    return result


def parse_subscribers(text: str, label: str) -> SubscriberList:
    """A CSV already decoded; `label` names it in messages."""
    path = Path(label)
    return check_rows(_csv_rows(path, text, _delimiter(text)), path)


def check_rows(rows: Rows, path: Path) -> SubscriberList:
    result = SubscriberList()
    seen: set[str] = set()
    columns: tuple[int, int] | None = None
    for line, raw in rows:
        cells = [cell.strip() for cell in raw]
        if not any(cells):
            continue
        if columns is None:
            columns = _header(cells)
            if columns is not None:
                continue
            columns = (0, 1)
            if not any("@" in cell for cell in cells):
                result.problems.append(Problem(path, line, "見出しの行として読めません。メールアドレスの列の見出しを"
                                               "「メールアドレス」か「email」に、氏名の列を「氏名」か「name」にしてください"))
                return result
        address_column, name_column = columns
        address = cells[address_column] if address_column < len(cells) else ""
        name = cells[name_column] if 0 <= name_column < len(cells) else ""
        problems = [p for p in (address_problem(address), name_problem(name)) if p is not None]
        result.problems += [Problem(path, line, problem) for problem in problems]
        if problems:
            continue
        recipient = Recipient(address, name)
        if recipient.key in seen:
            result.duplicate_lines.append(line)
            continue
        seen.add(recipient.key)
        result.recipients.append(recipient)
    return result


def _header(cells: list[str]) -> tuple[int, int] | None:
    """(address column, name column or -1) when `cells` is a header row, in either language; full-width
    letters and spaces, as Japanese input leaves them, count as the plain ones."""
    if any("@" in cell for cell in cells):
        return None
    names = ["".join(unicodedata.normalize("NFKC", cell).casefold().split()) for cell in cells]
    address = next((i for i, name in enumerate(names) if name in _HEADER_ADDRESS), None)
    if address is None:
        return None
    return address, next((i for i, name in enumerate(names) if name in _HEADER_NAME), -1)


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (Excel's "CSV UTF-8" adds a BOM), else CP932, the "CSV (コンマ区切り)" of Japanese Excel.
    Strict UTF-8 first: Japanese CP932 text is practically never valid UTF-8, the other way round often is."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SubscribersFileError(f"{path}: 文字コードが UTF-8 でも Shift_JIS でもないため読めません。{_SAVE_AS}")


_DELIMITER_NAMES = {",": "コンマ（,）", ";": "セミコロン（;）", "\t": "タブ"}


def _delimiter(text: str) -> str:
    """The separator of a CSV: a comma, or the semicolon that Excel writes where the decimal mark is a comma,
    or the tab of "Unicode テキスト". Judged on the first lines with content: the separator that splits the most of
    them into a header or a row with an address; failing that, the first found outside quotes."""
    lines = [line for line in text.splitlines() if line.strip()][:20]

    def score(delimiter: str) -> int:
        rows = csv.reader(lines, delimiter=delimiter)
        return sum(_header(cells) is not None or any(address_problem(cell.strip()) is None for cell in cells)
                   for cells in ([cell.strip() for cell in row] for row in rows))

    scores = {delimiter: score(delimiter) for delimiter in _DELIMITER_NAMES}
    best = max(scores.values())
    if best:
        return next(delimiter for delimiter, value in scores.items() if value == best)
    unquoted = re.sub(r'"[^"]*"', "", lines[0] if lines else "")
    return next((delimiter for delimiter in _DELIMITER_NAMES if delimiter in unquoted), ",")


def _csv_rows(path: Path, text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Rows numbered by the line they start on: a quoted cell with a line break spans several lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as error:
        raise SubscribersFileError(f"{path}:{start}: CSV として読めません（{error}）。{_SAVE_AS}") from error


def _workbook_rows(path: Path, data: bytes, notices: list[str]) -> list[tuple[int, list[str]]]:
    """The active sheet's rows (the one Excel shows on opening), numbered as Excel shows them; formulas as Excel
    last calculated them. Other sheets with addresses in them, hidden ones above all (last year's list), are
    named in `notices`: they are not read."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as error:
        raise SubscribersFileError(f"{path}: Excel ブック（.xlsx）として読めません。{_SAVE_AS}") from error
    try:
        sheets = workbook.worksheets
        visible = [sheet for sheet in sheets if getattr(sheet, "sheet_state", "visible") == "visible"]
        if not visible:
            raise SubscribersFileError(f"{path}: ブックに表示されているシートがありません。購読者のシートを表示して"
                                       "保存し直してください")
        active = workbook.active
        sheet = active if active in visible else visible[0]
        rows = [(number, [_cell_text(value) for value in values])
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
        if len(sheets) > 1:
            notices.append(f"{path}: シート「{sheet.title}」を読みました（Excel で開いたときに表示されるシートです）。")
        for other in sheets:
            if other is sheet:
                continue
            count = sum(address_problem(_cell_text(value).strip()) is None
                        for values in other.iter_rows(values_only=True) for value in values if value is not None)
            if count:
                hidden = "（非表示）" if getattr(other, "sheet_state", "visible") != "visible" else ""
                notices.append(f"注意: {path} のシート「{other.title}」{hidden}にもメールアドレスが {count:,} 件ありますが、"
                               f"読んでいません。その宛先にも送るときは、購読者をシート「{sheet.title}」にまとめてください。")
        return rows
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    return "" if value is None else str(value)
