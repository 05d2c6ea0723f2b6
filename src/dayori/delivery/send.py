"""Sending one issue to its frozen recipient list: one message per person, paced, retried, and recorded."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from tqdm import tqdm

from dayori.config import TOKYO
from dayori.delivery.ledger import FAILED, PENDING, SENT, UNCERTAIN, Ledger, Row
from dayori.delivery.smtp import ConnectError, Kind, Transport
from dayori.delivery.subscribers import Recipient

log = logging.getLogger("dayori.delivery")


@dataclass(frozen=True)
class SendOptions:
    rate: float = 5.0
    """Messages per second at most (0: no limit); shared mail servers throttle or block bursts."""
    retry_uncertain: bool = False
    max_attempts: int = 5
    backoff: float = 2.0
    """Seconds before the first retry; doubled for each further one, at most a minute."""
    progress: bool | None = None
    """Show a progress bar; None: only when stderr is a terminal."""


@dataclass
class SendSummary:
    vol: int
    attempted: int = 0
    sent_now: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    aborted: str | None = None
    suppressed: int = 0
    """Frozen recipients skipped because they unsubscribed or bounced since."""

    @property
    def complete(self) -> bool:
        return self.aborted is None and self.counts[SENT] + self.suppressed == sum(self.counts.values())


def personalize(message: EmailMessage, recipient: Recipient, message_id: str) -> bytes:
    """The issue's message for one person only: their To, their Message-ID, the time it is actually sent."""
    for name in ("To", "Message-ID", "Date"):
        del message[name]
    message["To"] = Address(display_name=recipient.name, addr_spec=recipient.address)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(dt.datetime.now(TOKYO).replace(microsecond=0))
    return message.as_bytes(policy=policy.SMTP)


class _Pace:
    def __init__(self, rate: float, sleep: Callable[[float], None]) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.sleep = sleep
        self.last = -float("inf")

    def wait(self) -> None:
        delay = self.last + self.interval - time.monotonic()
        if delay > 0:
            self.sleep(delay)
        self.last = time.monotonic()


def deliver(message: EmailMessage, vol: int, ledger: Ledger, transport: Transport, sender: str,
            options: SendOptions = SendOptions(), sleep: Callable[[float], None] = time.sleep,
            suppressed: frozenset[str] = frozenset()) -> SendSummary:
    """Sends to every recipient of `vol` in the ledger who has not been sent the issue yet.

    The ledger is held by this process alone (see Ledger.open), so its to-do list cannot change under us.
    Raises AuthError (nothing can be sent) and KeyboardInterrupt; the ledger is consistent either way.
    """
    summary = SendSummary(vol)
    todo = ledger.todo(vol, retry_uncertain=options.retry_uncertain)
    summary.suppressed = sum(row.recipient.key in suppressed for row in todo)
    todo = [row for row in todo if row.recipient.key not in suppressed]
    show = options.progress if options.progress is not None else sys.stderr.isatty()
    pace = _Pace(options.rate, sleep)
    log.info("第%d号: %d 件に送信します", vol, len(todo))
    try:
        with tqdm(total=len(todo), unit="通", desc=f"第{vol}号", disable=not show, file=sys.stderr) as bar:
            for row in todo:
                pace.wait()
                summary.attempted += 1
                outcome = _send_one(message, vol, row, ledger, transport, sender, options, sleep)
                summary.sent_now += outcome == SENT
                bar.update()
    except ConnectError as error:
        summary.aborted = str(error)
    finally:
        transport.close()
        summary.counts = ledger.counts(vol)
    log.info("第%d号: 今回 %d 件送信、合計 %s", vol, summary.sent_now, dict(summary.counts))
    return summary


def _send_one(message: EmailMessage, vol: int, row: Row, ledger: Ledger, transport: Transport, sender: str,
              options: SendOptions, sleep: Callable[[float], None]) -> str:
    try:
        data = personalize(message, row.recipient, row.message_id)
    except ValueError:
        ledger.mark(vol, row.recipient, FAILED, "氏名に改行などがあり、宛名にできません。購読者リストを直してください")
        return FAILED
    for attempt in range(1, options.max_attempts + 1):
        try:
            result = transport.send(sender, row.recipient.address, data,
                                    lambda: ledger.mark(vol, row.recipient, UNCERTAIN, attempt=True))
        except ConnectError:
            if attempt == options.max_attempts:
                raise
            sleep(_backoff(options, attempt))
            continue
        if result.kind is Kind.SENT:
            ledger.mark(vol, row.recipient, SENT, result.detail)
            return SENT
        if result.kind is Kind.UNCERTAIN:
            ledger.mark(vol, row.recipient, UNCERTAIN, result.detail)
            return UNCERTAIN
        if result.kind is Kind.PERMANENT or attempt == options.max_attempts:
            ledger.mark(vol, row.recipient, FAILED, result.detail)
            return FAILED
        ledger.mark(vol, row.recipient, PENDING, result.detail)
        sleep(_backoff(options, attempt))
    return FAILED


def _backoff(options: SendOptions, attempt: int) -> float:
    return min(60.0, options.backoff * 2 ** (attempt - 1))
