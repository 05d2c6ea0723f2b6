"""The email cache never serves an old email: an edited issue gets a new email on the next build."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conftest import Project
from dayori.config import EmailSettings, Settings
from dayori.email import EmailReport, build_emails
from dayori.model import Body, Content, Issue


def subject_of(project: Project, vol: int) -> str:
    eml = (project.site / "email" / str(vol) / "message.eml").read_bytes()
    return str(message_from_bytes(eml, policy=policy.default)["Subject"])


def test_an_edited_issue_gets_a_new_email(project: Project) -> None:
    project.add_issue(1, "2026-11-20", "最初の題", "本文その一")
    project.build()
    assert "最初の題" in subject_of(project, 1)
    project.add_issue(1, "2026-11-20", "直した題", "本文その二")
    project.build()
    assert "直した題" in subject_of(project, 1)
    html = (project.site / "email" / "1" / "index.html").read_text(encoding="utf-8")
    assert "本文その二" in html and "本文その一" not in html


def _content(root: Path) -> tuple[Content, Settings]:
    settings = Settings(root=root, site_url="https://dx.example.go.jp/dayori/", email=EmailSettings(max_bytes=900))
    issues = tuple(Issue(vol=vol, date=dt.date(2026, 11, vol), title=f"第{vol}の題", summary="", tags=(), authors=(),
                         draft=False, videos=(), source=Path(f"newsletter/2026/{vol}.md"),
                         body=Body(html=f"<p>本文その{vol}</p>" * 40 * vol, text=f"本文その{vol}", toc=()))
                   for vol in (1, 2, 3))
    return Content(issues=issues, episodes=(), today=dt.date(2026, 11, 26)), settings


def _published(report: EmailReport) -> dict[str, bytes]:
    return {output.dest: output.data() for output in report.outputs}


DAMAGES = st.fixed_dictionaries({
    "files": st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["index.html", "message.txt", "message.eml"])),
                      max_size=4),
    "records": st.sampled_from(["kept", "removed", "garbage", "not a dict", "one dropped", "one mangled"]),
})


@given(damage=DAMAGES)
def test_an_email_the_cache_lost_part_of_is_made_again(damage: dict[str, Any]) -> None:
    """Whatever is missing from the email cache (one of an email's files, the records of what the editor is
    told), the next build publishes the same emails and tells the same things, and a build after it
    finds everything again."""
    with tempfile.TemporaryDirectory() as folder:
        content, settings = _content(Path(folder))
        first = build_emails(content, settings)
        cache = settings.cache_path / "email"
        entries = sorted({path.name.split(".")[0] for path in cache.glob("*.message.eml")})
        assert len(entries) == 3
        for number, name in damage["files"]:
            (cache / f"{entries[number]}.{name}").unlink(missing_ok=True)
        records = cache / "records.json"
        kept = json.loads(records.read_bytes())
        damaged = {"garbage": b"{\xff", "not a dict": b"[]",
                   "one dropped": json.dumps({k: v for k, v in kept.items() if k != entries[0]}).encode(),
                   "one mangled": json.dumps({**kept, entries[1]: {"subject": "?"}}).encode()}
        if damage["records"] == "removed":
            records.unlink()
        elif damage["records"] != "kept":
            records.write_bytes(damaged[damage["records"]])
        second = build_emails(content, settings)
        assert _published(second) == _published(first)
        assert second.warnings == first.warnings and first.warnings
        stamps = {path: path.stat().st_mtime_ns for path in cache.iterdir()}
        third = build_emails(content, settings)
        assert _published(third) == _published(first)
        assert {path: path.stat().st_mtime_ns for path in cache.iterdir()} == stamps  # nothing made again
