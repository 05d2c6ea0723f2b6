"""Unsubscribes and bounces: `python -m dayori suppress` and `bounces` as an operator runs them, and a real SMTP
server that shows who actually got the issue. Addresses never appear in output unless asked for."""

from __future__ import annotations

import argparse
import datetime as dt
import mailbox
import os
import sqlite3
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import Project
from dayori.config import EmailSettings, Settings
from dayori.delivery import cli
from dayori.email.render import render_message
from dayori.model import Body, Content, Issue
from testsupport.helpers import dsn, run_send, send_env, send_list, staff_addresses, start_send, wait_for
from testsupport.smtp_server import Plan, SmtpServer
from testsupport.webhook_server import Webhook

SITE = "https://dx.example.go.jp/dayori/"
ADDRESSES = [f"staff{n:02d}@example.go.jp" for n in range(1, 7)]


def _settings(tmp_path: Path, reply_to: str = "", unsubscribe_mailbox: str = "") -> Settings:
    return Settings(root=tmp_path, site_url=SITE, email=EmailSettings(
        unsubscribe_url="https://dx.example.go.jp/dayori/subscribe/#unsubscribe", reply_to=reply_to,
        unsubscribe_mailbox=unsubscribe_mailbox))


def _send(tmp_path: Path, monkeypatch, env: dict[str, str], settings: Settings | None = None) -> int:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAYORI_SMTP_USER", raising=False)
    csv_path = tmp_path / "subscribers.csv"
    csv_path.write_text("address,name\n" + "".join(f"{a},職員\n" for a in ADDRESSES), encoding="utf-8")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--vol", "7", "--ledger", str(tmp_path / "ledger.sqlite3"), "--rate", "0",
                              "--backoff", "0", "--to", str(csv_path)])
    settings = settings or _settings(tmp_path)
    body = Body(html="<p>本文です。</p>", text="本文です。", toc=())
    issue = Issue(vol=7, date=dt.date(2026, 11, 26), title="配信停止の号", summary="", tags=(), authors=(),
                  draft=False, videos=(), source=Path("newsletter/2026/7.md"), body=body)
    message = render_message(issue, Content(issues=(issue,), episodes=(), today=dt.date(2026, 11, 26)), settings)
    return cli.execute(args, message, 7, settings)


def _dayori(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dayori", *arguments, "--ledger", str(tmp_path / "ledger.sqlite3")],
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ}, timeout=60)


def test_suppressed_readers_are_skipped_and_only_counted(tmp_path, monkeypatch, capsys):
    added = _dayori(tmp_path, "suppress", "add", "STAFF02@example.go.jp", ADDRESSES[4])
    assert added.returncode == 0, added.stderr
    assert "2 件を追加" in added.stdout
    with SmtpServer() as server:
        assert _send(tmp_path, monkeypatch, server.env()) == 0
    assert server.recorder.count_by_recipient() == {a: 1 for a in ADDRESSES if a not in (ADDRESSES[1], ADDRESSES[4])}
    output = capsys.readouterr()
    assert "配信停止中の宛先 2 件を除きました" in output.out
    for result in (added, output):
        assert not any(a.lower() in (result.out if hasattr(result, "out") else result.stdout).lower()
                       for a in ADDRESSES)

    listed = _dayori(tmp_path, "suppress", "list")
    assert "配信停止 2 件" in listed.stdout and "s***@example.go.jp" in listed.stdout
    assert "staff02" not in listed.stdout.lower()
    shown = _dayori(tmp_path, "suppress", "list", "--show-addresses")
    assert "STAFF02@example.go.jp" in shown.stdout and ADDRESSES[4] in shown.stdout
    removed = _dayori(tmp_path, "suppress", "remove", "staff02@EXAMPLE.go.jp")
    assert "1 件取り消しました" in removed.stdout
    assert "配信停止 1 件" in _dayori(tmp_path, "suppress", "list").stdout


def test_an_unsubscribe_during_a_send_is_honoured_by_the_rerun(tmp_path, monkeypatch, capsys):
    with SmtpServer(Plan(down_after=2)) as server:
        assert _send(tmp_path, monkeypatch, server.env()) == 1
    assert _dayori(tmp_path, "suppress", "add", ADDRESSES[3]).returncode == 0
    with SmtpServer() as rerun:
        assert _send(tmp_path, monkeypatch, rerun.env()) == 0
    assert set(rerun.recorder.count_by_recipient()) == {ADDRESSES[2], ADDRESSES[4], ADDRESSES[5]}
    assert "配信停止中の宛先 1 件には送っていません" in capsys.readouterr().out


