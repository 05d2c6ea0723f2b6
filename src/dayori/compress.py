"""Compressed copies of the site's text files, written beside them (`page.html.gz`, `page.html.br`) for a web
server to send as they are (nginx `gzip_static`/`brotli_static`, IIS static compression; see the guide):
readers on slow links get a page in a fifth of the bytes, and the server compresses nothing per request.

Reproducible: the same file always gets the same copies (gzip without a name or time in its header, fixed
levels), so a rebuild changes no copy whose file did not change. A copy is written only where it is smaller
than the file. A rebuild links the copies of the site being replaced instead of making them again where the
record of that build (`record`, kept in the cache) vouches for them: the file they stand for had the same
SHA-256, and the copy's size, modification time and inode are still what that build wrote, so a copy edited
or replaced in `site/` by hand is made again. Builder-neutral: the builder calls `precompress` on the
finished folder before it is published; on a first build it may instead start `early` as soon as it begins
writing the folder, and offer each file as it is finished."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import struct
import sys
import time
import zlib
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import brotli

from dayori.store import write_atomic

if TYPE_CHECKING:
    import subprocess

TEXT_SUFFIXES = frozenset({".html", ".css", ".js", ".json", ".xml", ".atom", ".svg", ".vtt", ".txt",
                           ".webmanifest"})
"""What readers' browsers fetch as text; source maps (`.map`) are for developers and stay as they are."""
GZIP_LEVEL = 6
"""Measured on 520 issues (1,692 text files, 36.8 MB): level 6 makes 8.05 MB of copies in 0.48 s, 9 saves 0.5 %
for twice the time, 5 costs 1.3 % more bytes for a fifth less time."""
BROTLI_QUALITY = 6
"""Measured on 520 issues (30 MB of text): Brotli 11 saves 12 % over 6 for seventy times the time, which would
make a first build take several times longer. Quality 5 would save a tenth of Brotli's time (0.59 -> 0.50 s)
for copies 1.0 % larger (6.25 -> 6.32 MB); 7 saves 3 % for a third more time and memory that a build pays in
page faults (9 takes ten times as long)."""
BROTLI_ABOVE = 12 * 1024
"""A file gets a Brotli copy only where its gzip copy is larger than this: what the first round trip of a
connection surely carries (10 segments, RFC 6928, of 1,300 bytes through a VPN, less the TLS and HTTP headers).
Below it Brotli saves no round trip, and few bytes: measured on 520 issues, the 1,121 files whose gzip copy is
14.6 KB or less (the pages and the emails) would get Brotli copies 590 bytes smaller on average (18 ms at
256 kbit/s), while each copy is one more file for a first build to create and compress (Brotli took 0.63 s for
those against 0.11 s for the 29 larger ones: search shards, feeds, stylesheets, scripts). A server configured
as the guide says sends the gzip copy where there is no `.br`."""
ENCODINGS = (".gz", ".br")
RECORD = "compressed-copies.json"
"""Where the builder keeps the record of the copies it published, in the cache."""

Stamp = tuple[int, int, int]
"""A copy's size, modification time (ns) and inode, as the build that wrote it left it."""
Entry = tuple[str, dict[str, Stamp]]
"""A text file's SHA-256 and the stamps of its copies (by encoding)."""


def gzip_copy(data: bytes) -> bytes:
    """No file name and time 0 in the header: the same bytes whenever and wherever they are built."""
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def brotli_copy(data: bytes) -> bytes:
    return bytes(brotli.compress(data, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT))


def unpack(encoding: str, data: bytes) -> bytes:
    """The file a copy stands for (for anyone testing a copy)."""
    return gzip.decompress(data) if encoding == ".gz" else bytes(brotli.decompress(data))


