"""Progress of the transcodes in the build log, in the words of the person waiting for `make site`:
`動画 2/3「Teams の使い方」変換中 45 %・残り約 1 分`. The numbers come from ffmpeg's own `-progress` reports
(seconds of output written), the remaining time from the pace so far. Lines go to the `dayori.media` logger,
which the builder shows with its own messages."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

log = logging.getLogger("dayori.media")

EVERY_SECONDS = 10.0
"""At most one line per transcode this often: a 5-minute episode reports some twenty times, not hundreds."""


class Progress:
    """Numbers transcodes in the order they start (`2/3`) and writes their lines; thread-safe, since the pool
    runs several at once."""

    def __init__(self, total: int, *, enabled: bool = True, every: float = EVERY_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.enabled = enabled
        self.every = every
        self._clock = clock
        self._started = 0
        self._lock = threading.Lock()

    def waiting(self, title: str) -> None:
        if self.enabled:
            log.info("動画「%s」はほかのビルドが変換中です。終わるのを待って、その結果を使います", title)

    def start(self, title: str, duration: float) -> Callable[[float], None]:
        """Logs the start and returns what to call with each `out_time` (seconds of output written)."""
        with self._lock:
            self._started += 1
            number = self._started
        prefix = f"動画 {number}/{self.total}「{title}」"
        began = last = self._clock()
        if self.enabled:
            log.info("%s変換中 0 %%（長さ %s）", prefix, _minutes_and_seconds(duration))

        def report(done: float) -> None:
            nonlocal last
            now = self._clock()
            if not self.enabled or now - last < self.every or duration <= 0:
                return
            last = now
            fraction = min(max(done / duration, 0.0), 1.0)
            log.info("%s変換中 %d %%%s", prefix, math.floor(fraction * 100), _remaining(now - began, fraction))

        return report

    def finished(self, title: str, seconds: float) -> None:
        if self.enabled:
            log.info("動画「%s」の変換が終わりました（%s）", title, _minutes_and_seconds(seconds))


def _remaining(elapsed: float, fraction: float) -> str:
    """`・残り約 1 分`; nothing until there is a pace to go by (the first 2 %)."""
    if not 0.02 <= fraction < 1:
        return ""
    left = elapsed * (1 - fraction) / fraction
    if left < 55:
        return f"・残り約 {max(10, math.ceil(left / 10) * 10)} 秒"
    return f"・残り約 {max(1, round(left / 60))} 分"


def _minutes_and_seconds(seconds: float) -> str:
    minutes, rest = divmod(max(0, round(seconds)), 60)
    return f"{minutes} 分 {rest} 秒" if minutes else f"{rest} 秒"
