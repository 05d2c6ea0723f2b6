"""Pictures carried inside the message (multipart/related, `cid:`): Outlook blocks pictures loaded from the web
until the reader clicks "download pictures", and the site may not be deployed yet when the issue is mailed.

Each picture is made at most 1200 px wide (twice the 600-px layout, sharp on high-density screens) so that a
camera photo does not make a 10 MB message.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_WIDTH = 1200
JPEG_QUALITY = 85
_KEPT = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif"}
_ORIENTATION = 0x0112
_SRC = re.compile(r'(\ssrc=")([^"]+)(")')


@dataclass(frozen=True)
class InlineImage:
    cid: str
    subtype: str
    filename: str
    data: bytes = field(repr=False)


def for_email(data: bytes) -> tuple[bytes, str] | None:
    """(bytes, image subtype) fit for a message, or None when Pillow cannot read it (SVG, a broken file).

    JPEG, PNG and GIF that are narrow enough and upright go as they are (no loss, no work); wider or rotated
    ones are redrawn: photographs as JPEG, pictures with transparency or few colours as PNG."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            rotated = image.getexif().get(_ORIENTATION, 1) != 1
            if kind in _KEPT and image.width <= MAX_WIDTH and not rotated:
                return data, _KEPT[kind]
            image.seek(0)
            picture = ImageOps.exif_transpose(image)
            if picture.width > MAX_WIDTH:
                height = max(1, round(picture.height * MAX_WIDTH / picture.width))
                picture = picture.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
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

    def swap(match: re.Match[str]) -> str:
        url = match.group(2)
        make = sources.get(url)
        image = make() if make is not None else None
        if image is None:
            if make is not None and url not in missing:
                missing.append(url)
            return match.group(0)
        parts.setdefault(image.cid, image)
        return f"{match.group(1)}cid:{image.cid}{match.group(3)}"

    return _SRC.sub(swap, html), tuple(parts.values()), missing


def inline_image(data: bytes, name: str, domain: str) -> InlineImage | None:
    """The part for one picture; its Content-ID comes from its bytes, so a rebuilt message is identical."""
    made = for_email(data)
    if made is None:
        return None
    content, subtype = made
    stem = name.rsplit(".", 1)[0] or "image"
    digest = hashlib.sha256(content).hexdigest()[:20]
    return InlineImage(f"{digest}@{domain}", subtype, f"{stem}.{'jpg' if subtype == 'jpeg' else subtype}", content)
