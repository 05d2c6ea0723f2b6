"""The email cache never serves an old email: an edited issue gets a new email on the next build."""

from __future__ import annotations

from email import message_from_bytes, policy

from conftest import Project


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
