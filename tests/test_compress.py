"""Compressed copies beside the site's text files: each unpacks to exactly its file, the same build makes the
same bytes, a copy left over from an earlier build (or edited in site/) never stands for a changed file, and
a browser served the way the guide says gets them (the gzip copy where a file has no Brotli copy)."""

from __future__ import annotations

import gzip
import os
import random
import re
import sys
import tempfile
import unicodedata
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import brotli
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from browser import serve
from conftest import ROOT, Project, copy_project
from dayori import compress
from dayori.compress import BROTLI_ABOVE, RECORD, TEXT_SUFFIXES, gzip_copy, precompress, unpack
from testsupport.statichost import HASHED


def _gets_brotli(data: bytes) -> bool:
    """The guide's promise: a Brotli copy where the gzip copy does not fit in a first round trip, and Brotli
    comes out smaller than the file."""
    gzip_size = len(gzip.compress(data, compresslevel=6, mtime=0))
    return gzip_size > BROTLI_ABOVE and len(brotli.compress(data, quality=6)) < len(data)


def _varied_text(characters: int, seed: int = 0) -> str:
    """Japanese text that compresses about as well as real text does, not like one sentence repeated."""
    pick = random.Random(seed)
    return "".join(pick.choice("、。") if pick.random() < 0.08 else chr(pick.randrange(0x4E00, 0x5600))
                   for _ in range(characters))


def _text_files(site: Path) -> list[Path]:
    return [path for path in sorted(site.rglob("*")) if path.is_file() and path.suffix in TEXT_SUFFIXES]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = copy_project(tmp_path_factory.mktemp("compress") / "project", with_content=False)
    project.add_issue(1, "2026-10-02", "圧縮の号", "回線が遅い拠点でも読めるように、" * 40)
    project.build()
    yield project


def test_every_text_file_has_copies_that_unpack_to_it(project: Project) -> None:
    files = _text_files(project.site)
    assert {path.suffix for path in files} >= {".html", ".css", ".js", ".json", ".xml"}
    for path in files:
        data = path.read_bytes()
        gz, br = path.with_name(path.name + ".gz"), path.with_name(path.name + ".br")
        if len(data) > 1000:  # small files may be left alone: their copies would not be smaller
            assert gz.is_file(), path
        assert br.is_file() == _gets_brotli(data), path  # below, Brotli saves ~600 bytes in the same round trip
        if gz.is_file():
            assert gzip.decompress(gz.read_bytes()) == data and gz.stat().st_size < len(data)
        if br.is_file():
            assert brotli.decompress(br.read_bytes()) == data and br.stat().st_size < len(data)
    assert not list(project.site.rglob("*.map.gz")) and not list(project.site.rglob("*.mp4.gz"))
    assert {path.suffix for path in files if path.with_name(path.name + ".br").is_file()} >= {".css", ".js"}


def test_a_rebuild_makes_the_same_copies_and_replaces_a_copy_edited_in_site(project: Project) -> None:
    page = project.site / "newsletter" / "1" / "index.html"
    before = {path: path.read_bytes() for path in project.site.rglob("*.gz")}
    inodes = {path: path.stat().st_ino for path in before}
    edited = page.with_name("index.html.gz")
    edited.write_bytes(gzip_copy(b"<p>tampered</p>" * 200))
    large = next(project.site.rglob("*.css.br"))
    large.write_bytes(b"not brotli")
    project.build()
    after = {path: path.read_bytes() for path in project.site.rglob("*.gz")}
    assert after.keys() == before.keys()
    changed = [path for path in after if after[path] != before[path]]
    assert changed == [], changed  # same sources, same bytes: the edited copy was made again
    assert brotli.decompress(large.read_bytes()) == large.with_suffix("").read_bytes()
    assert (project.root / ".cache" / "dayori" / RECORD).is_file()
    kept = [path for path in after if path.stat().st_ino == inodes[path]]
    assert edited not in kept and len(kept) > len(after) / 2  # the untouched copies were linked, not made again


