"""`python -m dayori send` attacked as a real command: two sends at once, `kill -9` and a backup of the ledger
file alone, Excel's habits in the subscriber list, a damaged ledger, nonsense arguments. Each test runs the
command in a copy of the project against a real aiosmtpd server on 127.0.0.1 and checks what readers receive
and what the sender reads in the terminal."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from testsupport.helpers import (
    excel_csv,
    run_send,
    send_command,
    send_env,
    send_list,
    staff_addresses,
    start_send,
    wait_for,
)
from testsupport.smtp_server import Plan, SmtpServer

TODAY = "2026-11-26"
TITLE = "会議資料を一枚にまとめるコツ"
NAMES = ["山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲"]


@pytest.fixture
def issue(project):
    project.add_issue(3, "2026-11-20", TITLE, "## 今週のコツ\n\n資料は一枚にまとめます。")
    return project


@pytest.mark.parametrize("second_starts", ["mid-send", "at-once"])
def test_two_sends_at_once_reach_each_reader_once(issue, tmp_path, second_starts):
    """The server keeps the first send waiting for its 2nd answer until the other send has given up."""
    addresses = staff_addresses(4)
    subscribers = send_list(tmp_path, addresses)
    with SmtpServer(Plan(hold_data={2})) as server:
        first = start_send(issue.root, server, "--vol", "3", "--to", subscribers)
        if second_starts == "mid-send":
            wait_for(lambda: len(server.recorder.received) == 2, "the send getting that far")
        second = start_send(issue.root, server, "--vol", "3", "--to", subscribers)
        wait_for(lambda: first.poll() is not None or second.poll() is not None, "the send getting that far")
        server.recorder.release()
        results = [(*process.communicate(timeout=120), process.returncode) for process in (first, second)]
    assert server.recorder.count_by_recipient() == {address: 1 for address in addresses}
    assert sorted(code for _, _, code in results) == [0, 2], results
    stopped = next(err for _, err, code in results if code == 2)
    assert "別の送信" in stopped and "もう一度実行" in stopped and "Traceback" not in stopped
    assert not any(address in out + err for address in addresses for out, err, _ in results)


def test_kill_9_mid_send_then_a_copy_of_the_ledger_file_alone_sends_nobody_twice(issue, tmp_path):
    """Killed while the server holds its 2nd answer: that reader has the message, the sender cannot know."""
    addresses = staff_addresses(4)
    subscribers = send_list(tmp_path, addresses)
    ledger = tmp_path / "run" / "ledger.sqlite3"
    backup = tmp_path / "backup" / "ledger.sqlite3"
    with SmtpServer(Plan(hold_data={2})) as server:
        send = start_send(issue.root, server, "--vol", "3", "--to", subscribers, "--ledger", ledger)
        wait_for(lambda: len(server.recorder.received) == 2, "the send getting that far")
        send.kill()
        send.communicate()
        backup.parent.mkdir()
        shutil.copyfile(ledger, backup)
        rerun = run_send(issue.root, server, "--vol", "3", "--to", subscribers, "--ledger", backup)
    assert rerun.returncode == 1, rerun.stderr
    assert "固定されています" in rerun.stdout and "Traceback" not in rerun.stderr
    assert "送信済み 3 件" in rerun.stdout and "不明 1 件" in rerun.stdout
    assert server.recorder.count_by_recipient() == {address: 1 for address in addresses}
    assert sorted(path.name for path in backup.parent.iterdir()) == ["ledger.sqlite3"]


def test_a_line_break_in_a_name_is_refused_by_line_before_anything_is_sent(issue, tmp_path):
    addresses = staff_addresses(4)
    rows = [["メールアドレス", "氏名"], [addresses[0], "山田 太郎"], [addresses[1], "佐藤\n花子"],
            [addresses[2], "鈴木\x0b一郎"], [addresses[3], "高橋 美咲"]]
    subscribers = excel_csv(tmp_path / "subscribers.csv", rows)
    with SmtpServer() as server:
        refused = run_send(issue.root, server, "--vol", "3", "--to", subscribers)
        assert server.recorder.received == []
        rows[2][1], rows[3][1] = "佐藤 花子", "鈴木 一郎"
        excel_csv(subscribers, rows)
        fixed = run_send(issue.root, server, "--vol", "3", "--to", subscribers)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{subscribers}:3: " in refused.stderr and "改行" in refused.stderr
    assert f"{subscribers}:5: " in refused.stderr and "U+000B" in refused.stderr
    assert "送っていません" in refused.stderr
    assert not any(address in refused.stdout + refused.stderr for address in addresses)
    assert fixed.returncode == 0, fixed.stderr
    assert server.recorder.count_by_recipient() == {address: 1 for address in addresses}


def _xlsx(path: Path, rows: Sequence[Sequence[str | None]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("メモ").append(["ここは読みません"])
    workbook.save(path)
    return path


@pytest.mark.parametrize("kind", ["cp932-csv", "xlsx"])
def test_lists_saved_by_japanese_excel_deliver(issue, tmp_path, kind):
    addresses = staff_addresses(4)
    people = [[n, a] for n, a in zip(NAMES, addresses, strict=True)]
    if kind == "cp932-csv":
        subscribers = excel_csv(tmp_path / "購読者.csv", [["　お名前　", " メールアドレス "], *people], encoding="cp932")
    else:
        subscribers = _xlsx(tmp_path / "購読者.xlsx", [["氏名", "Ｅ－ｍａｉｌ"], [None, None], *people])
    with SmtpServer() as server:
        result = run_send(issue.root, server, "--vol", "3", "--to", subscribers)
    assert result.returncode == 0, result.stderr
    received = {item.recipients[0]: item.message["To"].addresses[0].display_name for item in server.recorder.received}
    assert received == dict(zip(addresses, NAMES, strict=True))


def test_an_alt_enter_in_a_workbook_cell_is_refused_with_its_row(issue, tmp_path):
    addresses = staff_addresses(3)
    subscribers = _xlsx(tmp_path / "購読者.xlsx", [["メール", "名前"], [None], [addresses[0], "山田"],
                                                  [addresses[1], "佐藤\n花子"], [addresses[2], "鈴木"]])
    with SmtpServer() as server:
        result = run_send(issue.root, server, "--vol", "3", "--to", subscribers)
    assert result.returncode == 2 and server.recorder.received == []
    assert f"{subscribers}:4: " in result.stderr and "改行" in result.stderr


def _damaged_sqlite(path: Path) -> None:
    """A real ledger whose pages after the first were overwritten, as a failed copy or a bad disk leaves it."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE deliveries (vol INTEGER, address TEXT)")
        db.executemany("INSERT INTO deliveries VALUES (3, ?)", [(f"x{n}@example.go.jp",) for n in range(500)])
    db.close()
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["empty", "not-sqlite", "damaged-pages"])
def test_a_damaged_ledger_is_explained_and_left_untouched(issue, tmp_path, damage):
    ledger = tmp_path / "ledger.sqlite3"
    if damage == "empty":
        ledger.write_bytes(b"")
    elif damage == "not-sqlite":
        ledger.write_bytes(b"address,outcome\r\nstaff01@example.go.jp,sent\r\n")
    else:
        _damaged_sqlite(ledger)
    before = ledger.read_bytes()
    with SmtpServer() as server:
        result = run_send(issue.root, server, "--vol", "3", "--to", send_list(tmp_path, staff_addresses(2)), "--ledger", ledger)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(ledger) in result.stderr and "バックアップ" in result.stderr
    assert server.recorder.received == []
    assert ledger.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("ledger")) == ["ledger.sqlite3"]


