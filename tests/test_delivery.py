"""`python -m dayori send`: a real SMTP server on 127.0.0.1 receives the issue; every subscriber gets it once,
across dropped connections, a server that went away and reruns."""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import body_text
from dayori.config import ConfigError, EmailSettings, Settings, settings_from_mapping
from dayori.delivery import cli
from dayori.delivery.ledger import Ledger
from dayori.delivery.subscribers import Recipient, parse_subscribers, read_subscribers
from dayori.email.render import message_id
from testsupport.helpers import SITE, TITLE, delivery_message, delivery_settings, staff_addresses, subscribers_csv
from testsupport.smtp_server import Plan, SmtpServer

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

def _run(tmp_path: Path, monkeypatch, env: dict[str, str], *options: str) -> int:
    for name in ("DAYORI_SMTP_USER", "DAYORI_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--vol", "7", "--ledger", str(tmp_path / "ledger.sqlite3"), "--rate", "0",
                              "--backoff", "0", *options])
    settings = delivery_settings(tmp_path)
    return cli.execute(args, delivery_message(settings), 7, settings)


def _ledger(tmp_path: Path) -> dict[str, str]:
    if not (tmp_path / "ledger.sqlite3").exists():
        return {}
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        return dict(db.execute("SELECT address, outcome FROM deliveries WHERE vol = 7").fetchall())


def test_full_send_reaches_each_subscriber_once_with_their_own_headers(tmp_path, monkeypatch, capsys):
    addresses = staff_addresses(5)
    csv_path = subscribers_csv(tmp_path, addresses)
    with SmtpServer() as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path)) == 0
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path)) == 0
    received = server.recorder.received
    assert server.recorder.count_by_recipient() == {a: 1 for a in addresses}
    ids = set()
    for item in received:
        message = item.message
        assert len(item.recipients) == 1
        assert message["To"].addresses[0].addr_spec == item.recipients[0]
        assert len(message["To"].addresses) == 1 and message["Cc"] is None and message["Bcc"] is None
        assert message["Subject"] == f"【業務合理化便り 第7号】{TITLE}"
        assert message["To"].addresses[0].display_name.startswith("職員")
        assert message["List-Unsubscribe"] and message["X-Unsent"] is None
        assert body_text(message, "plain").count("資料のコツ") == 1
        ids.add(message["Message-ID"])
    assert len(ids) == 5
    assert set(_ledger(tmp_path).values()) == {"sent"}
    output = capsys.readouterr()
    assert "送信済み 5 件" in output.out and "今回 0 通" in output.out
    assert not any(a in output.out + output.err for a in addresses)


def test_each_reader_gets_a_mailto_with_the_issue_and_their_own_token_and_no_one_click_without_an_endpoint(
        tmp_path, monkeypatch):
    """A static page cannot take RFC 8058's POST: without `email.unsubscribe_endpoint` there is no
    List-Unsubscribe-Post, and the mailto that works in a closed network names the issue and the reader."""
    with SmtpServer() as server:
        _run(tmp_path, monkeypatch, server.env(), "--to", str(subscribers_csv(tmp_path, staff_addresses(2))))
    headers = [item.message["List-Unsubscribe"] for item in server.recorder.received]
    assert all(item.message["List-Unsubscribe-Post"] is None for item in server.recorder.received)
    targets = [[part.strip().strip("<>") for part in header.split(",")] for header in headers]
    mailtos = [urlsplit(target[0]) for target in targets]
    assert {m.scheme for m in mailtos} == {"mailto"} and {m.path for m in mailtos} == {"dx-team@example.go.jp"}
    subjects = [parse_qs(m.query)["subject"][0] for m in mailtos]
    assert all(re.fullmatch(r"unsubscribe dayori-7-[a-z2-7]{16}", subject) for subject in subjects)
    assert subjects[0] != subjects[1]
    assert {target[1] for target in targets} == {"https://dx.example.go.jp/dayori/subscribe/#unsubscribe"}