def test_a_changed_file_never_keeps_its_old_copy(project: Project, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, text in ((old, "古い本文。" + _varied_text(12000)), (new, "新しい本文。" + _varied_text(12000))):
        (folder / "a").mkdir(parents=True)
        (folder / "a" / "index.html").write_text(text, encoding="utf-8")
    precompress(old, None, tmp_path / RECORD)
    precompress(new, old, tmp_path / RECORD)
    for suffix in (".gz", ".br"):
        assert unpack(suffix, (new / "a" / f"index.html{suffix}").read_bytes()) == (new / "a" / "index.html").read_bytes()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the machine is shared and loaded
@given(st.binary(max_size=5000) | st.text(max_size=3000).map(str.encode))
def test_copies_are_reproducible_and_exact(data: bytes) -> None:
    copy = gzip_copy(data)
    assert copy == gzip_copy(data) and gzip.decompress(copy) == data
    assert copy[4:8] == b"\0\0\0\0" and not copy[3] & 0x08  # no time, no file name in the header


def test_the_test_server_sends_the_gzip_copy_as_the_guide_configures(project: Project) -> None:
    with serve(project.site) as url:
        request = urllib.request.Request(url + "newsletter/1/", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert response.headers["Cache-Control"] == "no-cache"
            body = gzip.decompress(response.read())
        assert body == (project.site / "newsletter" / "1" / "index.html").read_bytes()
        css = next((project.site / "assets" / "stylesheets").glob("main.*.min.css")).name
        with urllib.request.urlopen(url + f"assets/stylesheets/{css}") as response:
            assert response.headers["Content-Encoding"] is None  # not asked for: the file itself
            assert "immutable" in response.headers["Cache-Control"]


def _guide_patterns() -> dict[str, re.Pattern[str]]:
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    nginx = re.search(r"location ~\* \^/dayori/\.\+(\S+) \{", guide)
    iis = re.search(r'<add input="\{REQUEST_URI\}" pattern="([^"]+)" />', guide)
    assert nginx and iis, "the guide's nginx and IIS examples must tell hashed names apart"
    return {"nginx": re.compile(nginx[1], re.IGNORECASE), "iis": re.compile(iis[1], re.IGNORECASE)}


def test_the_guides_server_settings_keep_exactly_the_hashed_names_for_a_year(project: Project) -> None:
    patterns = _guide_patterns()
    names = [path.relative_to(project.site).as_posix() for path in project.site.rglob("*") if path.is_file()]
    for server, pattern in patterns.items():
        kept = {name for name in names if pattern.search("/dayori/" + name)}
        assert kept == {name for name in names if HASHED.search(name)}, server
        assert any(name.startswith("search/shard-") for name in kept), server
        assert any(name.startswith("assets/stylesheets/dayori/site.") for name in kept), server
        for name in ("index.html", "newsletter/1/index.html", "search/search_index.json", "feed.xml"):
            assert not pattern.search("/dayori/" + name), (server, name)


def _edit_in_place_keeping_size(copy: Path) -> None:
    data = bytearray(copy.read_bytes())
    data[-9] ^= 0xFF  # the gzip CRC / a Brotli byte: same size, same inode, only the time moves
    copy.write_bytes(bytes(data))


def _replace_keeping_time(copy: Path) -> None:
    """As an editor's program saves (a new file renamed over the old), then the old time put back."""
    status = copy.stat()
    spare = copy.with_name(copy.name + ".tmp")
    spare.write_bytes(copy.read_bytes()[:-1] + b"\0")
    os.replace(spare, copy)
    os.utime(copy, ns=(status.st_atime_ns, status.st_mtime_ns))


_EDITS: dict[str, Callable[[Path], None]] = {"in place": _edit_in_place_keeping_size, "replaced": _replace_keeping_time, "deleted": Path.unlink}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(alphabet="回線が遅い拠点でもabc <>\n", min_size=0, max_size=9000)
                     | st.builds(_varied_text, st.integers(9000, 12000), st.integers(0, 9)), min_size=2, max_size=5),
       edits=st.lists(st.tuples(st.integers(0, 4), st.sampled_from(sorted(_EDITS)), st.sampled_from([".gz", ".br"]))),
       changed=st.sets(st.integers(0, 4)))
