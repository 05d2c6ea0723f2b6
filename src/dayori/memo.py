"""What `make serve` keeps in memory between the rebuilds of one session, so that saving one issue costs the
work of that issue, not of the whole archive.

Each entry is the result of a pure step under a key made of everything that step reads, so an entry can only
be found again when its result would be the same: the memo changes how fast a preview is, never what it shows,
and `make site`, which has none, builds the same bytes. Entries the last complete build did not use are
dropped, so memory stays the size of one build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

T = TypeVar("T")
_MISSING = object()


@dataclass
class Memo:
    _kept: dict[Hashable, Any] = field(default_factory=dict)
    _used: dict[Hashable, Any] = field(default_factory=dict)
    _fingerprints: dict[int, tuple[object, str]] = field(default_factory=dict)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """What `compute` returned for `key` earlier in this session, or its result now. Keys are hashed at
        every lookup: strings and bytes (which keep their hash) make them cheap."""
        value = self._used.get(key, _MISSING)
        if value is _MISSING:
            value = self._kept.get(key, _MISSING)
            if value is _MISSING:
                value = compute()
            self._used[key] = value
        return cast(T, value)

    def put(self, key: Hashable, value: Any) -> None:
        """A result made outside `get` (a cache record just written)."""
        self._used[key] = value

    def fingerprint(self, value: object) -> str:
        """A short key for a value of the model (an issue with its body), computed once per build: its repr
        names every field, and the same object is asked for by several pages and feeds."""
        known = self._fingerprints.get(id(value))
        if known is None:
            known = (value, hashlib.sha256(repr(value).encode()).hexdigest())
            self._fingerprints[id(value)] = known  # holding the value keeps its id from being reused
        return known[1]

    def finish(self, *, complete: bool) -> None:
        """After a build. A failed build keeps the entries of the last good one too: fixing the mistake then
        costs no more than any other edit."""
        self._kept = self._used if complete else {**self._kept, **self._used}
        self._used, self._fingerprints = {}, {}


def remember(memo: Memo | None, key: Hashable, value: T) -> T:
    """`value`, kept under `key` when there is a memo: a result just made and written to a disk cache, for the
    next rebuild to find without reading the file back."""
    if memo is not None:
        memo.put(key, value)
    return value


def recall(memo: Memo | None, key: Callable[[Memo], Hashable], compute: Callable[[], T]) -> T:
    """`compute()`, through the memo when there is one; `key` is called only then (with the memo, for its
    fingerprints), so a site build pays nothing for keys."""
    return compute() if memo is None else memo.get(key(memo), compute)
