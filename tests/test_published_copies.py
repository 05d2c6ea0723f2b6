"""A published copy of a cached file (`dayori.store.copy_file`, `copy_part`) is its own file whatever was at its
name: a hard link to the cache left there is let go, never written through; its folder is made when missing; the
previous build's copy is linked only while nobody has touched it. Parts read from a pack held open
(`dayori.filepack.OpenPacks`) are the bytes `Part.read` gives, whether the pack was saved again before, while or
after it was opened."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dayori.filepack import OpenPacks, PackWriter, Part, StoredPack
from dayori.store import copy_file, copy_part

RECORDS = st.dictionaries(st.text(min_size=1, max_size=8), st.lists(st.binary(max_size=300), min_size=1, max_size=3),
                          min_size=1, max_size=6)


def packed(path: Path, records: dict[str, list[bytes]]) -> dict[str, list[Part]]:
    """`records` saved in a pack at `path`, and where each file lies."""
    writer = PackWriter(path)
    for key, files in records.items():
        writer.add(key, {}, files)
    stored = writer.finish()
    try:
        return {key: stored.parts(key) for key in records}
    finally:
        stored.close()


def one_part(tmp_path: Path, data: bytes = b"<p>email</p>") -> tuple[Path, Part]:
    pack = tmp_path / "emails.pack"
    return pack, packed(pack, {"vol-1": [data]})["vol-1"][0]


@pytest.mark.parametrize("held", [False, True])
def test_a_name_linked_to_the_cache_is_let_go_not_written_through(tmp_path: Path, held: bool) -> None:
    pack, part = one_part(tmp_path)
    destination = tmp_path / "site/email/1/index.html"
    destination.parent.mkdir(parents=True)
    os.link(pack, destination)  # what an older version published
    kept = pack.read_bytes()
    with OpenPacks() as packs:
        copy_part(pack, part, destination, read=(lambda: packs.read(pack, part)) if held else None)
    assert pack.read_bytes() == kept
    assert destination.read_bytes() == b"<p>email</p>"
    assert not os.path.samefile(pack, destination)
    assert destination.stat().st_mtime_ns == part.made_ns


def test_a_cached_file_linked_at_its_name_is_let_go_not_written_through(tmp_path: Path) -> None:
    cached = tmp_path / "cache/clip.mp4"
    cached.parent.mkdir()
    cached.write_bytes(b"new clip")
    stale = tmp_path / "cache/old.mp4"
    stale.write_bytes(b"old clip, longer")
    destination = tmp_path / "site/media/clip.mp4"
    destination.parent.mkdir(parents=True)
    os.link(stale, destination)
    copy_file(cached, destination)
    assert stale.read_bytes() == b"old clip, longer"
    assert destination.read_bytes() == b"new clip"
    assert destination.stat().st_mtime_ns == cached.stat().st_mtime_ns


def test_missing_folders_are_made_and_a_folder_at_the_name_is_refused(tmp_path: Path) -> None:
    pack, part = one_part(tmp_path)
    deep = tmp_path / "site/email/1/a/b/index.html"
    copy_part(pack, part, deep)
    assert deep.read_bytes() == b"<p>email</p>"
    taken = tmp_path / "site/email/2/index.html"
    taken.mkdir(parents=True)
    with pytest.raises(OSError):
        copy_part(pack, part, taken)


def test_the_previous_copy_is_linked_only_while_untouched(tmp_path: Path) -> None:
    pack, part = one_part(tmp_path)
    previous, edited = tmp_path / "old/email/1/index.html", tmp_path / "old/email/2/index.html"
    for copy in (previous, edited):
        copy_part(pack, part, copy)
    edited.write_bytes(b"<p>EDITED</p>")  # same size, a new time
    for name, old in (("1", previous), ("2", edited)):
        destination = tmp_path / f"new/email/{name}/index.html"
        destination.parent.mkdir(parents=True)
        destination.write_bytes(b"left by a killed build")
        copy_part(pack, part, destination, old)
        assert destination.read_bytes() == b"<p>email</p>"
    assert os.path.samefile(previous, tmp_path / "new/email/1/index.html")
    assert not os.path.samefile(edited, tmp_path / "new/email/2/index.html")
    assert edited.read_bytes() == b"<p>EDITED</p>"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=RECORDS, again=RECORDS, when=st.sampled_from(["before", "while", "after", "never"]))
def test_parts_read_from_a_held_pack_are_the_records_whenever_it_is_saved_again(
        tmp_path: Path, records: dict[str, list[bytes]], again: dict[str, list[bytes]], when: str) -> None:
    """Another build saves the pack again (other records first, so every offset moves) at some moment of the
    copies: each part is still its record's bytes, as `Part.read` reads them."""
    pack = tmp_path / "emails.pack"
    for leftover in tmp_path.iterdir():
        leftover.unlink()
    parts = [(records[key][n], part) for key, found in packed(pack, records).items() for n, part in enumerate(found)]
    resaved = {**{f"other-{key}": files for key, files in again.items()}, **records}
    if when == "before":
        packed(pack, resaved)
    with OpenPacks() as packs:
        for index, (expected, part) in enumerate(parts):
            if when == "while" and index == len(parts) // 2:
                packed(pack, resaved)
            assert packs.read(pack, part) == expected
    if when == "after":
        packed(pack, resaved)
    for expected, part in parts:
        assert part.read(pack) == expected


def test_a_part_no_longer_in_the_pack_stops_the_copy(tmp_path: Path) -> None:
    """A pack saved again without the record (another build's) cannot give its bytes: the build stops rather
    than publish other ones."""
    pack, part = one_part(tmp_path)
    packed(pack, {"vol-2": [b"<p>another email</p>"]})
    with OpenPacks() as packs, pytest.raises(RuntimeError):
        packs.read(pack, part)


def test_held_packs_are_closed(tmp_path: Path) -> None:
    pack, part = one_part(tmp_path)
    before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None
    with OpenPacks() as packs:
        packs.read(pack, part)
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
    stored = StoredPack.read(pack)
    assert stored is not None
    stored.close()