def test_one_click_is_offered_only_with_an_https_endpoint(tmp_path, monkeypatch):
    endpoint = "https://forms.example.go.jp/unsubscribe?list=dayori"
    settings = Settings(root=tmp_path, site_url=SITE, email=EmailSettings(unsubscribe_endpoint=endpoint))
    assert delivery_message(settings)["List-Unsubscribe-Post"] is None  # the .eml for Outlook has no reader to name
    with SmtpServer() as server:
        parser = argparse.ArgumentParser()
        cli.add_arguments(parser)
        args = parser.parse_args(["--vol", "7", "--ledger", str(tmp_path / "ledger.sqlite3"), "--rate", "0",
                                  "--to", str(subscribers_csv(tmp_path, staff_addresses(1)))])
        assert cli.execute(args, delivery_message(settings), 7, settings, env=server.env()) == 0
    message = server.recorder.received[0].message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https = [t.strip().strip("<>") for t in message["List-Unsubscribe"].split(",") if "https:" in t]
    assert len(https) == 1 and https[0].startswith(endpoint + "&token=dayori-7-")
    with pytest.raises(ConfigError, match="https://"):
        settings_from_mapping(tmp_path, SITE, "便り", {"email": {"unsubscribe_endpoint": "http://intra/unsub"}})


def test_dropped_connections_and_temporary_refusals_are_retried_without_duplicates(tmp_path, monkeypatch):
    addresses = staff_addresses(6)
    plan = Plan(drop_at_rcpt={3}, tempfail_rcpt={5})
    with SmtpServer(plan) as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(subscribers_csv(tmp_path, addresses))) == 0
    assert server.recorder.count_by_recipient() == {a: 1 for a in addresses}
    assert server.recorder.transactions == 8


def test_server_going_away_then_rerun_then_retry_uncertain(tmp_path, monkeypatch, capsys):
    """Documented behaviour: an address whose connection dropped after the message was sent but before the
    server answered is 'uncertain' and is not resent by a rerun; `--retry-uncertain` resends it once, with the
    same Message-ID, so that a client that deduplicates by Message-ID still shows one copy."""
    addresses = staff_addresses(8)
    csv_path = subscribers_csv(tmp_path, addresses)
    with SmtpServer(Plan(drop_after_data={2}, down_after=4)) as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path)) == 1
    first = server.recorder.count_by_recipient()
    assert first == {a: 1 for a in addresses[:4]}
    ledger = _ledger(tmp_path)
    assert ledger[addresses[1]] == "uncertain"
    assert [ledger[a] for a in addresses[4:]] == ["pending"] * 4
    assert "不明 1 件" in capsys.readouterr().out

    with SmtpServer() as rerun:
        assert _run(tmp_path, monkeypatch, rerun.env(), "--to", str(csv_path)) == 1
    assert rerun.recorder.count_by_recipient() == {a: 1 for a in addresses[4:]}
    assert _ledger(tmp_path)[addresses[1]] == "uncertain"

    with SmtpServer() as retry:
        assert _run(tmp_path, monkeypatch, retry.env(), "--to", str(csv_path), "--retry-uncertain") == 0
    assert retry.recorder.count_by_recipient() == {addresses[1]: 1}
    total = first + rerun.recorder.count_by_recipient() + retry.recorder.count_by_recipient()
    assert total == {**{a: 1 for a in addresses}, addresses[1]: 2}
    copies = [item.message["Message-ID"] for server_ in (server, retry) for item in server_.recorder.received
              if item.recipients == [addresses[1]]]
    assert len(copies) == 2 and copies[0] == copies[1]
    assert set(_ledger(tmp_path).values()) == {"sent"}


def test_recipient_list_is_frozen_at_the_first_send(tmp_path, monkeypatch, capsys):
    addresses = staff_addresses(3)
    csv_path = subscribers_csv(tmp_path, addresses)
    with SmtpServer(Plan(down_after=1)) as server:
        _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path))
    subscribers_csv(tmp_path, [*addresses, "newcomer@example.go.jp"])
    with SmtpServer() as rerun:
        assert _run(tmp_path, monkeypatch, rerun.env(), "--to", str(csv_path)) == 0
    assert "newcomer@example.go.jp" not in rerun.recorder.count_by_recipient()
    err = capsys.readouterr().err
    assert "加わった読者が 1 件" in err and "--add-new" in err