def copies_of(data: bytes, gzip_size: int | None = None) -> dict[str, bytes]:
    """The copies a text file gets, by encoding: each only where it comes out smaller than the file, Brotli's
    only where the gzip copy is larger than `BROTLI_ABOVE`. With `gzip_size`, the gzip copy is made already
    (see `Compressing.offer_gzipped`), and only the others are."""
    made = {} if gzip_size is not None else {".gz": gzip_copy(data)}
    if (len(made[".gz"]) if gzip_size is None else gzip_size) > BROTLI_ABOVE:
        made[".br"] = brotli_copy(data)
    return {encoding: packed for encoding, packed in made.items() if len(packed) < len(data)}


ELSEWHERE_BYTES = 4_000_000
"""Text from which a folder whose copies are all to be made (a first build) is compressed by another process.
Each compressing thread holds its own Brotli and zlib buffers (about 8 MB for a search shard), which would come
on top of everything the builder holds at its end: measured on 520 issues, the build's process peaked at
129 MB compressing in its own threads against 104 MB otherwise, while the other process costs a tenth of a
second to start and peaks at about 40 MB. A rebuild links most copies from the site it replaces and
compresses few files: it compresses here."""


def precompress(folder: Path, previous: Path | None = None, record: Path | None = None, *,
                elsewhere: bool = True) -> None:
    """Every text file of `folder` gets its copies. `previous` is the site being replaced: its copies are
    linked instead of made again where `record` (what the build that wrote them kept) vouches for them; the
    record of this folder's copies is written there in turn. Files are compressed in parallel: zlib and Brotli
    work outside the interpreter lock. With `elsewhere`, a folder with nothing vouched for and more than
    `ELSEWHERE_BYTES` of text is compressed by this same function in another process (see
    `ELSEWHERE_BYTES`); if that process fails, here."""
    vouched = _read_record(record) if previous is not None and record is not None else {}
    if elsewhere and not vouched and _text_bytes(folder) > ELSEWHERE_BYTES \
            and _in_another_process(folder, previous, record):
        return
    _all_copies(folder, previous, vouched, record, {}, set())


Early = dict[str, tuple[Stamp, Entry]]
"""Copies made before the folder was finished, by file: the file's size, modification time and inode as they
were before it was read, and its entry."""


def _all_copies(folder: Path, previous: Path | None, vouched: dict[str, Entry], record: Path | None,
                early: Early, gzipped: AbstractSet[str]) -> None:
    """Every text file's copies, in parallel threads (zlib and Brotli work outside the interpreter lock), where
    `early` (made before the folder was finished) does not stand for them still; the record of them all."""
    with ThreadPoolExecutor(max_workers=max(os.cpu_count() or 1, 1)) as pool:
        made = dict(pool.map(lambda path: _kept_or_made(folder, path, previous, vouched, early, gzipped),
                             _text_files(folder)))
    for name in early.keys() - made.keys():  # its file is gone: no copy may stand for it
        _remove_copies(folder / name, early[name][1][1])
    if record is not None:
        written = json.dumps({"recipe": _recipe(), "files": made}, separators=(",", ":"), sort_keys=True).encode()
        if not _holds(record, written):  # a rebuild of an unchanged site leaves the cache as it was
            write_atomic(record, written)


def _kept_or_made(folder: Path, path: Path, previous: Path | None, vouched: dict[str, Entry],
                  early: Early, gzipped: AbstractSet[str]) -> tuple[str, Entry]:
    """The early copies of `path` where its file has not been written since they were made (its stamp is the
    one it had before it was read: nothing in a build writes a file twice, and a file read half-written
    has grown since) and they are still as they were written; otherwise they go and its copies are made (or
    linked) now."""
    name = path.relative_to(folder).as_posix()
    made = early.get(name)
    if made is None:
        return _copies(folder, path, previous, vouched, name in gzipped)
    read, entry = made
    if _stamp_or_none(path) == read and all(_stamp_or_none(path.with_name(path.name + encoding)) == stamp
                                            for encoding, stamp in entry[1].items()):
        return name, entry
    _remove_copies(path, entry[1])
    return _copies(folder, path, previous, vouched)


