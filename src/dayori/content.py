"""Reads every issue and episode, validates them together, and renders each body once.

All problems are collected and raised at once before any stage writes, so an editor fixes everything in one
round and nothing half-built can be published.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from dayori.config import LimitSettings, Settings, never_published, today
from dayori.errors import Problem, Problems, line_containing
from dayori.frontmatter import INVALID, Document, parse_document
from dayori.gate import Gate, vet_sources
from dayori.limits import (
    Nesting,
    caption_too_big,
    markdown_too_big,
    nesting_too_deep,
    picture_too_big,
    tag_problems,
)
from dayori.memo import Memo, through
from dayori.model import Body, Content, Episode, Issue, is_published, newest_first
from dayori.pack import Pack
from dayori.paths import RealPaths, episode_index, find_entry, find_path, markdown_files, near_name, same_name
from dayori.render import Containment, Rendered, Renderer
from dayori.schema import EPISODE_KEYS, ISSUE_KEYS, Invalid, as_date, validate

BROKEN_LINK_MESSAGES = {
    "missing": "リンク先または画像「{url}」が見つかりません。ファイル名と置き場所を確かめてください"
               "（この Markdown ファイルのある場所からの相対パスで書きます）。",
    "private": "「{url}」は名簿や表のファイルなので公開できません（表計算、データベース、バックアップも同じです。"
               "購読者リストなどの流出を防ぐため）。リンクを外し、必要な内容は本文に書いてください。",
    "type": "「{url}」は {suffix} のファイルなので公開できません。公開できるのは mkdocs.yml の "
            "extra.dayori.attachments にある種類（{allowed}）だけです。PDF や画像にして置き直すか、"
            "この種類が必要なら管理者に attachments への追加を相談してください。",
    "absolute": "「{url}」は絶対パスや file: の書き方なので使えません（PC やサーバーの中のファイルは公開しません）。"
                "この Markdown ファイルのある場所からの相対パスで書いてください（例: img/図.png）。",
    "outside": "「{url}」は公開用のフォルダー（{roots}）の外を指しています（シンボリックリンクの先も含みます）。"
               "載せる画像や資料はこれらのフォルダーの中に置き、そこへの相対パスで書いてください。",
    "hidden": "「{url}」は「.」で始まる隠しフォルダーか隠しファイルなので公開できません（.git や .env などの"
              "流出を防ぐため）。img/ などのふつうのフォルダーに置き直してください。",
    "page": "リンク先「{url}」が見つかりません。号や動画へのリンクなら、号のファイル名（例: [第6号](6.md)）か、"
            "サイトでのアドレス（例: [第6号](../6/)）で書いてください。ファイルへのリンクなら、拡張子まで書いてください。",
    "url": "「{url}」は URL として読めません（[ ] や ( ) の閉じ忘れ、打ち間違いなど）。書き方を確かめてください。",
    "preview": "「{url}」はプレビュー（make serve）のアドレスなので、読者には開けません。号や動画へのリンクなら、"
               "そのページのアドレスか号のファイル名で書いてください（例: [第6号](../6/) や [第6号](6.md)）。"
               "この号や動画は見つかりませんでした。",
    "raw": "HTML の <{tag}> に書いた「{url}」はファイルとして公開されず、サイトでは表示されません。画像やファイルは "
           "Markdown の書き方（![説明](img/図.png) や [名前](資料.pdf)）で指定してください。",
    "script": "<script> は本文に使えません（読者のブラウザーでプログラムが動いてしまうため）。"
              "この行の <script> から </script> までを消してください。",
    "element": "<{url}> は本文に使えません（ほかのサイトの画面やプログラムを読み込むため）。"
               "このタグを消し、必要なら普通のリンク [説明](https://…) にしてください。",
    "event": "{url} 属性は本文に使えません（クリックや読み込みのときにプログラムが動くため）。この属性を消してください。",
    "widget": "{url} 属性は本文に使えません（サイトのテーマの部品を動かす印で、ほかのサイトからデータを読み込むものも"
              "あるため）。この属性を消してください。",
    "scheme": "「{url}」は使えない URL です（javascript: や data: はプログラムや偽の画面を開けるため）。"
              "https:// で始まる URL か、ファイルへの相対パスにしてください。",
    "remote": "「{url}」はほかのサイトから読み込む指定です。このサイトはほかのサイトから何も読み込みません。"
              "画像などはファイルを Markdown の隣に置いて相対パスで書いてください（ほかのサイトへのリンクはかまいません）。",
    "control": "Word から貼り付けた見えない制御文字（{url}）があります。その行を打ち直してください。",
}
UNPUBLISHED_LINK_MESSAGE = ("リンク先「{url}」は{why}で、まだサイトにありません（このまま公開するとリンクが切れます）。"
                            "リンク先を先に公開するか、公開されてからリンクを加えてください。")
DOCS_SITE_FILES = frozenset({"md", "css", "js", "ico", "svg", "woff", "woff2"})
"""What a hand-written docs/ page needs besides the attachments: its own pages, styles, scripts, icons, fonts."""
ISSUE_FILE = re.compile(r"^(\d+)(?:-[^/\\]+)?\.md$", re.IGNORECASE | re.ASCII)
EPISODE_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$", re.ASCII)
NOT_READ_AS_MARKDOWN = (".md.txt", ".markdown", ".mdown", ".mkd")
"""Names an editor means as an issue but the build would skip (Windows hides `.txt` after `12.md`)."""
_DRAFT_LINE = re.compile(r"^draft\s*[:：]\s*(?:true|yes|on)\s*$", re.MULTILINE | re.IGNORECASE)
_DATE_LINE = re.compile(r"^date\s*[:：]\s*[\"']?(\d{4}-\d{2}-\d{2})", re.MULTILINE)


@dataclass(frozen=True)
class _Read:
    """A read document: validated front matter (`values`), or None when it could not be used (reported)."""

    document: Document
    display: Path
    values: dict[str, Any] | None
    url: str
    page_key: Path
    """The file a link to this item resolves to (an episode is linked through its index.md)."""

    @property
    def fields(self) -> dict[str, Any]:
        """The validated values, for reads known to have them."""
        assert self.values is not None
        return self.values


Unrendered = tuple[Path, str, str]
"""A body for another process to render: its file, its page's address and its Markdown, as this one read it."""
Helper = Callable[[list[Unrendered], dict[Path, str]], Callable[[], dict[str, bytes]]]
"""Starts another process rendering the bodies given, with every item's address (see `prerender`); the
function it returns waits for that process, whatever became of it, and gives the render cache's records it
made (none when it failed)."""
RENDER_CACHE = "bodies.pack"
"""The render cache, in the engine's cache folder (see `dayori.pack`)."""
HELPED_FROM = 64
"""Bodies to render (not in the render cache) from which a helper is worth its start (a third of a second)."""
HELPER_PARTS = 3
"""The helper renders one body in three (given what this process read: it reads no content file)."""


