"""Reads every issue and episode, validates them together, and renders each body once.

All problems are collected and raised at once before any stage writes, so an editor fixes everything in one
round and nothing half-built can be published.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from dayori.config import Settings, today
from dayori.errors import Problems
from dayori.frontmatter import Document, read_document
from dayori.model import Body, Content, Episode, Issue, is_published, newest_first
from dayori.render import Renderer
from dayori.schema import EPISODE_KEYS, ISSUE_KEYS, validate
from dayori.store import BackgroundWrites

BROKEN_LINK_MESSAGES = {
    "missing": "リンク先または画像「{url}」が見つかりません。ファイル名と置き場所を確かめてください"
               "（この Markdown ファイルのある場所からの相対パスで書きます）。",
    "private": "「{url}」は名簿や表のファイルなので公開できません（購読者リストなどの流出を防ぐため）。"
               "リンクを外し、必要な内容は本文に書いてください。",
}
ISSUE_FILE = re.compile(r"^(\d+)(?:-[A-Za-z0-9][A-Za-z0-9_-]*)?\.md$")
EPISODE_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2})-([a-z0-9][a-z0-9-]*)$")
_DRAFT_LINE = re.compile(r"^draft\s*[:：]\s*(?:true|yes|on)\s*$", re.MULTILINE | re.IGNORECASE)
_DATE_LINE = re.compile(r"^date\s*[:：]\s*[\"']?(\d{4}-\d{2}-\d{2})", re.MULTILINE)


@dataclass(frozen=True)
class _Read:
    """A read document: validated front matter (`values`), or None when it could not be used (reported)."""

    document: Document
    display: Path
    values: dict[str, Any] | None
    url: str

    @property
    def fields(self) -> dict[str, Any]:
        """The validated values, for reads known to have them."""
        assert self.values is not None
        return self.values


def load_content(settings: Settings, *, preview: bool = False) -> Content:
    """The published content (with drafts and scheduled items too when `preview`), or ContentError.

    Drafts and scheduled items are checked too: under preview their problems are errors like any other; in a
    site build they are warnings naming the file, so that they never block the published issues and are still
    known before their publication day."""
    problems = Problems()
    day = today()
    issue_reads = _read_all(_issue_files(settings, problems), ISSUE_KEYS, settings, problems, _issue_url)
    episode_reads = _read_all(_episode_files(settings, problems), EPISODE_KEYS, settings, problems, _episode_url)
    issues = [read for read in issue_reads if read.values is not None]
    episodes = [read for read in episode_reads if read.values is not None]
    unpublished = {read.display for read in [*issue_reads, *episode_reads] if not _will_publish(read, day)}
    _check_issue_names(issues, problems)
    _check_episode_names(episodes, problems)
    _check_unique_vols(sorted(issues, key=lambda read: read.display in unpublished), problems)
    _check_episode_files(episodes, problems)

    pages = {read.document.path.resolve(): read.url for read in issues}
    pages |= {read.document.path.resolve(): read.url for read in episodes}
    with BackgroundWrites() as writes:
        renderer = Renderer(settings.markdown_extensions, settings.markdown_configs, settings.cache_path / "bodies",
                            writes)
        bodies = {read.display: _render(read, renderer, pages, problems) for read in [*issue_reads, *episode_reads]}
        built_issues = [_issue(read, bodies[read.display]) for read in issues]
        built_episodes = [_episode(read, bodies[read.display]) for read in episodes]
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


def _issue_url(path: Path) -> str:
    match = ISSUE_FILE.match(path.name)
    return f"newsletter/{int(match.group(1)) if match else 0}/"


def _episode_url(path: Path) -> str:
    return f"videos/{path.parent.name}/"


def _will_publish(read: _Read, day: dt.date) -> bool:
    """Whether the item would be published today; from what could be read when the front matter is broken
    (a line `draft: true`, a `date:` in the future), and published when unsure, so its errors still block."""
    data = read.values if read.values is not None else read.document.data
    draft = data.get("draft")
    date = data.get("date")
    if not isinstance(draft, bool):
        draft = bool(_DRAFT_LINE.search(read.document.header))
    if not isinstance(date, dt.date):
        match = _DATE_LINE.search(read.document.header)
        try:
            date = dt.date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            date = None
    return not draft and not (isinstance(date, dt.date) and date > day)


def _issue_files(settings: Settings, problems: Problems) -> list[Path]:
    root = settings.newsletter_path
    if not root.is_dir():
        return []
    files = sorted(root.rglob("*.md"))
    for path in files:
        if not ISSUE_FILE.match(path.name):
            problems.add(_display(path, settings), None,
                         "ファイル名は「号数.md」または「号数-英数字.md」にしてください（例: 12.md、12-teams.md）。")
    return [path for path in files if ISSUE_FILE.match(path.name)]


def _episode_files(settings: Settings, problems: Problems) -> list[Path]:
    root = settings.videos_path
    if not root.is_dir():
        return []
    files = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        index = folder / "index.md"
        if not EPISODE_FOLDER.match(folder.name):
            problems.add(_display(folder, settings), None, "動画のフォルダー名は「YYYY-MM-DD-英小文字の名前」にしてください"
                                                          "（例: 2026-10-02-teams-channel）。")
        elif not index.is_file():
            problems.add(_display(index, settings), None, "このフォルダーに index.md がありません。説明とタイトルを書いた index.md を置いてください。")
        else:
            files.append(index)
    return files


def _read_all(paths: list[Path], keys: Any, settings: Settings, problems: Problems,
              url: Callable[[Path], str]) -> list[_Read]:
    result = []
    for path in paths:
        display = _display(path, settings)
        document = read_document(path, display, problems)
        if document is None:
            continue
        values = None if document.broken else validate(document, keys, display, problems)
        result.append(_Read(document, display, values, url(path)))
    return result


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


def _render(read: _Read, renderer: Renderer, pages: dict[Path, str], problems: Problems) -> Body:
    rendered = renderer.render(read.document.body, source=read.document.path, page_url=read.url,
                               link_for_file=lambda path: pages.get(path.resolve()))
    for line, url, why in rendered.broken_links:
        message = BROKEN_LINK_MESSAGES[why].format(url=url)
        if why == "missing":
            message += _did_you_mean_file(read.document.path.parent, url)
        problems.add(read.display, read.document.body_line + line - 1, message)
    return rendered.body


def _did_you_mean_file(folder: Path, url: str) -> str:
    """A near name among the files where the link points (`smartphone-vidoe.png` → `smartphone-video.png`)."""
    path = unquote(urlsplit(url).path)
    directory, _, name = path.rpartition("/")
    guess = _near_file(folder / directory, name)
    return f"「{directory + '/' if directory else ''}{guess}」の書き間違いではありませんか？" if guess else ""


def _near_file(folder: Path, name: str) -> str | None:
    if not name or Path(name).stem.isdigit():
        return None  # `9.md` vs `1.md`: a number is not misspelt, it is another issue
    try:
        names = [p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    except OSError:
        return None
    folded = {n.lower(): n for n in names}
    if name.lower() in folded:
        return folded[name.lower()]
    guess = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.75)
    return folded[guess[0]] if guess else None


def _check_episode_files(episodes: list[_Read], problems: Problems) -> None:
    """The clip and captions exist, checked with the front matter: a scheduled episode's misspelt clip is
    found today, not on its publication day."""
    for read in episodes:
        folder = read.document.path.parent
        for key in ("clip", "captions"):
            name = read.fields[key]
            if name and not (folder / name).is_file():
                guess = _near_file(folder, name)
                hint = f"「{guess}」の書き間違いではありませんか？" if guess else \
                    "フォルダー内のファイル名（大文字・小文字や拡張子も）と同じか確かめてください。"
                problems.add(read.display, read.document.line_of(key),
                             f"{key} に書いたファイル「{name}」がこのフォルダーにありません。{hint}")


def _issue(read: _Read, body: Body) -> Issue:
    v = read.fields
    return Issue(vol=v["vol"], date=v["date"], title=v["title"], summary=v["summary"], tags=v["tags"],
                 authors=v["authors"], draft=v["draft"], videos=v["videos"], source=read.display, body=body)


def _episode(read: _Read, body: Body) -> Episode:
    v = read.fields
    folder = read.document.path.parent
    return Episode(slug=folder.name, date=v["date"], title=v["title"], summary=v["summary"], tags=v["tags"],
                   draft=v["draft"], clip=folder / v["clip"],
                   captions=folder / v["captions"] if v["captions"] else None,
                   poster_at=v["poster_at"], newsletter=v["newsletter"], source=read.display, body=body)


def _check_references(issues: list[Issue], episodes: list[Episode], issue_reads: list[_Read],
                      episode_reads: list[_Read], problems: Problems) -> None:
    slugs = {e.slug for e in episodes}
    vols = {i.vol for i in issues}
    for issue, read in zip(issues, issue_reads):
        for slug in issue.videos:
            if slug not in slugs:
                guess = difflib.get_close_matches(slug, slugs, n=1, cutoff=0.6)
                hint = f"「{guess[0]}」の書き間違いではありませんか？" if guess else "videos/ にあるフォルダー名を書いてください。"
                problems.add(read.display, read.document.line_of("videos"),
                             f"videos の「{slug}」という動画のフォルダーが見つかりません。{hint}")
    for episode, read in zip(episodes, episode_reads):
        if episode.newsletter is not None and episode.newsletter not in vols:
            problems.add(read.display, read.document.line_of("newsletter"),
                         f"newsletter の号数 {episode.newsletter} の号が見つかりません。存在する号数を書いてください。")


def _display(path: Path, settings: Settings) -> Path:
    try:
        return path.resolve().relative_to(settings.root.resolve())
    except ValueError:
        return path