def test_a_bad_address_changes_nothing(tmp_path):
    result = _dayori(tmp_path, "suppress", "add", ADDRESSES[0], "ｓｔａｆｆ@example.go.jp")
    assert result.returncode == 2 and "2 番目の宛先" in result.stderr and "全角" in result.stderr
    assert "ありません" in _dayori(tmp_path, "suppress", "list").stdout


def test_bounces_suppress_permanent_failures_only(tmp_path, monkeypatch, capsys):
    box_path = tmp_path / "Bounces.mbox"
    box = mailbox.mbox(box_path)
    box.add(dsn(ADDRESSES[0], "failed", "5.1.1"))
    box.add(dsn(ADDRESSES[1], "delayed", "4.4.7"))
    box.add(dsn(ADDRESSES[5], "failed", "5.2.1", kind="global-delivery-status"))
    plain = EmailMessage()
    plain["Subject"] = "Re: 配信希望"
    plain.set_content("よろしくお願いします")
    box.add(plain)
    box.close()
    eml = tmp_path / "ndr.eml"
    eml.write_bytes(dsn(ADDRESSES[2].upper(), "failed", "5.1.10", original=True))

    result = _dayori(tmp_path, "bounces", str(box_path), str(eml))
    assert result.returncode == 0, result.stderr
    assert "メール 5 通" in result.stdout and "恒久的な不達 3 件（新たに配信停止 3 件）" in result.stdout
    assert "一時的な不達 1 件" in result.stdout and "ではないメール 1 通" in result.stdout
    assert not any(a in result.stdout.lower() for a in ADDRESSES)
    again = _dayori(tmp_path, "bounces", str(eml))
    assert "新たに配信停止 0 件" in again.stdout

    with SmtpServer() as server:
        assert _send(tmp_path, monkeypatch, server.env()) == 0
    assert set(server.recorder.count_by_recipient()) == set(ADDRESSES) - {ADDRESSES[0], ADDRESSES[2], ADDRESSES[5]}

    missing = _dayori(tmp_path, "bounces", str(tmp_path / "nothing.eml"))
    assert missing.returncode == 2 and "nothing.eml" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize(("email", "mailbox_address"), [
    ({"reply_to": "DXチーム <dx-box@example.go.jp>"}, "dx-box@example.go.jp"),
    ({"reply_to": "dx-box@example.go.jp", "unsubscribe_mailbox": "teisi@example.go.jp"}, "teisi@example.go.jp"),
])
def test_list_unsubscribe_offers_the_team_mailbox_beside_the_page(tmp_path, monkeypatch, email, mailbox_address):
    with SmtpServer() as server:
        _send(tmp_path, monkeypatch, server.env(), _settings(tmp_path, **email))
    header = server.recorder.received[0].message["List-Unsubscribe"]
    mailto, page = (part.strip().strip("<>") for part in header.split(","))
    assert mailto.startswith(f"mailto:{mailbox_address}?subject=unsubscribe%20dayori-7-")
    assert page == "https://dx.example.go.jp/dayori/subscribe/#unsubscribe"