def load_content(settings: Settings, *, preview: bool = False, memo: Memo | None = None,
                 gate: Gate | None = None, helper: Helper | None = None) -> Content:
    """The published content (with drafts and scheduled items too when `preview`), or ContentError.

    Drafts and scheduled items are checked too: under preview their problems are errors like any other; in a
    site build they are warnings naming the file, so that they never block the published issues and are still
    known before their publication day. With a `memo` (`make serve`), only changed files are parsed again
    and only changed bodies are looked up in the render cache. With a `helper`, a first build has another
    process render a share of the bodies meanwhile and hand back its records; this one then finds them in its
    render cache, and renders itself whatever that process did not make. The render cache is saved once,
    with what this build used, before its problems are raised: fixing them costs only the bodies edited."""
    problems = Problems()
    day = today()
    read = _read_content(settings, preview, memo, gate or Gate.of(settings, memo), problems, day)
    issues, episodes, unpublished = read.issues, read.episodes, read.unpublished
    cache = Pack.of(settings.cache_path / RENDER_CACHE, memo)
    links = read.links(settings, cache, memo, problems)
    bodies = _render_all(read.everything, links, helper)
    cache.save()
    built_issues = [_issue(item, bodies[item.display]) for item in issues]
    built_episodes = [_episode(item, bodies[item.display]) for item in episodes]
    _check_references(built_issues, built_episodes, issues, episodes, problems)
    warnings: list[str] = []
    if not preview:
        warnings = [f"下書き・公開日前のため今回は公開しませんが、公開前に直してください: {problem}"
                    for problem in problems.items if problem.path in unpublished]
        problems.items = [problem for problem in problems.items if problem.path not in unpublished]
    problems.raise_if_any()

    return Content(
        issues=tuple(newest_first(i for i in built_issues if preview or is_published(i, day))),
        episodes=tuple(newest_first(e for e in built_episodes if preview or is_published(e, day))),
        today=day,
        preview=preview,
        warnings=tuple(warnings),
    )