def _remove_copies(path: Path, encodings: Iterable[str]) -> None:
    for encoding in encodings:
        path.with_name(path.name + encoding).unlink(missing_ok=True)


def _stamp_or_none(path: Path) -> Stamp | None:
    try:
        return _stamp(path)
    except OSError:
        return None


@dataclass
class Compressing:
    """A first build's copies made by another process while the builder still writes the folder: on a first
    build the builder renders its pages on one core for seconds, and compressing everything only once the
    folder is finished kept the build waiting for most of a second at its end. The process compresses what is
    in the folder when it starts (the files the builder copies before its pages), then each file the builder
    `offer`s once it is written, one at a time (the builder keeps the other core); `finish` has it go over the
    finished folder like `precompress`, keeping an early copy only where its file and the copy are still
    those it made, by their size, modification time and inode (so a file read half-written, or written
    again, gets its copies anew), and removing those whose file is gone. Only the finished folder's record is written, as by `precompress`; a process whose
    builder ended without `finish` (killed, or stopped by `stop`) writes none."""

    process: subprocess.Popen[bytes]
    folder: Path
    previous: Path | None
    record: Path | None
    sent: float = 0.0
    """When the names offered were last sent (see `offer`)."""

    def offer(self, name: str) -> None:
        """`name` (a path in the folder) is written and will not change. Only a text file's name is sent (the
        process makes copies of nothing else), and names are sent together, at most every `OFFER_SECONDS`:
        each sending wakes that process, which a first build did some two thousand times (its emails come
        one after another), each time for a name or two; the last are sent by `finish`."""
        if os.path.splitext(name)[1].lower() not in TEXT_SUFFIXES:
            return
        stream = self.process.stdin
        assert stream is not None
        try:
            stream.write(os.fsencode(name) + b"\0")
            if (now := time.monotonic()) - self.sent >= OFFER_SECONDS:
                stream.flush()
                self.sent = now
        except OSError:  # the process is gone: `finish` makes the copies
            pass

    def offer_gzipped(self, name: str, size: int, gzipped: bytes) -> None:
        """`offer`, for a file of `size` bytes whose gzip copy the builder has made already (a search shard,
        whose compressed size the index lists): the copy is written here, and that process makes only the
        others. It checks the copy's trailer against the file, and makes it again if they differ."""
        if len(gzipped) >= size:
            self.offer(name)
            return
        (self.folder / (name + ".gz")).write_bytes(gzipped)
        self.offer(GZIPPED + name)

    def finish(self) -> None:
        """Every copy of the finished folder, and its record; made again by `precompress` if the process
        failed (after removing whatever it left, which may stand for a file it read half-written)."""
        stream = self.process.stdin
        assert stream is not None
        with contextlib.suppress(OSError):
            stream.write(b"\0")  # the empty name: the folder is finished
            stream.close()
        if self.process.wait() == 0:
            return
        for path in _text_files(self.folder):
            _remove_copies(path, ENCODINGS)
        precompress(self.folder, self.previous, self.record)

    def stop(self) -> None:
        """The build failed: nothing more is written into its folder, which is discarded."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()


def early(folder: Path, previous: Path | None, record: Path | None) -> Compressing | None:
    """A `Compressing` for a first build (no earlier folder, or no record of its copies, so nothing can be
    linked); None for a rebuild, which links most copies from the folder it replaces and calls `precompress`
    at its end, or when the process cannot start."""
    if previous is not None and previous.is_dir() and record is not None and record.is_file():
        return None
    import subprocess

    from dayori.sidework import engine_environment  # the other process, which runs this module, needs neither

    command = [sys.executable, "-m", "dayori.compress", str(folder), str(previous or ""), str(record or ""), EARLY]
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, env=engine_environment())
    except OSError:
        return None
    return Compressing(process, folder, previous, record)


EARLY = "--early"
GZIPPED = "/"
"""Begins a name offered with its gzip copy written beside it (`Compressing.offer_gzipped`); no name of a file
in the folder does, being relative to it."""
OFFER_SECONDS = 0.02
"""How long a name offered may wait to be sent with the next ones: a few pages' writing, while copies take
seconds to make."""


def _early_copies(folder: Path, previous: Path | None, record: Path | None, offered: IO[bytes]) -> None:
    """The other process of `Compressing`."""
    vouched = _read_record(record) if previous is not None and record is not None else {}
    pending: dict[str, Future[tuple[Stamp, tuple[str, Entry]]]] = {}
    gzipped: set[str] = set()
    with ThreadPoolExecutor(max_workers=1) as pool:
        def take(path: Path, ready: bool = False) -> None:
            name = path.relative_to(folder).as_posix()
            if ready:
                gzipped.add(name)
                if name in pending and pending[name].cancel():  # found before its copy was written
                    del pending[name]
            if name not in pending and path.suffix.lower() in TEXT_SUFFIXES:
                pending[name] = pool.submit(_stamped_copies, folder, path, previous, vouched, ready)
        for path in _text_files(folder):
            take(path)
        finished = False
        for name in _names(offered):
            if not name:
                finished = True
                break
            ready = name.startswith(GZIPPED)
            take(folder / name.removeprefix(GZIPPED), ready)
        if not finished:  # the builder is gone: its folder will never be published
            for made in pending.values():
                made.cancel()
            sys.exit(1)
        waiting = {name for name, made in pending.items() if made.cancel()}  # made below, in parallel
    early: Early = {}
    for name, made in pending.items():
        if name in waiting:
            continue
        try:
            read, (_, entry) = made.result()
            early[name] = read, entry
        except OSError:  # gone meanwhile, or half-written copies: none stands
            _remove_copies(folder / name, ENCODINGS)
    _all_copies(folder, previous, vouched, record, early, gzipped)


def _stamped_copies(folder: Path, path: Path, previous: Path | None, vouched: dict[str, Entry],
                    gzipped: bool) -> tuple[Stamp, tuple[str, Entry]]:
    """`_copies`, and the file's stamp before it was read."""
    read = _stamp(path)
    return read, _copies(folder, path, previous, vouched, gzipped)