def test_a_huge_vol_is_explained(issue, tmp_path):
    issue.add_issue(99999999999999999999, "2026-11-21", "桁あふれの号")
    with SmtpServer() as server:
        result = run_send(issue.root, server, "--vol", "99999999999999999999", "--to", send_list(tmp_path, staff_addresses(1)))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "号数" in result.stderr
    assert server.recorder.received == []


@pytest.mark.parametrize(("config", "message"), [(None, "mkdocs.yml が見つかりません"), (".", "読めません"),
                                                ("sjis.yml", "UTF-8 で保存")])
def test_send_outside_the_project_or_with_an_unreadable_config_is_explained(tmp_path, config, message):
    (tmp_path / "sjis.yml").write_bytes("site_name: 業務合理化便り\n".encode("cp932"))
    options = ["-f", config] if config else []
    result = run_send(tmp_path, None, "--vol", "3", "--to", send_list(tmp_path, staff_addresses(1)), *options)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr


_OLD_VERSION_KILLED = """
import os, sqlite3, sys
source, old = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2], isolation_level=None)
old.execute("PRAGMA journal_mode=WAL")
old.execute("PRAGMA wal_autocheckpoint=0")
old.executescript("\\n".join(source.iterdump()))
os._exit(0)
"""
"""An earlier version's ledger as `kill -9` left it: WAL mode, every row still in the `-wal` file only."""


