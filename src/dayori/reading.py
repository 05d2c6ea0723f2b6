"""Japanese collation for lists readers scan by eye (the tags page): by reading, as in a Japanese index.

A kanji tag (`会議`) is sorted by its reading (カイギ) from SudachiPy's dictionary. Loading the dictionary takes
most of a second, so readings are remembered in the cache and the dictionary is opened only for a new kanji tag;
kana and Latin tags need no dictionary at all.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_KANJI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff々〆ヶ]")
_HIRAGANA = re.compile(r"[\u3041-\u3096]")
READINGS_FILE = "tag-readings.json"


def by_reading(words: Iterable[str], cache: Path | None = None) -> list[str]:
    """`words` in Japanese index order: Latin letters and digits first (A–Z), then kana order (ア–ン) of
    each word's reading; ties by the word itself, so the order is the same in every build."""
    words = list(words)
    readings = _readings(words, cache)
    return sorted(words, key=lambda word: _collation_key(word, readings.get(word) or word))


def _collation_key(word: str, reading: str) -> tuple[int, str, str]:
    folded = unicodedata.normalize("NFKC", reading).casefold()
    katakana = _HIRAGANA.sub(lambda m: chr(ord(m.group()) + 0x60), folded)
    return (0 if katakana[:1].isascii() else 1, katakana, word)


def _readings(words: list[str], cache: Path | None) -> dict[str, str]:
    from dayori.store import read_json, write_atomic  # not before the dictionary (see `sidework._load_dictionary`)

    needed = sorted({word for word in words if _KANJI.search(word)})
    if not needed:
        return {}
    path = cache / READINGS_FILE if cache is not None else None
    stored = read_json(path) if path is not None else None
    known: dict[str, Any] = stored if isinstance(stored, dict) else {}
    missing = [word for word in needed if not isinstance(known.get(word), str)]
    if missing:
        known |= {word: _read(word) for word in missing}
        if path is not None:
            write_atomic(path, json.dumps(known, ensure_ascii=False, sort_keys=True).encode())
    return {word: known[word] for word in needed}


def _read(word: str) -> str:
    return "".join(m.reading_form() if _KANJI.search(m.surface()) else m.surface()
                   for m in _tokenizer().tokenize(unicodedata.normalize("NFKC", word)))


@functools.lru_cache(maxsize=1)
def sudachi_dictionary() -> Any:
    """SudachiPy's core dictionary, opened once per process: the tags' readings and the proofreading check (which
    a build runs in the same side process) share it, rather than each mapping its own copy."""
    from sudachipy import Dictionary  # type: ignore[import-untyped]

    dictionary = Dictionary(dict="core")
    release_dictionary_pages()
    return dictionary


def release_dictionary_pages() -> None:
    """Loading the dictionary reads through its 75 MB table of entries, and the pages read stay mapped: they
    count in this process's memory (its RSS) though an analysis needs few of them again. On Linux they are
    handed back to the page cache (MADV_DONTNEED on the read-only file mapping: nothing is lost, a page needed
    again is mapped again from the cache), and the mapping is cut into pieces (`_cut_in_pieces`); elsewhere,
    or if anything is unexpected, nothing is done."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import importlib.util
        import mmap

        spec = importlib.util.find_spec("sudachidict_core")
        if spec is None or spec.origin is None:
            return
        file = str((Path(spec.origin).parent / "resources" / "system.dic").resolve())
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            ranges = _joined(line.split(maxsplit=1)[0] for line in maps if line.rstrip("\n").endswith(" " + file))
        madvise = ctypes.CDLL(None, use_errno=True).madvise
        madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        for start, end in ranges:
            madvise(start, end - start, mmap.MADV_DONTNEED)
            _cut_in_pieces(madvise, start, end)
    except (OSError, AttributeError, ValueError, ImportError):
        return


def _joined(addresses: Iterable[str]) -> list[tuple[int, int]]:
    """The address ranges of /proc/self/maps lines (`start-end` in hexadecimal), adjacent ones joined: once cut
    in pieces, the dictionary is thousands of mappings, and one call covers them all."""
    ranges: list[tuple[int, int]] = []
    for address in addresses:
        start, end = (int(part, 16) for part in address.split("-"))
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


PIECE_PAGES = 4
"""Pages of the dictionary's mapping the kernel maps at most at once (see `_cut_in_pieces`): 4 (16 KB) keeps
the proofreading process of 520 issues at 92 MiB, not 125; 8 would leave it at 104, 2 makes twice as many
mappings for 12 MiB less."""


def _cut_in_pieces(madvise: Any, start: int, end: int) -> None:
    """A page read from a mapped file maps its neighbours too, 64 KB in all (the kernel's fault-around), if they
    are in the same mapping. The analysis reads the dictionary here and there: after a hundred paragraphs 75 MB
    of it were mapped for about 18 MB of pages read, three quarters of the proofreading process's memory.
    Every other piece of `PIECE_PAGES` pages is marked not to be written in a core dump (MADV_DONTDUMP, which
    has no other effect, and a file's shared mapping is not dumped anyway): pieces with different marks stay
    separate mappings, so the kernel maps at most one piece around a page read. 202 MB make 12,000 mappings
    (the limit per process is 65,530); a refused mark (over a lower limit) stops the cutting, which changes
    nothing but memory."""
    import mmap

    piece = PIECE_PAGES * mmap.PAGESIZE
    for address in range(start, end, 2 * piece):
        if madvise(address, min(piece, end - address), mmap.MADV_DONTDUMP) != 0:
            return


@functools.lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from sudachipy import SplitMode

    return sudachi_dictionary().tokenizer(mode=SplitMode.C)
