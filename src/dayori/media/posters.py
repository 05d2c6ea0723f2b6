"""The poster: the first thing a reader on a slow line downloads, before choosing to play. A progressive JPEG
(it shows whole, blurred, after a fraction of its bytes) of at most `POSTER_BYTES`, the best quality that fits.

ffmpeg cannot write progressive JPEG, so it hands over a lossless frame and Pillow encodes it. The search is
deterministic (same frame, same Pillow: same bytes), so the poster's cache key stays meaningful.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

POSTER_BYTES = 25_000
QUALITIES = (82, 74, 66, 58, 50, 42, 35)
SHRINK = 0.8


def progressive_jpeg(frame: Path, destination: Path, limit: int = POSTER_BYTES) -> tuple[int, int]:
    """Writes the poster and returns its size in pixels. Quality goes down first; only a frame that does not fit
    even at the lowest quality (fine detail everywhere, a large portrait clip) is made smaller."""
    with Image.open(frame) as opened:
        picture = opened.convert("RGB")
    while True:
        for quality in QUALITIES:
            data = _encode(picture, quality)
            if len(data) <= limit:
                destination.write_bytes(data)
                return picture.size
        width, height = picture.size
        picture = picture.resize((max(16, round(width * SHRINK)), max(16, round(height * SHRINK))),
                                 Image.Resampling.LANCZOS)


def _encode(picture: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality, progressive=True, optimize=True, subsampling="4:2:0")
    return buffer.getvalue()