def test_a_rebuild_reuses_only_copies_its_record_vouches_for(texts: list[str], edits: list[tuple[int, str, str]],
                                                            changed: set[int]) -> None:
    """Whatever was edited by hand in the last build's copies, and whichever files changed, every copy of the
    next build unpacks to its file, and the untouched copies of unchanged files are the same files (linked)."""
    with tempfile.TemporaryDirectory() as temporary:
        old, new, record = Path(temporary, "old"), Path(temporary, "new"), Path(temporary, "cache", RECORD)
        for folder, suffix in ((old, ""), (new, "（改）")):
            for number, text in enumerate(texts):
                page = folder / str(number) / "index.html"
                page.parent.mkdir(parents=True)
                page.write_text(text * 3 + (suffix if number in changed else ""), encoding="utf-8")
        precompress(old, None, record)
        touched = set()
        for number, edit, encoding in edits:
            copy = old / str(number % len(texts)) / f"index.html{encoding}"
            if copy.is_file():
                _EDITS[edit](copy)
                touched.add(copy)
        inodes = {copy: copy.stat().st_ino for copy in old.rglob("*.*.*")}
        precompress(new, old, record)
        for page in new.rglob("index.html"):
            data = page.read_bytes()
            for encoding in (".gz", ".br"):
                copy = page.with_name(page.name + encoding)
                if copy.is_file():
                    assert unpack(encoding, copy.read_bytes()) == data and copy.stat().st_size < len(data)
                elif len(data) > 1000 and (encoding == ".gz" or _gets_brotli(data)):
                    raise AssertionError(f"{copy} is missing")
                before = old / copy.relative_to(new)
                if copy.is_file() and before in inodes and before not in touched \
                        and int(page.parent.name) not in changed:
                    assert copy.stat().st_ino == inodes[before], copy


def test_a_damaged_record_vouches_for_nothing(tmp_path: Path) -> None:
    old, new, record = tmp_path / "old", tmp_path / "new", tmp_path / RECORD
    for folder in (old, new):
        (folder / "a").mkdir(parents=True)
        (folder / "a" / "index.html").write_text(_varied_text(12000), encoding="utf-8")
    precompress(old, None, record)
    (old / "a" / "index.html.gz").write_bytes(gzip_copy(b"<p>tampered</p>" * 2000))
    for damaged in (b"{", b"[]", b'{"recipe": 1}', record.read_bytes().replace(b'"files":{', b'"files":{"x":[1],')):
        record.write_bytes(damaged)
        for copy in new.rglob("*.*.*"):
            copy.unlink()
        precompress(new, old, record)
        for encoding in (".gz", ".br"):
            copy = new / "a" / f"index.html{encoding}"
            assert unpack(encoding, copy.read_bytes()) == (new / "a" / "index.html").read_bytes()


def test_a_page_without_a_brotli_copy_is_sent_as_its_gzip_copy_to_a_browser_that_prefers_brotli(
        project: Project) -> None:
    small = min((path for path in _text_files(project.site) if path.with_name(path.name + ".gz").is_file()
                 and not path.with_name(path.name + ".br").is_file() and path.suffix == ".html"),
                key=lambda path: path.stat().st_size)
    with serve(project.site) as url:
        address = url + small.relative_to(project.site).as_posix()
        request = urllib.request.Request(address, headers={"Accept-Encoding": "br, gzip"})
        with urllib.request.urlopen(request) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(response.read()) == small.read_bytes()


@pytest.mark.parametrize("edit", sorted(_EDITS))
def test_a_copy_edited_by_hand_is_made_again_even_when_its_size_or_time_is_kept(edit: str, tmp_path: Path) -> None:
    old, new, record = tmp_path / "old", tmp_path / "new", tmp_path / RECORD
    for folder in (old, new):
        (folder / "a").mkdir(parents=True)
        (folder / "a" / "index.html").write_text(_varied_text(12000), encoding="utf-8")
    precompress(old, None, record)
    for encoding in (".gz", ".br"):
        _EDITS[edit](old / "a" / f"index.html{encoding}")
    precompress(new, old, record)
    for encoding in (".gz", ".br"):
        copy = new / "a" / f"index.html{encoding}"
        assert unpack(encoding, copy.read_bytes()) == (new / "a" / "index.html").read_bytes()


def _copies_in(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.suffix in (".gz", ".br")}


