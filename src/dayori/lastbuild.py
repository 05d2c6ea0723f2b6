"""The next `make site` of an unchanged project: the engine's whole result kept from the last good build.

An editor's next build usually follows no edit at all, or an edit to docs/ that the engine only vets. Every
stage has its own cache, but asking each of them costs more than MkDocs' own work on the same pages (and
importing the proofreading, email and feed code). So the result of `prepare` is kept with a snapshot of
everything it was made from: each file of the content folders, the hand-written files, mkdocs.yml and the
check's dictionary (small files by their bytes, large ones — clips — by size, time and inode), the engine's
code and installed packages (by modification time), the settings and the day. A build whose snapshot is the
same, and whose outputs in the cache are all still there as they were, takes that result; any difference
runs every stage as before (each then redoes only what changed). A file saved within the last seconds of
a snapshot of its size and time alone is not trusted (see `_RACY_NS`), so a quick second save is never
missed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sysconfig
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from dayori.config import Settings, today
from dayori.model import Output
from dayori.store import temporary_beside, write_atomic

if TYPE_CHECKING:
    from dayori.build import Build
    from dayori.gate import HandWritten

FILE = "last-build.pickle"
KEPT = "kept"
"""The folder beside it for the result's larger outputs (see `_spilled`)."""
FORMAT = 2
_SPILL_BYTES = 16_384
_HASHED_BYTES = 1 << 20
"""Files up to this size are known by their bytes (Markdown, pictures, captions); larger ones (clips) by their
size, modification time and inode."""
_RACY_NS = 3_000_000_000
"""A large file modified this close to the snapshot might change again within the file system's clock tick
without its time changing: no result is kept for such a build."""

Stamp = tuple[object, ...]


@dataclass(frozen=True)
class Snapshot:
    """What a build was made from, taken before its stages run (an edit during the build then shows as a
    difference next time)."""

    key: str
    files: dict[str, Stamp]
    racy: bool


def snapshot(settings: Settings, docs: Sequence[HandWritten]) -> Snapshot:
    started = time.time_ns()
    files: dict[str, Stamp] = {}
    racy = False
    for path in _inputs(settings, docs):
        stamp = _stamp(path)
        files[str(path)] = stamp
        racy = racy or (len(stamp) > 2 and isinstance(stamp[2], int) and stamp[2] > started - _RACY_NS)
    engine = [(str(path), _quick(path)) for path in _engine_files()]
    described = _described(settings) + repr(list(docs))
    if re.search(r" at 0x[0-9a-fA-F]+", described):  # an object known only by its address: never the same
        return Snapshot(uuid.uuid4().hex, files, racy=True)
    key = hashlib.sha256(pickle.dumps((FORMAT, described, today().isoformat(), engine,
                                       _quick(Path(sysconfig.get_path("purelib")))))).hexdigest()
    return Snapshot(key, files, racy)


def _described(settings: Settings) -> str:
    """The settings as text that is the same in every run: Markdown extensions' callables (a slugify
    function) by name, as the render cache keys them."""
    from dayori.render import _stable

    return repr((replace(settings, markdown_extensions=(), markdown_configs={}),
                 _stable(settings.markdown_extensions), _stable(settings.markdown_configs)))


def recall(settings: Settings, now: Snapshot, *, model: bool = True) -> Build | None:
    """The last good build's result when nothing it was made from changed, or None. The result follows
    a short header in the file, so a changed project costs reading the header only. Without `model` the
    result comes without its issues and episodes (`Build.content` lists none): a builder reads only the
    pages and outputs, and the model is most of the memory of a warm build."""
    started = time.perf_counter()
    try:
        with open(settings.cache_path / FILE, "rb") as stored:
            header = pickle.load(stored)
            if header != (FORMAT, now.key, _files_key(now.files), header[-1]) or not _still_there(header[-1]):
                return None
            build: Build = pickle.load(stored)
            if model:
                issues, episodes = pickle.load(stored)
                build = replace(build, content=replace(build.content, issues=issues, episodes=episodes))
        if not all(publication.stamp.same_file(os.stat(publication.source))
                   for publication in build.publications.values()):
            return None  # the gate vouches for the very files it saw, not for the same bytes under a new inode
    except Exception:  # absent, from another version of the engine, or cut short: simply build
        return None
    return replace(build, seconds={"前回の結果を再利用": time.perf_counter() - started}, ffmpeg_runs=0, probes=0,
                   picture_encodes=0, check=replace(build.check, analysed=0, dictionary_loaded=False))


