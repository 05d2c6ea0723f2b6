"""The render cache and the proofreading cache are one file each (`dayori.pack`): a first build creates two
files where it created one per body and stage. A pack gives back exactly what was saved, or nothing: a damaged,
cut or foreign pack is ignored and made again, and the site is always the one a first build makes."""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import TODAY, Project, copy_project
from dayori.check.archive import RECORDS
from dayori.config import settings_from_file
from dayori.content import RENDER_CACHE, load_content
from dayori.errors import ContentError
from dayori.pack import KEEP_UNUSED, Pack

KEYS = st.text(min_size=1, max_size=20)
RECORDS_OF_A_STAGE = st.dictionaries(KEYS, st.binary(max_size=200), max_size=12)


def saved(path: Path, records: dict[str, bytes]) -> Pack:
    pack = Pack(path)
    for key, record in records.items():
        pack.put(key, record)
    pack.save()
    return pack


def stored(path: Path) -> dict[str, bytes]:
    """A pack's records read with this test's own reading of the format (header line, index line, bytes)."""
    header, rest = path.read_bytes().split(b"\n", 1)
    assert header == b"dayori-pack/1 " + hashlib.sha256(rest).hexdigest().encode()
    listing, data = rest.split(b"\n", 1)
    records, start = {}, 0
    for key, length, _ in json.loads(listing):
        records[key] = data[start:start + length]
        start += length
    assert start == len(data)
    return records


def written(path: Path, records: dict[str, bytes], magic: bytes = b"dayori-pack/1") -> None:
    """A pack as another writer would make it, with a good digest."""
    rest = json.dumps([[key, len(record), 0] for key, record in records.items()]).encode() + b"\n" + \
        b"".join(records.values())
    path.write_bytes(magic + b" " + hashlib.sha256(rest).hexdigest().encode() + b"\n" + rest)


@given(RECORDS_OF_A_STAGE)
def test_a_saved_pack_gives_back_exactly_its_records(tmp_path_factory: pytest.TempPathFactory,
                                                     records: dict[str, bytes]) -> None:
    path = tmp_path_factory.mktemp("pack") / "stage.pack"
    saved(path, records)
    if records:
        assert stored(path) == records
    again = Pack(path)
    assert len(again) == len(records)
    assert {key: again.get(key) for key in records} == records
    assert again.get("\x00never stored") is None


@given(RECORDS_OF_A_STAGE, RECORDS_OF_A_STAGE)
def test_a_pack_kept_after_its_save_reads_its_records_from_what_it_wrote(tmp_path_factory: pytest.TempPathFactory,
                                                                         first: dict[str, bytes],
                                                                         second: dict[str, bytes]) -> None:
    """A preview's memo keeps the pack between rebuilds: after a save, the next rebuild reads its records from the
    bytes that save wrote (the records lie after the index line there), and saves the file a fresh pack would."""
    path = tmp_path_factory.mktemp("pack") / "stage.pack"
    saved(path, first)
    pack = Pack(path)
    for key in first:
        pack.get(key)
    for key, record in second.items():
        pack.put(key, record)
    pack.save()
    everything = {**first, **second}
    pack.begin()
    assert {key: pack.get(key) for key in everything} == everything
    pack.put("\x00added", b"\x00")
    pack.save()
    assert stored(path) == {**everything, "\x00added": b"\x00"}
    assert {key: Pack(path).get(key) for key in everything} == everything


DAMAGES: dict[str, Callable[[bytes, int], bytes]] = {
    "cut short": lambda data, at: data[:at % len(data)],
    "a byte changed": lambda data, at: data[:at % len(data)] + bytes([data[at % len(data)] ^ 0x20])
    + data[at % len(data) + 1:],
    "bytes added": lambda data, at: data[:at % len(data)] + b"\x00}" + data[at % len(data):],
}


@given(st.dictionaries(KEYS, st.binary(max_size=200), min_size=1, max_size=8), st.sampled_from(sorted(DAMAGES)),
       st.integers(min_value=0))
