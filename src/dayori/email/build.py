"""The build's email stage: every published issue as hosted HTML, plain text and an .eml draft, plus a list
for editors, and the notices that tell an editor what will look different in a mail client."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from dayori import csp
from dayori.config import Settings
from dayori.email.render import EmailRenderer, RenderedEmail, hosted_dest
from dayori.email.report import EmailReport
from dayori.email.transform import Notice
from dayori.errors import Problem, line_containing
from dayori.formats import japanese_date
from dayori.memo import Memo, recall, remember
from dayori.model import Content, EpisodeMedia, Issue, Output
from dayori.store import BackgroundWrites, code_version, write_atomic

PREVIEW_DEST = "email/index.html"


def build_emails(content: Content, settings: Settings, media: Mapping[str, EpisodeMedia] | None = None,
                 memo: Memo | None = None, pictures: Mapping[Path, Path] | None = None) -> EmailReport:
    """Renders every issue in `content`; a strict build turns each warning into a problem for the editor.

    Each issue's email is cached under a key of everything it is made from (the issue, its videos, the
    settings and the email code itself), so a rebuild renders and inlines only the issues that changed; the
    cached files are what the site links to. A `memo` keeps each issue's record in memory between the
    rebuilds of a preview. `pictures` are the bodies' pictures as published (see `EmailRenderer.pictures`)."""
    renderer = EmailRenderer(settings, pictures or {})
    report = EmailReport()
    cache = settings.cache_path / "email"
    records = _Records(cache)
    keys = memo if memo is not None else Memo()  # each value's fingerprint made once: the settings are in every key
    with BackgroundWrites() as writes:
        emails = [_cached(issue, content, media, renderer, records, writes, memo, keys) for issue in content.issues]
    records.save()  # once the emails it lists are on disk
    for email in emails:
        report.outputs += email.outputs()
        for problem in _problems(email):
            if settings.strict:
                report.problems.append(problem)
            else:
                report.warnings.append(str(problem))
    report.outputs.append(Output(PREVIEW_DEST, preview_page(emails, settings).encode("utf-8")))
    return report


def eml_bytes(email: RenderedEmail, renderer: EmailRenderer) -> bytes:
    """`X-Unsent: 1` makes Outlook open the file as a draft that can be forwarded or sent."""
    return renderer.mime(email, {"X-Unsent": "1"})


@dataclass(frozen=True)
class _Built:
    """One issue's finished email in the cache: its three files and what the editor needs to know."""

    issue: Issue
    subject: str
    html_bytes: int
    notices: tuple[Notice, ...]
    entry: Path

    def outputs(self) -> list[Output]:
        vol = self.issue.vol
        return [Output(hosted_dest(vol), source=_file(self.entry, HOSTED)),
                Output(f"email/{vol}/{TEXT}", source=_file(self.entry, TEXT)),
                Output(f"email/{vol}/{EML}", source=_file(self.entry, EML))]


HOSTED, TEXT, EML = "index.html", "message.txt", "message.eml"
RECORDS = "records.json"
_RECORD_KEYS = {"subject", "html_bytes", "notices"}


def _file(entry: Path, name: str) -> Path:
    """One of the files of an issue's entry in the cache. The entries share one folder, their files named by
    the entry's key: a folder for each issue took longer to make than its files."""
    return entry.with_name(f"{entry.name}.{name}")


def _complete(entry: Path) -> bool:
    return all(_file(entry, name).is_file() for name in (HOSTED, TEXT, EML))


class _Records:
    """What the editor is told of each email in the cache (its subject, size and notices), for all of them in
    one file, written after their files are on disk: making a file for each took longer than writing an
    email's bytes. It lists the emails the last build used, so it stays the size of the archive; an email
    it does not list is made again."""

    def __init__(self, cache: Path) -> None:
        self.folder = cache
        self._path = cache / RECORDS
        try:
            self._stored_bytes = self._path.read_bytes()
            stored = json.loads(self._stored_bytes)
        except (OSError, ValueError):
            self._stored_bytes, stored = b"", None
        self._stored: dict[str, Any] = stored if isinstance(stored, dict) else {}
        self._used: dict[str, Any] = {}

    def stored(self, entry: Path) -> dict[str, Any] | None:
        """A finished email in the cache (its three files and its record), or None to make it."""
        record = self._stored.get(entry.name)
        if isinstance(record, dict) and record.keys() == _RECORD_KEYS and _complete(entry):
            return record
        return None

    def use(self, entry: Path, record: dict[str, Any]) -> None:
        self._used[entry.name] = record

    def save(self) -> None:
        """Only what changed: nothing when the build used the emails the file lists, or none and there is none."""
        data = json.dumps(self._used, ensure_ascii=False).encode("utf-8")
        if data != self._stored_bytes and (self._used or self._stored_bytes):
            write_atomic(self._path, data)


