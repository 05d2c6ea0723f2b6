"""The email cache never serves an old email: an edited issue gets a new email on the next build, and a damaged
cache (one pack, `dayori.filepack`) is made again, never published."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import time
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
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


PACK = "email/emails.pack"


def _damaged(data: bytes, damage: dict[str, Any]) -> bytes | None:
    """The pack's bytes as a damage leaves them (None: the file is gone)."""
    kind, at = damage["kind"], damage["at"] % max(1, len(data))
    if kind == "removed":
        return None
    if kind == "cut":
        return data[:at]
    if kind == "flipped":
        return data[:at] + bytes([data[at] ^ damage["bits"]]) + data[at + 1:]
    if kind == "garbage":
        return damage["garbage"]
    return _rewritten(data, kind)


def _rewritten(data: bytes, kind: str) -> bytes:
    """A pack with a good digest whose listing says something else: another writer's, or a hand-edited one."""
    header, rest = data.split(b"\n", 1)
    size = int(rest[-20:])
    listing = json.loads(rest[-21 - size:-21])
    records = rest[:-21 - size]
    if kind == "one dropped":
        first = sum(listing[0][2])
        listing, records = listing[1:], records[first:]
    elif kind == "one mangled":
        listing[1][1] = {"subject": "?"}
    elif kind == "lengths wrong":
        listing[0][2] = [listing[0][2][0] + 1, *listing[0][2][1:]]
    elif kind == "two files":
        listing[2][2] = [listing[2][2][0] + listing[2][2][1], listing[2][2][2]]
    encoded = json.dumps(listing).encode()
    rest = records + encoded + b"\n" + f"{len(encoded):020d}".encode()
    return header.split(b" ")[0] + b" " + hashlib.sha256(rest).hexdigest().encode() + b"\n" + rest


DAMAGES = st.fixed_dictionaries({
    "kind": st.sampled_from(["kept", "removed", "cut", "flipped", "garbage", "one dropped", "one mangled",
                             "lengths wrong", "two files"]),
    "at": st.integers(0, 1 << 20),
    "bits": st.integers(1, 255),
    "garbage": st.binary(max_size=120),
})


@given(damage=DAMAGES)
def test_an_email_the_cache_lost_part_of_is_made_again(damage: dict[str, Any]) -> None:
    """Whatever happened to the email cache's pack (removed, cut short, a byte changed, another writer's
    listing), the next build publishes the same emails and tells the same things, and a build after it
    finds everything again and writes nothing."""
    with tempfile.TemporaryDirectory() as folder:
        content, settings = _content(Path(folder))
        first = build_emails(content, settings)
        pack = settings.cache_path / PACK
        assert [path.name for path in pack.parent.iterdir()] == ["emails.pack"]  # one file for all the emails
        published = _published(first)
        damaged = _damaged(pack.read_bytes(), damage)
        if damaged is None:
            pack.unlink()
        else:
            pack.write_bytes(damaged)
        second = build_emails(content, settings)
        assert _published(second) == published
        assert second.warnings == first.warnings and first.warnings
        stamp = pack.stat()
        third = build_emails(content, settings)
        assert _published(third) == published
        assert (pack.stat().st_ino, pack.stat().st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)  # nothing written
        assert [path.name for path in pack.parent.iterdir()] == ["emails.pack"]


def test_an_output_of_a_pack_written_again_since_gives_its_own_bytes() -> None:
    """Another build at once may write the pack again between this build's making of the emails and its
    publishing them: each output still gives its own email's bytes (found again by its key, the digest
    checked), and stops the build when the new pack does not hold it, rather than publish another email."""
    with tempfile.TemporaryDirectory() as folder:
        content, settings = _content(Path(folder))
        first = build_emails(content, settings)
        published = _published(first)
        fewer = replace(content, issues=content.issues[1:])
        extra = replace(content.issues[0], vol=4, title="第4の題")
        build_emails(replace(content, issues=(extra, *content.issues)), settings)  # the same emails, other places
        assert _published(first) == published
        build_emails(fewer, settings)
        kept = {output.dest: output.data() for output in first.outputs if not output.dest.startswith("email/1/")}
        assert kept == {dest: data for dest, data in published.items() if dest in kept}
        with pytest.raises(RuntimeError, match="build again"):
            next(output for output in first.outputs if output.dest == "email/1/message.eml").data()


