"""Time as delivery sees it: the wall clock for the ledger, a monotonic clock for pacing, and sleeping.

One object holds all three so that a test can run a send of hours against a server that counts minutes and days
by the same scaled time, and a real send waits real minutes.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for intervals."""

    def sleep(self, seconds: float) -> None:
        """Waits `seconds` of this clock's time."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM = SystemClock()
