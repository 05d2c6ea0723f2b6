"""`send` with DAYORI_SMTP_PROFILE=exchange-online against a local server that answers like Exchange Online under
load (testsupport/exchange_server.py), on a clock that runs 600 times faster: a per-minute quota answered with a 5xx,
432 bursts, a reply without a status code, a daily cap. Each test ends with every reader holding exactly one copy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dayori.delivery import cli, words
from dayori.delivery.cli import EXIT_PAUSED, SendRequest
from dayori.delivery.send import DAY
from testsupport.exchange_server import NO_CODE, QUOTA, THREAD_LIMIT, ExchangePlan, ExchangeServer, ScaledClock
from testsupport.helpers import delivery_message, delivery_settings, staff_addresses, subscribers_csv

READERS = staff_addresses(45)


def _send(tmp_path: Path, server: ExchangeServer, clock: ScaledClock, *, readers: list[str] = READERS,
          **env: str) -> cli.SendOutcome:
    settings = delivery_settings(tmp_path)
    csv_path = tmp_path / "subscribers.csv"
    if not csv_path.exists():
        subscribers_csv(tmp_path, readers)
    request = SendRequest(vol=7, to=csv_path, ledger=tmp_path / "ledger.sqlite3", progress=False, backoff=0.0)
    return cli.send_message(request, delivery_message(settings), settings, clock=clock, env=server.env(**env))


def _outcomes(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        return dict(db.execute("SELECT address, outcome FROM deliveries WHERE vol = 7").fetchall())


def test_45_readers_through_quota_bursts_and_a_codeless_reply_each_get_one_copy(tmp_path, capsys):
    """The issue's report: 45 readers at the default pace gave 29 sent and 16 *failed*, and the rerun sent none.
    Here the server also refuses three messages in a row for its quota (another program sending from the mailbox),
    answers two with the thread limit, and one without a status code: nobody fails, nobody is missed, nobody gets
    two, and no manual step is needed."""
    clock = ScaledClock()
    plan = ExchangePlan(per_minute=30, quota_at={5, 6, 7}, thread_limit_at={12, 13}, no_code_at={20})
    with ExchangeServer(plan, clock) as server:
        first = _send(tmp_path, server, clock)
        again = _send(tmp_path, server, clock)
    assert server.recorder.count_by_recipient() == {address: 1 for address in READERS}
    assert server.recorder.count(QUOTA) >= 3 and server.recorder.count(THREAD_LIMIT) == 2
    outcomes = _outcomes(tmp_path)
    assert "failed" not in outcomes.values()
    assert sorted(outcomes.values()).count("uncertain") == 1 and set(outcomes.values()) == {"sent", "uncertain"}
    assert first.exit_code == 1 and first.summary is not None and first.summary.throttled >= 5
    assert again.summary is not None and again.summary.sent_now == 0
    output = capsys.readouterr()
    assert "少し待って" in output.out and "失敗 0 件" in output.out and "不明 1 件" in output.out
    assert "Traceback" not in output.err and "{" not in output.out


def test_a_reply_without_a_status_code_is_uncertain_and_never_sent_twice_unless_asked(tmp_path, capsys):
    """`OK queued as 12345` after the message: the server has it. Recorded uncertain (not failed), so a rerun does
    not send it again; `--retry-uncertain` is the reader's own decision and reuses the Message-ID."""
    clock = ScaledClock()
    readers = staff_addresses(4)
    with ExchangeServer(ExchangePlan(per_minute=None, no_code_at={2}), clock) as server:
        assert _send(tmp_path, server, clock, readers=readers).exit_code == 1
        assert _send(tmp_path, server, clock, readers=readers).exit_code == 1
        assert server.recorder.count_by_recipient() == {address: 1 for address in readers}
        assert _outcomes(tmp_path)[readers[1]] == "uncertain"
        settings = delivery_settings(tmp_path)
        request = SendRequest(vol=7, ledger=tmp_path / "ledger.sqlite3", retry_uncertain=True, progress=False)
        assert cli.send_message(request, delivery_message(settings), settings, clock=clock, env=server.env()).exit_code == 0
    copies = [item.message["Message-ID"] for item in server.recorder.received if item.recipients == [readers[1]]]
    assert len(copies) == 2 and copies[0] == copies[1]
    assert NO_CODE not in capsys.readouterr().out


