"""A fuzzer over what editors and list keepers hand the build: front matter of any YAML type and typing habit,
bodies (nesting, sizes, links, HTML), file and folder names (scripts, NFD, spaces, case), pictures, captions
and subscriber lists, run through the real entry points.

The promise under test: a build either succeeds or stops with the project's editor error, every problem
naming its file in Japanese; never another exception, and `site/` untouched when it stops. `make test` runs a
small, fixed set of examples (profile `default`); `make fuzz` searches far longer (profile `fuzz`). Every input
a search found that broke the promise is kept below as an `@example`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import struct
import tempfile
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import Project, copy_project
from dayori.build import prepare
from dayori.config import settings_from_file
from dayori.errors import ContentError
from testsupport.helpers import wait_for

JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")
LIMITS = {"picture_pixels": 40_000, "markdown_bytes": 6_000, "nesting": 12, "tags": 6, "tag_chars": 12,
          "caption_bytes": 2_000}
"""Low limits for the fuzzed project, so that inputs beyond them are cheap to make."""

# Characters editors' files are made of: Japanese, ASCII, full-width, NFD pieces, Word's controls, emoji.
EVERYDAY = st.sampled_from([*"あいうアイウ会議資料図（）「」：、。　ＡＢ１２ｱｲabcAZ09 -_.:#*[]()<>/\\\"'!&|>{}~`%@",
                            "\u3099", "\u309a", "\x0b", "\x00", "\u200b", "\ufeff", "\r", "\t", "🎉", "\u2028"])
TEXT = st.text(EVERYDAY, max_size=30)
NAME_CHARACTERS = st.sampled_from([*"図画面資料会議あア（）ＡＢ１abcAZ09 -_.", "\u3099", "ｶ", "é"])
FILE_STEM = st.text(NAME_CHARACTERS, min_size=1, max_size=12).filter(lambda s: s.strip(" .") and "/" not in s)


@contextmanager
def fuzz_project(shared: Path) -> Iterator[Project]:
    """A fresh project with low limits, sharing one engine cache (so that a clip is transcoded once)."""
    with tempfile.TemporaryDirectory(prefix="dayori-fuzz-") as folder:
        project = copy_project(Path(folder) / "project", with_content=False)
        for name, value in LIMITS.items():
            project.set_limit(name, value)
        config = project.root / "mkdocs.yml"
        config.write_text(config.read_text(encoding="utf-8").replace("cache_dir: .cache/dayori",
                                                                     f"cache_dir: {shared}"), encoding="utf-8")
        yield project


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-cache")


def assert_editor_error_or_success(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The invariant: success, or ContentError whose every problem names a file and speaks Japanese."""
    monkeypatch.setenv("DAYORI_TODAY", "2026-12-26")
    try:
        prepare(settings_from_file(project.root / "mkdocs.yml"))
    except ContentError as error:
        assert error.problems
        for problem in error.problems:
            assert str(problem.path) not in ("", "."), problem
            assert JAPANESE.search(problem.message), problem


# Strategies --------------------------------------------------------------------------------------------------

KEYS = st.sampled_from(["vol", "date", "title", "summary", "tags", "authors", "draft", "videos", "titel", "Title",
                        "ｔｉｔｌｅ", "date ", "日付", "clip", "captions", "poster_at", "newsletter"])