@dataclass
class _Reading:
    """Every content file read and validated, and what rendering their bodies needs to know of the others."""

    everything: list[_Read]
    issues: list[_Read]
    episodes: list[_Read]
    unpublished: set[Path]
    pages: dict[Path, str]
    hidden: dict[Path, str]
    roots: str

    def links(self, settings: Settings, cache: Pack, memo: Memo | None, problems: Problems) -> _Links:
        return _Links(_renderer(settings, cache, memo), self.pages, self.hidden, self.roots, problems, settings.limits,
                      _page_finder(settings, self.pages))


def _read_content(settings: Settings, preview: bool, memo: Memo | None, gate: Gate, problems: Problems,
                  day: dt.date) -> _Reading:
    paths = RealPaths(settings.root)
    limits = settings.limits
    vetted = functools.partial(vet_sources, gate, settings.root, problems)
    issue_reads = _read_all(vetted(_issue_files(settings, paths, problems)), ISSUE_KEYS, paths, problems, _issue_url,
                            memo, limits)
    episode_reads = _read_all(vetted(_episode_files(settings, paths, problems)), EPISODE_KEYS, paths, problems,
                              _episode_url, memo, limits)
    issues = [read for read in issue_reads if read.values is not None]
    episodes = [read for read in episode_reads if read.values is not None]
    unpublished = {read.display for read in [*issue_reads, *episode_reads] if not _will_publish(read, day)}
    _check_issue_names(issues, problems)
    _check_episode_names(episodes, problems)
    _check_unique_vols(sorted(issues, key=lambda read: read.display in unpublished), problems)
    _check_episode_files(episodes, problems, limits)
    pages = {read.page_key: read.url for read in [*issues, *episodes]}
    hidden = {} if preview else _not_yet_published([*issues, *episodes], day)
    return _Reading([*issue_reads, *episode_reads], issues, episodes, unpublished, pages, hidden,
                    _shown_roots(settings, paths))


def _render_all(reads: list[_Read], links: _Links, helper: Helper | None) -> dict[Path, Body]:
    """Every body; with a helper and enough bodies not in the render cache, one in `HELPER_PARTS` is left to
    the helper, whose records join the render cache once it is done."""
    if helper is None or sum(not links.renderer.cached(read.document.path, read.url, read.document.body)
                             for read in reads) < HELPED_FROM:
        return {read.display: _render(read, links) for read in reads}
    wait = helper([(read.document.path, read.url, read.document.body) for read in reads[HELPER_PARTS - 1::HELPER_PARTS]],
                  links.pages)
    found = [Problems() for _ in reads]  # reported in the order of the files, as without a helper
    bodies: dict[int, Body] = {}
    for later in (False, True):
        if later:
            made = wait()
            if links.renderer.cache is not None:
                links.renderer.cache.offer(made)
        for index, read in enumerate(reads):
            if (index % HELPER_PARTS == HELPER_PARTS - 1) == later:
                bodies[index] = _render(read, replace(links, problems=found[index]))
    for problems in found:
        links.problems.items += problems.items
    return {read.display: bodies[index] for index, read in enumerate(reads)}


