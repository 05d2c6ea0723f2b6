"""Unsubscribing inside a closed network: each reader's message carries a mailto to the team mailbox with the issue
and their own token; the requests that arrive there, saved from Outlook as .msg (real OLE files made by
tests/msg_files.py) or .eml, are read by `python -m dayori suppress import` and the next issue skips those readers."""

from __future__ import annotations

import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dayori.delivery import cli
from dayori.delivery.cli import SendRequest
from msg_files import outlook_msg
from testsupport.helpers import delivery_message, delivery_settings, dsn, staff_addresses, subscribers_csv
from testsupport.smtp_server import SmtpServer

READERS = staff_addresses(6)
EXCHANGE = "/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP (FYDIBOHF23SPDLT)/CN=RECIPIENTS/CN=3f2a9c-{}"


def _send(tmp_path: Path, server: SmtpServer, vol: int) -> cli.SendOutcome:
    settings = delivery_settings(tmp_path)
    request = SendRequest(vol=vol, to=tmp_path / "subscribers.csv", ledger=tmp_path / "ledger.sqlite3", rate=0,
                          progress=False)
    return cli.send_message(request, delivery_message(settings), settings, env=server.env())


def _subject(server: SmtpServer, address: str) -> str:
    """The subject a mail client writes when the reader presses 'unsubscribe' (the mailto's subject)."""
    message = next(item.message for item in server.recorder.received if item.recipients == [address])
    mailto = next(part.strip().strip("<>") for part in message["List-Unsubscribe"].split(",")
                  if part.strip().startswith("<mailto:"))
    return parse_qs(urlsplit(mailto).query)["subject"][0]


def _eml(path: Path, sender: str, subject: str) -> Path:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "dx-team@example.go.jp", subject
    message.set_content("よろしくお願いします。")
    path.write_bytes(bytes(message))
    return path


def _dayori(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dayori", *arguments, "--ledger", str(tmp_path / "ledger.sqlite3")],
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ}, timeout=60)


def test_requests_saved_from_outlook_unsubscribe_the_readers_they_name(tmp_path):
    subscribers_csv(tmp_path, READERS)
    with SmtpServer() as server:
        assert _send(tmp_path, server, 7).exit_code == 0
    inbox = tmp_path / "配信停止の依頼"
    inbox.mkdir()
    # The reader's own Outlook: the button's mail, from inside the organisation (an Exchange address and its SMTP one).
    outlook_msg(inbox / "依頼1.msg", subject=_subject(server, READERS[0]), sender_name="職員1",
                sender_smtp=READERS[0], sender_exchange=EXCHANGE.format("staff01"))
    # A reader who wrote from a personal address: the token, not the sender, says who they are.
    _eml(inbox / "依頼2.eml", "Taro <taro.private@example.com>", "RE: " + _subject(server, READERS[1]))
    # A reader who typed a request by hand; an older server's mail keeps the sender in the transport headers only.
    outlook_msg(inbox / "依頼3.msg", subject="配信停止をお願いします", sender_name="職員3",
                transport_headers=f"Received: from mx.example.go.jp\r\nFrom: =?utf-8?b?6IG35ZOh?= <{READERS[2]}>\r\n"
                                  "Subject: =?utf-8?b?6YWN5L+h5YGc5q2i?=\r\n")
    # Not requests: a question, and a bounce.
    _eml(inbox / "質問.eml", READERS[3], "Re: 第7号の資料について")
    (inbox / "不達.eml").write_bytes(dsn(READERS[4], "failed", "5.1.1"))

    dry = _dayori(tmp_path, "suppress", "import", str(inbox), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "変更していません" in dry.stdout and "ありません" in _dayori(tmp_path, "suppress", "list").stdout
    imported = _dayori(tmp_path, "suppress", "import", str(inbox))
    assert imported.returncode == 0, imported.stderr
    out = imported.stdout
    assert "メール 5 通" in out and "依頼 3 件（新たに配信停止 3 件）" in out
    assert "1 件はメールの件名の記号" not in out and "2 件はメールの件名の記号" in out and "1 件は差出人" in out
    assert "読み飛ばしました" in out and not any(reader in out for reader in READERS)
    listed = _dayori(tmp_path, "suppress", "list")
    assert "配信停止の依頼メール（suppress import） 3 件" in listed.stdout and "年" in listed.stdout
    assert "T" not in listed.stdout.split("件", 2)[-1]

    with SmtpServer() as next_issue:
        assert _send(tmp_path, next_issue, 8).exit_code == 0
    assert set(next_issue.recorder.count_by_recipient()) == set(READERS[3:])


def test_a_forged_token_unsubscribes_nobody_but_its_sender(tmp_path):
    """Tokens are an HMAC with the ledger's own secret: writing a colleague's would-be token does nothing to them."""
    subscribers_csv(tmp_path, READERS)
    with SmtpServer() as server:
        assert _send(tmp_path, server, 7).exit_code == 0
    real = unquote(_subject(server, READERS[0]))
    forged = tmp_path / "forged.eml"
    _eml(forged, "prankster@example.go.jp", real[:-4] + ("aaaa" if not real.endswith("aaaa") else "bbbb"))
    result = _dayori(tmp_path, "suppress", "import", str(forged))
    assert result.returncode == 0 and "0 件はメールの件名の記号" in result.stdout and "1 件は差出人" in result.stdout
    shown = _dayori(tmp_path, "suppress", "list", "--show-addresses").stdout
    assert "prankster@example.go.jp" in shown and READERS[0] not in shown


def test_a_damaged_msg_stops_the_import_with_its_name_and_changes_nothing(tmp_path):
    good = _eml(tmp_path / "good.eml", READERS[0], "配信停止")
    broken = tmp_path / "壊れた.msg"
    broken.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 700)
    result = _dayori(tmp_path, "suppress", "import", str(good), str(broken))
    assert result.returncode == 2 and "壊れた.msg" in result.stderr and "何も変更していません" in result.stderr
    assert "Traceback" not in result.stderr
    assert "ありません" in _dayori(tmp_path, "suppress", "list").stdout
