"""Content keys and atomic writes, shared by the caches (media, email): a key names exactly what went into a
result, and a result only ever appears under its final name complete."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

    from dayori.filepack import Part


def digest(*parts: Any) -> str:
    """A stable key from JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def code_version(sources: Iterable[Path], packages: Iterable[str]) -> str:
    """A cache's dependence on code: the bytes of the files that make its results and the versions of the
    packages they use, so that changing either makes every cached result again."""
    from importlib import metadata  # a fifth of the start of a process that writes to no such cache

    hashes = [hashlib.sha256(source.read_bytes()).hexdigest() for source in sorted(sources) if source.is_file()]
    return digest(hashes, [f"{name}=={metadata.version(name)}" for name in packages])


def ensure_folder(folder: Path) -> None:
    """`folder` and its parents exist. Looked at first: a `mkdir` of a folder that exists fails only after
    taking the file system's lock on its parent, and a build writes thousands of files into a few folders."""
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)


def temporary_beside(final: Path) -> Path:
    """A name in the same folder (so `os.replace` is atomic) that never looks like a finished file."""
    ensure_folder(final.parent)
    return final.with_name(f".tmp-{os.urandom(16).hex()}-{final.name}")


LEFTOVER_SECONDS = 3600
"""A temporary file (`temporary_beside`) this old is a killed build's: a save takes well under a second."""


def remove_leftovers(final: Path) -> None:
    """Temporary files beside `final` of saves that never finished (a build killed while writing)."""
    limit = time.time() - LEFTOVER_SECONDS
    with contextlib.suppress(OSError):
        for entry in os.scandir(final.parent):
            if entry.name.startswith(".tmp-") and entry.name.endswith(f"-{final.name}"):
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < limit:
                        os.unlink(entry.path)


def written_beside(final: Path, write: Callable[[IO[bytes]], object]) -> Path:
    """A temporary file beside `final` that `write` filled completely, for `os.replace` to put in place (a
    large value is written as it is made, never held whole as bytes); removed when writing fails."""
    temporary = temporary_beside(final)
    try:
        with open(temporary, "wb") as file:
            write(file)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def write_atomic(final: Path, data: bytes) -> None:
    os.replace(written_beside(final, lambda file: file.write(data)), final)


@contextlib.contextmanager
def exclusive(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Holds an exclusive lock named `path` for the block, across processes (two builds at once); `on_wait` is
    called once if another holder makes us wait. The kernel releases the lock of a process that dies, so a killed
    build never blocks the next one. The holder removes the file on leaving (POSIX), and a waiter that then
    finds it locked a removed file starts over on the new one, so lock files do not pile up in the cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        handle = path.open("a+b")
        try:
            if not _try_lock(handle.fileno()):
                if on_wait is not None:
                    on_wait()
                    on_wait = None
                _wait_for_lock(handle.fileno())
            if _still_named(handle.fileno(), path):
                break
        except BaseException:
            handle.close()
            raise
        handle.close()
    try:
        yield
    finally:
        if sys.platform != "win32":
            with contextlib.suppress(OSError):
                path.unlink()
        handle.close()  # closing releases the lock


if sys.platform == "win32":
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _wait_for_lock(descriptor: int) -> None:
        while not _try_lock(descriptor):  # Windows has no blocking lock without a ten-try limit
            time.sleep(0.5)
else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _wait_for_lock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)


def _still_named(descriptor: int, path: Path) -> bool:
    try:
        return os.fstat(descriptor).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


def read_json(path: Path) -> Any:
    """A cached record, or None when absent or unreadable (then it is simply made again)."""
    try:
        return parsed_json(path.read_bytes())
    except OSError:
        return None


def parsed_json(data: bytes) -> Any:
    """A cached record's value, or None when its bytes are not JSON (then it is simply made again)."""
    try:
        return json.loads(data)
    except ValueError:
        return None


def write_folder(final: Path, files: dict[str, bytes]) -> None:
    """Each file atomically, in order: callers put the file that marks the folder complete last, so a killed
    build leaves a folder without its marker, which is made again. (Renaming a whole folder into place
    costs several times more on a first build of hundreds of issues.)"""
    for name, data in files.items():
        write_atomic(final / name, data)


def copy_file(source: Path, destination: Path, previous: Path | None = None) -> None:
    """A published copy of a cached file in its own inode, so that editing `site/` never reaches the cache.

    The copy carries the cache file's modification time. When the previous build's copy (`previous`) still
    has it and the same size, nobody has written to it, and the new site links to that copy instead of
    writing the bytes again (the old tree is deleted after the swap). A file already at the name (one linked
    to the cache by an older version) is unlinked, never written through."""
    cached = source.stat()
    if _made_way(destination, previous, lambda copy: _untouched_copy(copy, cached)):
        return
    with source.open("rb") as reader, open(_created(destination), "wb") as writer:
        if not _copy_in_kernel(reader.fileno(), writer.fileno()):
            shutil.copyfileobj(reader, writer)
    os.utime(destination, ns=(cached.st_atime_ns, cached.st_mtime_ns))


