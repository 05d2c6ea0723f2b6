"""The one gate every published file passes, whatever folder it comes from (newsletter/, videos/, docs/, a
theme's override folder) and whichever stage or builder publishes it.

A file passes when it really lies where it may be published (its real path, every parent's symlink followed,
is inside the allowed folders and in no hidden folder), it is a plain file with exactly one name (a hard link
would publish a file kept elsewhere, such as a subscriber list or `.env`, under an innocent name), its bytes
are what its name says (a database renamed `.pdf` is not a PDF), text is UTF-8, and it is within the size
limit of its kind. A refusal is a Japanese message for the editor, collected with every other problem.

The gate is cheap on a rebuild: it costs a `stat` per file. Content is read only for files it has not
vouched for before; a vouch is kept under the file's real path and its (device, inode, size, mtime, ctime),
so that any change to the file, including a new link to it, makes it read again. What the gate vouched for
is what gets published: copies are made through `open_vetted`, which refuses a file that is no longer the
inode the gate looked at (a symlink swapped in during a build).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dayori.errors import Problem, Problems
from dayori.model import Episode
from dayori.store import write_atomic

if TYPE_CHECKING:
    from dayori.config import Settings
    from dayori.memo import Memo
    from dayori.model import Content, Issue

_HEAD = 64
_CHUNK = 1 << 20
_PNG = b"\x89PNG\r\n\x1a\n"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OFFICE_PARTS = {"docx": "word/document.xml", "pptx": "ppt/presentation.xml", "xlsx": "xl/workbook.xml"}
_DATABASE_SUFFIXES = (".sqlite", ".sqlite3", ".db", ".mdb", ".accdb", ".csv", ".tsv")
"""Members that make an archive or an Office file a carrier of lists: databases and tables (an Excel chart's
own workbook, `embeddings/*.xlsx`, is part of a presentation and stays)."""

DEFAULT_LIMITS: dict[str, int] = {
    "image": 20_000_000,
    "document": 50_000_000,
    "archive": 100_000_000,
    "audio": 200_000_000,
    "video": 2_000_000_000,
    "text": 5_000_000,
    "font": 5_000_000,
}
"""Bytes per kind of file; `extra.dayori.size_limits` in mkdocs.yml changes any of them (see docs/guide.md).
Clips of DX日記 have their own limit, `media.max_bytes`."""

KIND_NAMES = {"image": "画像", "document": "文書", "archive": "圧縮ファイル", "audio": "音声", "video": "動画",
              "text": "テキスト", "font": "フォント"}


class Refused(Exception):
    """Why a file may not be published, in Japanese, without the file's name (the caller says where)."""


@dataclass(frozen=True)
class FileType:
    kind: str
    label: str
    """What an editor calls it: 「PDF」「PNG 画像」「Word の文書」."""
    check: Callable[[IO[bytes], bytes], bool]
    """Whether the open file (and its first bytes) is of this type."""


def _starts(*prefixes: bytes) -> Callable[[IO[bytes], bytes], bool]:
    return lambda _file, head: head.startswith(prefixes)


def _riff(form: bytes) -> Callable[[IO[bytes], bytes], bool]:
    return lambda _file, head: head[:4] == b"RIFF" and head[8:12] == form


def _iso_media(_file: IO[bytes], head: bytes) -> bool:
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _mp3(_file: IO[bytes], head: bytes) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _transport_stream(_file: IO[bytes], head: bytes) -> bool:
    return head[:1] == b"\x47" or head[4:5] == b"\x47"


def _text(file: IO[bytes], head: bytes) -> bool:
    """UTF-8 (a BOM is fine) without NUL: databases, programs and UTF-16 files all have NULs."""
    file.seek(0)
    data = file.read()
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def _zip_members(file: IO[bytes]) -> list[str] | None:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _carries_private_files(names: Iterable[str]) -> bool:
    """A hidden member (`.git/config`, `.env`) or a database or table: an archive of a project or of a
    ledger rather than a document."""
    for name in names:
        parts = [part for part in name.replace("\\", "/").split("/") if part]
        hidden = [part for index, part in enumerate(parts) if part.startswith(".")
                  and not (part.endswith(".rels") and index and parts[index - 1] == "_rels")]  # Office's own
        if hidden or name.lower().endswith(_DATABASE_SUFFIXES):
            return True
    return False