def _names(stream: IO[bytes]) -> Iterator[str]:
    """Names ended by NUL (a file name never holds one), until the builder closes the stream; the empty name
    tells that the folder is finished."""
    rest = b""
    while chunk := os.read(stream.fileno(), 1 << 16):
        *names, rest = (rest + chunk).split(b"\0")
        yield from (os.fsdecode(name) for name in names)


def _text_bytes(folder: Path) -> int:
    size = 0
    for path in _text_files(folder):
        try:
            size += path.stat().st_size
        except OSError:
            continue
    return size


def _in_another_process(folder: Path, previous: Path | None, record: Path | None) -> bool:
    """`precompress` run by `python -m dayori.compress`; False when it did not finish (it cannot start here,
    or it was killed): whatever it left is made again or linked again by the caller."""
    import subprocess

    from dayori.sidework import engine_environment  # the other process, which runs this module, needs neither

    command = [sys.executable, "-m", "dayori.compress", str(folder), str(previous or ""), str(record or "")]
    try:
        return subprocess.run(command, stdin=subprocess.DEVNULL, env=engine_environment(),
                              check=False).returncode == 0
    except OSError:
        return False


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _recipe() -> str:
    """What the copies' bytes depend on besides the file: a record made another way vouches for nothing."""
    return (f"gzip {GZIP_LEVEL} zlib {zlib.ZLIB_RUNTIME_VERSION}; brotli {BROTLI_QUALITY} {brotli.__version__} "
            f"above a gzip copy of {BROTLI_ABOVE}")


def _read_record(record: Path) -> dict[str, Entry]:
    try:
        stored = json.loads(record.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict) or stored.get("recipe") != _recipe() or not isinstance(stored.get("files"), dict):
        return {}
    return {name: entry for name, value in stored["files"].items() if (entry := _entry(value)) is not None}