@pytest.mark.parametrize("starts", [True, False])
def test_a_first_build_compressed_by_another_process_gets_the_same_copies_and_a_record_that_vouches(
        starts: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first build of a large site has its copies made by another process (see `ELSEWHERE_BYTES`; here any
    size is large), or here when that process cannot start: the copies are those made here, and its record
    lets the next build link them instead of compressing again."""
    texts = ["", "a", "回線が遅い拠点でも" * 300, _varied_text(12000, 1), _varied_text(30000, 2)]
    # The other process is handed the folder's path: an editor's folder has spaces, Japanese and, copied
    # from a Mac, decomposed kana.
    names = {"here": "here", "elsewhere": "便り 第1号 " + unicodedata.normalize("NFD", "ダウンロード"), "next": "next"}
    folders = {name: tmp_path / folder for name, folder in names.items()}
    for folder in folders.values():
        for number, text in enumerate(texts):
            for name in ("index.html", "feed.xml", "picture.png"):
                page = folder / str(number) / name
                page.parent.mkdir(parents=True, exist_ok=True)
                page.write_text(text, encoding="utf-8")
    precompress(folders["here"], None, tmp_path / "here.json", elsewhere=False)
    monkeypatch.setattr(compress, "ELSEWHERE_BYTES", 0)
    if not starts:
        monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    record = tmp_path / RECORD
    precompress(folders["elsewhere"], None, record)
    assert _copies_in(folders["elsewhere"]) == _copies_in(folders["here"])
    assert {".gz", ".br"} <= {Path(name).suffix for name in _copies_in(folders["here"])}
    inodes = {name: (folders["elsewhere"] / name).stat().st_ino for name in _copies_in(folders["elsewhere"])}
    precompress(folders["next"], folders["elsewhere"], record)
    assert {name: (folders["next"] / name).stat().st_ino for name in _copies_in(folders["next"])} == inodes


@pytest.mark.parametrize("killed", [False, True])
def test_copies_made_while_the_folder_is_written_stand_only_for_the_files_it_ends_with(
        killed: bool, tmp_path: Path) -> None:
    """A first build's copies are made by another process while the builder still writes (see
    `compress.Compressing`): a file read half-written, written again after it was offered, or removed, never
    keeps a copy of what it was; the finished folder gets exactly the copies `precompress` makes, and a record
    the next build can link them by. If that process dies, the build makes them all itself."""
    texts = {f"{number}/index.html": _varied_text(12000 + 1000 * number, number) for number in range(6)}
    folders = {name: tmp_path / name for name in ("here", "early", "next")}
    for name, text in texts.items():
        for folder in (folders["here"], folders["early"]):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
    started = compress.early(folders["early"], tmp_path / "no site yet", tmp_path / RECORD)
    assert started is not None
    if killed:
        started.process.kill()
    half = folders["early"] / "late" / "index.html"
    half.parent.mkdir()
    half.write_text(texts["5/index.html"][:3000], encoding="utf-8")
    started.offer("late/index.html")  # read half-written, then finished
    started.offer("0/index.html")
    (folders["early"] / "0" / "index.html").write_text("書き直し" + _varied_text(15000, 9), encoding="utf-8")
    started.offer("1/index.html")
    gone = folders["early"] / "1" / "index.html"
    gone.unlink()
    started.offer("does/not/exist.html")
    half.write_text(texts["5/index.html"], encoding="utf-8")
    started.offer("late/index.html")
    for folder in (folders["here"],):
        (folder / "late").mkdir()
        (folder / "late" / "index.html").write_text(texts["5/index.html"], encoding="utf-8")
        (folder / "0" / "index.html").write_text("書き直し" + _varied_text(15000, 9), encoding="utf-8")
        (folder / "1" / "index.html").unlink()
    started.finish()
    precompress(folders["here"], None, tmp_path / "here.json", elsewhere=False)
    assert _copies_in(folders["early"]) == _copies_in(folders["here"])
    assert not gone.with_name("index.html.gz").exists()
    for path in _text_files(folders["early"]):
        for suffix in (".gz", ".br"):
            copy = path.with_name(path.name + suffix)
            if copy.exists():
                assert unpack(suffix, copy.read_bytes()) == path.read_bytes()
    for name in texts:
        if name != "1/index.html":
            (folders["next"] / name).parent.mkdir(parents=True, exist_ok=True)
            (folders["next"] / name).write_bytes((folders["early"] / name).read_bytes())
    (folders["next"] / "late").mkdir()
    (folders["next"] / "late" / "index.html").write_text(texts["5/index.html"], encoding="utf-8")
    inodes = {name: (folders["early"] / name).stat().st_ino for name in _copies_in(folders["early"])}
    precompress(folders["next"], folders["early"], tmp_path / RECORD)
    assert {name: (folders["next"] / name).stat().st_ino for name in _copies_in(folders["next"])} == inodes


def test_a_rebuild_compresses_at_its_end_as_before(tmp_path: Path) -> None:
    """Where the site being replaced has a record of its copies, they are linked at the end (see `precompress`)."""
    (tmp_path / "site").mkdir()
    (tmp_path / RECORD).write_text("{}", encoding="utf-8")
    assert compress.early(tmp_path / "new", tmp_path / "site", tmp_path / RECORD) is None


def test_copies_made_for_a_build_that_ends_without_finishing_leave_no_record(tmp_path: Path) -> None:
    """A killed build never publishes its folder: the record of the published site's copies stays as it was."""
    folder = tmp_path / "folder"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "index.html").write_text(_varied_text(12000), encoding="utf-8")
    started = compress.early(folder, None, tmp_path / RECORD)
    assert started is not None
    started.offer("a/index.html")
    assert started.process.stdin is not None
    started.process.stdin.close()  # as when the builder's process dies
    assert started.process.wait() != 0
    assert not (tmp_path / RECORD).exists()