def _zip(file: IO[bytes], head: bytes) -> bool:
    names = _zip_members(file) if head.startswith((b"PK\x03\x04", b"PK\x05\x06")) else None
    return names is not None and not _carries_private_files(names)


def _office(kind: str) -> Callable[[IO[bytes], bytes], bool]:
    def check(file: IO[bytes], head: bytes) -> bool:
        names = _zip_members(file) if head.startswith(b"PK\x03\x04") else None
        return (names is not None and "[Content_Types].xml" in names and _OFFICE_PARTS[kind] in names
                and not _carries_private_files(names))
    return check


_JPEG = _starts(b"\xff\xd8\xff")
_EBML = _starts(b"\x1a\x45\xdf\xa3")
_OGG = _starts(b"OggS")
TYPES: dict[str, FileType] = {
    "png": FileType("image", "PNG 画像", _starts(_PNG)),
    "jpg": FileType("image", "JPEG 画像", _JPEG),
    "jpeg": FileType("image", "JPEG 画像", _JPEG),
    "gif": FileType("image", "GIF 画像", _starts(b"GIF87a", b"GIF89a")),
    "webp": FileType("image", "WebP 画像", _riff(b"WEBP")),
    "ico": FileType("image", "アイコン", _starts(b"\x00\x00\x01\x00")),
    "pdf": FileType("document", "PDF", _starts(b"%PDF-")),
    "docx": FileType("document", "Word の文書", _office("docx")),
    "pptx": FileType("document", "PowerPoint のスライド", _office("pptx")),
    "xlsx": FileType("document", "Excel のブック", _office("xlsx")),
    "zip": FileType("archive", "ZIP", _zip),
    "mp3": FileType("audio", "MP3 音声", _mp3),
    "m4a": FileType("audio", "M4A 音声", _iso_media),
    "aac": FileType("audio", "AAC 音声", _starts(b"\xff\xf1", b"\xff\xf9")),
    "wav": FileType("audio", "WAV 音声", _riff(b"WAVE")),
    "flac": FileType("audio", "FLAC 音声", _starts(b"fLaC")),
    "oga": FileType("audio", "Ogg 音声", _OGG),
    "ogg": FileType("audio", "Ogg 音声", _OGG),
    "opus": FileType("audio", "Opus 音声", _OGG),
    "mp4": FileType("video", "MP4 動画", _iso_media),
    "m4v": FileType("video", "MP4 動画", _iso_media),
    "mov": FileType("video", "QuickTime 動画", _iso_media),
    "3gp": FileType("video", "3GP 動画", _iso_media),
    "webm": FileType("video", "WebM 動画", _EBML),
    "mkv": FileType("video", "Matroska 動画", _EBML),
    "ogv": FileType("video", "Ogg 動画", _OGG),
    "avi": FileType("video", "AVI 動画", _riff(b"AVI ")),
    "wmv": FileType("video", "WMV 動画", _starts(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11")),
    "asf": FileType("video", "ASF 動画", _starts(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11")),
    "3g2": FileType("video", "3G2 動画", _iso_media),
    "ts": FileType("video", "MPEG-TS 動画", _transport_stream),
    "mts": FileType("video", "AVCHD 動画", _transport_stream),
    "m2ts": FileType("video", "AVCHD 動画", _transport_stream),
    "md": FileType("text", "Markdown", _text),
    "css": FileType("text", "スタイルシート", _text),
    "js": FileType("text", "JavaScript", _text),
    "vtt": FileType("text", "字幕（WebVTT）", _text),
    "srt": FileType("text", "字幕（SRT）", _text),
    "txt": FileType("text", "テキスト", _text),
    "json": FileType("text", "JSON", _text),
    "xml": FileType("text", "XML", _text),
    "woff": FileType("font", "フォント", _starts(b"wOFF")),
    "woff2": FileType("font", "フォント", _starts(b"wOF2")),
    "ttf": FileType("font", "フォント", _starts(b"\x00\x01\x00\x00", b"true")),
    "otf": FileType("font", "フォント", _starts(b"OTTO")),
}
"""Every kind of file that may be published, and how its bytes begin. A kind missing here cannot be published
(an administrator who lists it in `attachments` is told so when mkdocs.yml is read)."""

REFUSED_EVERYWHERE = {"svg": "SVG は中にプログラム（スクリプト）を書けるため、開いた人のブラウザーで動いてしまいます。"
                             "PNG に書き出して置き直してください。",
                      "svgz": "SVG は中にプログラム（スクリプト）を書けるため、開いた人のブラウザーで動いてしまいます。"
                              "PNG に書き出して置き直してください。",
                      "html": "HTML ファイルはそのまま公開すると中のプログラムが動くため公開できません。"
                              "Markdown（.md）のページにしてください。",
                      "htm": "HTML ファイルはそのまま公開すると中のプログラムが動くため公開できません。"
                             "Markdown（.md）のページにしてください。"}
"""Kinds whose content can run script when opened from the site; never published, whatever the folder."""

_LOOKS_LIKE: tuple[tuple[Callable[[bytes], bool], str], ...] = (
    (lambda h: h.startswith(b"SQLite format 3\x00"), "データベース（SQLite）"),
    (lambda h: h[4:19] in (b"Standard Jet DB", b"Standard ACE DB"), "データベース（Access）"),
    (lambda h: h.startswith(_OLE), "古い形式の Office ファイル（.doc、.xls、.ppt など）"),
    (lambda h: h.startswith(b"%PDF-"), "PDF"),
    (lambda h: h.startswith(_PNG), "PNG 画像"),
    (lambda h: h.startswith(b"\xff\xd8\xff"), "JPEG 画像"),
    (lambda h: h.startswith((b"GIF87a", b"GIF89a")), "GIF 画像"),
    (lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP", "WebP 画像"),
    (lambda h: h.startswith((b"PK\x03\x04", b"PK\x05\x06")), "ZIP 形式のファイル"),
    (lambda h: h.startswith((b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07")), "圧縮ファイル"),
    (lambda h: h.startswith((b"\x7fELF", b"MZ")), "プログラム"),
    (lambda h: h[4:8] == b"ftyp", "動画や音声"),
    (lambda h: h.lstrip().startswith((b"<svg", b"<?xml")), "SVG や XML のテキスト"),
)


def looks_like(head: bytes) -> str | None:
    """What a file seems to be from its first bytes, for the editor's message."""
    return next((label for test, label in _LOOKS_LIKE if test(head)), None)


@dataclass(frozen=True)
class Stamp:
    """A file's identity and version as the file system keeps it: any change to its bytes, a new name for
    it (a hard link) or another file under its name changes the stamp."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> Stamp:
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)

    def same_file(self, status: os.stat_result) -> bool:
        return Stamp.of(status) == self and status.st_nlink == 1 and stat.S_ISREG(status.st_mode)


@dataclass(frozen=True)
class Vetted:
    """A file that passed: where it really is, what the gate saw, and its content's SHA-256."""

    path: Path
    real: Path
    stamp: Stamp
    suffix: str
    sha256: str


class Gate:
    """One build's gate. `roots` are the folders published files may really lie in (the content folders);
    `excluded` lies inside them and is never published (the engine's cache)."""

    def __init__(self, roots: Iterable[Path], excluded: Iterable[Path] = (), limits: Mapping[str, int] | None = None,
                 vouches: Path | None = None, memo: Memo | None = None) -> None:
        self.roots = tuple(Path(os.path.realpath(root)) for root in roots)
        self.excluded = tuple(Path(os.path.realpath(path)) for path in excluded)
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self._vouches_path = vouches
        self._memo = memo
        self._vouches = self._load()
        self._changed = False
        self._folders: dict[Path, Path] = {}
        self._lock = threading.Lock()
        self.seconds = 0.0
        """Time spent vetting in this build (for `make bench`)."""

    @classmethod
    def of(cls, settings: Settings, memo: Memo | None = None) -> Gate:
        return cls(settings.content_paths, (settings.cache_path,), settings.size_limits,
                   settings.cache_path / "gate.json", memo)

    def vet(self, path: Path, *, roots: Iterable[Path] | None = None, limit: int | None = None,
            digest: bool = True, typed: bool = True) -> Vetted:
        """The file as it may be published, or `Refused`. `roots` replaces the content folders (a theme's
        override folder); `limit` replaces its kind's size limit (a clip has `media.max_bytes`); without
        `digest` the content is checked but not hashed; without `typed` the content is left to the caller (a
        clip, which is never published as it is: ffmpeg's probe checks it and the media cache hashes it)."""
        started = time.perf_counter()
        try:
            return self._vet(path, roots, limit, digest, typed)
        finally:
            with self._lock:
                self.seconds += time.perf_counter() - started

    def _vet(self, path: Path, roots: Iterable[Path] | None, limit: int | None, digest: bool, typed: bool) -> Vetted:
        real = self.real(path)
        allowed = self.roots if roots is None else tuple(Path(os.path.realpath(root)) for root in roots)
        root = next((r for r in allowed if real.is_relative_to(r)), None)
        if root is None or any(real.is_relative_to(e) for e in self.excluded):
            raise Refused("公開用のフォルダー（newsletter/、videos/、docs/）の外にあるファイルです（シンボリック"
                          "リンクやショートカットの先も含みます）。ファイルそのものをフォルダーの中にコピーしてください。"
                          if roots is None else "テーマのフォルダーの外にあるファイルです（シンボリックリンクの先も"
                          "含みます）。ファイルそのものをフォルダーの中にコピーしてください。")
        if any(part.startswith(".") for part in real.relative_to(root).parts):
            raise Refused("「.」で始まる隠しフォルダーか隠しファイルの中にあるので公開できません（.git や .env などの"
                          "流出を防ぐため）。img/ などのふつうのフォルダーに置き直してください。")
        kind = path.suffix.lower().lstrip(".")
        if kind in REFUSED_EVERYWHERE:
            raise Refused(REFUSED_EVERYWHERE[kind])
        try:
            status = os.stat(real)
        except FileNotFoundError as error:
            raise Refused("ファイルが見つかりません。ファイル名と置き場所を確かめてください。") from error
        if not stat.S_ISREG(status.st_mode):
            raise Refused("ふつうのファイルではありません（フォルダーや名前付きパイプなど）。公開するファイルを置き直してください。")
        if status.st_nlink > 1:
            raise Refused(f"ハードリンクなので公開できません（同じ中身に名前が {status.st_nlink} つあり、ほかの名前は"
                          "名簿や設定ファイルかもしれません）。エクスプローラーなどでファイルをコピーし、コピーしたものを"
                          "置き直してください。")
        file_type = TYPES.get(kind)
        if not typed:
            return Vetted(path, real, Stamp.of(status), kind, "")
        if file_type is None:
            raise Refused(f"{kind or '拡張子のない'} の種類のファイルは中身を確かめる方法がないため公開できません。"
                          "PDF や PNG、MP4 などにして置き直してください。")
        limit = self.limits[file_type.kind] if limit is None else limit
        if status.st_size > limit:
            raise Refused(f"大きすぎます（{_size(status.st_size)}、{KIND_NAMES[file_type.kind]}の上限 {_size(limit)}）。"
                          "小さくして置き直すか、必要なら管理者に mkdocs.yml の extra.dayori.size_limits の"
                          f" {file_type.kind} を増やすよう相談してください。")
        stamp = Stamp.of(status)
        key = str(real)
        with self._lock:
            known = self._vouches.get(key)
        if known is not None and known[:6] == [*_stamp_list(stamp), kind] and (known[6] or not digest):
            return Vetted(path, real, stamp, kind, known[6])
        sha = self._inspect(real, stamp, file_type, digest)
        with self._lock:
            self._vouches[key] = [*_stamp_list(stamp), kind, sha]
            self._changed = True
        return Vetted(path, real, stamp, kind, sha)

    def real(self, path: Path) -> Path:
        """`os.path.realpath`, each folder resolved once per build (a build asks for hundreds of files in a
        few folders)."""
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = Path(os.path.realpath(path.parent))
            with self._lock:
                self._folders[path.parent] = folder
        real = folder / path.name
        return Path(os.path.realpath(real)) if os.path.islink(real) else real

    def _inspect(self, real: Path, stamp: Stamp, file_type: FileType, digest: bool) -> str:
        """The content's SHA-256 (empty without `digest`), after checking that the bytes are of `file_type`."""
        with open_vetted(real, stamp) as file:
            head = file.read(_HEAD)
            if not file_type.check(file, head):
                seems = looks_like(head)
                raise Refused(f"名前は{file_type.label}ですが、中身が{file_type.label}ではありません"
                              f"（{seems}のようです）。" if seems else
                              f"名前は{file_type.label}ですが、中身が{file_type.label}ではありません。"
                              + ("文字コードを UTF-8 にして保存し直してください。" if file_type.kind == "text" else
                                 "拡張子だけを変えたファイルは公開できません。元のアプリで正しい形式で保存し直してください。"))
            if not digest:
                return ""
            file.seek(0)
            hashed = hashlib.sha256()
            while chunk := file.read(_CHUNK):
                hashed.update(chunk)
            return hashed.hexdigest()

    def save(self) -> None:
        """The vouches, for the next build (kept in the preview's memo too)."""
        if self._memo is not None:
            self._memo.put(("gate vouches", str(self._vouches_path)), self._vouches)
        if self._changed and self._vouches_path is not None:
            write_atomic(self._vouches_path, json.dumps(self._vouches, sort_keys=True).encode())
            self._changed = False

    def _load(self) -> dict[str, list[Any]]:
        if self._vouches_path is None:
            return {}

        def read() -> dict[str, list[Any]]:
            try:
                data = json.loads(self._vouches_path.read_bytes())  # type: ignore[union-attr]
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}
        if self._memo is None:
            return read()
        return dict(self._memo.get(("gate vouches", str(self._vouches_path)), read))


def _stamp_list(stamp: Stamp) -> list[int]:
    return [stamp.device, stamp.inode, stamp.size, stamp.mtime_ns, stamp.ctime_ns]


class _Vetted:
    """A file opened for reading that is still the inode the gate vetted."""

    def __init__(self, path: Path, stamp: Stamp) -> None:
        self.file = path.open("rb")
        try:
            if not stamp.same_file(os.fstat(self.file.fileno())):
                raise Refused("ビルドの途中でファイルが入れ替わりました（別のファイルやシンボリックリンクになりました）。"
                              "置き直したファイルを確かめて、もう一度ビルドしてください。")
        except BaseException:
            self.file.close()
            raise

    def __enter__(self) -> IO[bytes]:
        return self.file

    def __exit__(self, *_: object) -> None:
        self.file.close()


def open_vetted(path: Path, stamp: Stamp) -> _Vetted:
    """`path` opened for reading, or `Refused` when it is no longer the file that was vetted: whatever
    symlink or rename happened since, the bytes read are those of the inode the gate looked at."""
    return _Vetted(path, stamp)


def read_vetted(vetted: Vetted) -> bytes:
    with open_vetted(vetted.path, vetted.stamp) as file:
        return file.read()


def copy_vetted(source: Path, stamp: Stamp, destination: Path) -> None:
    """A published copy of a vetted file (a page's picture in docs/, a stylesheet of a theme override)."""
    with open_vetted(source, stamp) as reader:
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.unlink(missing_ok=True)
        with destination.open("xb") as writer:
            while chunk := reader.read(_CHUNK):
                writer.write(chunk)


def _size(size: int) -> str:
    if size >= 100_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1000:.0f} KB" if size >= 10_000 else f"{size} バイト"


@dataclass(frozen=True)
class HandWritten:
    """A file a builder publishes from the project's own folders rather than from the engine: a page or file
    of docs/ or a theme override. `folder` is where it must really lie (None: the content folders)."""

    dest: str
    source: Path
    shown: Path
    folder: Path | None = None

    @property
    def page(self) -> bool:
        return self.source.suffix.lower() == ".md"


@dataclass
class Passage:
    """What the gate let through in one build, and every refusal as an editor's problem."""

    problems: list[Problem] = field(default_factory=list)
    assets: dict[Path, Vetted] = field(default_factory=dict)
    handwritten: dict[str, Vetted] = field(default_factory=dict)
    refused_episodes: set[str] = field(default_factory=set)


def vet_content(content: Content, settings: Settings, gate: Gate, passage: Passage | None = None) -> Passage:
    """Every file of the build's issues and episodes besides their Markdown (see `vet_sources`): an
    episode's clip and captions, and each file a body links (with the line that names it)."""
    passage = passage or Passage()
    for item in _items(content):
        if isinstance(item, Episode):
            for key, path, limit in (("clip", item.clip, settings.media.max_bytes), ("captions", item.captions, None)):
                if path is not None and path.exists() and not _passes(
                        gate, path, passage, item.source, item.line_of(key), f"{key}: {path.name} は",
                        limit=limit, digest=key != "clip", typed=key != "clip"):
                    passage.refused_episodes.add(item.slug)
        for asset in item.body.assets:
            if asset.source in passage.assets:
                continue
            try:
                passage.assets[asset.source] = gate.vet(asset.source)
            except Refused as refusal:
                passage.problems.append(Problem(item.source, body_line(item, settings, asset.line),
                                                f"「{_shown(asset.source, settings)}」は{refusal}"))
    return passage


def vet_sources(gate: Gate, root: Path, problems: Problems, files: list[Path]) -> list[Path]:
    """The issues' and episodes' Markdown files that may be read: an issue file, or a whole episode folder,
    that is a link to somewhere outside the content folders is refused before it is read."""
    passed = []
    for path in files:
        try:
            gate.vet(path, typed=False)  # its text is checked, line by line, when it is read
        except Refused as refusal:
            relative = os.path.relpath(path, root)
            problems.add(Path(relative) if not relative.startswith("..") else path, None, str(refusal))
        else:
            passed.append(path)
    return passed


def vet_handwritten(files: Iterable[HandWritten], gate: Gate, passage: Passage) -> Passage:
    for file in files:
        try:
            passage.handwritten[file.dest] = gate.vet(file.source, roots=None if file.folder is None else (file.folder,))
        except Refused as refusal:
            passage.problems.append(Problem(file.shown, None, str(refusal)))
    return passage


def _passes(gate: Gate, path: Path, passage: Passage, shown: Path, line: int | None, prefix: str,
            **options: Any) -> bool:
    try:
        gate.vet(path, **options)
    except Refused as refusal:
        passage.problems.append(Problem(shown, line, f"{prefix}{refusal}"))
        return False
    return True


def _shown(path: Path, settings: Settings) -> Path:
    """The path from the project's folder as the editor finds it (symlinks not followed)."""
    relative = os.path.relpath(path, settings.root)
    return Path(relative) if not relative.startswith("..") else path


def body_line(item: Issue | Episode, settings: Settings, line: int) -> int:
    """The body's line as a line of the file (the front matter comes first); read only for a refusal."""
    from dayori.frontmatter import parse_document

    path = settings.root / item.source
    try:
        document = parse_document(path, path.read_bytes(), item.source, Problems())
    except OSError:
        return line
    return line if document is None else document.body_line + line - 1


@dataclass(frozen=True)
class Publication:
    """How a builder publishes a hand-written file the gate passed: a page from `text` (the Markdown the gate
    read, never read again from disk), a picture from `copy` (the engine's copy without metadata), anything
    else with `copy_vetted(source, stamp, …)`, which refuses a file swapped since."""

    source: Path
    shown: Path
    stamp: Stamp
    text: str | None = None
    copy: Path | None = None


def _items(content: Content) -> list[Issue | Episode]:
    return [*content.issues, *content.episodes]