SCALARS = st.one_of(TEXT, st.integers(-10, 10**12), st.floats(allow_nan=True), st.booleans(), st.none(),
                    st.dates(), st.datetimes(), st.sampled_from(["令和8年12月4日", "２０２６-１２-０４", "2026-02-30",
                                                                "2026-12-04 09:00", "yes", "12:30", "027", "~"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=8)
RAW_VALUES = st.one_of(TEXT, st.sampled_from(["[a, b", "\"open", "*alias", "&anchor x", "!!binary zz", "|", ">",
                                              "[" * 30, "{a: 1}", "- x", "2026-12-04T10:00:00+09:00"]))


@st.composite
def front_matter(draw: st.DrawFn, vol: int) -> str:
    """Valid keys with any YAML values, or lines typed by hand (duplicates, full-width colons, tabs, junk)."""
    data: dict[str, object] = {"vol": vol, "date": "2026-12-04", "title": "題名", "summary": "要約です。",
                               "tags": ["テスト"]}
    for key, value in draw(st.dictionaries(KEYS, VALUES, max_size=4)).items():
        data[key] = value
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    extra = draw(st.lists(st.tuples(KEYS, st.sampled_from([": ", ":", "：", ":\t", " : "]), RAW_VALUES), max_size=3))
    lines = text.splitlines() + [f"{key}{colon}{value}" for key, colon, value in extra]
    return "\n".join(draw(st.permutations(lines)) if draw(st.booleans()) else lines)


LINK_TARGETS = st.one_of(
    st.sampled_from(["img/図.png", "img/" + unicodedata.normalize("NFD", "ダイアログ.png"), "img/outlook-rules.png",
                     "IMG/図.PNG", "img/missing.png", "../6/", "/newsletter/6/", "http://127.0.0.1:8000/dayori/newsletter/6/",
                     "../99/", "6.md", "https://example.go.jp/", "javascript:alert(1)", "data:image/png;base64,AA",
                     "file:///etc/passwd", "../../mkdocs.yml", ".hidden.png", "img/big.png", "img/bomb.png", "#見出し",
                     "<img/スクリーンショット 2026-12-06 101010.png>", "img/図.png#x", "%E5%9B%B3.png", "",
                     "x%00.png", "http://[::1/x", "x" * 300 + ".png", "%2e%2e/%2e%2e/mkdocs.yml", "../6/%00/"]),
    TEXT)
BLOCKS = st.one_of(
    TEXT.map(lambda t: t + "\n"),
    st.tuples(st.integers(0, 30), TEXT).map(lambda d: "".join("    " * i + "- " + d[1] + "\n" for i in range(d[0]))),
    st.tuples(st.integers(0, 30), TEXT).map(lambda d: "> " * d[0] + d[1] + "\n"),
    st.tuples(st.sampled_from(["", "!"]), TEXT, LINK_TARGETS).map(lambda d: f"{d[0]}[{d[1]}]({d[2]})\n"),
    st.tuples(st.integers(0, 40), st.sampled_from(["div", "span", "details", "p", "script", "iframe", "b"]))
    .map(lambda d: f"<{d[1]}>" * d[0] + "x" + f"</{d[1]}>" * d[0] + "\n"),
    st.integers(0, 80).map(lambda n: "[" * n + "x" + "]" * (n // 2) + "\n"),
    st.sampled_from(["| a | b |\n| --- | --- |\n| 1 | 2 |\n", "```\n[[[[[[[[[[[[[[[[\n```\n", "# 見出し\n",
                     "!!! note \"注意\"\n    中身\n", "<!-- dayori: 校正オフ -->\n", "++ctrl+c++\n", "\\[\n",
                     "<img src=\"img/図.png\">\n", "<a href=\"../6/\">六</a>\n", "[^1]\n\n[^1]: 注\n"]),
)


@st.composite
def body(draw: st.DrawFn) -> str:
    blocks = draw(st.lists(BLOCKS, max_size=8))
    text = "\n".join(blocks)
    if draw(st.integers(0, 9)) == 0:
        text *= draw(st.integers(10, 400))  # sizes around and beyond the limit
    return text


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims any size: the decoder would allocate it, the header reader only reads it."""
    data = bytearray(png(1, 1))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


PICTURES = st.one_of(st.tuples(st.integers(1, 300), st.integers(1, 300)).map(lambda s: png(*s)),
                     st.tuples(st.integers(1, 70_000), st.integers(1, 70_000)).map(lambda s: bomb(*s)),
                     st.binary(max_size=64), st.just(b"\x89PNG\r\n\x1a\n"))


def write_pictures(project: Project, names: list[str], pictures: list[bytes]) -> None:
    folder = project.root / "newsletter" / "2026" / "img"
    for name, data in zip(names, pictures, strict=False):
        with contextlib.suppress(OSError):  # a name this file system refuses is not an editor's file
            project.write(f"newsletter/2026/img/{name}", data)
    for fixed in ("図.png", unicodedata.normalize("NFD", "ダイアログ.png"), "Outlook-Rules.PNG"):
        (folder / fixed).parent.mkdir(parents=True, exist_ok=True)
        (folder / fixed).write_bytes(png(4, 3))


# The build ---------------------------------------------------------------------------------------------------

@given(front=front_matter(7), text=body(), names=st.lists(FILE_STEM.map(lambda s: s + ".png"), max_size=3),
       pictures=st.lists(PICTURES, max_size=3), draft=st.booleans())
@example(front="vol: 7\ndate: 2026-02-30\ntitle: t\nsummary: s\ntags: [a]", text="本文", names=[], pictures=[],
         draft=False)
@example(front="vol: 7\ndate: 2026-12-04T10:00:00\ntitle: t\nsummary: s\ntags: [a]", text="", names=[], pictures=[],
         draft=False)
@example(front="vol: 7\ndate: 2026-12-04\ntitle: t\nsummary: s\ntags: [a]\ndraft: true\ndraft: false", text="",
         names=[], pictures=[], draft=False)
@example(front="vol: 7\ndate: 2026-12-04\ntitle: t\nsummary: s\ntags: [a]", text="![図](img/図.png)\n\n![b](img/bomb.png)",
         names=["bomb.png"], pictures=[bomb(40_000, 40_000)], draft=False)
@example(front="vol: 7\ndate: 2026-12-04\ntitle: t\nsummary: s\ntags: [a]", text="".join(
    "    " * i + "- x\n" for i in range(600)), names=[], pictures=[], draft=False)
@example(front="vol: 7\ndate: 2026-12-04\ntitle: t\nsummary: s\ntags: [" + ", ".join(f"t{i}" for i in range(10_000)) + "]",
         text="", names=[], pictures=[], draft=False)
@example(front="vol: 7\ndate: 2026-12-04\ntitle: " + "[" * 999 + "]" * 999 + "\nsummary: s\ntags: [a]", text="",
         names=[], pictures=[], draft=False)
@example(front="vol: 7\ndate: 2026-12-04\ntitle: t\nsummary: s\ntags: [a]", text="[" * 6_000, names=[], pictures=[],
         draft=False)
@example(front="vol: 7\ndate: 2026-12-04\ntitle: t\nsummary: s\ntags: [a]", text="[六](../6/) [プレ](http://127.0.0.1:8000/dayori/newsletter/6/)",
         names=[], pictures=[], draft=False)
@example(front="vol: 7\ndate: 2026-12-04\ntitle: 題名\nsummary: 要約です。\ntags: [a]\nvol: \nvol: [", text="", names=[],
         pictures=[], draft=False)  # found by `make fuzz`: an empty value in broken YAML was an IndexError
@example(front="vol: 7\ndate: 2026-12-04\ntitle: t\nsummary: s\ntags: [a]",
         text="[a](x%00.png) [b](http://[::1/x) [c](" + "x" * 300 + ".png)", names=[], pictures=[], draft=False)
def test_any_issue_builds_or_gets_an_editor_error(shared_cache: Path, monkeypatch: pytest.MonkeyPatch, front: str,
                                                  text: str, names: list[str], pictures: list[bytes],
                                                  draft: bool) -> None:
    with fuzz_project(shared_cache) as project:
        project.add_issue(6, "2026-12-04", "第六号", draft=draft)
        write_pictures(project, names, pictures)
        project.write("newsletter/2026/7.md", f"---\n{front}\n---\n\n{text}\n")
        assert_editor_error_or_success(project, monkeypatch)


FOLDER_NAMES = st.one_of(
    st.tuples(st.dates(), st.text(NAME_CHARACTERS, min_size=1, max_size=10)).map(lambda d: f"{d[0]}-{d[1]}"),
    st.text(NAME_CHARACTERS, min_size=1, max_size=15),
    st.sampled_from(["2026-12-04-会議のコツ", unicodedata.normalize("NFD", "2026-12-04-会議のコツ"),
                     "2026-12-04 会議", "2026-12-04-ＴＥＡＭＳ", "2026-02-30-x", "2026-12-04-"]),
).filter(lambda name: name.strip(" .") and "/" not in name and not name.startswith("."))
CAPTIONS = st.one_of(
    TEXT.map(lambda t: ("WEBVTT\n\n00:00.000 --> 00:00.500\n" + t + "\n").encode("utf-8")),
    TEXT.map(lambda t: ("1\n00:00:00,000 --> 00:00:00,500\n" + t + "\n").encode("cp932", errors="replace")),
    st.binary(max_size=100), st.just(b"\xef\xbb\xbfWEBVTT\r\n\r\nNOTE memo\r\n"), st.just(b"WEBVTT\n" + b"x" * 5_000))


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from media_clips import clip

    return clip(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=0.6, size="64x36").read_bytes()


@given(folders=st.lists(FOLDER_NAMES, min_size=1, max_size=3, unique_by=lambda n: unicodedata.normalize("NFC", n)),
       clip_names=st.lists(st.sampled_from(["clip.mp4", "CLIP.MP4", unicodedata.normalize("NFD", "動画.mp4"), "動画.mp4",
                                            "clip .mp4", "../clip.mp4"]), min_size=1, max_size=3),
       captions=st.lists(CAPTIONS, min_size=1, max_size=3), front=st.dictionaries(KEYS, VALUES, max_size=2),
       real_clip=st.booleans())
@example(folders=["2026-12-04-会議のコツ", "2026-12-11-会議のコツ"], clip_names=["clip.mp4"],
         captions=[b"WEBVTT\n\n00:00.000 --> 00:00.500\nx\n"], front={}, real_clip=True)
def test_any_episode_folder_builds_or_gets_an_editor_error(shared_cache: Path, tiny_clip: bytes,
                                                           monkeypatch: pytest.MonkeyPatch, folders: list[str],
                                                           clip_names: list[str], captions: list[bytes],
                                                           front: dict[str, object], real_clip: bool) -> None:
    with fuzz_project(shared_cache) as project:
        for index, folder in enumerate(folders):
            typed = clip_names[index % len(clip_names)]
            saved = unicodedata.normalize("NFC", typed) if index % 2 else typed
            data = {"title": "会議のコツ", "date": folder[:10], "clip": typed, "summary": "要約です。",
                    "captions": "字幕.vtt", **front}
            try:
                project.write(f"videos/{folder}/{saved.removeprefix('../')}", tiny_clip if real_clip else b"not a clip")
                project.write(f"videos/{folder}/字幕.vtt", captions[index % len(captions)])
                project.write(f"videos/{folder}/index.md",
                              f"---\n{yaml.safe_dump(data, allow_unicode=True)}---\n\n説明です。\n")
            except OSError:
                continue
        project.add_issue(1, "2026-12-11", "号", videos=[unicodedata.normalize("NFC", folders[0])])
        assert_editor_error_or_success(project, monkeypatch)


# site/ stays as it was ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built_project(shared_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """One project with a published site, for the examples that each try one more issue on it."""
    project = copy_project(tmp_path_factory.mktemp("built") / "project", with_content=False)
    project.add_issue(1, "2026-11-20", "公開済みの号")
    project.build(today="2026-12-26")
    return project


@settings(max_examples=max(2, (settings.default.max_examples if settings.default else 12) // 6))  # a whole MkDocs build per example
@given(front=front_matter(2), text=body())
@example(front="vol: 2\ndate: 2026-13-45\ntitle: t\nsummary: s\ntags: [a]", text="")
def test_a_failed_mkdocs_build_leaves_site_untouched(built_project: Project, front: str, text: str) -> None:
    from mkdocs.exceptions import Abort

    project = built_project
    before = {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()}
    source = project.write("newsletter/2026/2.md", f"---\n{front}\n---\n\n{text}\n")
    try:
        project.build(today="2026-12-26")
    except Abort as stopped:
        assert str(stopped).startswith("ビルドを中止しました（"), stopped
        assert {p: p.read_bytes() for p in project.site.rglob("*") if p.is_file()} == before
    finally:
        source.unlink()
    # a good build's replaced tree is deleted by a process of its own (`dayori.sitedir.delete_later`)
    wait_for(lambda: not [p for p in project.root.iterdir() if p.name.startswith(".site")], "no folder beside site/")


# Subscriber lists --------------------------------------------------------------------------------------------

ADDRESSES = st.one_of(st.emails().map(str), TEXT, st.sampled_from(["ｙａｍａｄａ@example.go.jp", "a@b", "x@example.go.jp ",
                                                                   "山田@example.go.jp", "a@@example.go.jp", ""]))
ROWS = st.lists(st.tuples(ADDRESSES, TEXT), max_size=6)


def csv_bytes(rows: list[tuple[str, str]], header: bool, encoding: str, delimiter: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    if header:
        writer.writerow(["メールアドレス", "氏名"])
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def xlsx_bytes(rows: list[tuple[str, str]], header: bool, hidden_first: bool) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if header:
        sheet.append(["メールアドレス", "氏名"])
    for address, name in rows:
        sheet.append([re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", address), re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", name)])
    if hidden_first:
        sheet.sheet_state = "hidden"
        book.create_sheet("今年")
        book.active = 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


LISTS = st.one_of(
    st.tuples(ROWS, st.booleans(), st.sampled_from(["utf-8-sig", "utf-8", "cp932"]), st.sampled_from([",", ";", "\t"]))
    .map(lambda d: ("csv", csv_bytes(*d))),
    st.tuples(ROWS, st.booleans(), st.booleans()).map(lambda d: ("xlsx", xlsx_bytes(*d))),
    st.binary(max_size=200).map(lambda b: ("csv", b)),
    st.binary(max_size=200).map(lambda b: ("xlsx", b"PK\x03\x04" + b)),
)


@pytest.fixture(scope="module")
def send_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = copy_project(tmp_path_factory.mktemp("send") / "project", with_content=False)
    project.add_issue(1, "2026-11-20", "配信する号")
    return project


@given(subscribers=LISTS)
@example(subscribers=("csv", "メールアドレス,氏名\r\nyamada@example.go.jp,\"山田\n花子\"\r\n".encode("cp932")))
@example(subscribers=("csv", b"email;name\r\na@example.go.jp;A\r\n"))
def test_send_dry_run_reads_any_list_without_a_traceback(send_project: Project, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         subscribers: tuple[str, bytes]) -> None:
    from dayori.__main__ import main

    monkeypatch.setenv("DAYORI_TODAY", "2026-12-26")
    kind, data = subscribers
    with tempfile.TemporaryDirectory(prefix="dayori-list-") as folder:
        path = Path(folder) / f"購読者リスト.{kind}"
        path.write_bytes(data)
        code = main(["send", "--vol", "1", "--to", str(path), "--dry-run", "-f", str(send_project.root / "mkdocs.yml"),
                     "--ledger", str(Path(folder) / "ledger.sqlite3")])
    out, err = capsys.readouterr()
    assert code in (0, 2), (code, out, err)
    assert JAPANESE.search(out + err), (out, err)
    assert "Traceback" not in out + err
    if code == 2:
        assert err.strip(), out


def test_the_fuzz_projects_use_the_engine_they_test(shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzed projects build: the limits are low, not broken (so a green fuzzer is not a refusing one)."""
    with fuzz_project(shared_cache) as project:
        project.add_issue(1, "2026-12-04", "よい号", "本文です。\n\n![図](img/図.png)", tags=["会議"])
        write_pictures(project, [], [])
        monkeypatch.setenv("DAYORI_TODAY", "2026-12-26")
        build = prepare(settings_from_file(project.root / "mkdocs.yml"))
        assert [issue.vol for issue in build.content.issues] == [1]