def _in_project(project: Project, *arguments: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    """A command as an operator types it in the project folder: no --ledger unless given."""
    return subprocess.run([sys.executable, "-m", "dayori", *arguments], cwd=project.root, capture_output=True,
                          text=True, env=env or send_env(None), timeout=120)


def test_suppress_and_announce_during_a_send_stop_with_a_message_then_work_after_it(project, tmp_path):
    """A reader unsubscribes while the operator's send waits on the server: the command says the ledger is busy
    (at once, without a traceback), changes nothing and posts nothing; after the send it works, and the rerun
    that finishes the issue skips that reader."""
    project.add_issue(3, "2026-11-20", "配信停止の号")
    addresses = staff_addresses(4)
    subscribers = send_list(tmp_path, addresses)
    hook = Webhook()
    env = {**send_env(None), "DAYORI_TEAMS_WEBHOOK": hook.url, "NO_PROXY": "127.0.0.1"}
    try:
        with SmtpServer(Plan(hold_data={2}, down_after=2)) as server:
            send = start_send(project.root, server, "--vol", "3", "--to", subscribers, "--backoff", "0")
            wait_for(lambda: len(server.recorder.received) == 2, "the send getting that far")
            busy = [_in_project(project, "suppress", "add", addresses[3], env=env),
                    _in_project(project, "announce", "--vol", "3", "--backoff", "0", env=env),
                    _in_project(project, "suppress", "list", env=env)]
            server.recorder.release()
            _, err = send.communicate(timeout=120)
        assert send.returncode == 1, err
        for result in busy:
            assert result.returncode == 2, result.stdout + result.stderr
            assert "使っています" in result.stderr and "もう一度実行" in result.stderr
            assert "Traceback" not in result.stderr and "locked" not in result.stderr
        assert hook.bodies == []

        added = _in_project(project, "suppress", "add", addresses[3])
        assert added.returncode == 0 and "1 件を追加" in added.stdout, added.stderr
        with SmtpServer() as rerun:
            finished = run_send(project.root, rerun, "--vol", "3", "--to", subscribers)
        assert finished.returncode == 0, finished.stderr
        assert rerun.recorder.count_by_recipient() == {addresses[2]: 1}
        assert "配信停止中の宛先 1 件には送っていません" in finished.stdout
        announced = _in_project(project, "announce", "--vol", "3", "--backoff", "0", env=env)
        assert announced.returncode == 0 and len(hook.bodies) == 1, announced.stderr
    finally:
        hook.server.shutdown()
        hook.server.server_close()


def test_suppress_bounces_and_announce_use_the_ledger_of_send_unless_told(project, tmp_path):
    project.add_issue(3, "2026-11-20", "配信停止の号")
    addresses = staff_addresses(3)
    legacy = project.root / ".cache" / "dayori" / "ledger.sqlite3"
    assert _in_project(project, "suppress", "add", addresses[0], "--ledger", str(legacy)).returncode == 0
    taken_over = _in_project(project, "suppress", "list")
    assert "移しました" in taken_over.stdout and "配信停止 1 件" in taken_over.stdout, taken_over.stderr
    other = tmp_path / "other.sqlite3"
    assert _in_project(project, "suppress", "add", addresses[1], "--ledger", str(other)).returncode == 0
    eml = tmp_path / "ndr.eml"
    eml.write_bytes(dsn(addresses[2], "failed", "5.1.1"))
    assert "新たに配信停止 1 件" in _in_project(project, "bounces", str(eml), "--ledger", str(other)).stdout
    assert "配信停止 1 件" in _in_project(project, "suppress", "list").stdout
    assert "配信停止 2 件" in _in_project(project, "suppress", "list", "--ledger", str(other)).stdout

    with SmtpServer() as server:
        sent = run_send(project.root, server, "--vol", "3", "--to", send_list(tmp_path, addresses))
    assert sent.returncode == 0, sent.stderr
    assert server.recorder.count_by_recipient() == {addresses[1]: 1, addresses[2]: 1}
    hook = Webhook()
    env = {**send_env(None), "DAYORI_TEAMS_WEBHOOK": hook.url, "NO_PROXY": "127.0.0.1"}
    try:
        for ledger in ((), (), ("--ledger", str(other)), ("--ledger", str(other))):
            assert _in_project(project, "announce", "--vol", "3", "--backoff", "0", *ledger, env=env).returncode == 0
        assert len(hook.bodies) == 2
    finally:
        hook.server.shutdown()
        hook.server.server_close()
    assert not legacy.exists()
    assert sorted(path.name for path in (project.root / "state").iterdir()) == ["ledger.sqlite3"]
    with sqlite3.connect(project.root / "state" / "ledger.sqlite3") as db:
        assert db.execute("SELECT kind, item, state FROM announcements").fetchall() == [("issue", "3", "posted")]
        assert db.execute("SELECT address FROM suppressions").fetchall() == [(addresses[0],)]


@pytest.mark.parametrize("content", [b"", b"address,name\n", b"SQLite format 3\x00" + b"\x00" * 200])
def test_a_damaged_ledger_is_explained_and_left_alone(project, tmp_path, content):
    ledger = tmp_path / "ledger.sqlite3"
    ledger.write_bytes(content)
    eml = tmp_path / "ndr.eml"
    eml.write_bytes(dsn(ADDRESSES[0], "failed", "5.1.1"))
    for command in (("suppress", "add", ADDRESSES[0]), ("suppress", "list"), ("bounces", str(eml))):
        result = _in_project(project, *command, "--ledger", str(ledger))
        assert result.returncode == 2 and str(ledger) in result.stderr, result.stderr
        assert "台帳" in result.stderr and "Traceback" not in result.stderr
    assert ledger.read_bytes() == content
