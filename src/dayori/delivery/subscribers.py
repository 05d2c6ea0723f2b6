"""The subscribers CSV as staff keep it in Excel: `address` and an optional `name`, with or without a header.

Mistakes are reported by line number only: addresses are personal data and never go to logs.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

_HEADER_ADDRESS = {"address", "email", "e-mail", "mail", "メールアドレス", "アドレス", "メール"}
_HEADER_NAME = {"name", "氏名", "名前", "お名前"}
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_LABEL}(?:\.{_LABEL})+$")


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
    problems: list[str] = field(default_factory=list)
    duplicate_lines: list[int] = field(default_factory=list)


class SubscribersFileError(Exception):
    """The file cannot be read at all (missing, or not UTF-8)."""


def address_problem(address: str) -> str | None:
    """Why an address cannot be used, in words an editor can act on, or None when it looks deliverable."""
    if not address:
        return "メールアドレスが空です"
    if not address.isascii():
        return "全角文字が含まれています。半角英数字で書いてください"
    if any(c.isspace() for c in address):
        return "空白が含まれています"
    if address.count("@") != 1:
        return "@ がないか、2 つ以上あります"
    if not _ADDRESS.match(address):
        return "メールアドレスの形式が正しくありません"
    return None


def read_subscribers(path: Path) -> SubscriberList:
    """Valid, de-duplicated recipients in file order, and the lines that had to be skipped."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as error:
        raise SubscribersFileError(f"{path}: 購読者リストが見つかりません") from error
    except UnicodeDecodeError as error:
        raise SubscribersFileError(
            f"{path}: UTF-8 で読めません。Excel では「CSV UTF-8（コンマ区切り）」で保存してください") from error
    return parse_subscribers(text, str(path))


def parse_subscribers(text: str, label: str) -> SubscriberList:
    result = SubscriberList()
    seen: set[str] = set()
    reader = csv.reader(io.StringIO(text, newline=""))
    address_column, name_column = 0, 1
    first = True
    for row in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if first:
            first = False
            header = [cell.lower() for cell in cells]
            if "@" not in cells[0] and (set(header) & _HEADER_ADDRESS):
                address_column = next(i for i, cell in enumerate(header) if cell in _HEADER_ADDRESS)
                name_column = next((i for i, cell in enumerate(header) if cell in _HEADER_NAME), -1)
                continue
        address = cells[address_column] if address_column < len(cells) else ""
        name = cells[name_column] if 0 <= name_column < len(cells) else ""
        problem = address_problem(address)
        if problem is not None:
            result.problems.append(f"{label}:{line}: {problem}。この行は送りません")
            continue
        recipient = Recipient(address, name)
        if recipient.key in seen:
            result.duplicate_lines.append(line)
            continue
        seen.add(recipient.key)
        result.recipients.append(recipient)
    return result