@pytest.mark.parametrize("copy", ["its own", "another file's", "cut short", "none"])
def test_a_gzip_copy_the_builder_made_stands_only_for_its_file(copy: str, tmp_path: Path) -> None:
    """The builder gzips each search shard anyway (the index lists its compressed size) and writes that copy
    itself, so that the other process makes only the Brotli one (see `Compressing.offer_gzipped`); a copy
    that does not unpack to its file (another file's, one cut short, none at all) is made again, and the
    folder ends with exactly the copies `precompress` makes, and a record that vouches for them."""
    name = "search/shard-2026.0123456789ab.json"
    data = _varied_text(40000, 3).encode()
    folders = {key: tmp_path / key for key in ("here", "early", "next")}
    for folder in (folders["here"], folders["early"]):
        (folder / name).parent.mkdir(parents=True)
        (folder / name).write_bytes(data)
    started = compress.early(folders["early"], None, tmp_path / RECORD)
    assert started is not None
    made = {"its own": gzip_copy(data), "another file's": gzip_copy(data[:-3] + b"..."),
            "cut short": gzip_copy(data)[:-5], "none": gzip_copy(data)}[copy]
    started.offer_gzipped(name, len(data), made)
    written = folders["early"] / (name + ".gz")
    if copy == "none":
        written.unlink()
    started.finish()
    precompress(folders["here"], None, tmp_path / "here.json", elsewhere=False)
    assert _copies_in(folders["early"]) == _copies_in(folders["here"])
    assert set(_copies_in(folders["early"])) == {name + ".gz", name + ".br"}
    (folders["next"] / name).parent.mkdir(parents=True)
    (folders["next"] / name).write_bytes(data)
    precompress(folders["next"], folders["early"], tmp_path / RECORD)
    assert (folders["next"] / (name + ".gz")).stat().st_ino == written.stat().st_ino


def test_a_gzip_copy_no_smaller_than_its_file_is_not_written(tmp_path: Path) -> None:
    """As everywhere else, a copy is written only where it is smaller than its file."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "tiny.json").write_bytes(b"[]")
    started = compress.early(tmp_path / "site", None, tmp_path / RECORD)
    assert started is not None
    started.offer_gzipped("tiny.json", 2, gzip_copy(b"[]"))
    started.finish()
    assert sorted(path.name for path in (tmp_path / "site").iterdir()) == ["tiny.json"]


@pytest.mark.parametrize("level", [6, 9])
def test_the_builders_gzip_copy_is_kept_where_it_unpacks_to_its_file(level: int, tmp_path: Path) -> None:
    """The process keeps the builder's copy as it is (it makes the same one: a search shard's, see
    `Compressing.offer_gzipped`), and checks only that it stands for the file: a copy whose trailer is
    another file's is made again."""
    data = _varied_text(40000, 5).encode()
    (tmp_path / "shard.json").write_bytes(data)
    theirs = gzip.compress(data, compresslevel=level, mtime=0)
    copy = tmp_path / "shard.json.gz"
    for offered, kept in ((theirs, True), (theirs[:-8] + gzip_copy(b"other")[-8:], False)):
        copy.write_bytes(offered)
        name, (_, stamps) = compress._copies(tmp_path, tmp_path / "shard.json", None, {}, True)
        assert name == "shard.json" and set(stamps) == {".gz", ".br"}
        assert copy.read_bytes() == (offered if kept else gzip_copy(data))
        assert stamps[".gz"] == compress._stamp(copy)