@dataclass(frozen=True)
class _EmailInputs:
    """Everything one issue's email is made from, and all the renderer is given: its cache key is all of it."""

    issue: Issue
    content: Content
    """The issue and its videos' episodes, nothing else of the build."""
    media: Mapping[str, EpisodeMedia]
    """Its videos' clips."""
    pictures: Mapping[Path, Path]
    """Its body's pictures as published."""
    settings: Settings
    code: str


def _inputs(issue: Issue, content: Content, media: Mapping[str, EpisodeMedia] | None,
            renderer: EmailRenderer) -> _EmailInputs:
    episodes = tuple(e for e in (content.episode(slug) for slug in issue.videos) if e is not None)
    clips = {slug: clip for slug, clip in (media or {}).items() if slug in issue.videos}
    pictures = {a.source: renderer.pictures[a.source] for a in issue.body.assets if a.source in renderer.pictures}
    return _EmailInputs(issue, replace(content, issues=(issue,), episodes=episodes, warnings=()), clips, pictures,
                        renderer.settings, _code_version())


def _cached(issue: Issue, content: Content, media: Mapping[str, EpisodeMedia] | None, renderer: EmailRenderer,
            records: _Records, writes: BackgroundWrites, memo: Memo | None, keys: Memo) -> _Built:
    inputs = _inputs(issue, content, media, renderer)
    entry = records.folder / keys.fingerprint(inputs)  # every field, the same in every process
    key = ("email", str(entry))
    record = recall(memo, lambda _: key, lambda: records.stored(entry))
    if record is None or (memo is not None and not _complete(entry)):  # a preview remembers; the cache may be gone
        only = EmailRenderer(inputs.settings, inputs.pictures, renderer.sizes, renderer.inlined)
        email = only.render(inputs.issue, inputs.content, inputs.media)
        made: dict[str, Any] = {"subject": email.subject, "html_bytes": len(email.html.encode("utf-8")),
                                "notices": email.notices}
        record = remember(memo, key, made)
        files = {HOSTED: email.hosted_html.encode("utf-8"), TEXT: email.text.encode("utf-8"),
                 EML: eml_bytes(email, only)}
        writes.folder(records.folder, {_file(entry, name).name: data for name, data in files.items()})
    records.use(entry, record)
    return _Built(issue, record["subject"], record["html_bytes"],
                  tuple((message, needle) for message, needle in record["notices"]), entry)


@lru_cache(maxsize=1)
def _code_version() -> str:
    """The email code and template, so that changing how emails are made invalidates every cached one."""
    package = Path(str(resources.files("dayori")))
    return code_version([*(package / "email").iterdir(), *(package / "templates" / "email").iterdir()],
                        ("css-inline", "lxml", "pillow"))


def _problems(email: _Built) -> list[Problem]:
    source = email.issue.source
    text = _source_text(source) if any(needle for _, needle in email.notices) else ""
    return [Problem(source, line_containing(text, needle) if needle else None, f"メール: {message}")
            for message, needle in email.notices]


def _source_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def preview_page(rendered: list[_Built], settings: Settings) -> str:
    """A plain page for editors to open each email before sending; kept out of navigation and search."""
    page = _preview_page(rendered, settings)
    return csp.with_policy(page, styles=csp.head_styles(page))


def _preview_page(rendered: list[_Built], settings: Settings) -> str:
    rows = []
    for email in rendered:
        vol = email.issue.vol
        size = email.html_bytes / 1000
        over = size * 1000 > settings.email.max_bytes
        notices = "".join(f"<li>{escape(message)}</li>" for message, _ in email.notices)
        rows.append(
            f'<tr><td>第{vol}号</td><td>{escape(japanese_date(email.issue.date))}</td>'
            f'<td>{escape(email.subject)}</td>'
            f'<td><a href="{vol}/index.html">HTML</a> ・ <a href="{vol}/message.txt">テキスト</a> ・ '
            f'<a href="{vol}/message.eml" download>.eml（Outlook で開く）</a></td>'
            f'<td{" class=over" if over else ""}>{size:.0f} KB</td>'
            f'<td>{"<ul>" + notices + "</ul>" if notices else "なし"}</td></tr>')
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>メール版の確認 | {escape(settings.site_name)}</title>
<style>
body {{ font-family: Meiryo, "Yu Gothic", "Hiragino Sans", sans-serif; margin: 16px; font-size: 15px; line-height: 1.6; }}
.wrap {{ overflow-x: auto; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 6px 8px; vertical-align: top; text-align: left; }}
.over {{ color: #b00020; font-weight: bold; }}
ul {{ margin: 0; padding-left: 1.2em; }}
</style>
</head>
<body>
<h1>メール版の確認</h1>
<p>各号のメール版です。.eml を Outlook で開くと下書きになり、自分宛てに送って見え方を確かめられます。
{settings.email.max_bytes / 1000:.0f} KB を超えると Gmail では途中で切れます。</p>
<div class="wrap"><table>
<thead><tr><th>号</th><th>日付</th><th>件名</th><th>ファイル</th><th>HTML の大きさ</th><th>確認すること</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table></div>
</body>
</html>
"""