def _entry(value: Any) -> Entry | None:
    """A recorded entry, or None where it is not one (a damaged record vouches for nothing)."""
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict)):
        return None
    stamps: dict[str, Stamp] = {}
    for encoding, stamp in value[1].items():
        if not (encoding in ENCODINGS and isinstance(stamp, list) and len(stamp) == 3
                and all(isinstance(number, int) for number in stamp)):
            return None
        stamps[encoding] = (stamp[0], stamp[1], stamp[2])
    return value[0], stamps


def _text_files(folder: Path) -> Iterator[Path]:
    for root, _, names in os.walk(folder):
        for name in names:
            if os.path.splitext(name)[1].lower() in TEXT_SUFFIXES:
                yield Path(root, name)


def _copies(folder: Path, path: Path, previous: Path | None, vouched: dict[str, Entry],
            gzipped: bool = False) -> tuple[str, Entry]:
    """`path`'s copies, and its entry in the record; with `gzipped`, its gzip copy is the builder's, kept where
    it stands for the file (see `Compressing.offer_gzipped`)."""
    name = path.relative_to(folder).as_posix()
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    known = vouched.get(name)
    old = known[1] if known is not None and known[0] == sha256 else None
    stamps: dict[str, Stamp] = {}
    if old is not None and previous is not None:
        # The same file, made the same way, had these copies and no others.
        for encoding, stamp in old.items():
            linked = _linked_if_untouched(previous / (name + encoding), path.with_name(path.name + encoding), stamp)
            if linked is None:
                break
            stamps[encoding] = linked
        else:
            return name, (sha256, stamps)
    ready = _gzip_copy_of(path.with_name(path.name + ".gz"), data) if gzipped else None
    if ready is not None:
        stamps[".gz"] = ready
    for encoding, packed in copies_of(data, None if ready is None else ready[0]).items():
        if encoding not in stamps:
            target = path.with_name(path.name + encoding)
            target.write_bytes(packed)
            stamps[encoding] = _stamp(target)
    return name, (sha256, stamps)


def _gzip_copy_of(copy: Path, data: bytes) -> Stamp | None:
    """The stamp of `copy` where its trailer (the CRC-32 and length of what it unpacks to) is `data`'s; None
    where it is not, or is missing."""
    try:
        with copy.open("rb") as file:
            stamp = _stamp_of(os.fstat(file.fileno()))
            file.seek(-8, os.SEEK_END)
            trailer = file.read(8)
    except OSError:
        return None
    return stamp if trailer == struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF) else None


def _stamp(path: Path) -> Stamp:
    return _stamp_of(path.stat())


def _stamp_of(status: os.stat_result) -> Stamp:
    return status.st_size, status.st_mtime_ns, status.st_ino


def _linked_if_untouched(copy: Path, target: Path, stamp: Stamp) -> Stamp | None:
    """`copy` at `target` (its stamp there), where it is still as its build wrote it; None otherwise. The old
    tree is deleted after the swap; nothing writes into a published copy."""
    try:
        if _stamp(copy) != stamp:
            return None
    except OSError:
        return None
    try:
        try:
            os.link(copy, target)
        except FileExistsError:  # one the builder wrote itself (MkDocs' `sitemap.xml.gz`): ours stands
            target.unlink()
            os.link(copy, target)
        return stamp
    except OSError:
        pass
    try:
        shutil.copyfile(copy, target)
        return _stamp(target)
    except OSError:
        return None


if __name__ == "__main__":
    _folder, _previous, _record = Path(sys.argv[1]), Path(sys.argv[2]) if sys.argv[2] else None, \
        Path(sys.argv[3]) if sys.argv[3] else None
    if sys.argv[4:] == [EARLY]:
        _early_copies(_folder, _previous, _record, sys.stdin.buffer)
    else:
        precompress(_folder, _previous, _record, elsewhere=False)