def test_dry_run_sends_nothing_and_freezes_nothing(tmp_path, monkeypatch, capsys):
    with SmtpServer() as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(subscribers_csv(tmp_path, staff_addresses(4))), "--dry-run") == 0
    assert server.recorder.received == [] and server.recorder.transactions == 0
    assert "4 件に送る予定" in capsys.readouterr().out
    assert _ledger(tmp_path) == {}


def test_refused_login_sends_nothing_and_the_right_one_sends_all(tmp_path, monkeypatch, capsys):
    addresses = staff_addresses(3)
    csv_path = subscribers_csv(tmp_path, addresses)
    with SmtpServer(user="dayori", password="correct horse") as server:
        env = server.env(DAYORI_SMTP_USER="dayori", DAYORI_SMTP_PASSWORD="wrong")
        assert _run(tmp_path, monkeypatch, env, "--to", str(csv_path)) == 2
        assert server.recorder.received == []
        assert "パスワード" in capsys.readouterr().err
        assert set(_ledger(tmp_path).values()) == {"pending"}
        env = server.env(DAYORI_SMTP_USER="dayori", DAYORI_SMTP_PASSWORD="correct horse")
        assert _run(tmp_path, monkeypatch, env, "--to", str(csv_path)) == 0
    assert server.recorder.count_by_recipient() == {a: 1 for a in addresses}


def test_sending_without_login_to_a_server_that_requires_it_stops_without_failing_anyone(tmp_path, monkeypatch,
                                                                                         capsys):
    """530 at MAIL is about the sender, not the readers: the run stops at once, nobody is recorded as failed, and
    the run after the login is set sends to everyone."""
    csv_path = subscribers_csv(tmp_path, staff_addresses(2))
    with SmtpServer(user="dayori", password="pw") as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path)) == 1
        assert server.recorder.received == [] and server.recorder.transactions == 0
        assert set(_ledger(tmp_path).values()) == {"pending"}
        assert "ログインを求めています" in capsys.readouterr().err
        env = server.env(DAYORI_SMTP_USER="dayori", DAYORI_SMTP_PASSWORD="pw")
        assert _run(tmp_path, monkeypatch, env, "--to", str(csv_path)) == 0
    assert server.recorder.count_by_recipient() == {a: 1 for a in staff_addresses(2)}


def test_bad_addresses_stop_the_send_before_anything_is_frozen_or_sent(tmp_path, monkeypatch, capsys):
    extra = "not-an-address,名無し\r\nＦｕｌｌ＠example.go.jp,全角\r\n\r\nSTAFF01@EXAMPLE.GO.JP,重複\r\nspace @example.go.jp\r\n"
    csv_path = subscribers_csv(tmp_path, staff_addresses(2), extra=extra)
    subscribers = read_subscribers(csv_path)
    assert [str(p).split(": ")[0] for p in subscribers.problems] == [f"{csv_path}:{n}" for n in (4, 5, 8)]
    assert "全角" in subscribers.problems[1].message
    with SmtpServer() as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path)) == 2
    assert server.recorder.received == [] and server.recorder.transactions == 0
    assert _ledger(tmp_path) == {}
    err = capsys.readouterr().err
    assert "3 行に問題" in err and f"{csv_path}:4:" in err and f"{csv_path}:8:" in err
    assert "not-an-address" not in err and "名無し" not in err


def test_duplicate_addresses_are_sent_once_and_reported_by_line(tmp_path, monkeypatch, capsys):
    csv_path = subscribers_csv(tmp_path, staff_addresses(2), extra="STAFF01@EXAMPLE.GO.JP,重複\r\n")
    assert read_subscribers(csv_path).duplicate_lines == [4]
    with SmtpServer() as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path)) == 0
    assert server.recorder.count_by_recipient() == {a: 1 for a in staff_addresses(2)}
    err = capsys.readouterr().err
    assert "4 行目" in err and "STAFF01" not in err