def prerender(settings: Settings, bodies: list[Unrendered], pages: dict[Path, str]) -> dict[str, bytes]:
    """The render cache's records of `bodies`, for a build that renders the others meanwhile (see
    `load_content`) and saves them with its own; `pages` are every item's addresses by file, for the links.
    The build read and vetted the files: reading them all again here took a third of this process's time.
    What rendering finds wrong is the build's to report (the records hold it)."""
    cache = Pack.of(settings.cache_path / RENDER_CACHE, None)
    renderer = _renderer(settings, cache, None)
    page_for_url = _page_finder(settings, pages)
    for source, url, text in bodies:
        _rendered(renderer, source, url, text, pages, page_for_url)
    return cache.used()


def _renderer(settings: Settings, cache: Pack, memo: Memo | None) -> Renderer:
    return Renderer(settings.markdown_extensions, settings.markdown_configs, Containment.of(settings), cache, memo,
                    settings.limits.nesting)


def _rendered(renderer: Renderer, source: Path, url: str, text: str, pages: dict[Path, str],
              page_for_url: Callable[[str], Path | None]) -> Rendered:
    """A body with its links to other items resolved against their addresses (`pages`, by file): the same in
    this process and in a helper's, whose records this process takes for its own."""
    return renderer.render(text, source=source, page_url=url, link_for_file=lambda path: pages.get(path.resolve()),
                           page_for_url=page_for_url)


def _issue_url(path: Path) -> str:
    match = ISSUE_FILE.match(path.name)
    return f"newsletter/{int(match.group(1)) if match else 0}/"


def _episode_url(path: Path) -> str:
    return f"videos/{same_name(path.parent.name)}/"


def _will_publish(read: _Read, day: dt.date) -> bool:
    """Whether the item would be published today; from what could be read when the front matter is broken
    (a line `draft: true`, a `date:` in the future), and published when unsure, so its errors still block:
    a `draft` written twice or unreadable counts as not a draft."""
    data = read.values if read.values is not None else read.document.data
    draft = data.get("draft")
    if draft is INVALID:
        draft = False
    elif not isinstance(draft, bool):
        draft = bool(_DRAFT_LINE.search(read.document.header))
    date = _readable_date(read.document.texts.get("date", data.get("date")))
    if date is None:
        match = _DATE_LINE.search(read.document.header)
        date = _readable_date(match.group(1)) if match else None
    return not draft and not (date is not None and date > day)


def _readable_date(value: Any) -> dt.date | None:
    try:
        return as_date(value)
    except Invalid:
        return None


def left_out_of_docs(name: str, source: Path, settings: Settings) -> str | None:
    """Why a file in docs/ stays off the site (for the build log), or None to publish it. MkDocs publishes
    whatever lies in docs/, following symlinks, and its exclusion patterns match lower-case names only:
    `Subscribers.CSV` or a `.bak` of a list would go out. So only pages, site files and the listed attachment
    types are published; what is published then passes the gate (`dayori.gate`), which refuses a file that
    really lies outside the content folders."""
    suffix = Path(name).suffix.lower().lstrip(".")
    if never_published(suffix):
        return (f"{settings.docs_dir}/{name} は名簿や表、データベース、バックアップのファイルなので公開しません"
                "（購読者リストなどの流出を防ぐため）。docs/ の外に移してください。")
    if suffix not in DOCS_SITE_FILES and suffix not in settings.attachments:
        return (f"{settings.docs_dir}/{name} は {suffix or '拡張子のない'} のファイルなので公開しません。公開するなら "
                "mkdocs.yml の extra.dayori.attachments にこの種類を加えてください。")
    return None


