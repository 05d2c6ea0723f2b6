"""Files published from the editors' folders (pictures, documents): read once through the gate, made fit to
publish (pictures lose their metadata, see `dayori.pictures`), and kept in a content-addressed cache that the
site and the email take them from.

A cached copy's name is its key: the SHA-256 of the editor's file and, for pictures, the recipe that made the
published bytes (this code and Pillow's version). So nothing is made twice, `rm -rf site/` costs nothing, a
change to the recipe makes every picture again under a new URL, and what is published never depends on the
editor's file staying put after the gate looked at it. A later stage that makes more of a picture (sizes for
phones, WebP) adds its own outputs under keys that extend this one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from dayori.errors import Problem
from dayori.gate import Refused, Vetted, read_vetted
from dayori.pictures import PICTURE_SUFFIXES, NotAPicture, narrowed_size, narrower_copies, publishable
from dayori.store import BackgroundWrites, code_version, digest

FOLDER = "files"


@lru_cache(maxsize=1)
def recipe_version() -> str:
    """What makes a published picture: `dayori.pictures` and Pillow."""
    from dayori import pictures

    return code_version([Path(pictures.__file__)], ("pillow",))


def published_key(sha256: str, suffix: str) -> str:
    """A published file's key from its source's SHA-256: the source itself for documents (published as they
    are), the source and the recipe for pictures."""
    return digest(sha256, recipe_version()) if suffix.lower() in PICTURE_SUFFIXES else sha256


@dataclass(frozen=True)
class Request:
    """One vetted file to publish, and who is told when it cannot be: `shown` (at the line `locate` finds,
    looked up only then), about `name`."""

    vetted: Vetted
    shown: Path
    name: str
    locate: Callable[[], int | None] = lambda: None


@dataclass
class Copies:
    """The cached copy of each requested source (by the source's path), and the problems."""

    files: dict[Path, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def publish_copies(requests: Iterable[Request], cache: Path) -> Copies:
    """Each source's copy in the cache, made when missing; reading the editor's file only then."""
    copies = Copies()
    folder = cache / FOLDER
    with BackgroundWrites() as writes:
        for request in requests:
            vetted = request.vetted
            if vetted.path in copies.files:
                continue
            suffix = f".{vetted.suffix}"
            final = folder / f"{published_key(vetted.sha256, suffix)}{suffix}"
            if not final.is_file():
                try:
                    writes.file(final, _made(vetted, suffix))
                except (Refused, NotAPicture) as error:
                    why = (f"画像として読めません（壊れているか、途中で切れています: {error}）。元のアプリで保存し直してください。"
                           if isinstance(error, NotAPicture) else str(error))
                    copies.problems.append(Problem(request.shown, request.locate(), f"「{request.name}」は{why}"))
                    continue
            copies.files[vetted.path] = final
    return copies


def _made(vetted: Vetted, suffix: str) -> bytes:
    data = read_vetted(vetted)
    if hashlib.sha256(data).hexdigest() != vetted.sha256:
        raise Refused("ビルドの途中で中身が変わりました。保存し終えてから、もう一度ビルドしてください。")
    return publishable(data, suffix) if suffix in PICTURE_SUFFIXES else data


PHONE_WIDTHS = (480, 960)
"""Widths of the smaller copies made of a wider picture: a phone's screen at one and two device pixels per
CSS pixel."""
WEBP_MAX_WIDTH = 2 * PHONE_WIDTHS[-1]
"""A wider picture gets no full-size WebP twin: pages are at most 960 CSS pixels wide, so its 960 px copy
serves phones and the original serves the rest; encoding a 16-megapixel WebP would take more memory than the
rest of a build (see the limits)."""
_RESIZED = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
"""Pictures that get smaller copies and a WebP twin; a GIF or WebP is published as it is (an animation would
lose its frames)."""
_MIME = {"WEBP": "image/webp", "JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class Variant:
    """One encoding of a published picture, kept in the cache (`path`) and published at `dest`."""

    dest: str
    path: Path
    width: int
    height: int
    mime: str


@dataclass(frozen=True)
class Sizes:
    """A published picture's real size, and its copies for `srcset` (narrowest first): WebP, and the
    picture's own format, whose widest is the published copy itself."""

    width: int
    height: int
    webp: tuple[Variant, ...] = ()
    fallback: tuple[Variant, ...] = ()


@dataclass
class Variants:
    """Each published picture's `Sizes` (by its site path), and how many encodings this build made."""

    sizes: dict[str, Sizes] = field(default_factory=dict)
    encoded: int = 0
    missing: list[Missing] = field(default_factory=list)
    """The copies to encode still, where `picture_variants` was told to leave them (see `encode_missing`)."""


Missing = tuple[Path, list[tuple[Path, int, str]]]
"""A published picture's copy in the cache, and the copies of it the cache lacks: where each goes in the cache,
its width and its format."""


def picture_variants(published: Iterable[tuple[str, Path]], cache: Path, site_folder: str, *,
                     encode: bool = True) -> Variants:
    """The phone-sized and WebP copies of each published picture (its site path, its copy in the cache),
    made when missing. A copy's key is the published picture's (its name) and the width and format, so
    nothing is encoded twice; `site_folder` is where the site publishes them (`media/files/`). Without
    `encode`, the missing copies are listed in `Variants.missing` for `encode_missing` (their sizes, which
    the pages give, do not need them)."""
    variants = Variants()
    folder = cache / FOLDER
    with BackgroundWrites() as writes:
        for dest, copy in published:
            if dest in variants.sizes or copy.suffix.lower() not in PICTURE_SUFFIXES:
                continue
            sizes = _sizes(dest, copy, folder, site_folder, variants, writes if encode else None)
            if sizes is not None:
                variants.sizes[dest] = sizes
    return variants


def encode_missing(missing: list[Missing]) -> int:
    """The copies `picture_variants(encode=False)` left, written into the cache; how many."""
    with BackgroundWrites() as writes:
        for copy, wanted in missing:
            _encode(copy, wanted, writes)
    return sum(len(wanted) for _, wanted in missing)


def _encode(copy: Path, wanted: list[tuple[Path, int, str]], writes: BackgroundWrites) -> None:
    """One decoding of the picture for all its missing copies."""
    for (final, _, _), (encoded, _) in zip(wanted, narrower_copies(copy, [(t, f) for _, t, f in wanted]),
                                           strict=True):
        writes.file(final, encoded)


def _sizes(dest: str, copy: Path, folder: Path, site_folder: str, variants: Variants,
           writes: BackgroundWrites | None) -> Sizes | None:
    try:
        with Image.open(copy) as image:
            width, height = image.size
            kind = _RESIZED.get(copy.suffix.lower()) if not getattr(image, "is_animated", False) else None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    if kind is None:
        return Sizes(width, height)
    webp: list[Variant] = []
    fallback: list[Variant] = []
    missing: list[tuple[Path, int, str]] = []
    for target in sorted({*(w for w in PHONE_WIDTHS if w < width), width}):
        for format_, found in (("WEBP", webp), (kind, fallback)):
            if format_ == kind and target == width:
                found.append(Variant(dest, copy, width, height, _MIME[kind]))
                continue
            if format_ == "WEBP" and target == width > WEBP_MAX_WIDTH:
                continue
            key = digest(copy.stem, "narrower", target, format_)
            suffix = ".webp" if format_ == "WEBP" else copy.suffix.lower()
            final = folder / f"{key}{suffix}"
            if not final.is_file():
                missing.append((final, target, format_))
            found.append(Variant(f"{site_folder}{key[:16]}{suffix}", final, *narrowed_size(width, height, target),
                                 _MIME[format_]))
    if missing:
        if writes is None:
            variants.missing.append((copy, missing))
        else:
            _encode(copy, missing, writes)
        variants.encoded += len(missing)
    return Sizes(width, height, tuple(webp), tuple(fallback))
