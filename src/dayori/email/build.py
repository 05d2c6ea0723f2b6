"""The build's email stage: every published issue as hosted HTML, plain text and an .eml draft, plus a list
for editors, and the notices that tell an editor what will look different in a mail client."""

from __future__ import annotations

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
from dayori.filepack import PackWriter, StoredPack
from dayori.formats import japanese_date
from dayori.memo import Memo
from dayori.model import Content, EpisodeMedia, Issue, Output
from dayori.store import code_version

PREVIEW_DEST = "email/index.html"


def build_emails(content: Content, settings: Settings, media: Mapping[str, EpisodeMedia] | None = None,
                 memo: Memo | None = None, pictures: Mapping[Path, Path] | None = None) -> EmailReport:
    """Renders every issue in `content`; a strict build turns each warning into a problem for the editor.

    Each issue's email is cached under a key of everything it is made from (the issue, its videos, the
    settings and the email code itself), so a rebuild renders and inlines only the issues that changed. The
    cache is one pack (`dayori.filepack`), which the site's outputs are published from. A `memo` keeps each
    issue's key between the rebuilds of a preview. `pictures` are the bodies' pictures as published (see
    `EmailRenderer.pictures`)."""
    renderer = EmailRenderer(settings, pictures or {})
    report = EmailReport()
    keys = memo if memo is not None else Memo()  # each value's fingerprint made once: the settings are in every key
    wanted = [(issue, _inputs(issue, content, media, renderer)) for issue in content.issues]
    entries = [keys.fingerprint(inputs) for _, inputs in wanted]
    path = settings.cache_path / "email" / PACK
    emails: list[_Built] = []
    pack = StoredPack.read(path)
    if pack is not None or entries:  # no pack is made for no emails
        if pack is None or not _all_of(pack, entries):
            pack = _written(path, pack, wanted, entries, renderer)
        pack.close()  # the outputs name where their bytes lie; the site reads them
        emails = [_built(issue, pack, entry) for (issue, _), entry in zip(wanted, entries, strict=True)]
    for email in emails:
        report.outputs += email.outputs
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
    outputs: list[Output]


PACK = "emails.pack"
_FILES = ("index.html", "message.txt", "message.eml")
"""The record's files in the pack, in this order."""


def _dests(vol: int) -> list[str]:
    return [hosted_dest(vol), *(f"email/{vol}/{name}" for name in _FILES[1:])]


def _all_of(stored: StoredPack, entries: list[str]) -> bool:
    """The pack holds exactly the emails this build needs, each whole: it stays as it is."""
    return stored.records.keys() == set(entries) and all(_usable(stored, entry) for entry in entries)


def _usable(stored: StoredPack, entry: str) -> bool:
    record = stored.records.get(entry)
    return record is not None and len(record.lengths) == len(_FILES) and _record(record.meta) is not None


def _record(meta: dict[str, Any]) -> tuple[str, int, tuple[Notice, ...]] | None:
    """What the editor is told of an email (its subject, size and notices), or None from a pack that says
    something else."""
    subject, size, notices = meta.get("subject"), meta.get("html_bytes"), meta.get("notices")
    if not (meta.keys() == _RECORD_KEYS and isinstance(subject, str) and type(size) is int
            and isinstance(notices, list)):
        return None
    if not all(isinstance(notice, list) and len(notice) == 2 and isinstance(notice[0], str)
               and (notice[1] is None or isinstance(notice[1], str)) for notice in notices):
        return None
    return subject, size, tuple((message, needle) for message, needle in notices)


_RECORD_KEYS = {"subject", "html_bytes", "notices"}


def _written(path: Path, stored: StoredPack | None, wanted: list[tuple[Issue, _EmailInputs]], entries: list[str],
             renderer: EmailRenderer) -> StoredPack:
    """A new pack of the emails this build needs: those of the last pack (`stored`, closed here) copied, the
    others made now, one at a time: the pack is written as they are made, so that they are never all in
    memory."""
    writer = PackWriter(path)
    try:
        for (_, inputs), entry in zip(wanted, entries, strict=True):
            if entry in writer:
                continue
            if stored is not None and _usable(stored, entry):
                writer.copy(stored, entry)
                continue
            only = EmailRenderer(inputs.settings, inputs.pictures, renderer.sizes, renderer.inlined,
                                 renderer.fitted)
            email = only.render(inputs.issue, inputs.content, inputs.media)
            meta = {"subject": email.subject, "html_bytes": len(email.html.encode("utf-8")),
                    "notices": [list(notice) for notice in email.notices]}
            writer.add(entry, meta, [email.hosted_html.encode("utf-8"), email.text.encode("utf-8"),
                                     eml_bytes(email, only)])
    except BaseException:
        writer.abandon()
        raise
    finally:
        if stored is not None:
            stored.close()  # before the new pack takes its name (Windows)
    return writer.finish()


def _built(issue: Issue, pack: StoredPack, entry: str) -> _Built:
    record = _record(pack.records[entry].meta)
    assert record is not None
    subject, size, notices = record
    outputs = [Output(dest, source=pack.path, part=part) for dest, part in zip(_dests(issue.vol), pack.parts(entry), strict=True)]
    return _Built(issue, subject, size, notices, outputs)


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