def _issue_files(settings: Settings, paths: RealPaths, problems: Problems) -> list[Path]:
    root = settings.newsletter_path
    if not root.is_dir():
        return []
    for path in sorted(root.rglob("*")):
        if path.name.lower().endswith(NOT_READ_AS_MARKDOWN) and path.is_file():
            problems.add(paths.display(path), None, "このファイルは Markdown として読まれません。号のファイル名は"
                                                    f"「{_issue_name_for(path.name)}」のように .md で終わる名前にしてください"
                                                    "（エクスプローラーで拡張子を表示すると、.txt などが付いていないか確かめられます）。")
    files = markdown_files(root)
    for path in files:
        if not ISSUE_FILE.match(path.name):
            problems.add(paths.display(path), None,
                         "ファイル名は「号数.md」または「号数-名前.md」にしてください（例: 12.md、12-teams.md、12-会議のコツ.md）。"
                         f"{_issue_name_hint(path.name)}")
    return [path for path in files if ISSUE_FILE.match(path.name)]


def _issue_name_for(name: str) -> str:
    stem = name[:-len(next(s for s in NOT_READ_AS_MARKDOWN if name.lower().endswith(s)))]
    return f"{stem}.md"


def _issue_name_hint(name: str) -> str:
    """The name meant, when it is the same in half-width digits (`１２.md`) or with a hyphen (`12 会議.md`)."""
    suggestion = re.sub(r"^(\d+)[\s_　]+", r"\1-", unicodedata.normalize("NFKC", name))
    return f"「{suggestion}」ではありませんか？" if suggestion != name and ISSUE_FILE.match(suggestion) else ""


def _episode_files(settings: Settings, paths: RealPaths, problems: Problems) -> list[Path]:
    root = settings.videos_path
    if not root.is_dir():
        return []
    files = []
    slugs: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        index = episode_index(folder)
        wrong = folder_name_problem(folder.name)
        slug = same_name(folder.name)
        if wrong is not None:
            problems.add(paths.display(folder), None, wrong)
        elif slug in slugs:
            problems.add(paths.display(folder), None, f"{paths.display(slugs[slug])} と同じ名前のフォルダーです（Mac と Windows で"
                                                      "文字の表し方が違うだけです）。どちらか一方にまとめてください。")
        elif index is None:
            problems.add(paths.display(folder / "index.md"), None,
                         "このフォルダーに index.md がありません。説明とタイトルを書いた index.md を置いてください。")
        else:
            slugs[slug] = folder
            files.append(index)
    return files


def folder_name_problem(name: str) -> str | None:
    """Why a folder cannot be an episode's, with the name meant. The name after the date may be Japanese
    (`2026-12-04-会議のコツ`, the page's address keeps it), or lower-case letters and digits; spaces and
    symbols are not allowed in an address, and full-width letters would make two addresses of one name."""
    text = same_name(name)
    match = EPISODE_FOLDER.match(text)
    if match is not None and _slug_allowed(match.group(2)):
        if _real_day(match.group(1)):
            return None
        return (f"フォルダー名の日付「{match.group(1)}」はありません。公開日を YYYY-MM-DD で書いてください"
                "（例: 2026-12-04-会議のコツ）。")
    suggestion = _folder_suggestion(text)
    hint = f"「{suggestion}」ではありませんか？" if suggestion else ""
    return ("動画のフォルダー名は「公開日-名前」にしてください（例: 2026-12-04-会議のコツ、2026-10-02-teams-channel）。"
            f"名前には日本語、半角の英小文字と数字、ハイフン「-」が使えます。空白や記号、全角の英数字は使えません。{hint}")


def _real_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _slug_allowed(slug: str) -> bool:
    return slug[:1] != "-" and all(_slug_character(char) for char in slug)