def test_a_damaged_pack_is_never_trusted_and_is_made_again(tmp_path_factory: pytest.TempPathFactory,
                                                           records: dict[str, bytes], damage: str, at: int) -> None:
    path = tmp_path_factory.mktemp("pack") / "stage.pack"
    saved(path, records)
    path.write_bytes(DAMAGES[damage](path.read_bytes(), at))
    pack = Pack(path)
    assert len(pack) == 0 and all(pack.get(key) is None for key in records)
    for key, record in records.items():
        pack.put(key, record)
    pack.save()
    assert stored(path) == records


def test_a_pack_of_another_format_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "stage.pack"
    written(path, {"key": b"record"}, magic=b"dayori-pack/2")
    assert len(Pack(path)) == 0 and Pack(path).get("key") is None
    written(path, {"key": b"record"})
    assert Pack(path).get("key") == b"record"


def test_a_pack_keeps_what_the_last_saves_used_and_is_not_rewritten_unchanged(tmp_path: Path) -> None:
    """Records unused by more than KEEP_UNUSED saves go, so the pack stays the size of about one build."""
    path = tmp_path / "stage.pack"
    saved(path, {"old": b"1", "kept": b"2"})
    for save in range(KEEP_UNUSED + 1):
        pack = Pack(path)
        assert pack.get("kept") == b"2"
        pack.save()
        assert ("old" in stored(path)) is (save < KEEP_UNUSED)
    assert stored(path) == {"kept": b"2"}
    before = path.stat()
    pack = Pack(path)
    pack.get("kept")
    pack.save()
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    path.unlink()  # deleted by hand meanwhile: written again
    pack.begin()
    pack.get("kept")
    pack.save()
    assert stored(path) == {"kept": b"2"}


def test_a_killed_save_leaves_the_previous_pack_and_its_leftover_goes_later(tmp_path: Path) -> None:
    path = tmp_path / "stage.pack"
    saved(path, {"a": b"1"})
    dead = tmp_path / f".tmp-{'0' * 32}-{path.name}"
    dead.write_bytes(path.read_bytes()[:10])  # what a build killed while writing leaves
    hour_ago = time.time() - 2 * 3600
    os.utime(dead, (hour_ago, hour_ago))
    running = tmp_path / f".tmp-{'1' * 32}-{path.name}"  # another build's save under way
    running.write_bytes(b"dayori")
    assert Pack(path).get("a") == b"1"
    saved(path, {"b": b"2"})
    assert not dead.exists() and running.exists()


def test_saves_at_once_leave_one_whole_pack_that_readers_always_see_whole(tmp_path: Path) -> None:
    path = tmp_path / "stage.pack"
    sets = [{f"{name}{n}": name.encode() * n for n in range(1, 40)} for name in ("a", "b")]
    seen: list[int] = []
    done = threading.Event()

    def write(records: dict[str, bytes]) -> None:
        for _ in range(30):
            pack = Pack(path, keep_unused=0)
            for key, record in records.items():
                pack.put(key, record)
            pack.save()

    def read() -> None:
        while not done.is_set():
            pack = Pack(path)
            seen.append(len(pack))
            if len(pack):
                assert any(all(pack.get(key) == record for key, record in records.items()) for records in sets)

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(records,)) for records in sets]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    assert set(seen) <= {0, 39} and stored(path) in sets


BODY_PIECES = st.sampled_from(["本文です。", "## 見出し", "[前の号](1.md)", "[次の号](3.md)", "[ない号](9.md)",
                               "[図](img/a.png)", "**太字**", "- 項目", "[外](https://example.jp/)", "\n\n"])
BODIES = st.lists(BODY_PIECES, min_size=1, max_size=5).map(" ".join)


def outcome(settings: Any) -> Any:
    """What a build gets from its content stage: the content, or the problems in their order."""
    try:
        return load_content(settings)
    except ContentError as error:
        return [str(problem) for problem in error.problems]