def keep(settings: Settings, made_from: Snapshot, build: Build) -> None:
    """Keeps a good build's result for the next one (not when a clip was saved too recently to be sure)."""
    if made_from.racy:
        return
    build = replace(build, outputs=_spilled(build.outputs, settings.cache_path / KEPT))
    published = {str(output.source) for output in build.outputs if output.source is not None}
    published |= {str(publication.copy) for publication in build.publications.values() if publication.copy}
    header = (FORMAT, made_from.key, _files_key(made_from.files), {path: _quick(Path(path)) for path in sorted(published)})
    content = build.content
    final = settings.cache_path / FILE
    temporary = temporary_beside(final)
    with open(temporary, "wb") as stored:  # streamed: the result is not held twice in memory
        pickle.dump(header, stored, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(replace(build, content=replace(content, issues=(), episodes=())), stored,
                    protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump((content.issues, content.episodes), stored, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, final)


def _spilled(outputs: tuple[Output, ...], folder: Path) -> tuple[Output, ...]:
    """The outputs with their larger bytes (feeds: a sixth of the result) in files named by their content,
    which the next build publishes as copies instead of holding them in memory; files no output names any
    more are removed."""
    kept: dict[str, Path] = {}
    spilled = []
    for output in outputs:
        if output.content is not None and len(output.content) >= _SPILL_BYTES:
            name = hashlib.sha256(output.content).hexdigest()[:32] + Path(output.dest).suffix
            path = kept.setdefault(name, folder / name)
            if not path.is_file():
                write_atomic(path, output.content)
            output = Output(output.dest, source=path)
        spilled.append(output)
    for old in folder.glob("*") if folder.is_dir() else ():
        if old.name not in kept:
            old.unlink(missing_ok=True)
    return tuple(spilled)


def _files_key(files: dict[str, Stamp]) -> str:
    return hashlib.sha256(pickle.dumps(sorted(files.items()))).hexdigest()


def _still_there(published: object) -> bool:
    """The cached files the result publishes are still those it was made with."""
    return isinstance(published, dict) and all(_quick(Path(path)) == stamp for path, stamp in published.items())


def _inputs(settings: Settings, docs: Sequence[HandWritten]) -> list[Path]:
    paths: set[Path] = {settings.root / "mkdocs.yml", *(file.source for file in docs)}
    dictionary = getattr(settings.check, "dictionary", None)
    if dictionary:
        paths.add(settings.root / str(dictionary))
    for folder in settings.content_paths:
        paths.update(_walk(folder, settings.cache_path))
    return sorted(paths)


def _walk(folder: Path, cache: Path) -> Iterable[Path]:
    if folder == cache:
        return
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), cache)
        else:
            yield Path(entry.path)


def _stamp(path: Path) -> Stamp:
    try:
        status = path.stat()
    except OSError:
        return ("absent",)
    if status.st_size <= _HASHED_BYTES:
        try:
            return ("bytes", hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError:
            return ("unreadable",)
    return ("large", status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def _quick(path: Path) -> Stamp:
    try:
        status = path.stat()
    except OSError:
        return ("absent",)
    return (status.st_size, status.st_mtime_ns, status.st_ino)


def _engine_files() -> list[Path]:
    package = Path(str(resources.files("dayori")))
    return sorted(path for path in package.rglob("*") if "__pycache__" not in path.parts)