def _slug_character(char: str) -> bool:
    if char.isascii():
        return char.islower() or char.isdigit() or char == "-"
    return unicodedata.category(char)[0] in "LNM" and unicodedata.normalize("NFKC", char) == char


def _folder_suggestion(name: str) -> str | None:
    text = unicodedata.normalize("NFKC", name).lower()
    match = re.match(r"^(\d{4})\D?(\d{2})\D?(\d{2})", text)
    if match is None:
        return None
    rest = "".join(char if _slug_character(char) else "-" for char in text[match.end():])
    rest = re.sub(r"-+", "-", rest).strip("-")
    suggestion = f"{match.group(1)}-{match.group(2)}-{match.group(3)}-{rest}"
    fits = rest and suggestion != name and _slug_allowed(rest) and _real_day(suggestion[:10])
    return suggestion if fits else None


def _read_all(files: list[Path], keys: Any, paths: RealPaths, problems: Problems,
              url: Callable[[Path], str], memo: Memo | None, limits: LimitSettings) -> list[_Read]:
    reads = [_read(path, keys, paths, problems, url, memo, limits) for path in files]
    return [read for read in reads if read is not None]


def _read(path: Path, keys: Any, paths: RealPaths, problems: Problems, url: Callable[[Path], str],
          memo: Memo | None, limits: LimitSettings) -> _Read | None:
    display = paths.display(path)
    too_big = markdown_too_big(path.stat().st_size, limits)
    if too_big is not None:
        problems.add(display, None, too_big)
        return None
    raw = path.read_bytes()
    document, values, found = through(memo, _parse, path, raw, display, keys)
    problems.items += found
    if document is None:
        return None
    values = dict(values) if values is not None else None  # the memo's copy stays as parsed
    too_many = tag_problems(values.get("tags") or (), limits) if values is not None else []
    for message in too_many:
        problems.add(display, document.line_of("tags"), message)
    if too_many:
        values = None
    page_key = paths.real(path.parent) / "index.md" if path.name == "index.md" else paths.real(path)
    return _Read(document, display, values, url(path), page_key)


def _parse(path: Path, raw: bytes, display: Path,
           keys: Any) -> tuple[Document | None, dict[str, Any] | None, tuple[Problem, ...]]:
    """A file's front matter, validated, and its problems: the same for the same bytes."""
    found = Problems()
    document = parse_document(path, raw, display, found)
    values = None if document is None or document.broken else validate(document, keys, display, found)
    return document, None if found else values, tuple(found.items)


def _check_issue_names(issues: list[_Read], problems: Problems) -> None:
    for read in issues:
        match = ISSUE_FILE.match(read.document.path.name)
        if match and int(match.group(1)) != read.fields["vol"]:
            problems.add(read.display, read.document.line_of("vol"),
                         f"ファイル名の号数（{int(match.group(1))}）と vol（{read.fields['vol']}）が違います。どちらかを直してください。")


def _check_episode_names(episodes: list[_Read], problems: Problems) -> None:
    for read in episodes:
        match = EPISODE_FOLDER.match(read.document.path.parent.name)
        if match and match.group(1) != read.fields["date"].isoformat():
            problems.add(read.display, read.document.line_of("date"),
                         f"フォルダー名の日付（{match.group(1)}）と date（{read.fields['date']}）が違います。どちらかを直してください。")


def _check_unique_vols(issues: list[_Read], problems: Problems) -> None:
    first: dict[int, _Read] = {}
    for read in issues:
        vol = read.fields["vol"]
        if vol in first:
            problems.add(read.display, read.document.line_of("vol"),
                         f"vol {vol} は {first[vol].display} でも使われています。号数は重複しないようにしてください。")
        else:
            first[vol] = read


