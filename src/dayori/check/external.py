"""Word (.docx) and plain text (.txt) files checked with the same rules as an issue, wherever they are:
staff write answers and notices in Word. In a Word file a finding's line is its paragraph number (body
paragraphs and table cells in document order, then headers and footers); in a text file, its line."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dayori.check.base import Context
from dayori.check.document import Record, analyse_prose
from dayori.check.findings import Finding
from dayori.check.text import HEADING, PARAGRAPH, TABLE, Segment

DOCUMENT_SUFFIXES = (".docx", ".txt", ".doc")


class DocumentError(ValueError):
    """The file cannot be read as what its name says; the message says what to do."""


def check_document(path: Path, display: str, context: Context, levels: dict[str, str | None]) -> list[Finding]:
    if path.suffix.lower() == ".doc":
        raise DocumentError(f"{path} は古い Word の形式（.doc）のため読めません。Word で開き、「名前を付けて保存」で"
                            "「Word 文書 (*.docx)」を選んで保存してから指定してください。")
    segments, lines = read_docx(path) if path.suffix.lower() == ".docx" else read_text(path)
    record = analyse_prose(segments, lines, context)
    return _findings(record, display, levels)


def _findings(record: Record, display: str, levels: dict[str, str | None]) -> list[Finding]:
    found = []
    for line, column, rule, message, suggestion, *_ in record.findings:
        level = levels.get(rule)
        if level:
            found.append(Finding(display, line, column, rule, level, message, suggestion))
    return found


def read_text(path: Path) -> tuple[list[Segment], list[str]]:
    """A .txt as Notepad saves it: UTF-8 (with or without BOM), or Shift_JIS (CP932) from older Windows;
    paragraphs are separated by blank lines."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DocumentError(f"{path}: 文字コードが UTF-8 でも Shift_JIS でもないため読めません。メモ帳で開き、"
                            "「名前を付けて保存」で文字コードを UTF-8 にして保存し直してください。")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    segments: list[Segment] = []
    current: Segment | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or ("<!--" in line and "-->" in line and not line.split("-->")[-1].strip()):
            current = None
            continue
        if current is None:
            current = Segment(PARAGRAPH)
            segments.append(current)
        else:
            current.add("\n", [current.places[-1]])
        current.add(line, [(number, column) for column in range(1, len(line) + 1)])
    return segments, lines


def read_docx(path: Path) -> tuple[list[Segment], list[str]]:
    """Paragraphs, table cells (each cell once, however many columns it spans) and the headers and footers."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise DocumentError(f"{path}: Word の文書（.docx）として読めません（{error}）。Word で開き、"
                            "「名前を付けて保存」で「Word 文書 (*.docx)」を選んで保存し直してください。") from error
    lines: list[str] = []
    segments: list[Segment] = []
    for kind, paragraph in _paragraphs(document):
        lines.append(paragraph.text)
        text = paragraph.text
        if not text.strip() or text.strip().startswith("<!--"):
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        segment = Segment(HEADING if style.startswith(("Heading", "見出し", "Title", "表題")) else kind)
        segment.add(text, [(len(lines), column) for column in range(1, len(text) + 1)])
        segments.append(segment)
    return segments, lines


def _paragraphs(document: Any) -> Iterator[tuple[str, Any]]:
    yield from _block(document, PARAGRAPH)
    seen: set[int] = set()
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.even_page_header,
                     section.footer, section.first_page_footer, section.even_page_footer):
            if part.is_linked_to_previous or id(part._element) in seen:
                continue
            seen.add(id(part._element))
            yield from _block(part, PARAGRAPH)


def _block(container: Any, kind: str) -> Iterator[tuple[str, Any]]:
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            cells: set[int] = set()
            for row in item.rows:
                for cell in row.cells:
                    if id(cell._tc) in cells:
                        continue
                    cells.add(id(cell._tc))
                    yield from _block(cell, TABLE)
        else:
            yield kind, item