def test_a_killed_save_leaves_the_emails_whole_and_its_leftover_goes_later() -> None:
    """A build killed while writing the pack leaves a temporary file beside it: the next build publishes the
    same emails, and removes that file once it is old enough not to be another build's save under way."""
    with tempfile.TemporaryDirectory() as folder:
        content, settings = _content(Path(folder))
        published = _published(build_emails(content, settings))
        path = settings.cache_path / PACK
        dead = path.with_name(f".tmp-{'0' * 32}-{path.name}")
        dead.write_bytes(path.read_bytes()[:100])
        hours_ago = time.time() - 2 * 3600
        os.utime(dead, (hours_ago, hours_ago))
        running = path.with_name(f".tmp-{'1' * 32}-{path.name}")
        running.write_bytes(b"dayori-files/")
        edited = replace(content, issues=(replace(content.issues[0], title="直した題"), *content.issues[1:]))
        again = _published(build_emails(edited, settings))
        unedited = ("email/2/", "email/3/")
        assert {dest: data for dest, data in again.items() if dest.startswith(unedited)} == \
            {dest: data for dest, data in published.items() if dest.startswith(unedited)}
        assert not dead.exists() and running.exists()


def test_a_tampered_pack_never_reaches_the_site(project: Project) -> None:
    """A byte of the email cache changed after a build: the next build publishes the site a first build makes."""
    for vol in (1, 2, 3):
        project.add_issue(vol, f"2026-11-{vol:02d}", f"第{vol}の題", f"本文その{vol}")
    project.build()
    first = {path.relative_to(project.site): path.read_bytes() for path in project.site.rglob("*") if path.is_file()}
    pack = project.root / ".cache/dayori" / PACK
    data = pack.read_bytes()
    at = data.index("本文その2".encode())
    pack.write_bytes(data[:at] + b"TAMPERED-MARK" + data[at + len("本文その2".encode()):])
    project.build()
    again = {path.relative_to(project.site): path.read_bytes() for path in project.site.rglob("*") if path.is_file()}
    assert again == first
    assert b"TAMPERED-MARK" not in b"".join(again.values())


def test_an_edit_publishes_the_other_emails_as_the_last_build_did(project: Project) -> None:
    """The pack is written again when one issue changes; the other emails' published copies are the last
    site's (reused, not written again), and a copy edited in site/ (its size kept) is written again from the cache."""
    for vol in (1, 2, 3):
        project.add_issue(vol, f"2026-11-{vol:02d}", f"第{vol}の題", f"本文その{vol}")
    project.build()
    untouched, edited = project.site / "email/2/message.eml", project.site / "email/3/message.txt"
    inode, expected = untouched.stat().st_ino, edited.read_bytes()
    edited.write_bytes(expected.replace("本文その3".encode(), b"EDITED-XXXXXX"))
    project.add_issue(1, "2026-11-01", "第1の直した題", "本文その1")
    project.build()
    assert untouched.stat().st_ino == inode
    assert edited.read_bytes() == expected
    assert "第1の直した題" in subject_of(project, 1)


def test_no_issues_make_no_pack() -> None:
    """A project without issues has nothing to cache; one whose issues are all gone publishes no email of them."""
    with tempfile.TemporaryDirectory() as folder:
        content, settings = _content(Path(folder))
        none = replace(content, issues=())
        assert [output.dest for output in build_emails(none, settings).outputs] == ["email/index.html"]
        assert not (settings.cache_path / PACK).exists()
        build_emails(content, settings)
        assert [output.dest for output in build_emails(none, settings).outputs] == ["email/index.html"]