@dataclass(frozen=True)
class _Links:
    """What rendering a body needs to resolve and check its links; `hidden` holds the items that will not be
    on the site this build (empty in preview, where drafts and scheduled items are shown)."""

    renderer: Renderer
    pages: dict[Path, str]
    hidden: dict[Path, str]
    roots: str
    problems: Problems
    limits: LimitSettings
    page_for_url: Callable[[str], Path | None]
    """An issue's or episode's file from its address (see `_page_finder`)."""


def _page_finder(settings: Settings, pages: dict[Path, str]) -> Callable[[str], Path | None]:
    """An issue's or episode's file from its address as an editor copies it: resolved against the linking
    page already (`newsletter/6`), from the site's root with or without the site's folder (`/newsletter/6/`,
    `/dayori/newsletter/6/`), or the preview's whole address (`http://127.0.0.1:8000/dayori/newsletter/6/`)."""
    files = {url: path for path, url in pages.items()}
    base = urlsplit(settings.site_url).path.strip("/")

    def page_for_url(address: str) -> Path | None:
        path = unquote(urlsplit(address).path) if "://" in address else address
        path = same_name(path).removesuffix("index.html").strip("/")
        if base and path.startswith(f"{base}/") and address.startswith(("/", "http")):
            found = files.get(f"{path[len(base) + 1:]}/")
            if found is not None:
                return found
        return files.get(f"{path}/")
    return page_for_url


def _not_yet_published(reads: list[_Read], day: dt.date) -> dict[Path, str]:
    hidden = {}
    for read in reads:
        date = read.fields["date"]
        if read.fields["draft"]:
            hidden[read.page_key] = "下書き（draft: true）"
        elif date > day:
            hidden[read.page_key] = f"{date.year}年{date.month}月{date.day}日に公開予定"
    return hidden


def _shown_roots(settings: Settings, paths: RealPaths) -> str:
    return "、".join(f"{paths.display(path)}/" for path in settings.content_paths)


def _render(read: _Read, links: _Links) -> Body:
    rendered = _rendered(links.renderer, read.document.path, read.url, read.document.body, links.pages,
                         links.page_for_url)
    for asset in rendered.body.assets:
        too_big = picture_too_big(asset.source.name, asset.size, links.limits)
        if too_big is not None:
            links.problems.add(read.display, _line_naming(read.document, asset.source.name), too_big)
    for line, url, why in rendered.broken_links:
        kind, _, tag = why.partition(":")
        if kind == "nesting":
            too_deep = nesting_too_deep(Nesting(int(tag), line), links.limits)
            links.problems.add(read.display, read.document.body_line + line - 1, str(too_deep))
            continue
        suffix = _suffix(url)
        message = BROKEN_LINK_MESSAGES[kind].format(url=url, tag=tag, suffix=suffix, roots=links.roots,
                                                    allowed=", ".join(links.renderer.containment.attachments))
        if kind == "missing":
            message += _did_you_mean_file(read.document.path.parent, url)
        links.problems.add(read.display, read.document.body_line + line - 1, message)
    if read.page_key not in links.hidden:
        for line, url, linked in rendered.page_links:
            why_hidden = links.hidden.get(Path(linked))
            if why_hidden is not None:
                links.problems.add(read.display, read.document.body_line + line - 1,
                                   UNPUBLISHED_LINK_MESSAGE.format(url=url, why=why_hidden))
    return rendered.body


def _suffix(url: str) -> str:
    try:
        return Path(unquote(urlsplit(url).path)).suffix.lower() or "拡張子なし"
    except ValueError:
        return "拡張子なし"


def _line_naming(document: Document, name: str) -> int | None:
    """The body's line naming a file, however the link spells it (as saved, as typed, percent-encoded)."""
    for spelling in dict.fromkeys((name, same_name(name), unicodedata.normalize("NFD", name), quote(name))):
        line = line_containing(document.body, spelling)
        if line is not None:
            return document.body_line + line - 1
    return None