def test_a_daily_cap_pauses_with_the_time_to_run_again_and_the_next_days_continue(tmp_path, capsys):
    """The server takes 20 recipients a day; the sender's profile says 10,000 (the mailbox sent other mail). The run
    stops cleanly at the cap with the time to run again; a run before then sends nothing; the next days continue."""
    clock = ScaledClock()
    with ExchangeServer(ExchangePlan(per_minute=None, per_day=20), clock) as server:
        first = _send(tmp_path, server, clock)
        assert first.exit_code == EXIT_PAUSED and first.summary is not None
        assert len(server.recorder.received) == 20
        outcomes = _outcomes(tmp_path)
        assert list(outcomes.values()).count("sent") == 20 and "failed" not in outcomes.values()
        until = first.summary.paused_until
        assert until is not None and clock.now() < until <= clock.start + DAY + (clock.now() - clock.start)
        out = capsys.readouterr().out
        assert "1 日に送れる上限" in out and f"{words.japan_time(until)} 以降" in out
        assert "未送信 25 件" in out and "失敗 0 件" in out

        early = _send(tmp_path, server, clock)
        assert early.exit_code == EXIT_PAUSED and early.summary is not None and early.summary.sent_now == 0
        for _ in range(2):
            clock.advance(DAY.total_seconds())
            last = _send(tmp_path, server, clock)
    assert last.exit_code == 0, capsys.readouterr()
    assert server.recorder.count_by_recipient() == {address: 1 for address in READERS}
    assert set(_outcomes(tmp_path).values()) == {"sent"}


def test_the_profiles_daily_limit_stops_before_the_server_refuses(tmp_path, capsys):
    """With DAYORI_SMTP_DAILY_LIMIT (or the profile's 10,000) the sender counts for itself, from the ledger, and
    stops before the cap: the server never has to refuse anything."""
    clock = ScaledClock()
    with ExchangeServer(ExchangePlan(per_minute=None), clock) as server:
        first = _send(tmp_path, server, clock, DAYORI_SMTP_DAILY_LIMIT="20")
        assert first.exit_code == EXIT_PAUSED and len(server.recorder.received) == 20
        assert "今回は 20 通まで送り" in capsys.readouterr().err
        for _ in range(2):
            clock.advance(DAY.total_seconds())
            last = _send(tmp_path, server, clock, DAYORI_SMTP_DAILY_LIMIT="20")
    assert last.exit_code == 0
    assert server.recorder.answers == []
    assert server.recorder.count_by_recipient() == {address: 1 for address in READERS}


def test_a_quota_that_never_lifts_pauses_the_run_instead_of_failing_anyone(tmp_path, capsys):
    """Exchange answers the daily cap with the same SubmissionQuotaExceeded as the minute's quota. The sender waits
    longer each time; after an hour without a single acceptance it stops, with the time to try again."""
    clock = ScaledClock(scale=6000)
    plan = ExchangePlan(per_minute=None, per_day=10, daily_reply=QUOTA)
    with ExchangeServer(plan, clock) as server:
        first = _send(tmp_path, server, clock)
        assert first.exit_code == EXIT_PAUSED and first.summary is not None
        assert first.summary.pause_reason == "busy" and first.summary.throttled >= 3
        assert "長い間" in capsys.readouterr().out
        assert "failed" not in _outcomes(tmp_path).values()
        for _ in range(4):
            clock.advance(DAY.total_seconds())
            last = _send(tmp_path, server, clock)
    assert last.exit_code == 0
    assert server.recorder.count_by_recipient() == {address: 1 for address in READERS}


@pytest.mark.parametrize("profile", ["exchange-online", "generic"])
def test_a_refused_recipient_fails_alone_and_the_rest_are_sent(tmp_path, profile):
    """Only a refusal of the reader's own address (5.1.x at RCPT) is a failure."""
    clock = ScaledClock()
    readers = [*staff_addresses(3), "nobody@example.go.jp"]

    unknown = "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
    plan = ExchangePlan(per_minute=None, refuse_rcpt={"nobody@example.go.jp": unknown})
    with ExchangeServer(plan, clock) as server:
        outcome = _send(tmp_path, server, clock, readers=readers, DAYORI_SMTP_PROFILE=profile)
    assert outcome.exit_code == 1
    assert _outcomes(tmp_path) == {**{a: "sent" for a in readers[:3]}, "nobody@example.go.jp": "failed"}


def test_high_volume_email_warns_about_readers_outside_the_organisation(tmp_path, capsys):
    """HVE delivers inside the tenant only: readers at another domain are counted in a warning (never named)."""
    clock = ScaledClock()
    readers = [*staff_addresses(2), "friend@example.com"]
    with ExchangeServer(ExchangePlan(per_minute=None), clock) as server:
        outcome = _send(tmp_path, server, clock, readers=readers, DAYORI_SMTP_PROFILE="exchange-hve")
    assert outcome.exit_code == 0
    err = capsys.readouterr().err
    assert "組織内の宛先にしか届きません" in err and "違うドメインの宛先が 1 件" in err and "friend@" not in err
