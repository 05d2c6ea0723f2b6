"""Pictures as they are published, on the site and in email: without what the camera or the editing program
wrote about them (EXIF with the GPS position, camera and owner; XMP; IPTC; comments; thumbnails of the
uncropped picture; a phone's second image or video appended after the picture), turned upright first.

A picture that is already upright keeps its pixels exactly: only the metadata blocks are left out of the
file (JPEG segments, PNG and WebP chunks, GIF extensions), which keeps an animation and costs no quality. A
picture that the camera stored sideways (EXIF orientation) is turned and encoded again, because once its
metadata is gone nothing else would tell a browser how to show it.
"""

from __future__ import annotations

import contextlib
import io
import struct
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

PICTURE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
JPEG_QUALITY = 92
_ORIENTATION = 0x0112
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEPT = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
                       b"bKGD", b"pHYs", b"hIST", b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCv", b"cLLi"})
"""What draws the picture (and an APNG's frames); text, time and EXIF chunks, and private ones, are left out."""
_WEBP_KEPT = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
_GIF_LOOPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class NotAPicture(ValueError):
    """The bytes do not decode as the picture their name says (a truncated or disguised file)."""


def publishable(data: bytes, suffix: str) -> bytes:
    """`data` (a picture of type `suffix`) without metadata, upright."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            orientation = _png_orientation(data) if kind == "PNG" else image.getexif().get(_ORIENTATION, 1)
            if orientation not in (1, None):
                image.load()
                return _upright(image, kind)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError, struct.error) as error:
        raise NotAPicture(str(error)) from error
    strip = _STRIPPERS.get(kind)
    if strip is None:
        raise NotAPicture(f"unexpected format {kind} for {suffix}")
    try:
        stripped = strip(data)
        if kind == "PNG" or not metadata_left(stripped):  # a PNG keeps only the chunks that draw it
            return stripped
        with Image.open(io.BytesIO(data)) as image:  # metadata where no block parser looks: draw it anew
            image.load()
            return _upright(image, kind)
    except (IndexError, struct.error, ValueError, OSError, SyntaxError) as error:
        raise NotAPicture(str(error)) from error


def metadata_left(data: bytes) -> list[str]:
    """What a published picture still tells about itself besides its pixels; empty for what `publishable`
    returns (tests read pictures back with it, and so can an administrator)."""
    found = []
    with Image.open(io.BytesIO(data)) as image:
        if image.getexif():
            found.append("EXIF")
        found += [key for key in ("xmp", "XML:com.adobe.xmp", "comment", "photoshop", "exif") if image.info.get(key)]
        if image.format == "PNG":
            found += [f"text {key}" for key in getattr(image, "text", {})]
    return found


def _upright(image: Image.Image, kind: str) -> bytes:
    """Turned as the orientation says and encoded again with nothing but the pixels (and the colour profile,
    which only says how to show the colours)."""
    profile = image.info.get("icc_profile")
    turned = ImageOps.exif_transpose(image)
    turned.info = {}
    out = io.BytesIO()
    options = {"icc_profile": profile} if profile else {}
    if kind in ("JPEG", "MPO"):
        turned.save(out, "JPEG", quality=JPEG_QUALITY, **options)
    elif kind == "WEBP":
        turned.save(out, "WEBP", lossless=image.info.get("lossless", False) or turned.mode in ("RGBA", "LA"),
                    quality=JPEG_QUALITY, **options)
    elif kind == "GIF":
        turned.save(out, "GIF")
    else:
        turned.save(out, "PNG", **options)
    return out.getvalue()


def _jpeg(data: bytes) -> bytes:
    """The segments that draw the picture: tables, frame and scans, JFIF, the ICC profile and Adobe's colour
    transform. EXIF, XMP, IPTC (Photoshop), comments, the multi-picture index and whatever follows the end of
    the picture (a phone's depth map or motion video) are left out."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    out = bytearray(b"\xff\xd8")
    position = 2
    while True:
        while data[position] == 0xFF and data[position + 1] == 0xFF:
            position += 1  # fill bytes before a marker
        if data[position] != 0xFF:
            raise ValueError("broken JPEG segment")
        marker = data[position + 1]
        if marker == 0xD9:
            out += b"\xff\xd9"
            return bytes(out)
        if marker in _JPEG_STANDALONE:
            out += data[position:position + 2]
            position += 2
            continue
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        segment = data[position:position + 2 + length]
        end = position + 2 + length
        if _keep_jpeg_segment(marker, segment[4:]):
            out += segment
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            scan_end = _scan_end(data, end)
            out += data[end:scan_end]
            end = scan_end
        position = end


def _keep_jpeg_segment(marker: int, payload: bytes) -> bool:
    if marker == 0xFE:
        return False
    if 0xE0 <= marker <= 0xEF:
        return ((marker == 0xE0 and payload.startswith((b"JFIF\x00", b"JFXX\x00")))
                or (marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"))
                or (marker == 0xEE and payload.startswith(b"Adobe")))
    return True


def _scan_end(data: bytes, position: int) -> int:
    while True:
        position = data.index(b"\xff", position)
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position += 1
            continue
        return position


def _png(data: bytes) -> bytes:
    """The chunks that draw the picture, joined once (a large screenshot is not copied twice)."""
    view = memoryview(data)
    return b"".join([_PNG_SIGNATURE, *(view[start:end] for kind, start, end in _png_chunks(data) if kind in _PNG_KEPT)])


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk up to IEND, read from the lengths alone (no pixel is decoded)."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    position = len(_PNG_SIGNATURE)
    while True:
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = data[position + 4:position + 8]
        end = position + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        yield kind, position, end
        if kind == b"IEND":
            return
        position = end


def _png_orientation(data: bytes) -> int:
    """The EXIF orientation of a PNG (its eXIf chunk may follow the pixels): Pillow would decode the whole
    picture to find it, which for a large screenshot costs more memory than the rest of a build."""
    for kind, start, end in _png_chunks(data):
        if kind == b"eXIf":
            exif = Image.Exif()
            exif.load(data[start + 8:end - 4])
            return int(exif.get(_ORIENTATION, 1))
    return 1


def _gif(data: bytes) -> bytes:
    """Header, palette, frames and the loop count; comments and other applications' blocks (XMP) left out."""
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("not a GIF")
    flags = data[10]
    position = 13 + (3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0)
    out = bytearray(data[:position])
    while True:
        introducer = data[position]
        if introducer == 0x3B:
            out.append(0x3B)
            return bytes(out)
        if introducer == 0x21:
            label = data[position + 1]
            end = _sub_blocks_end(data, position + 2)
            block = data[position:end]
            application = data[position + 3:position + 14] if label == 0xFF else b""
            if label in (0xF9, 0x01) or application in _GIF_LOOPS:
                out += block
            position = end
        elif introducer == 0x2C:
            local = data[position + 9]
            table = 3 * 2 ** ((local & 0x07) + 1) if local & 0x80 else 0
            end = _sub_blocks_end(data, position + 10 + table + 1)
            out += data[position:end]
            position = end
        else:
            raise ValueError("broken GIF block")


def _sub_blocks_end(data: bytes, position: int) -> int:
    while True:
        size = data[position]
        position += 1 + size
        if size == 0:
            return position


def _webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks = bytearray()
    position = 12
    total = min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    while position + 8 <= total:
        kind = data[position:position + 4]
        size = struct.unpack("<I", data[position + 4:position + 8])[0]
        end = position + 8 + size + (size & 1)
        chunk = bytearray(data[position:end])
        if kind == b"VP8X":
            chunk[8] &= ~0x0C & 0xFF  # no EXIF, no XMP
        if kind in _WEBP_KEPT:
            chunks += chunk
        position = end
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + bytes(chunks)


_STRIPPERS: dict[str, Callable[[bytes], bytes]] = {"JPEG": _jpeg, "MPO": _jpeg, "PNG": _png, "GIF": _gif,
                                                   "WEBP": _webp}


_BAND_PIXELS = 2_000_000


def shrunk(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` made `size`, a band of rows at a time: Pillow resizes a picture with transparency through a
    whole premultiplied copy of it, which for a large screenshot doubles what decoding it takes. Each band
    reads a few rows beyond its edges, so the bands join without a seam. A JPEG is decoded at a reduced
    scale first (`draft`)."""
    image.draft(image.mode, size)
    width, height = size
    scale = image.height / height
    rows = max(1, int(_BAND_PIXELS / max(1, image.width) / scale))
    margin = int(3 * scale) + 2
    result = Image.new(image.mode, size)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        first, last = top * scale, bottom * scale
        start, end = max(0, int(first) - margin), min(image.height, int(last) + margin + 1)
        band = image.crop((0, start, image.width, end))
        result.paste(band.resize((width, bottom - top), Image.Resampling.LANCZOS,
                                 box=(0, first - start, image.width, last - start)), (0, top))
    result.info = dict(image.info)
    return result


WEBP_QUALITY = 80
"""Phone-sized copies are for reading on a small screen; JPEG fallbacks keep `JPEG_QUALITY`. The encoder's
effort stays Pillow's default (method 4): method 2 halves the time (six 960 px photos and screens: 0.24 -> 0.12
CPU s) for copies 2 % larger (16 % for flat drawings), and a copy is made once but downloaded at every view."""


def narrower(source: bytes | Path, width: int, kind: str) -> tuple[bytes, tuple[int, int]]:
    """A published (upright, metadata-free) picture at `width` pixels wide (never wider than it is), encoded
    as `kind` (WEBP, JPEG or PNG) with nothing but the pixels and the colour profile; and its size."""
    return narrower_copies(source, [(width, kind)])[0]


_DRAFT_GAP = 2
"""A JPEG is decoded at a reduced scale that keeps at least this many times the width and height of the copy
made from it, as Pillow's `thumbnail` does. Measured on a 4032×3024 drawing, against reducing all its pixels:
the 480 and 960 px copies differ by 0.7 and 1.3 levels of 255 on average (2.0 and 2.4 at a gap of 1, where 8×8
blocks are averaged); eight photos and screenshots took 2.1 CPU s instead of 4.9, their copies 0.3 % smaller."""


def narrower_copies(source: bytes | Path, wanted: Sequence[tuple[int, str]]) -> list[tuple[bytes, tuple[int, int]]]:
    """`narrower`'s copy for each (width, kind) of `wanted`, each the same bytes as made alone (a copy never
    depends on which others were missing from the cache), with as little decoding as that allows: each width is
    resized once for all its formats; a JPEG is decoded at the smallest scale (1/2, 1/4, 1/8) that keeps twice
    the width (`draft`: for the 480 px copy of a phone's 12-megapixel photo, a sixteenth of its pixels), once
    per scale; any other picture is decoded once."""
    with contextlib.ExitStack() as stack:
        decodings: dict[tuple[int, int], Image.Image] = {}
        resized: dict[int, tuple[Image.Image, object]] = {}
        copies = []
        for width, kind in wanted:
            if width not in resized:
                resized[width] = _narrowed(source, width, decodings, stack)
            image, profile = resized[width]
            copies.append(_encoded(image, kind, profile))
        return copies


def _narrowed(source: bytes | Path, width: int, decodings: dict[tuple[int, int], Image.Image],
              stack: contextlib.ExitStack) -> tuple[Image.Image, object]:
    """The picture at `width` pixels wide (never wider than it is) and its colour profile, from the decoding at
    the same scale in `decodings` where there is one (kept open by `stack`). A file is decoded from the disk, so
    that its bytes are not held beside its pixels."""
    opened = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    full_width, full_height = opened.size
    size = narrowed_size(full_width, full_height, width)
    if size[0] < full_width:
        opened.draft(opened.mode, (_DRAFT_GAP * size[0], _DRAFT_GAP * size[1]))
    profile = opened.info.get("icc_profile")
    image = decodings.get(opened.size)
    if image is None:
        stack.enter_context(opened)
        opened.load()
        image = opened
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "transparency" in image.info or "A" in image.mode else "RGB")
        decodings[opened.size] = image
    else:
        opened.close()
    return (shrunk(image, size) if size != image.size else image), profile


def narrowed_size(width: int, height: int, target: int) -> tuple[int, int]:
    """The size `narrower` gives a picture of `width`×`height` at `target` pixels wide (pages write the copies'
    sizes down from this, whether made now or found in the cache)."""
    return (target, max(1, round(height * target / width))) if target < width else (width, height)


def _encoded(image: Image.Image, kind: str, profile: object) -> tuple[bytes, tuple[int, int]]:
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    options: dict[str, object] = {"icc_profile": profile} if profile else {}
    if kind == "WEBP":
        image.save(out, "WEBP", quality=WEBP_QUALITY, lossless=image.mode in ("RGBA", "LA"), **options)
    elif kind == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, **options)
    else:
        image.save(out, "PNG", optimize=True, **options)
    return out.getvalue(), image.size
