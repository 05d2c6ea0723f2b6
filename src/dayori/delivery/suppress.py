"""Who must not get mail any more: readers who unsubscribed and addresses that bounce for good.

Kept in the ledger's SQLite file (its own table), so that every `send` against that ledger honours it and a backup
of the ledger keeps it. Addresses are personal data: commands print counts, and masked addresses unless asked.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from dayori.delivery.ledger import Ledger
from dayori.delivery.subscribers import Recipient

_SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressions (
    address_key TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    reason TEXT NOT NULL,
    added_at TEXT NOT NULL
)
"""
MANUAL, BOUNCE, REQUEST = "manual", "bounce", "request"
REASON_LABELS = {MANUAL: "配信停止の申し出など（手動）", BOUNCE: "宛先不明などの恒久的な不達",
                 REQUEST: "配信停止の依頼メール（suppress import）"}


@dataclass(frozen=True)
class Entry:
    address: str
    reason: str
    added_at: str


class Suppressions:
    """The suppression table of an open ledger; each change is one committed transaction."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        with ledger.transaction() as db:
            db.execute(_SCHEMA)

    def add(self, addresses: Iterable[str], reason: str) -> int:
        """Adds addresses (case-insensitively); returns how many were not suppressed before."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._ledger.transaction() as db:
            return sum(db.execute("INSERT OR IGNORE INTO suppressions (address_key, address, reason, added_at)"
                                  " VALUES (?, ?, ?, ?)", (a.lower(), a, reason, now)).rowcount for a in addresses)

    def remove(self, addresses: Iterable[str]) -> int:
        with self._ledger.transaction() as db:
            return sum(db.execute("DELETE FROM suppressions WHERE address_key = ?", (a.lower(),)).rowcount
                       for a in addresses)

    def count(self) -> int:
        return cast(int, self._ledger.query("SELECT COUNT(*) FROM suppressions")[0][0])

    def entries(self) -> list[Entry]:
        rows = self._ledger.query("SELECT address, reason, added_at FROM suppressions ORDER BY added_at, address_key")
        return [Entry(str(address), str(reason), str(added_at)) for address, reason, added_at in rows]

    def reasons(self) -> Counter[str]:
        rows = self._ledger.query("SELECT reason, COUNT(*) FROM suppressions GROUP BY reason")
        return Counter({str(reason): cast(int, count) for reason, count in rows})


def suppressed_keys(ledger: Ledger) -> frozenset[str]:
    """The suppressed addresses (lower case) of the ledger a send holds; none before the first `suppress`."""
    try:
        rows = ledger.query("SELECT address_key FROM suppressions")
    except sqlite3.OperationalError:
        return frozenset()
    return frozenset(str(key) for (key,) in rows)


def without_suppressed(recipients: list[Recipient], keys: frozenset[str]) -> tuple[list[Recipient], int]:
    """The recipients still to be mailed, and how many were left out."""
    kept = [r for r in recipients if r.key not in keys]
    return kept, len(recipients) - len(kept)


def mask(address: str) -> str:
    """Enough to recognise an address one knows (first letter, domain), not enough to collect it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
