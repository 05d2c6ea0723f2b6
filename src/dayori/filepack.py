"""A stage's finished files (an email's hosted copy, text and .eml) in one file of the cache, which the site
publishes from directly: a first build of hundreds of issues would otherwise create a file in the cache for
each of them, and creating a file costs more than writing its bytes (see `dayori.pack`, whose records are
read back whole; these are too large to hold in memory together).

The file is a header line, `dayori-files/<format> <sha256 of the rest>`, then the records' files one after
another, then a listing of them (`[[key, meta, [length, ...], made_ns], ...]`, JSON), a newline and the listing's
length in 20 digits. It is written as the stage makes its records, so that no more than one is in memory,
and its header last. A file that fails the digest, is cut short, or is of another format is ignored whole,
never trusted: its records are simply made again. A record's key names everything it was made from.

Each save keeps the records this build used, nothing else; a build that used exactly the records the file
holds writes nothing. Saves are atomic (temp + rename): the site's outputs name the file they lie in by its
inode, size and time (`Part`), and a file replaced since (by another build at once) is looked up again by
key, its digest checked, or the build stops rather than publish other bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dayori.store import remove_leftovers, temporary_beside

FORMAT = 1
MAGIC = b"dayori-files/"
_HEADER_BYTES = len(MAGIC) + len(f"{FORMAT} ") + 64 + 1
_LENGTH_DIGITS = 20
_CHUNK = 1 << 20

Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class Part:
    """One file of a record, where a pack holds it: what an output published from a pack carries."""

    key: str
    number: int
    """Which of the record's files."""
    start: int
    length: int
    made_ns: int
    """When the record was made: a published copy carries it as its modification time, so that an untouched
    copy of the same record is recognised after the pack was written again (see `dayori.store.copy_part`)."""
    stamp: Stamp
    """The pack's inode, size and modification time when `start` was true of it."""

    def read(self, path: Path) -> bytes:
        """The part's bytes; from a pack written since, the same record's (its key names what it is made of)."""
        with open(path, "rb") as file:
            if _stamp_of(file) == self.stamp:
                file.seek(self.start)
                data = file.read(self.length)
                if len(data) == self.length:
                    return data
        stored = StoredPack.read(path)
        try:
            record = stored.records.get(self.key) if stored is not None else None
            if stored is None or record is None or self.number >= len(record.lengths):
                raise RuntimeError(f"{path} changed during the build and no longer holds what it published: "
                                   "build again")
            return stored.part_bytes(self.key, self.number)
        finally:
            if stored is not None:
                stored.close()


class OpenPacks:
    """Packs held open while many of their parts are copied (a first build publishes two thousand emails from
    one pack): each is opened, and its stamp read, once, and each part is then read in one system call. A
    part of another version of the pack than the one held is read by `Part.read`, which looks it up."""

    def __init__(self) -> None:
        self._held: dict[Path, tuple[int, Stamp] | None] = {}

    def read(self, path: Path, part: Part) -> bytes:
        """`part.read(path)`, from the pack held open."""
        if path not in self._held:
            self._held[path] = _held(path)
        held = self._held[path]
        if held is not None and held[1] == part.stamp:
            data = os.pread(held[0], part.length, part.start)
            if len(data) == part.length:
                return data
        return part.read(path)

    def __enter__(self) -> OpenPacks:
        return self

    def __exit__(self, *exception: object) -> None:
        held, self._held = self._held, {}
        for opened in held.values():
            if opened is not None:
                os.close(opened[0])


def _held(path: Path) -> tuple[int, Stamp] | None:
    """A pack opened for `os.pread` with its stamp; None where it cannot be (the system has no `pread`)."""
    if not hasattr(os, "pread"):
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        status = os.fstat(descriptor)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor, (status.st_ino, status.st_size, status.st_mtime_ns)


@dataclass(frozen=True)
class Record:
    """A record in a pack: what the stage needs to know of it (`meta`), and its files' lengths."""

    meta: dict[str, Any]
    lengths: tuple[int, ...]
    start: int
    """Of its first file, in the pack."""
    made_ns: int


class StoredPack:
    """A pack as read, its digest checked: its records, and the open file to copy them from (so that a pack
    written since by another build does not change what this one reads)."""

    def __init__(self, path: Path, file: IO[bytes], records: dict[str, Record], stamp: Stamp) -> None:
        self.path = path
        self.file = file
        self.records = records
        self.stamp = stamp

    @classmethod
    def read(cls, path: Path) -> StoredPack | None:
        """The pack at `path`, or None when it is absent or fails a check."""
        try:
            file = path.open("rb")
        except OSError:
            return None
        try:
            records = _checked(file)
        except (OSError, ValueError, RecursionError):  # RecursionError: a listing nested beyond reading
            records = None
        if records is None:
            file.close()
            return None
        return cls(path, file, records, _stamp_of(file))

    def part_bytes(self, key: str, number: int) -> bytes:
        record = self.records[key]
        self.file.seek(record.start + sum(record.lengths[:number]))
        return self.file.read(record.lengths[number])

    def record_bytes(self, key: str) -> Iterable[bytes]:
        """The record's files' bytes in chunks, for a new pack."""
        record = self.records[key]
        self.file.seek(record.start)
        left = sum(record.lengths)
        while left:
            chunk = self.file.read(min(left, _CHUNK))
            if not chunk:
                raise OSError("the pack was cut short while it was read")
            left -= len(chunk)
            yield chunk

    def parts(self, key: str) -> list[Part]:
        """Where each file of a record lies, for outputs published from this pack (at `path`)."""
        record = self.records[key]
        starts = [record.start + sum(record.lengths[:number]) for number in range(len(record.lengths))]
        return [Part(key, number, start, length, record.made_ns, self.stamp)
                for number, (start, length) in enumerate(zip(starts, record.lengths, strict=True))]

    def close(self) -> None:
        self.file.close()


