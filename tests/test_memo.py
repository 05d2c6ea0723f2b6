"""`dayori.memo` on its own: keys made from every field of the inputs, steps that cannot hide an input, and
entries that live one build."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dayori.memo import Derived, Memo, inputs_digest, through


@dataclasses.dataclass(frozen=True)
class Inner:
    text: str
    hidden: int = dataclasses.field(default=0, repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Outer:
    inner: Inner
    items: tuple[Any, ...]
    table: dict[str, Any]


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                    st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(tuple), st.dictionaries(st.text(max_size=3), inner, max_size=3),
    st.builds(Inner, st.text(max_size=5), st.integers()),
    st.builds(Outer, st.builds(Inner, st.text(max_size=3)), st.lists(inner, max_size=2).map(tuple),
              st.dictionaries(st.text(max_size=2), inner, max_size=2))), max_leaves=8)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 == True, but a page shows them differently)."""
    return type(a) is type(b) and repr(a) == repr(b) and (
        not dataclasses.is_dataclass(a) or all(_same(getattr(a, f.name), getattr(b, f.name))
                                               for f in dataclasses.fields(a)))


@given(data, data)
def test_equal_fingerprints_only_for_equal_values(a: Any, b: Any) -> None:
    memo = Memo()
    if memo.fingerprint(a) == memo.fingerprint(b):
        assert _same(a, b)


@given(data)
def test_a_copy_has_the_same_fingerprint(value: Any) -> None:
    assert Memo().fingerprint(value) == Memo().fingerprint(copy.deepcopy(value))
    assert inputs_digest(value) == inputs_digest(copy.deepcopy(value))


def test_a_field_left_out_of_repr_and_equality_is_still_in_the_key() -> None:
    assert Memo().fingerprint(Inner("a", 1)) != Memo().fingerprint(Inner("a", 2))


def _double(value: Inner) -> str:
    return value.text * 2


def test_a_step_runs_once_per_input_while_the_memo_is_used() -> None:
    memo, calls = Memo(), []

    def counted(value: Inner) -> str:
        calls.append(value)
        return _double(value)

    assert through(memo, _double, Inner("a")) == "aa"
    with pytest.raises(TypeError, match="module-level"):
        through(memo, counted, Inner("a"))
    first = through(memo, _joined, ["x"], Inner("y"))
    assert through(memo, _joined, ["x"], Inner("y")) is first
    assert through(memo, _joined, ["x"], Inner("z")) == "x+z"


def _joined(parts: list[str], tail: Inner) -> str:
    return "+".join([*parts, tail.text])


def test_closures_lambdas_and_methods_are_refused_even_without_a_memo() -> None:
    with pytest.raises(TypeError):
        through(None, lambda: 1)
    with pytest.raises(TypeError):
        through(None, Memo().fingerprint, 1)


def test_no_memo_runs_the_step_every_time() -> None:
    assert through(None, _joined, [], Inner("a")) == "a"


def test_what_a_value_cannot_describe_is_refused() -> None:
    with pytest.raises(TypeError, match="object"):
        Memo().fingerprint(object())


class Made(Derived):
    def __init__(self, source: Inner) -> None:
        self.source = source

    def memo_inputs(self) -> tuple[object, ...]:
        return (self.source,)


def test_a_derived_helper_counts_as_what_it_is_made_from() -> None:
    assert Memo().fingerprint(Made(Inner("a"))) == Memo().fingerprint(Made(Inner("a")))
    assert Memo().fingerprint(Made(Inner("a"))) != Memo().fingerprint(Made(Inner("b")))


def test_entries_the_last_complete_build_did_not_use_are_dropped() -> None:
    memo = Memo()
    memo.get("a", lambda: 1)
    memo.get("b", lambda: 2)
    memo.finish(complete=True)
    memo.get("a", lambda: 10)
    memo.finish(complete=False)  # a failed build keeps the last good one's entries too
    assert memo.get("b", lambda: 20) == 2
    memo.finish(complete=True)
    memo.finish(complete=True)
    assert memo.get("a", lambda: 30) == 30


def test_the_disk_key_is_the_same_in_another_process(tmp_path: Path) -> None:
    value = {"tags": frozenset({"Teams", "Excel", "会議"}), "path": Path("newsletter/2026/3.md"),
             "day": dt.date(2026, 11, 26)}
    code = ("import datetime as dt, sys; from pathlib import Path; from dayori.memo import inputs_digest; "
            "print(inputs_digest({'tags': frozenset({'Teams', 'Excel', '会議'}), 'path': Path('newsletter/2026/3.md'),"
            " 'day': dt.date(2026, 11, 26)}))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.stdout.strip() == inputs_digest(value)