def test_a_bad_name_frozen_by_an_earlier_version_fails_alone(tmp_path, monkeypatch, capsys):
    """Ledgers frozen before names were checked may hold a line break: that reader is recorded as failed,
    the readers after them still get the issue."""
    addresses = staff_addresses(3)
    settings = delivery_settings(tmp_path)
    names = ["職員1", "佐藤\n花子", "職員3"]
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        ledger.freeze(7, [(Recipient(a, n), message_id(7, settings, a)) for a, n in zip(addresses, names, strict=True)])
    with SmtpServer() as server:
        assert _run(tmp_path, monkeypatch, server.env()) == 1
    assert server.recorder.count_by_recipient() == {addresses[0]: 1, addresses[2]: 1}
    assert _ledger(tmp_path) == {addresses[0]: "sent", addresses[1]: "failed", addresses[2]: "sent"}
    assert "失敗 1 件" in capsys.readouterr().out


def test_a_send_leaves_one_self_contained_ledger_file(tmp_path, monkeypatch):
    """No -wal, -shm or -journal beside it: the file alone is the backup."""
    with SmtpServer() as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(subscribers_csv(tmp_path, staff_addresses(2)))) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ledger")) == ["ledger.sqlite3"]
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    db.close()


def test_a_ledger_held_by_another_send_stops_this_one(tmp_path, monkeypatch, capsys):
    csv_path = subscribers_csv(tmp_path, staff_addresses(2))
    with SmtpServer() as server, Ledger.open(tmp_path / "ledger.sqlite3"):
        assert _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path)) == 2
    assert server.recorder.received == []
    assert "別の送信" in capsys.readouterr().err


def test_csv_without_header_and_with_quoted_names():
    text = 'a@example.go.jp,"山田, 太郎"\nb@example.go.jp\n'
    subscribers = parse_subscribers(text, "list.csv")
    assert [(r.address, r.name) for r in subscribers.recipients] == [("a@example.go.jp", "山田, 太郎"),
                                                                    ("b@example.go.jp", "")]
    assert subscribers.problems == []


def test_test_send_goes_to_one_address_and_leaves_the_ledger_alone(tmp_path, monkeypatch):
    with SmtpServer() as server:
        assert _run(tmp_path, monkeypatch, server.env(), "--test-to", "editor@example.go.jp") == 0
    [item] = server.recorder.received
    assert item.recipients == ["editor@example.go.jp"]
    assert item.message["Subject"].startswith("[テスト] ")
    assert _ledger(tmp_path) == {}