def test_the_ledger_is_state_and_an_old_one_in_the_cache_is_moved_not_forgotten(issue, tmp_path):
    addresses = staff_addresses(4)
    subscribers = send_list(tmp_path, addresses)
    first = tmp_path / "first.sqlite3"
    with SmtpServer(Plan(down_after=2)) as server:
        run_send(issue.root, server, "--vol", "3", "--to", subscribers, "--ledger", first, "--backoff", "0")
    old = issue.root / ".cache" / "dayori" / "ledger.sqlite3"
    old.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", _OLD_VERSION_KILLED, str(first), str(old)], check=True)
    assert old.with_name("ledger.sqlite3-wal").stat().st_size > old.stat().st_size
    with SmtpServer() as rerun:
        result = run_send(issue.root, rerun, "--vol", "3", "--to", subscribers)
    assert result.returncode == 0, result.stderr
    assert "state/ledger.sqlite3" in result.stdout and "移しました" in result.stdout
    assert server.recorder.count_by_recipient() + rerun.recorder.count_by_recipient() == {a: 1 for a in addresses}
    assert not [path.name for path in old.parent.iterdir() if path.name.startswith("ledger")]
    assert sorted(path.name for path in (issue.root / "state").iterdir()) == ["ledger.sqlite3"]


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_in_a_log(issue, tmp_path):
    """On a terminal: a bar with the count, the rate and the time left, redrawn in place. In a CI log: whole lines.
    Either way the summary is in words, counts with separators, never a Python value."""
    import pty

    addresses = staff_addresses(30)
    subscribers = send_list(tmp_path, addresses)
    with SmtpServer() as server:
        logged = run_send(issue.root, server, "--vol", "3", "--to", subscribers, "--ledger", tmp_path / "a.sqlite3")
        leader, follower = pty.openpty()
        process = subprocess.Popen(send_command("--vol", "3", "--to", subscribers, "--ledger", tmp_path / "b.sqlite3"),
                                   cwd=issue.root, env={**send_env(server), "COLUMNS": "120"}, stdout=subprocess.PIPE,
                                   stderr=follower, text=True)
        os.close(follower)
        screen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        out, _ = process.communicate(timeout=120)
        os.close(leader)
    assert logged.returncode == 0 and process.returncode == 0, logged.stderr
    assert server.recorder.count_by_recipient() == {address: 2 for address in addresses}
    terminal = screen.decode("utf-8", "replace")
    assert "\r" in terminal and "第3号" in terminal and "30 / 30 通" in terminal and "1 分あたり" in terminal
    assert "\r" not in logged.stderr and "第3号: 30 / 30 通" in logged.stderr
    assert "第3号: 3 / 30 通" in logged.stderr and "残り 27 通" in logged.stderr
    for text in (logged.stdout, out):
        assert "送信済み 30 件" in text and "{" not in text and "'sent'" not in text
