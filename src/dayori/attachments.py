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

from dayori.errors import Problem
from dayori.gate import Refused, Vetted, read_vetted
from dayori.pictures import PICTURE_SUFFIXES, NotAPicture, publishable
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