def test_missing_smtp_host_is_explained(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DAYORI_SMTP_HOST", raising=False)
    assert _run(tmp_path, monkeypatch, {}, "--to", str(subscribers_csv(tmp_path, staff_addresses(1)))) == 2
    assert "DAYORI_SMTP_HOST" in capsys.readouterr().err
    assert _ledger(tmp_path) == {}


def test_the_send_command_mails_a_published_issue_from_the_project_files(project, tmp_path):
    """`python -m dayori send` as an editor runs it: reads mkdocs.yml and newsletter/, no site build needed."""
    project.add_issue(3, "2026-11-20", TITLE, "## 今週のコツ\n\n資料は一枚にまとめます。")
    project.add_issue(4, "2026-11-27", "来週の号", "まだ公開前です。")
    subscribers = subscribers_csv(tmp_path, staff_addresses(3))
    with SmtpServer() as server:
        env = {**os.environ, **server.env(), "DAYORI_TODAY": "2026-11-26"}
        command = [sys.executable, "-m", "dayori", "send", "--to", str(subscribers), "--rate", "0"]
        sent = subprocess.run([*command, "--vol", "3"], cwd=project.root, env=env, capture_output=True, text=True)
        early = subprocess.run([*command, "--vol", "4"], cwd=project.root, env=env, capture_output=True, text=True)
    assert sent.returncode == 0, sent.stderr
    assert server.recorder.count_by_recipient() == {address: 1 for address in staff_addresses(3)}
    message = server.recorder.received[0].message
    assert TITLE in str(message["Subject"])
    assert "資料は一枚にまとめます。" in body_text(message, "plain")
    assert "staff01@example.go.jp" not in sent.stdout + sent.stderr
    assert early.returncode != 0 and "第4号" in early.stderr
    assert (project.root / "state" / "ledger.sqlite3").exists()
    assert not (project.root / ".cache" / "dayori" / "ledger.sqlite3").exists()


@pytest.mark.parametrize(("option", "value"), [("--vol", "99999999999999999999"), ("--vol", "0"), ("--vol", "3.5"),
                                               ("--vol", "-1"), ("--rate", "nan"), ("--rate", "-2")])
def test_nonsense_numbers_are_refused_in_japanese(option, value, capsys):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(["--vol", "3", option, value])
    assert stopped.value.code == 2
    assert "で指定してください" in capsys.readouterr().err


def test_a_full_width_vol_is_the_same_vol():
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert parser.parse_args(["--vol", "１２"]).vol == 12


def test_a_draft_or_scheduled_issue_can_be_test_sent_marked_as_a_test_but_never_sent(project, tmp_path):
    """Editors check the email of a draft before its day with --test-to; the real send still refuses it."""
    project.add_issue(3, "2026-11-20", TITLE)
    project.add_issue(4, "2026-11-27", "来週の号", "まだ公開前です。")
    project.add_issue(5, "2026-11-25", "書きかけの号", "下書きです。", draft=True)
    with SmtpServer() as server:
        env = {**os.environ, **server.env(), "DAYORI_TODAY": "2026-11-26"}
        command = [sys.executable, "-m", "dayori", "send", "--rate", "0"]
        runs = [subprocess.run([*command, "--vol", vol, "--test-to", "editor@example.go.jp"], cwd=project.root,
                               env=env, capture_output=True, text=True) for vol in ("4", "5")]
        real = subprocess.run([*command, "--vol", "5", "--to", str(subscribers_csv(tmp_path, staff_addresses(2)))],
                              cwd=project.root, env=env, capture_output=True, text=True)
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    subjects = [str(item.message["Subject"]) for item in server.recorder.received]
    assert subjects == ["[テスト] 【業務合理化便り 第4号】来週の号", "[テスト] 【業務合理化便り 第5号】書きかけの号"]
    assert {r for item in server.recorder.received for r in item.recipients} == {"editor@example.go.jp"}
    assert real.returncode != 0 and "--test-to" in real.stderr
    assert not (project.root / "state" / "ledger.sqlite3").exists()


def test_add_new_sends_the_frozen_issue_to_readers_added_since_once_each(tmp_path, monkeypatch, capsys):
    """Readers who joined the list after the first run get this issue only with --add-new, once each, and the
    message that mentions them says so; readers already sent are never sent again."""
    addresses = staff_addresses(3)
    csv_path = subscribers_csv(tmp_path, addresses)
    with SmtpServer(Plan(down_after=2)) as server:
        _run(tmp_path, monkeypatch, server.env(), "--to", str(csv_path))
    newcomers = ["newcomer1@example.go.jp", "newcomer2@example.go.jp"]
    subscribers_csv(tmp_path, [*addresses, *newcomers])
    with SmtpServer() as rerun:
        assert _run(tmp_path, monkeypatch, rerun.env(), "--to", str(csv_path), "--dry-run", "--add-new") == 0
        assert rerun.recorder.received == [] and set(_ledger(tmp_path)) == set(addresses)
        assert _run(tmp_path, monkeypatch, rerun.env(), "--to", str(csv_path)) == 0
        assert "--add-new" in capsys.readouterr().err
        assert _run(tmp_path, monkeypatch, rerun.env(), "--to", str(csv_path), "--add-new") == 0
        assert _run(tmp_path, monkeypatch, rerun.env(), "--to", str(csv_path), "--add-new") == 0
    total = server.recorder.count_by_recipient() + rerun.recorder.count_by_recipient()
    assert total == {a: 1 for a in [*addresses, *newcomers]}
    assert set(_ledger(tmp_path).values()) == {"sent"}
    out = capsys.readouterr().out
    assert "新しい読者 2 件を第7号の配信先に加えました" in out and "新しい読者 0 件" in out
