"""Sending one issue to its frozen recipient list: one message per person, paced under the provider's limits,
slowed down when the server asks, stopped for the day before the daily cap, and every step recorded.

What the server answers decides what happens (smtp.classify): a quota or throttling answer means "later" (wait,
slow down, carry on), a daily cap ends the run with the time to run again, an answer that cannot be read after the
message went out is `uncertain`, and only a refusal of the reader's address is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TextIO

from tqdm import tqdm

from dayori.config import TOKYO
from dayori.delivery import words
from dayori.delivery.clock import SYSTEM, Clock
from dayori.delivery.ledger import FAILED, PENDING, SENT, UNCERTAIN, Ledger, Row
from dayori.delivery.profiles import pace_per_minute
from dayori.delivery.smtp import ConnectError, Kind, Result, Transport
from dayori.delivery.subscribers import Recipient

DAY = dt.timedelta(hours=24)
THROTTLE_FIRST_WAIT = 60.0
"""After a quota answer: the rest of the provider's minute, and a little more."""
THROTTLE_SHORT_WAIT = 15.0
"""After a burst answer (too many connections, a busy server)."""
THROTTLE_MAX_WAIT = 900.0
SLOWER = 0.75
"""Each throttling answer lowers the pace to this share of what it was."""
DAILY = "daily"
BUSY = "busy"


@dataclass(frozen=True)
class SendOptions:
    rate: float | None = None
    """Messages per second at most (0: no limit); None: under the server's per-minute limit (see profiles)."""
    retry_uncertain: bool = False
    max_attempts: int = 5
    backoff: float = 2.0
    """Seconds before the first retry of a temporary refusal; doubled for each further one, at most a minute."""
    progress: bool | None = None
    """Show a progress bar; None: only when stderr is a terminal (plain lines otherwise)."""
    throttle_budget: float = 3600.0
    """Seconds the server may keep asking to slow down, without accepting anything, before the run pauses."""
    progress_stream: TextIO | None = None
    """Where progress goes; None: standard error."""


@dataclass
class SendSummary:
    vol: int
    attempted: int = 0
    sent_now: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    aborted: str | None = None
    """Why the run stopped before the end (the server went away, refused the sender), in Japanese."""
    suppressed: int = 0
    """Frozen recipients skipped because they unsubscribed or bounced since."""
    paused_until: dt.datetime | None = None
    """The run stopped for a provider's limit; the next run may continue from this time."""
    pause_reason: str = ""
    throttled: int = 0
    """Answers that asked the sender to slow down (none of them is a failure)."""
    deferred: int = 0
    """Readers left pending after repeated temporary refusals: the next run tries them again."""
    slowed_to: float | None = None
    """Messages a minute the run slowed down to after throttling answers, if it did."""

    @property
    def complete(self) -> bool:
        return (self.aborted is None and self.paused_until is None
                and self.counts[SENT] + self.suppressed == sum(self.counts.values()))


def personalize(message: EmailMessage, recipient: Recipient, message_id: str,
                headers: dict[str, str] | None = None, now: dt.datetime | None = None) -> bytes:
    """The issue's message for one person only: their To, their Message-ID, the time it is actually sent, and
    any header of theirs alone (their unsubscribe address)."""
    for name in ("To", "Message-ID", "Date", *(headers or {})):
        del message[name]
    message["To"] = Address(display_name=recipient.name, addr_spec=recipient.address)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime((now or dt.datetime.now(TOKYO)).astimezone(TOKYO).replace(microsecond=0))
    for name, value in (headers or {}).items():
        message[name] = value
    return message.as_bytes(policy=policy.SMTP)


