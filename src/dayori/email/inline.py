"""Pictures carried inside the message (multipart/related, `cid:`): Outlook blocks pictures loaded from the web
until the reader clicks "download pictures", and the site may not be deployed yet when the issue is mailed.

Each picture is made at most 1200 px wide (twice the 600-px layout, sharp on high-density screens) so that a
camera photo does not make a 10 MB message.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from dayori.pictures import shrunk

MAX_WIDTH = 1200
JPEG_QUALITY = 85
_KEPT = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif"}
_ORIENTATION = 0x0112
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}
"""How each EXIF orientation is turned upright (as `ImageOps.exif_transpose` does, on the smaller picture)."""


@dataclass(frozen=True)
class InlineImage:
    cid: str
    subtype: str
    filename: str
    data: bytes = field(repr=False)


def for_email(data: bytes | Path) -> tuple[bytes, str] | None:
    """(bytes, image subtype) fit for a message, or None when Pillow cannot read it (SVG, a broken file).

    JPEG, PNG and GIF that are narrow enough and upright go as they are (no loss, no work); wider or rotated
    ones are redrawn: photographs as JPEG, pictures with transparency or few colours as PNG. A file is decoded
    from the disk and made smaller before it is turned (a JPEG is even decoded at a reduced scale), so that a
    large picture costs its own pixels once, not its file and its pixels twice."""
    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
            kind = image.format or ""
            orientation = image.getexif().get(_ORIENTATION, 1)
            if kind in _KEPT and image.width <= MAX_WIDTH and orientation == 1:
                return (data if isinstance(data, bytes) else data.read_bytes()), _KEPT[kind]
            image.seek(0)
            turned = orientation in (5, 6, 7, 8)
            width = image.height if turned else image.width
            picture: Image.Image = image
            if width > MAX_WIDTH:
                scale = MAX_WIDTH / width
                picture = shrunk(image, (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
            picture = picture.transpose(_TRANSPOSE[orientation]) if orientation in _TRANSPOSE else picture
            return _encode(picture, photo=kind in ("JPEG", "MPO") or (kind == "WEBP" and not _has_alpha(picture)))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def _has_alpha(picture: Image.Image) -> bool:
    return picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info


def _encode(picture: Image.Image, *, photo: bool) -> tuple[bytes, str]:
    """Pixels only: a comment or EXIF the picture still carried is not written again."""
    picture.info = {key: value for key, value in picture.info.items() if key == "transparency"}
    out = io.BytesIO()
    if photo:
        picture.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        return out.getvalue(), "jpeg"
    if picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    picture.save(out, "PNG", optimize=True)
    return out.getvalue(), "png"


def inline_images(html: str, sources: Mapping[str, Callable[[], InlineImage | None]]) -> tuple[str, tuple[InlineImage, ...],
                                                                                               list[str]]:
    """`html` with each `src` found in `sources` pointing to its part; the parts, once each; and the URLs that
    could not be carried (they stay links to the site)."""
    parts: dict[str, InlineImage] = {}
    missing: list[str] = []
    pieces: list[str] = []
    done = 0
    for end, close in quoted_values(html, 'src="', nonempty=True):
        url = html[end:close]
        make = sources.get(url)
        image = make() if make is not None else None
        if image is None:
            if make is not None and url not in missing:
                missing.append(url)
            continue
        parts.setdefault(image.cid, image)
        pieces += [html[done:end], f"cid:{image.cid}"]
        done = close
    return "".join([*pieces, html[done:]]), tuple(parts.values()), missing


def quoted_values(html: str, marker: str, names: tuple[str, ...] = ("",), *,
                  nonempty: bool = False) -> Iterator[tuple[int, int]]:
    """Where whitespace, one of `names`, then `marker` (the rest of an attribute's name, `="` and what its value
    starts with: `src="`) begin a quoted value, left to right and never overlapping, as `re.finditer` of `\\s`,
    the names' alternation, `marker` and `[^"]*"` (`[^"]+"` if `nonempty`) finds them: the marker's end and the
    value's closing quote. The marker is looked for alone, a plain string, and what comes before it checked
    here: that is found several times as fast as a pattern that begins with `\\s` or an alternation, which the
    regular expression engine tries at every character, and every email's HTML is read twice (for its pictures
    and for the hosted copy's links)."""
    done = 0
    position = html.find(marker)
    while position != -1:
        end = position + len(marker)
        name = next((name for name in names
                     if position >= len(name) and html.startswith(name, position - len(name))), None)
        start = -1 if name is None else position - len(name) - 1
        if start >= done and start >= 0 and html[start].isspace():
            close = html.find('"', end)
            if close == -1:
                return
            if not (nonempty and close == end):
                yield end, close
                done = close + 1
        position = html.find(marker, end)


def inline_image(data: bytes | Path, name: str, domain: str) -> InlineImage | None:
    """The part for one picture; its Content-ID comes from its bytes, so a rebuilt message is identical."""
    return inline_part(for_email(data), name, domain)


def inline_part(made: tuple[bytes, str] | None, name: str, domain: str) -> InlineImage | None:
    """`inline_image` of a picture already made fit for a message (`for_email`)."""
    if made is None:
        return None
    content, subtype = made
    stem = _readable(name.rsplit(".", 1)[0]) or "image"
    digest = hashlib.sha256(content).hexdigest()[:20]
    return InlineImage(f"{digest}@{domain}", subtype, f"{stem}.{'jpg' if subtype == 'jpeg' else subtype}", content)


def _readable(name: str) -> str:
    """A file name as a mail header may carry it (RFC 2231 encodes the rest): one Unicode spelling (NFC),
    without the line breaks and invisible characters a file system allows."""
    return "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c) not in _INVISIBLE).strip()


_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})