@given(st.lists(BODIES, min_size=3, max_size=3), st.lists(st.tuples(st.integers(1, 3), BODIES), max_size=3))
def test_content_from_the_render_cache_after_edits_is_what_a_first_build_makes(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, first: list[str],
        edits: list[tuple[int, str]]) -> None:
    monkeypatch.setenv("DAYORI_TODAY", TODAY)
    project = copy_project(tmp_path_factory.mktemp("edits") / "project", with_content=False)
    for vol, body in enumerate(first, 1):
        project.add_issue(vol, f"2025-01-{vol:02d}", f"第{vol}号", body)
    base = settings_from_file(project.root / "mkdocs.yml")
    outcome(base)
    for round_, (vol, body) in enumerate(edits):
        project.add_issue(vol, f"2025-01-{vol:02d}", f"第{vol}号", body)
        if vol == 2:
            project.write("newsletter/2025/img/a.png", b"\x89PNG not really a picture")
        warm = outcome(base)
        cold = outcome(replace(base, cache_dir=f".cache/fresh-{round_}"))
        assert warm == cold
    assert len(Pack(base.cache_path / RENDER_CACHE)) >= 3


def build(project: Project) -> subprocess.CompletedProcess[str]:
    result = project.run_build()
    assert result.returncode == 0, result.stderr
    return result


def same_tree(left: Path, right: Path) -> bool:
    comparison = filecmp.dircmp(left, right)
    pending = [comparison]
    while pending:
        current = pending.pop()
        if current.left_only or current.right_only or current.diff_files or current.funny_files:
            return False
        _, mismatched, errors = filecmp.cmpfiles(current.left, current.right, current.common_files, shallow=False)
        if mismatched or errors:
            return False
        pending += current.subdirs.values()
    return True


@pytest.fixture
def built(project: Project) -> Project:
    """Twelve issues linking each other, proofreading findings included, built once from nothing."""
    for vol in range(1, 13):
        project.add_issue(vol, f"2025-02-{vol:02d}", f"第{vol}号",
                          f"## 第{vol}号\n\n資料をを共有します。[前の号]({max(vol - 1, 1)}.md)")
    build(project)
    return project


def cache_files(project: Project) -> list[str]:
    cache = project.root / ".cache" / "dayori"
    return sorted(str(path.relative_to(cache)) for path in cache.rglob("*") if path.is_file()
                  and path.parts[len(cache.parts)] in ("check", "bodies", RENDER_CACHE))


def test_a_first_build_writes_each_stages_records_in_one_file(built: Project) -> None:
    files = cache_files(built)
    assert files[0] == RENDER_CACHE and files[1].startswith("check/archive-") and files[2:] == [f"check/{RECORDS}"]
    cache = built.root / ".cache" / "dayori"
    assert len(stored(cache / RENDER_CACHE)) == 12 and len(stored(cache / "check" / RECORDS)) == 12


