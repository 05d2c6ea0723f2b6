"""Numbers, durations and times as the people who run a send read them: in Japanese, counts with thousands
separators, times in Japan Standard Time (`2026年12月6日 11:47`), never a Python value."""

from __future__ import annotations

import datetime as dt
import math

from dayori.config import TOKYO


def count(number: int) -> str:
    return f"{number:,}"


def duration(seconds: float) -> str:
    """`約 2 時間 20 分`, `約 5 分`, `1 分未満`; days past 24 hours."""
    if not math.isfinite(seconds) or seconds < 0:
        return "不明"
    minutes = math.ceil(seconds / 60)
    if seconds < 60:
        return "1 分未満"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} 日" if days else "", f"{hours} 時間" if hours else "", f"{minutes} 分" if minutes else ""]
    return "約 " + " ".join(part for part in parts if part)


def japan_time(moment: dt.datetime | str) -> str:
    """An aware time (or the ledger's ISO text) in JST: `2026年12月6日 11:47`. Unreadable text is shown as it is."""
    if isinstance(moment, str):
        try:
            moment = dt.datetime.fromisoformat(moment)
        except ValueError:
            return str(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(TOKYO)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour}:{local.minute:02d}"


def wait(seconds: float) -> str:
    """A pause: `30 秒`, `約 2 分`."""
    if seconds < 60:
        return f"{math.ceil(seconds)} 秒"
    return duration(seconds)
