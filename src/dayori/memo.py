"""What `make serve` keeps in memory between the rebuilds of one session, so that saving one issue costs the
work of that issue, not of the whole archive.

Each entry is the result of a pure step under a key made of everything that step reads, so an entry can only
be found again when its result would be the same: the memo changes how fast a preview is, never what it shows,
and `make site`, which has none, builds the same bytes. Entries the last complete build did not use are
dropped, so memory stays the size of one build.

Keys are not written by hand: `through(memo, step, *inputs)` calls a module-level function with its inputs and
keys the result by the function and every field of every input (`Memo.fingerprint`), so a step cannot read
something its key forgot. `inputs_digest` is the same key, stable across processes, for caches on disk.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from pathlib import PurePath
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
        """A short key for a value of the model (an issue with its body) made of every field, computed once
        per build: the same object is asked for by several pages and feeds."""
        known = self._fingerprints.get(id(value))
        if known is None:
            known = (value, _hash(value, self.fingerprint))
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


def through(memo: Memo | None, step: Callable[..., T], *inputs: object) -> T:
    """`step(*inputs)`, through the memo when there is one, keyed by the step and all of its inputs. The step
    must be a module-level function: a closure or a method would read values that are not in the key."""
    if "<" in step.__qualname__ or getattr(step, "__self__", None) is not None:
        raise TypeError(f"{step.__qualname__}: a memoized step must be a module-level function that reads only "
                        "its arguments")
    if memo is None:
        return step(*inputs)
    key = (step.__module__, step.__qualname__, *map(memo.fingerprint, inputs))
    return memo.get(key, lambda: step(*inputs))


def inputs_digest(*inputs: object) -> str:
    """Every field of `inputs` as one hex digest that is the same in every process: a key for a disk cache."""
    known: dict[int, str] = {}

    def fingerprint(value: object) -> str:
        if id(value) not in known:
            known[id(value)] = _hash(value, fingerprint)
        return known[id(value)]

    return _hash(inputs, fingerprint)


class Derived:
    """A helper object made from other inputs (a per-build cache of entries): as a step's input it counts as
    the values it was made from, given by `memo_inputs`."""

    def memo_inputs(self) -> tuple[object, ...]:
        raise NotImplementedError


_SCALARS = (str, bytes, int, float, complex, type(None), dt.date, dt.time, dt.timedelta, PurePath, Enum, range)


def _hash(value: object, fingerprint: Callable[[object], str]) -> str:
    if is_dataclass(value) and not isinstance(value, type):
        described: object = (type(value).__qualname__,
                             tuple((f.name, _described(getattr(value, f.name), fingerprint)) for f in fields(value)))
    else:
        described = _described(value, fingerprint)
    return hashlib.sha256(repr(described).encode()).hexdigest()


def _described(value: object, fingerprint: Callable[[object], str]) -> object:
    """A value as plain data whose repr changes whenever any field changes; dataclasses by their (cached)
    fingerprint. A value that cannot be described (a function, an open file) is refused, not guessed."""
    if isinstance(value, _SCALARS):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return fingerprint(value)
    if isinstance(value, Derived):
        return (type(value).__qualname__, tuple(_described(v, fingerprint) for v in value.memo_inputs()))
    if isinstance(value, Mapping):
        return ("{}", tuple((_described(k, fingerprint), _described(v, fingerprint)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("[]", tuple(_described(v, fingerprint) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(_described(v, fingerprint)) for v in value)))
    if isinstance(value, functools.partial):
        return ("partial", _described(value.func, fingerprint), _described(value.args, fingerprint),
                _described(value.keywords, fingerprint))
    name = getattr(value, "__qualname__", "<")
    if callable(value) and "<" not in name:  # code named in the configuration (a Markdown extension's option)
        return ("code", getattr(value, "__module__", ""), name)
    raise TypeError(f"{type(value).__qualname__} cannot be part of a memo key: pass the data it is made from")