def _did_you_mean_file(folder: Path, url: str) -> str:
    """A near name among the files where the link points (`smartphone-vidoe.png` → `smartphone-video.png`,
    `outlook-rules.png` → `Outlook-Rules.PNG`)."""
    path = unquote(urlsplit(url).path)
    directory, _, name = path.rpartition("/")
    where = find_path(folder, directory) if directory else folder
    found = _near_file(where, name) if where is not None else None
    if found is None:
        return ""
    guess, how = found
    return f"「{directory + '/' if directory else ''}{guess}」の書き間違いではありませんか？{f'（{how}）' if how else ''}"


def _near_file(folder: Path, name: str) -> tuple[str, str] | None:
    if not name or Path(name).stem.isdigit():
        return None  # `9.md` vs `1.md`: a number is not misspelt, it is another issue
    try:
        names = [p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    except OSError:
        return None
    return near_name(names, name)


def _check_episode_files(episodes: list[_Read], problems: Problems, limits: LimitSettings) -> None:
    """The clip and captions exist, checked with the front matter: a scheduled episode's misspelt clip is
    found today, not on its publication day. A name typed on Windows finds the file saved on a Mac; the
    episode then uses the name as saved."""
    for read in episodes:
        folder = read.document.path.parent
        for key in ("clip", "captions"):
            name = read.fields[key]
            if not name:
                continue
            found = find_entry(folder, name)
            if found is None or not found.is_file():
                near = _near_file(folder, name)
                hint = f"「{near[0]}」の書き間違いではありませんか？{f'（{near[1]}）' if near[1] else ''}" if near else \
                    "フォルダー内のファイル名（大文字・小文字や拡張子も）と同じか確かめてください。"
                problems.add(read.display, read.document.line_of(key),
                             f"{key} に書いたファイル「{name}」がこのフォルダーにありません。{hint}")
                continue
            read.fields[key] = found.name
            too_big = caption_too_big(name, found.stat().st_size, limits) if key == "captions" else None
            if too_big is not None:
                problems.add(read.display, read.document.line_of(key), too_big)


def _issue(read: _Read, body: Body) -> Issue:
    v = read.fields
    return Issue(vol=v["vol"], date=v["date"], title=v["title"], summary=v["summary"], tags=v["tags"],
                 authors=v["authors"], draft=v["draft"], videos=v["videos"], source=read.display, body=body)


def _episode(read: _Read, body: Body) -> Episode:
    v = read.fields
    folder = read.document.path.parent
    return Episode(slug=same_name(folder.name), date=v["date"], title=v["title"], summary=v["summary"], tags=v["tags"],
                   draft=v["draft"], clip=folder / v["clip"],
                   captions=folder / v["captions"] if v["captions"] else None,
                   poster_at=v["poster_at"], newsletter=v["newsletter"], source=read.display, body=body,
                   key_lines=tuple(read.document.key_lines.items()))


def _check_references(issues: list[Issue], episodes: list[Episode], issue_reads: list[_Read],
                      episode_reads: list[_Read], problems: Problems) -> None:
    slugs = {e.slug for e in episodes}
    vols = {i.vol for i in issues}
    for issue, read in zip(issues, issue_reads, strict=True):
        for slug in issue.videos:
            if slug not in slugs:
                near = near_name(sorted(slugs), slug)
                guess = [near[0]] if near else difflib.get_close_matches(slug, slugs, n=1, cutoff=0.6)
                hint = f"「{guess[0]}」の書き間違いではありませんか？" if guess else "videos/ にあるフォルダー名を書いてください。"
                problems.add(read.display, read.document.line_of("videos"),
                             f"videos の「{slug}」という動画のフォルダーが見つかりません。{hint}")
    for episode, read in zip(episodes, episode_reads, strict=True):
        if episode.newsletter is not None and episode.newsletter not in vols:
            problems.add(read.display, read.document.line_of("newsletter"),
                         f"newsletter の号数 {episode.newsletter} の号が見つかりません。存在する号数を書いてください。")