def _cut(data: bytes) -> bytes:
    return data[:len(data) // 2]


def _changed(data: bytes) -> bytes:
    return data[:-5] + bytes([data[-5] ^ 1]) + data[-4:]


def _other_format(data: bytes) -> bytes:
    return data.replace(b"dayori-pack/1 ", b"dayori-pack/7 ", 1)


PACK_DAMAGES = {"cut short": _cut, "a byte changed": _changed, "another format": _other_format,
                "emptied": lambda data: b""}


@pytest.mark.parametrize("damage", sorted(PACK_DAMAGES))
def test_a_damaged_pack_gives_the_site_of_a_first_build(built: Project, tmp_path: Path, damage: str) -> None:
    first = tmp_path / "first-site"
    shutil.copytree(built.site, first)
    cache = built.root / ".cache" / "dayori"
    for path in (cache / RENDER_CACHE, cache / "check" / RECORDS):
        path.write_bytes(PACK_DAMAGES[damage](path.read_bytes()))
    (cache / "last-build.pickle").unlink()  # the stages run again
    result = build(built)
    assert "Traceback" not in result.stderr
    assert same_tree(built.site, first)
    assert len(stored(cache / RENDER_CACHE)) == 12


def test_records_of_another_engine_under_the_same_keys_are_made_again(built: Project, tmp_path: Path) -> None:
    """A pack with a good digest whose records are not this engine's (an older version's fields, as if a key
    had been reused) gives a first build's site: every record is checked for its shape before it is used."""
    first = tmp_path / "first-site"
    shutil.copytree(built.site, first)
    cache = built.root / ".cache" / "dayori"
    foreigners = {cache / RENDER_CACHE: b'{"html": "<p>\\u53e4</p>", "depends": [[1]]}',
                  cache / "check" / RECORDS: b'{"findings": "x", "words": [], "tags": [], "images": []}'}
    for path, foreign in foreigners.items():
        written(path, {key: foreign for key in stored(path)} | {"another engine's key": b"[]"})
    for archive in (cache / "check").glob("archive-*.json"):
        archive.unlink()
    (cache / "last-build.pickle").unlink()
    result = build(built)
    assert "Traceback" not in result.stderr
    assert same_tree(built.site, first)
    for path, foreign in foreigners.items():
        records = stored(path)
        assert len(records) == 12 + (KEEP_UNUSED > 0) and foreign not in records.values()


def test_two_first_builds_at_once_both_make_the_site_and_whole_packs(built: Project, tmp_path: Path) -> None:
    first = tmp_path / "first-site"
    shutil.copytree(built.site, first)
    shutil.rmtree(built.root / ".cache")
    env = {**os.environ, "DAYORI_TODAY": TODAY, "NO_COLOR": "1"}
    builds = [subprocess.Popen([sys.executable, "-m", "mkdocs", "build"], cwd=built.root, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for process in builds:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors
    cache = built.root / ".cache" / "dayori"
    assert len(stored(cache / RENDER_CACHE)) == 12 and len(stored(cache / "check" / RECORDS)) == 12
    assert same_tree(built.site, first)
    (cache / "last-build.pickle").unlink()
    build(built)
    assert same_tree(built.site, first)


def test_a_warm_build_after_an_edit_publishes_what_a_first_build_does(built: Project, tmp_path: Path) -> None:
    built.add_issue(5, "2025-02-05", "第5号", "## 書き直した号\n\n資料を共有します。[前の号](4.md)と[次](6.md)")
    build(built)
    fresh = copy_project(tmp_path / "fresh", with_content=False)
    shutil.rmtree(fresh.root / "newsletter")
    shutil.copytree(built.root / "newsletter", fresh.root / "newsletter")
    build(fresh)
    assert same_tree(built.site, fresh.site)
    assert len(stored(built.root / ".cache" / "dayori" / RENDER_CACHE)) == 12 + (KEEP_UNUSED > 0)  # the old 5


def test_the_checks_cache_stays_one_pack_and_a_few_summaries_as_issues_are_added(project: Project) -> None:
    """A summary of the archive's findings is written for each new set of files (each new issue); only the
    newest KEPT_SUMMARIES stay, so `make check` (drafts too) and a build (without) still both find theirs."""
    from dayori.check.archive import KEPT_SUMMARIES, check_files, content_files

    settings = settings_from_file(project.root / "mkdocs.yml")
    cache = settings.cache_path / "check"
    for vol in range(1, 7):
        project.add_issue(vol, f"2025-03-{vol:02d}", f"第{vol}号", "資料をを共有します。")
        files = content_files(settings)
        for checked in (files, files[:-1]):  # `make check`, then a build that leaves the newest out
            first = check_files(settings, checked, workers=1)
            again = check_files(settings, checked, workers=1)
            assert again.analysed == 0 and again.findings == first.findings and (first.findings or not checked)
        names = sorted(path.name for path in cache.iterdir())
        assert names[-1] == RECORDS and len(names) - 1 == min(2 * vol, KEPT_SUMMARIES), names
    assert check_files(settings, files, workers=1).analysed == 0
    assert len(stored(cache / RECORDS)) == 6
