"""Delivery: sends per second through the ledger against plain smtplib; with OAuth (a local HTTPS token endpoint
and an XOAUTH2 SMTP server, the tests' own servers from `testsupport`) against the same send with no login, what
Microsoft 365's sign-in costs a send; and the pace of the exchange-online profile."""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import time
from email.message import EmailMessage
from pathlib import Path

from dayori.config import Settings
from dayori.delivery.subscribers import Recipient
from dayori.email import render_message
from dayori.model import Body, Content, Issue

REPEATS = 3


def sample_send(folder: Path, count: int) -> tuple[Settings, EmailMessage, list[Recipient]]:
    """An issue's message of a usual size and `count` recipients: what every delivery benchmark sends."""
    settings = Settings(root=folder, site_url="https://dx.example.go.jp/dayori/")
    body = Body(html="<p>" + "業務の効率化についてのお知らせです。" * 60 + "</p>", text="", toc=())
    issue = Issue(vol=1, date=dt.date(2026, 11, 20), title="ベンチマーク号", summary="送信速度の測定",
                  tags=(), authors=(), draft=False, videos=(), source=Path("bench.md"), body=body)
    message = render_message(issue, Content((issue,), (), dt.date(2026, 11, 26)), settings)
    return settings, message, [Recipient(f"staff{n:04d}@example.go.jp") for n in range(count)]


def bench_oauth_sending(folder: Path, count: int = 300) -> dict[str, float]:
    """Best of REPEATS sends of `count` messages each way, through the ledger as `send` does."""
    import logging
    import warnings

    from dayori.delivery.ledger import Ledger
    from dayori.delivery.send import SendOptions, deliver
    from dayori.delivery.smtp import SmtpConfig, Transport
    from dayori.email import message_id
    from testsupport.oauth_servers import OAuthSmtpServer, TokenServer, make_pki
    from testsupport.smtp_server import SmtpServer

    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    folder.mkdir(parents=True, exist_ok=True)
    settings, message, recipients = sample_send(folder, count)
    pki = make_pki(folder / "pki")
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(pki.ca_file)
    runs = 0

    def send(env: dict[str, str]) -> float:
        nonlocal runs
        runs += 1
        with Ledger.open(folder / f"oauth-bench-{runs}.sqlite3") as ledger:
            ledger.freeze(1, [(r, message_id(1, settings, r.address)) for r in recipients])
            start = time.perf_counter()
            deliver(message, 1, ledger, Transport(SmtpConfig.from_env(env)), "dx@example.go.jp",
                    SendOptions(rate=0, progress=False, progress_stream=io.StringIO()))
            return time.perf_counter() - start

    try:
        plain, oauth = [], []
        with TokenServer(pki) as tokens, OAuthSmtpServer(tokens.log) as smtp, SmtpServer() as basic:
            for _ in range(REPEATS):
                plain.append(send(basic.env()))
                oauth.append(send({**smtp.env(), **tokens.env()}))
            token_requests = len(tokens.log.token_requests)
    finally:
        if previous is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = previous
    return {"messages": count, "plain_sends_per_second": count / min(plain),
            "oauth_sends_per_second": count / min(oauth), "oauth_over_plain_seconds": min(oauth) / min(plain),
            "token_requests_per_send": token_requests / REPEATS}


def bench_profile_pace(folder: Path, count: int = 60, scale: float = 6.0) -> dict[str, float]:
    """`send` with DAYORI_SMTP_PROFILE=exchange-online through the tests' Exchange-like server (30 messages a
    minute) on a clock `scale` times faster than real time (slow enough that the real cost of a message stays
    well inside the pace's interval): the send rate against the profile's limit, the quota refusals it met, and the
    ledger's own cost per message (the two commits around each message, timed alone)."""
    import logging

    from dayori.delivery.ledger import SENT, UNCERTAIN, Ledger
    from dayori.delivery.send import SendOptions, deliver
    from dayori.delivery.smtp import SmtpConfig, Transport
    from dayori.email import message_id
    from testsupport.exchange_server import QUOTA, ExchangePlan, ExchangeServer, ScaledClock

    logging.getLogger("mail.log").setLevel(logging.ERROR)
    folder.mkdir(parents=True, exist_ok=True)
    settings, message, recipients = sample_send(folder, count)
    clock = ScaledClock(scale=scale)
    with ExchangeServer(ExchangePlan(per_minute=30), clock) as server:
        config = SmtpConfig.from_env(server.env())
        with Ledger.open(folder / "pace-ledger.sqlite3") as ledger:
            ledger.freeze(1, [(r, message_id(1, settings, r.address)) for r in recipients])
            start = clock.monotonic()
            summary = deliver(message, 1, ledger, Transport(config, clock=clock), "dx@example.go.jp",
                              SendOptions(progress=False, progress_stream=io.StringIO()), clock)
            minutes = (clock.monotonic() - start) / 60
        refusals = server.recorder.count(QUOTA)
    with Ledger.open(folder / "overhead-ledger.sqlite3") as ledger:
        ledger.freeze(1, [(r, message_id(1, settings, r.address)) for r in recipients])
        started = time.perf_counter()
        for recipient in recipients:
            ledger.mark(1, recipient, UNCERTAIN, attempt=True)
            ledger.mark(1, recipient, SENT, "END 250")
        ledger_seconds = time.perf_counter() - started
    rate = summary.sent_now / minutes if minutes else 0.0
    limit = float(config.per_minute or 0)
    return {"messages": float(summary.sent_now), "profile_limit_per_minute": limit, "sent_per_minute": rate,
            "rate_over_limit": rate / limit if limit else 0.0, "quota_refusals": float(refusals),
            "ledger_ms_per_message": 1000 * ledger_seconds / count}


def bench_sending(folder: Path, count: int = 300) -> dict[str, float]:
    """Sends per second through the ledger to a local SMTP server, against plain smtplib sending the same
    bytes over one connection (the floor any sender has)."""
    import smtplib

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    from dayori.delivery.ledger import Ledger
    from dayori.delivery.send import SendOptions, deliver, personalize
    from dayori.delivery.smtp import SmtpConfig, Transport
    from dayori.email import message_id

    settings, message, recipients = sample_send(folder, count)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = SmtpConfig.from_env({"DAYORI_SMTP_HOST": "127.0.0.1", "DAYORI_SMTP_PORT": str(controller.port),
                                      "DAYORI_SMTP_SECURITY": "none"})
        with Ledger.open(folder / "bench-ledger.sqlite3") as ledger:
            ledger.freeze(1, [(r, message_id(1, settings, r.address)) for r in recipients])
            start = time.perf_counter()
            deliver(message, 1, ledger, Transport(config), "dx@example.go.jp", SendOptions(rate=0, progress=False, progress_stream=io.StringIO()))
            ledgered = time.perf_counter() - start
        data = personalize(message, recipients[0], message_id(1, settings))
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", controller.port) as client:
            for recipient in recipients:
                client.sendmail("dx@example.go.jp", [recipient.address], data)
        plain = time.perf_counter() - start
    finally:
        controller.stop()
    return {"messages": count, "sends_per_second": count / ledgered, "smtplib_sends_per_second": count / plain,
            "ledger_over_smtplib": ledgered / plain}


