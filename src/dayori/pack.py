"""A stage's cache records in one file, read once and written once per build: a first build of hundreds of
issues would otherwise create a file per body and stage, and creating a file costs more than rendering a
short body (a millisecond of system time here; more on Windows, with its antivirus).

The file is a header line, `dayori-pack/<format> <sha256 of the rest>`, then a line listing the records
(`[[key, length, idle], ...]`, JSON), then the records' bytes one after another. A file that fails the
digest, is cut short, or is of another format is ignored whole, never trusted: its records are simply made
again. A record's key names everything it was made from (the code's version too), so a pack written by
another version of the engine holds nothing this one finds.

Each save keeps the records this build used, and those unused for fewer than `KEEP_UNUSED` saves before (a
`make check` of drafts between two site builds); anything older is dropped, so the pack stays the size of
about one build. Saves are atomic (temp + rename): two builds at once each write a whole pack, the last one
stays, and a killed build leaves the previous pack.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from dayori.memo import Memo, recall
from dayori.store import remove_leftovers, written_beside

FORMAT = 1
MAGIC = b"dayori-pack/"
KEEP_UNUSED = 1
"""Saves a record may go unused and still be kept."""


@dataclass(frozen=True)
class _Place:
    start: int
    length: int
    idle: int


class Pack:
    """The records of one stage (bytes by key). `get` marks a record used by this build, `put` adds one made
    now, `offer` adds records another process made for this one (used only if asked for), `save` writes
    the used ones. Kept in a preview's memo between rebuilds, so that a rebuild after one edit reads nothing."""

    def __init__(self, path: Path, keep_unused: int = KEEP_UNUSED) -> None:
        self.path = path
        self.keep_unused = keep_unused
        self._data = b""
        self._index: dict[str, _Place] | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._used: dict[str, bytes] = {}
        self._made: set[str] = set()
        self._offered: dict[str, bytes] = {}

    @classmethod
    def of(cls, path: Path, memo: Memo | None) -> Pack:
        """The pack at `path` for a new build: the one a preview's memo kept, or one read when first asked."""
        pack = recall(memo, lambda _: ("record pack", str(path)), lambda: cls(path))
        pack.begin()
        return pack

    def begin(self) -> None:
        """Forgets which records the last build used. The records read stay: each is named by what it was made
        from, so it is right whoever wrote the file since; a file changed or deleted since is written again."""
        self._used, self._made, self._offered = {}, set(), {}

    def __len__(self) -> int:
        """Records in the file."""
        return len(self._places())

    def __contains__(self, key: str) -> bool:
        return key in self._used or key in self._offered or key in self._places()

    def get(self, key: str) -> bytes | None:
        """The record stored under `key`, now counted as used by this build, or None."""
        found = self._used.get(key)
        if found is None:
            found = self._offered.get(key)
        if found is None:
            place = self._places().get(key)
            if place is None:
                return None
            found = self._data[place.start:place.start + place.length]
        self._used[key] = found
        return found

    def put(self, key: str, record: bytes) -> None:
        self._used[key] = record
        self._made.add(key)

    def offer(self, records: dict[str, bytes]) -> None:
        self._offered.update(records)

    def used(self) -> dict[str, bytes]:
        """The records this build used or made (what a helper process hands back)."""
        return dict(self._used)

    def save(self) -> None:
        """Writes the used records and the recently used ones, when that is not what the file already holds."""
        places = self._places()
        kept = {key: (record, 0) for key, record in self._used.items()}
        for key, place in places.items():
            if key not in kept and place.idle < self.keep_unused:
                kept[key] = (self._data[place.start:place.start + place.length], place.idle + 1)
        unchanged = (not self._made and kept.keys() == places.keys()
                     and all(places[key].idle == idle for key, (_, idle) in kept.items())
                     and self._stamp is not None and self._stamp == _stamp(self.path))
        if unchanged or (not kept and self._stamp is None):
            return
        index = json.dumps([[key, len(record), idle] for key, (record, idle) in kept.items()]).encode()
        rest = b"".join([index, b"\n", *(record for record, _ in kept.values())])
        header = MAGIC + f"{FORMAT} {hashlib.sha256(rest).hexdigest()}\n".encode()
        temporary = written_beside(self.path, lambda file: file.writelines((header, rest)))
        try:
            os.replace(temporary, self.path)
        except PermissionError:  # Windows: another build is reading the pack; its own save will do
            temporary.unlink(missing_ok=True)
            return
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        remove_leftovers(self.path)
        self._data, self._index = rest, _places(kept, len(index) + 1)  # the records where they lie: no copy
        self._stamp = _stamp(self.path)
        self._made = set()

    def _places(self) -> dict[str, _Place]:
        if self._index is None:
            self._stamp = _stamp(self.path)
            self._data, self._index = _read(self.path)
        return self._index


def _read(path: Path) -> tuple[bytes, dict[str, _Place]]:
    """The records' bytes and where each lies, or nothing from a file that is absent or fails a check."""
    try:
        whole = path.read_bytes()
    except OSError:
        return b"", {}
    return _parsed(whole) or (b"", {})


def _parsed(whole: bytes) -> tuple[bytes, dict[str, _Place]] | None:
    header, newline, rest = whole.partition(b"\n")
    if not newline or header != MAGIC + f"{FORMAT} {hashlib.sha256(rest).hexdigest()}".encode():
        return None
    listing, newline, data = rest.partition(b"\n")
    try:
        entries = json.loads(listing)
    except ValueError:
        return None
    if not newline or not isinstance(entries, list):
        return None
    places: dict[str, _Place] = {}
    start = 0
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                and all(type(n) is int and n >= 0 for n in entry[1:])):
            return None
        places[entry[0]] = _Place(start, entry[1], entry[2])
        start += entry[1]
    return (data, places) if start == len(data) else None


def _places(kept: dict[str, tuple[bytes, int]], start: int = 0) -> dict[str, _Place]:
    """Where each record lies, the first at `start`."""
    places: dict[str, _Place] = {}
    for key, (record, idle) in kept.items():
        places[key] = _Place(start, len(record), idle)
        start += len(record)
    return places


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