class _Pace:
    """At most `per_minute` messages a minute, evenly spaced, on the send's clock. Slowed down by each throttling
    answer; back up a step after every RECOVER_AFTER acceptances in a row, never above where it started."""

    RECOVER_AFTER = 20

    def __init__(self, per_minute: float | None, clock: Clock) -> None:
        self.target = self.per_minute = per_minute
        self.clock = clock
        self.last = -float("inf")
        self.streak = 0

    @property
    def interval(self) -> float:
        return 60.0 / self.per_minute if self.per_minute else 0.0

    def wait(self) -> None:
        delay = self.last + self.interval - self.clock.monotonic()
        if delay > 0:
            self.clock.sleep(delay)
        self.last = self.clock.monotonic()

    def slow_down(self) -> None:
        self.streak = 0
        self.per_minute = max(1.0, (self.per_minute or 60.0) * SLOWER)

    def accepted(self) -> None:
        self.streak += 1
        if self.streak < self.RECOVER_AFTER or self.per_minute == self.target:
            return
        self.streak = 0
        faster = (self.per_minute or 0.0) / SLOWER
        self.per_minute = None if self.target is None and faster > 60.0 else \
            faster if self.target is None else min(self.target, faster)


class _Window:
    """What a provider's daily allowance (recipients in any 24 hours) leaves: the ledger's record of earlier
    sends from this ledger, and this run's."""

    def __init__(self, per_day: int | None, times: Iterable[dt.datetime]) -> None:
        self.per_day = per_day
        self.times: deque[dt.datetime] = deque(times)

    def used(self, now: dt.datetime) -> int:
        while self.times and self.times[0] <= now - DAY:
            self.times.popleft()
        return len(self.times)

    def full(self, now: dt.datetime) -> bool:
        return self.per_day is not None and self.used(now) >= self.per_day

    def room(self, now: dt.datetime) -> int | None:
        return None if self.per_day is None else max(0, self.per_day - self.used(now))

    def free_again(self, now: dt.datetime) -> dt.datetime:
        """When one more message fits: once the oldest of the counted ones is 24 hours old."""
        used = self.used(now)
        if self.per_day is None or used < self.per_day or not self.times:
            return now + DAY if not self.times else self.times[0] + DAY
        return self.times[used - self.per_day] + DAY

    def record(self, now: dt.datetime) -> None:
        self.times.append(now)


