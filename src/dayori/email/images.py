"""Image dimensions from file headers: email clients need width/height attributes, and Pillow is not a dependency."""

from __future__ import annotations

import struct
from pathlib import Path

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_HEAD_BYTES = 64 * 1024


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF or JPEG file, or None when it is missing or of another kind."""
    try:
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
            if head[:3] == b"\xff\xd8\xff":
                head += file.read()
    except OSError:
        return None
    return image_size_of(head)


def image_size_of(data: bytes) -> tuple[int, int] | None:
    """(width, height) from an image's bytes (a JPEG needs all of them: its frame header may come late)."""
    return _png(data) or _gif(data) or _jpeg(data)


def _png(data: bytes) -> tuple[int, int] | None:
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _gif(data: bytes) -> tuple[int, int] | None:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        return None
    return struct.unpack("<HH", data[6:10])


def _jpeg(data: bytes) -> tuple[int, int] | None:
    """Walks the segments to the frame header; EXIF thumbnails come earlier inside APP1 and are skipped."""
    if data[:2] != b"\xff\xd8":
        return None
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        if marker in _JPEG_SOF and position + 9 <= len(data):
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return width, height
        position += 2 + length
    return None
