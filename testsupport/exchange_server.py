"""A local SMTP server (aiosmtpd on 127.0.0.1) that answers the way Exchange Online's client submission does
under load, on a scaled clock shared with the sender, so that minutes and days pass in fractions of a second:

- a quota of messages per minute, answered after the message with
  `554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException` (a 5xx that means "later");
- bursts of `432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded`;
- a reply after the message without a status code (`OK queued as 12345`), the message kept;
- a daily cap of recipients in any 24 hours, answered with 5.1.90 (or, as Exchange also does, with the same
  SubmissionQuotaExceeded as the minute's quota).

A refused message is never kept: `received` is exactly what readers' mailboxes would hold.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from testsupport.smtp_server import Plan, Recorder, SmtpServer, _Controller

QUOTA = ("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due "
         "to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData]")
THREAD_LIMIT = "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded"
DAILY_CAP = "550 5.1.90 Your message can't be sent because you've reached your daily limit for message recipients"
NO_CODE = "OK queued as 12345"


class ScaledClock:
    """Time that runs `scale` times faster than real time, from a fixed start; `advance` jumps ahead (a day
    passes). The sender (dayori.delivery.clock.Clock) and the server read the same one."""

    def __init__(self, scale: float = 600.0, start: dt.datetime = dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC)):
        self.scale = scale
        self.start = start
        self.origin = time.monotonic()
        self.offset = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return (time.monotonic() - self.origin) * self.scale + self.offset

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.monotonic())

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds


@dataclass
class ExchangePlan(Plan):
    per_minute: int | None = 30
    """Messages accepted in any 60 seconds of the clock; more get QUOTA."""
    per_day: int | None = None
    """Recipients accepted in any 24 hours; more get `daily_reply`."""
    daily_reply: str = DAILY_CAP
    quota_at: set[int] = field(default_factory=set)
    """Transactions answered QUOTA whatever the count (another program sending from the same mailbox)."""
    thread_limit_at: set[int] = field(default_factory=set)
    """Transactions answered THREAD_LIMIT after the message."""
    no_code_at: set[int] = field(default_factory=set)
    """Transactions whose message is kept and answered NO_CODE."""
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    """Addresses answered at RCPT with the reply given (an unknown recipient)."""


class ExchangeRecorder(Recorder):
    def __init__(self, plan: ExchangePlan, clock: ScaledClock) -> None:
        super().__init__(plan)
        self.exchange = plan
        self.clock = clock
        self.accepted: deque[float] = deque()
        self.answers: list[str] = []
        """Every refusal sent, in order: what the sender had to cope with."""

    def _refuse(self, reply: str) -> str:
        with self._lock:
            self.answers.append(reply)
        return reply

    def _over(self, window: float, limit: int | None) -> bool:
        if limit is None:
            return False
        now = self.clock.monotonic()
        return sum(1 for t in self.accepted if t > now - window) >= limit

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.exchange.refuse_rcpt:
            return self._refuse(self.exchange.refuse_rcpt[address])
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        number = getattr(envelope, "dayori_number", 0)
        plan = self.exchange
        if number in plan.thread_limit_at:
            return self._refuse(THREAD_LIMIT)
        if self._over(86400.0, plan.per_day):
            return self._refuse(plan.daily_reply)
        if number in plan.quota_at or self._over(60.0, plan.per_minute):
            return self._refuse(QUOTA)
        answer = await super().handle_DATA(server, session, envelope)
        with self._lock:
            self.accepted.append(self.clock.monotonic())
        return NO_CODE if number in plan.no_code_at else answer

    def count(self, reply: str) -> int:
        return sum(answer == reply for answer in self.answers)


class ExchangeServer(SmtpServer):
    """`with ExchangeServer(ExchangePlan(...), clock) as server:` — no login (a connector relay by IP address),
    so the sender runs with DAYORI_SMTP_AUTH=none over an Exchange Online profile."""

    def __init__(self, plan: ExchangePlan, clock: ScaledClock) -> None:
        self.recorder: ExchangeRecorder = ExchangeRecorder(plan, clock)
        self.controller = _Controller(self.recorder, hostname="127.0.0.1", port=0)

    def env(self, **extra: str) -> dict[str, str]:
        return {"DAYORI_SMTP_PROFILE": "exchange-online", "DAYORI_SMTP_HOST": "127.0.0.1",
                "DAYORI_SMTP_PORT": str(self.port), "DAYORI_SMTP_SECURITY": "none", "DAYORI_SMTP_AUTH": "none",
                **extra}