def copy_part(pack: Path, part: Part, destination: Path, previous: Path | None = None,
              read: Callable[[], bytes] | None = None) -> None:
    """`copy_file` for a file that is a part of a pack (`dayori.filepack`). The copy carries the time its
    record was made, so that the previous build's copy of the same record, still of that time and size, is
    linked instead, even after the pack was written again around it. `read` gives the part's bytes where the
    caller holds the pack open for many copies (see `dayori.filepack.OpenPacks`); by default it is opened
    for this one."""
    if _made_way(destination, previous, lambda copy: _untouched_part(copy, part)):
        return
    descriptor = _created(destination)
    try:
        view = memoryview(part.read(pack) if read is None else read())
        while view:
            view = view[os.write(descriptor, view):]
        if _UTIME_BY_DESCRIPTOR:
            os.utime(descriptor, ns=(part.made_ns, part.made_ns))
    finally:
        os.close(descriptor)
    if not _UTIME_BY_DESCRIPTOR:
        os.utime(destination, ns=(part.made_ns, part.made_ns))


_UTIME_BY_DESCRIPTOR = os.utime in os.supports_fd
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _made_way(destination: Path, previous: Path | None, untouched: Callable[[Path], bool]) -> bool:
    """True when `destination` now links the previous build's copy, which `untouched` vouches for; False when
    a new copy is to be made (see `_created`)."""
    if previous is not None and untouched(previous):
        try:
            _in_place_of(destination, lambda: os.link(previous, destination))
            return True
        except OSError:
            pass
    return False


def _created(destination: Path) -> int:
    """A new file at `destination`, open for writing: never an existing file written through."""
    return _in_place_of(destination, lambda: os.open(destination, _NEW_FILE, 0o666))


_Made = TypeVar("_Made")


def _in_place_of(destination: Path, make: Callable[[], _Made]) -> _Made:
    """`make` (which creates `destination`, failing where the name exists) with the name cleared for it: a
    file there (one linked to the cache by an older version) is let go, not written through, and a missing
    folder is made. Tried first as it is: a build writes thousands of new names into few new folders, and
    looking at the folder and removing a name that is not there cost two more system calls per file."""
    for _ in range(2):
        try:
            return make()
        except FileExistsError:
            destination.unlink(missing_ok=True)
        except FileNotFoundError:
            destination.parent.mkdir(parents=True, exist_ok=True)
    return make()


def _untouched_part(copy: Path, part: Part) -> bool:
    try:
        published = copy.stat()
    except OSError:
        return False
    return (published.st_ino != part.stamp[0] and published.st_size == part.length
            and published.st_mtime_ns == part.made_ns)


def link_or_copy(source: Path, destination: Path) -> None:
    """For a folder that is emptied before every build and never edited (a preview server's): a hard link,
    or a copy across file systems. Never over an existing name, so nothing is ever written through a link."""
    ensure_folder(destination.parent)
    try:
        os.link(source, destination)
    except FileExistsError:
        raise
    except OSError:
        copy_file(source, destination)


def _untouched_copy(copy: Path, cached: os.stat_result) -> bool:
    try:
        published = copy.stat()
    except OSError:
        return False
    return (published.st_ino != cached.st_ino and published.st_size == cached.st_size
            and published.st_mtime_ns == cached.st_mtime_ns)


def _copy_in_kernel(reader: int, writer: int) -> bool:
    """False, having copied nothing, where `copy_file_range` is missing or refused (other systems, some
    file systems)."""
    if not hasattr(os, "copy_file_range"):
        return False
    size = os.fstat(reader).st_size
    copied = 0
    while copied < size:
        try:
            step = os.copy_file_range(reader, writer, size - copied)
        except OSError:
            if copied:
                raise
            return False
        if step == 0:
            break
        copied += step
    return True


class BackgroundWrites:
    """Cache writes overlap with rendering: on a first build the disk, not the CPU, is what a build waits
    for, and file I/O runs outside the interpreter lock. Leaving the block waits for every write and raises
    the first failure, so nothing is used before it is on disk."""

    def __init__(self, workers: int = 4) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dayori-write")
        self._pending: list[Future[None]] = []

    def file(self, path: Path, data: bytes) -> None:
        self._pending.append(self._pool.submit(write_atomic, path, data))

    def folder(self, path: Path, files: dict[str, bytes]) -> None:
        self._pending.append(self._pool.submit(write_folder, path, files))

    def __enter__(self) -> BackgroundWrites:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._pool.shutdown(wait=True)
        if kind is None:
            for pending in self._pending:
                pending.result()