def _checked(file: IO[bytes]) -> dict[str, Record] | None:
    header = file.read(_HEADER_BYTES)
    prefix = MAGIC + f"{FORMAT} ".encode()
    if len(header) != _HEADER_BYTES or not header.startswith(prefix) or not header.endswith(b"\n"):
        return None
    digest = hashlib.sha256()
    while chunk := file.read(_CHUNK):
        digest.update(chunk)
    if header[len(prefix):-1] != digest.hexdigest().encode():
        return None
    size = os.fstat(file.fileno()).st_size
    if size < _HEADER_BYTES + _LENGTH_DIGITS + 1:
        return None
    file.seek(size - _LENGTH_DIGITS - 1)
    trailer = file.read(_LENGTH_DIGITS + 1)
    if not trailer.startswith(b"\n") or not trailer[1:].isdigit():
        return None
    listing_bytes = int(trailer[1:])
    data_bytes = size - _HEADER_BYTES - _LENGTH_DIGITS - 1 - listing_bytes
    if data_bytes < 0:
        return None
    file.seek(_HEADER_BYTES + data_bytes)
    return _records(json.loads(file.read(listing_bytes)), data_bytes)


def _records(listing: object, data_bytes: int) -> dict[str, Record] | None:
    if not isinstance(listing, list):
        return None
    records: dict[str, Record] = {}
    start = _HEADER_BYTES
    for entry in listing:
        if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[0], str)
                and isinstance(entry[1], dict) and isinstance(entry[2], list)
                and all(type(n) is int and n >= 0 for n in [*entry[2], entry[3]])):
            return None
        records[entry[0]] = Record(entry[1], tuple(entry[2]), start, entry[3])
        start += sum(entry[2])
    return records if start == _HEADER_BYTES + data_bytes else None


class PackWriter:
    """A new pack, filled a record at a time and put in place by `finish`; removed if never finished."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temporary = temporary_beside(path)
        self._file = self.temporary.open("wb")
        self._file.write(b" " * _HEADER_BYTES)
        self._digest = hashlib.sha256()
        self._listing: list[list[Any]] = []
        self._starts: dict[str, int] = {}
        self._at = _HEADER_BYTES

    def __contains__(self, key: str) -> bool:
        return key in self._starts

    def add(self, key: str, meta: dict[str, Any], files: Sequence[bytes]) -> None:
        self._starts[key] = self._at
        for data in files:
            self._write(data)
        self._listing.append([key, meta, [len(data) for data in files], time.time_ns()])

    def copy(self, stored: StoredPack, key: str) -> None:
        """A record of the last pack, as it is."""
        record = stored.records[key]
        self._starts[key] = self._at
        for chunk in stored.record_bytes(key):
            self._write(chunk)
        self._listing.append([key, record.meta, list(record.lengths), record.made_ns])

    def _write(self, data: bytes) -> None:
        self._file.write(data)
        self._digest.update(data)
        self._at += len(data)

    def finish(self) -> StoredPack:
        """Puts the pack in place and gives it as read back (its parts name the file now at `path`)."""
        listing = json.dumps(self._listing, ensure_ascii=False).encode("utf-8")
        trailer = b"\n" + f"{len(listing):0{_LENGTH_DIGITS}d}".encode()
        self._write(listing)
        self._write(trailer)
        self._file.seek(0)
        self._file.write(MAGIC + f"{FORMAT} {self._digest.hexdigest()}\n".encode())
        self._file.close()
        records = {key: Record(meta, tuple(lengths), self._starts[key], made)
                   for key, meta, lengths, made in self._listing}
        final = self.path
        try:
            os.replace(self.temporary, self.path)
        except PermissionError:  # Windows: another build is reading the pack; this build publishes from its own
            final = self.temporary
        remove_leftovers(self.path)
        file = final.open("rb")
        return StoredPack(final, file, records, _stamp_of(file))

    def abandon(self) -> None:
        self._file.close()
        self.temporary.unlink(missing_ok=True)


def _stamp_of(file: IO[bytes]) -> Stamp:
    status = os.fstat(file.fileno())
    return status.st_ino, status.st_size, status.st_mtime_ns