class _Throttle:
    """Waits after answers that ask the sender to slow down: longer for each one in a row, and a budget of time
    without any success after which the run pauses instead of waiting on."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.in_a_row = 0
        self.waited = 0.0

    def next_wait(self, result: Result) -> float | None:
        """Seconds to wait, or None when the budget is spent."""
        base = THROTTLE_FIRST_WAIT if result.code >= 500 or "quota" in result.detail.lower() else THROTTLE_SHORT_WAIT
        wait = min(THROTTLE_MAX_WAIT, base * 2.0 ** self.in_a_row)
        if self.waited + wait > self.budget:
            return None
        self.in_a_row += 1
        self.waited += wait
        return wait

    def reset(self) -> None:
        self.in_a_row, self.waited = 0, 0.0


class _Pause(Exception):
    def __init__(self, until: dt.datetime, reason: str) -> None:
        super().__init__(reason)
        self.until, self.reason = until, reason


class _Abort(Exception):
    """The server refuses the sender or the message: the message says what it answered and what to check."""


class Progress:
    """A progress bar with the count, the rate and the time left on a terminal; plain lines in a log."""

    def __init__(self, vol: int, total: int, clock: Clock, *, tty: bool, per_minute: float | None,
                 stream: TextIO | None = None) -> None:
        self.vol, self.total, self.clock, self.tty = vol, total, clock, tty
        self.per_minute = per_minute
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = clock.monotonic()
        self.last_line = self.started
        self.next_share = 0.1
        self.bar = tqdm(total=total, desc=f"第{vol}号", file=self.stream, bar_format="{desc} {bar} {postfix}",
                        leave=True, ncols=_size(self.stream)[0], nrows=_size(self.stream)[1]) if tty else None

    def rate(self) -> float | None:
        """Messages a minute: what this run achieved once it has a few, else the pace it aims at."""
        elapsed = self.clock.monotonic() - self.started
        if self.done >= 5 and elapsed > 0:
            return self.done / elapsed * 60
        return self.per_minute

    def status(self) -> str:
        remaining = self.total - self.done
        rate = self.rate()
        shown = f"1 分あたり {rate:,.0f} 通" if rate else "速度は測定中"
        left = f"残り {words.count(remaining)} 通"
        if remaining and rate:
            left += f"・{words.duration(remaining / rate * 60)}"
        return f"{words.count(self.done)} / {words.count(self.total)} 通・{shown}・{left}"

    def advance(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(self.status(), refresh=False)
            self.bar.update()
            return
        now = self.clock.monotonic()
        if self.done / max(1, self.total) >= self.next_share or now - self.last_line >= 60:
            while self.done / max(1, self.total) >= self.next_share:
                self.next_share += 0.1
            self.last_line = now
            self.note(f"第{self.vol}号: {self.status()}")

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _size(stream: TextIO) -> tuple[int, int]:
    """The terminal's width and height; one that reports none (0 × 0, as some consoles and pseudo-terminals do)
    counts as 100 × 24: tqdm would otherwise draw nothing at all."""
    try:
        columns, lines = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):
        columns, lines = 0, 0
    return (columns if columns >= 40 else 100), (lines if lines >= 2 else 24)


def deliver(message: EmailMessage, vol: int, ledger: Ledger, transport: Transport, sender: str,
            options: SendOptions = SendOptions(), clock: Clock = SYSTEM, suppressed: frozenset[str] = frozenset(),
            headers_for: Callable[[Recipient], dict[str, str]] | None = None) -> SendSummary:
    """Sends to every recipient of `vol` in the ledger who has not been sent the issue yet.

    The ledger is held by this process alone (see Ledger.open), so its to-do list cannot change under us.
    Raises AuthError (nothing can be sent) and KeyboardInterrupt; the ledger is consistent either way.
    """
    return _Delivery(message, vol, ledger, transport, sender, options, clock, headers_for).run(suppressed)


class _Delivery:
    def __init__(self, message: EmailMessage, vol: int, ledger: Ledger, transport: Transport, sender: str,
                 options: SendOptions, clock: Clock, headers_for: Callable[[Recipient], dict[str, str]] | None
                 ) -> None:
        self.message, self.vol, self.ledger, self.transport, self.sender = message, vol, ledger, transport, sender
        self.options, self.clock, self.headers_for = options, clock, headers_for
        config = transport.config
        if options.rate is None:
            per_minute: float | None = pace_per_minute(config.per_minute)
        else:
            per_minute = options.rate * 60 or None
        self.pace = _Pace(per_minute, clock)
        self.window = _Window(config.per_day, ledger.submitted_since(clock.now() - DAY))
        self.throttle = _Throttle(options.throttle_budget)
        self.summary = SendSummary(vol)

    def run(self, suppressed: frozenset[str]) -> SendSummary:
        summary = self.summary
        todo = self.ledger.todo(self.vol, retry_uncertain=self.options.retry_uncertain)
        summary.suppressed = sum(row.recipient.key in suppressed for row in todo)
        todo = [row for row in todo if row.recipient.key not in suppressed]
        show = self.options.progress if self.options.progress is not None else sys.stderr.isatty()
        progress = Progress(self.vol, len(todo), self.clock, tty=show, per_minute=self.pace.per_minute,
                            stream=self.options.progress_stream)
        self._announce(progress, len(todo))
        try:
            for row in todo:
                if self.window.full(self.clock.now()):
                    raise _Pause(self.window.free_again(self.clock.now()), DAILY)
                self.pace.wait()
                summary.attempted += 1
                summary.sent_now += self._send_one(row, progress) == SENT
                progress.advance()
        except ConnectError as error:
            summary.aborted = str(error)
        except _Abort as error:
            summary.aborted = str(error)
        except _Pause as pause:
            summary.paused_until, summary.pause_reason = pause.until, pause.reason
        finally:
            progress.close()
            self.transport.close()
            summary.counts = self.ledger.counts(self.vol)
        return summary

    def _announce(self, progress: Progress, count: int) -> None:
        if not count:
            return
        per_minute = self.pace.per_minute
        plan = f"第{self.vol}号: {words.count(count)} 通を送ります"
        if per_minute:
            plan += f"（1 分あたり {per_minute:,.0f} 通のペースで{words.duration(count / per_minute * 60)}）"
        progress.note(plan + "。")
        room = self.window.room(self.clock.now())
        if room is not None and room < count:
            progress.note(f"1 日の上限（24 時間で {words.count(self.window.per_day or 0)} 通）があるため、今回は"
                          f" {words.count(room)} 通まで送り、残りは上限に空きができてから続きを送ります。")

    def _send_one(self, row: Row, progress: Progress) -> str:
        ledger, vol, recipient, clock = self.ledger, self.vol, row.recipient, self.clock
        try:
            headers = self.headers_for(recipient) if self.headers_for is not None else None
            data = personalize(self.message, recipient, row.message_id, headers, clock.now())
        except ValueError:
            ledger.mark(vol, recipient, FAILED, "氏名に改行などがあり、宛名にできません。購読者リストを直してください",
                        at=clock.now())
            return FAILED
        refusals = 0
        while True:
            try:
                result = self.transport.send(
                    self.sender, recipient.address, data,
                    lambda: ledger.mark(vol, recipient, UNCERTAIN, attempt=True, at=clock.now()))
            except ConnectError:
                refusals += 1
                if refusals >= self.options.max_attempts:
                    raise
                clock.sleep(self._backoff(refusals))
                continue
            outcome = self._record(row, result, progress)
            if outcome is not None:
                return outcome
            if result.kind is Kind.TEMPORARY:
                refusals += 1
                if refusals >= self.options.max_attempts:
                    self.summary.deferred += 1
                    return PENDING
                clock.sleep(self._backoff(refusals))

    def _record(self, row: Row, result: Result, progress: Progress) -> str | None:
        """Writes what the answer means; returns the reader's outcome, or None to send to them again."""
        ledger, vol, recipient, now = self.ledger, self.vol, row.recipient, self.clock.now()
        kind = result.kind
        if kind is Kind.SENT or kind is Kind.UNCERTAIN:
            ledger.mark(vol, recipient, SENT if kind is Kind.SENT else UNCERTAIN, result.detail, at=now)
            self.window.record(now)
            self.throttle.reset()
            self.pace.accepted()
            return SENT if kind is Kind.SENT else UNCERTAIN
        if kind is Kind.PERMANENT:
            ledger.mark(vol, recipient, FAILED, result.detail, at=now)
            return FAILED
        ledger.mark(vol, recipient, PENDING, result.detail, at=now)
        if kind is Kind.DAILY_CAP:
            raise _Pause(self.window.free_again(now), DAILY)
        if kind is Kind.SENDER and result.code == 530:
            raise _Abort(f"SMTP サーバーがログインを求めています（{result.detail}）。誰にも「失敗」とは記録していません。"
                         "DAYORI_SMTP_USER と DAYORI_SMTP_PASSWORD（Microsoft 365 なら DAYORI_SMTP_AUTH=oauth2）を設定"
                         "してから、同じコマンドをもう一度実行してください")
        if kind is Kind.SENDER:
            raise _Abort(f"SMTP サーバーがこの送信元かメッセージを受け付けません（{result.detail}）。誰にも「失敗」とは"
                         "記録していません。送信元のアカウントと権限（DAYORI_SMTP_USER、email.sender）、メッセージの"
                         "大きさを確かめてから、同じコマンドをもう一度実行してください")
        if kind is Kind.THROTTLED:
            self._slow_down(result, progress)
        return None

    def _slow_down(self, result: Result, progress: Progress) -> None:
        self.summary.throttled += 1
        wait = self.throttle.next_wait(result)
        if wait is None:
            raise _Pause(self.clock.now() + dt.timedelta(hours=1), BUSY)
        self.pace.slow_down()
        self.summary.slowed_to = min(self.pace.per_minute or 0.0, self.summary.slowed_to or float("inf"))
        progress.note(f"SMTP サーバーが送信を待つよう求めています（{result.detail[:80]}）。{words.wait(wait)}"
                      f"待ってから、1 分あたり {self.pace.per_minute:,.0f} 通に下げて続けます（失敗ではありません）。")
        self.clock.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return min(60.0, self.options.backoff * 2.0 ** (attempt - 1))
