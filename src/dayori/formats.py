"""How dates, lengths and reading times read in Japanese, the same on the site, in feeds and in email."""

from __future__ import annotations

import datetime as dt
import math

WEEKDAYS = "月火水木金土日"


def japanese_date(day: dt.date) -> str:
    """`2026年11月26日（木）`: readers here expect the weekday beside the date."""
    return f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def duration_label(seconds: float) -> str:
    """`1:23`, as video players show a length."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def duration_words(seconds: float) -> str:
    """`1分23秒`, for a length inside a sentence."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}分{rest:02d}秒"


def reading_minutes(text: str, chars_per_minute: int) -> int:
    """Japanese is read in characters per minute, not words; spaces do not count."""
    characters = len("".join(text.split()))  # split() cuts at exactly the characters isspace() names
    return max(1, math.ceil(characters / chars_per_minute))


def file_size(size: int) -> str:
    """`12.3 MB`, `850 KB`: as Windows Explorer shows a file (1 KB = 1024 bytes), so a download matches."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, math.ceil(size / 1024))} KB"


def japanese_number(number: int) -> str:
    """`2,500万`, `1億7,800万`: large counts read in 万 and 億, as Japanese readers count them."""
    if number < 10_000:
        return f"{number:,}"
    parts = []
    for unit, name in ((100_000_000, "億"), (10_000, "万")):
        count, number = divmod(number, unit)
        if count:
            parts.append(f"{count:,}{name}")
    if number:
        parts.append(f"{number:,}")
    return "".join(parts)
