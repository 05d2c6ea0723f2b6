"""Limits instead of exhaustion: what one editor's file may ask of a build (`extra.dayori.limits`), measured
before the work it would cause, with the editor's message when it asks for more.

Each measure is cheap and linear: the size of a file from the file system, the nesting of a body from its
lines, a picture's pixels from its header. Within the limits a build stays under 200 MB and a few seconds
per file; beyond them Markdown's recursion, Pillow's decoder and one page and four feeds per tag would take
minutes and gigabytes.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from dayori.config import LimitSettings
from dayori.email.images import image_size_of
from dayori.formats import japanese_number

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_CONTAINER = re.compile(r"(?:>|[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_BRACKET = re.compile(r"[\[\]]")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?(/?)>")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr"})


@dataclass(frozen=True)
class Nesting:
    depth: int
    line: int


def nesting(markdown: str) -> Nesting:
    """The deepest nesting in a body and its line: lists and quotations (by indentation and markers), HTML
    elements still open, and `[` not yet closed in the paragraph (Markdown looks for each one's `]` again,
    which takes minutes for a few thousand). Code blocks are text and do not count. Linear, and quick: only
    lines with markers, tags or brackets are looked at character by character."""
    deepest = Nesting(0, 1)
    elements = brackets = 0
    fence: str | None = None
    for number, line in enumerate(markdown.split("\n"), start=1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened is not None and opened.group(1) == fence:
                fence = None
            continue
        if opened is not None:
            fence = opened.group(1)
            continue
        if not line.strip():
            brackets = 0
            continue
        depth = _containers(line)
        if "<" in line:
            elements, widest = _elements(line, elements)
            depth += widest
        else:
            depth += elements
        if "[" in line or "]" in line:
            brackets, most = _brackets(line, brackets)
            depth += most
        else:
            depth += brackets
        if depth > deepest.depth:
            deepest = Nesting(depth, number)
    return deepest


def _containers(line: str) -> int:
    """Indentation (four columns a level, as Python-Markdown nests) and the markers that open a list item or
    a quotation on this line (`> - > 1. text` is four)."""
    expanded = line.expandtabs(4) if "\t" in line else line
    text = expanded.lstrip(" ")
    depth = (len(expanded) - len(text)) // 4
    position = 0
    while match := _CONTAINER.match(text, position):
        depth += 1
        position = match.end()
    return depth


def _brackets(line: str, open_before: int) -> tuple[int, int]:
    """`[` still open after this line, and the most open at any point of it."""
    depth = most = open_before
    for match in _BRACKET.finditer(line):
        if match.group() == "[":
            depth += 1
            most = max(most, depth)
        elif depth:
            depth -= 1
    return depth, most


def _elements(line: str, open_before: int) -> tuple[int, int]:
    """HTML elements open after this line, and the most open at any point of it."""
    depth = widest = open_before
    for match in _TAG.finditer(line):
        name = match.group(2).lower()
        if match.group(1):
            depth = max(0, depth - 1)
        elif name not in _VOID and not match.group(3):
            depth += 1
            widest = max(widest, depth)
    return depth, widest


def markdown_too_big(size: int, limits: LimitSettings) -> str | None:
    if size <= limits.markdown_bytes:
        return None
    return (f"ファイルが大きすぎます（{_bytes(size)}。上限は {_bytes(limits.markdown_bytes)}）。号や動画の説明は"
            "長くても数十 KB です。別の文書の貼り付けや、文字にした画像（data:）が入っていないか確かめ、"
            "長い内容は号を分けるか PDF にして添付してください（上限は mkdocs.yml の extra.dayori.limits.markdown_bytes）。")


def nesting_too_deep(found: Nesting, limits: LimitSettings) -> str | None:
    if found.depth <= limits.nesting:
        return None
    return (f"この行で箇条書き・引用・HTML の要素・かっこ「[」が {found.depth} 重に入れ子になっています（上限は "
            f"{limits.nesting} 重）。字下げやかっこを減らしてください。「[」を文字として使うときは「\\[」と書きます"
            "（上限は extra.dayori.limits.nesting）。")


def tag_problems(tags: tuple[str, ...], limits: LimitSettings) -> list[str]:
    found = []
    if len(tags) > limits.tags:
        found.append(f"タグが {len(tags)} 個あります（上限は {limits.tags} 個）。タグごとにページとフィードが作られます。"
                     "話題を表すタグを選んで減らしてください（上限は extra.dayori.limits.tags）。")
    for tag in tags:
        if len(tag) > limits.tag_chars:
            found.append(f"タグ「{tag[:20]}…」が {len(tag)} 文字あります（上限は {limits.tag_chars} 文字）。"
                         "短い言葉にしてください。文章は summary に書きます（上限は extra.dayori.limits.tag_chars）。")
    return found


def caption_too_big(name: str, size: int, limits: LimitSettings) -> str | None:
    if size <= limits.caption_bytes:
        return None
    return (f"字幕ファイル「{name}」が大きすぎます（{_bytes(size)}。上限は {_bytes(limits.caption_bytes)}）。"
            "10 分の動画の字幕は 20 KB ほどです。字幕以外のファイルを指定していないか確かめてください"
            "（上限は extra.dayori.limits.caption_bytes）。")


_PDF = b"%PDF-"
_HEADER_BYTES = 1 << 20
"""Enough of a file for the size in its header (a JPEG's frame header comes after its metadata)."""
TOO_LARGE_TO_MEASURE = (0, 0)
"""The size of a picture so large that the decoder refuses even to say how large (beyond 178 million pixels)."""


def picture_size(file: BinaryIO) -> tuple[int, int] | None:
    """(width, height) read from a picture's header without decoding it, or None when `file` is no picture
    Pillow knows. A PDF (the usual attachment beside the pictures) is known from its first bytes: Pillow reads
    none, and would first import every one of its forty plugins to find so (4 MB, a twentieth of a second)."""
    if file.read(len(_PDF)) == _PDF:
        return None
    file.seek(0)
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as picture:
                return picture.size
    except Image.DecompressionBombError:
        file.seek(0)
        return image_size_of(file.read(_HEADER_BYTES)) or TOO_LARGE_TO_MEASURE
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return None


def picture_too_big(name: str, size: tuple[int, int] | None, limits: LimitSettings) -> str | None:
    if size is None:
        return None
    width, height = size
    if size != TOO_LARGE_TO_MEASURE and width * height <= limits.picture_pixels:
        return None
    measured = "1億7,800万画素を超えています" if size == TOO_LARGE_TO_MEASURE else \
        f"{width:,}×{height:,} ピクセル、{japanese_number(width * height)}画素です"
    return (f"画像「{name}」が大きすぎます（{measured}。上限は {japanese_number(limits.picture_pixels)}画素）。"
            "画像編集ソフトやペイントで、長い辺を 2,000 ピクセル程度に縮小して保存し直してください"
            "（上限は extra.dayori.limits.picture_pixels）。")


def _bytes(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:,.1f} MB"
    return f"{size / 1000:,.0f} KB"
