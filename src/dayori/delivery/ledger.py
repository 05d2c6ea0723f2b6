"""The delivery ledger: one row per (vol, address), so that no rerun ever sends an issue to anyone twice.

A send first freezes its recipients as `pending` rows in one transaction. A row becomes `uncertain` (committed)
just before the message's last byte goes to the server, and `sent` once the server confirms; a crash or Ctrl-C
between the two leaves `uncertain`, which is never resent unless asked. `failed` rows were refused and are
retried by the next run.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from dayori.delivery.subscribers import Recipient

PENDING, SENT, FAILED, UNCERTAIN = "pending", "sent", "failed", "uncertain"
OUTCOMES = (PENDING, SENT, FAILED, UNCERTAIN)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    vol INTEGER NOT NULL,
    address_key TEXT NOT NULL,
    address TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'sent', 'failed', 'uncertain')),
    attempts INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (vol, address_key)
);
CREATE TABLE IF NOT EXISTS runs (
    vol INTEGER PRIMARY KEY,
    frozen_at TEXT NOT NULL,
    recipients INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Row:
    recipient: Recipient
    message_id: str
    outcome: str


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Ledger:
    """SQLite in autocommit-per-statement style: every state change is durable before the next step."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_frozen(self, vol: int) -> bool:
        return self._db.execute("SELECT 1 FROM runs WHERE vol = ?", (vol,)).fetchone() is not None

    def freeze(self, vol: int, recipients: list[tuple[Recipient, str]]) -> None:
        """Stores the recipient list of a first send, all at once or not at all."""
        now = _now()
        with self._transaction():
            self._db.execute("INSERT INTO runs (vol, frozen_at, recipients) VALUES (?, ?, ?)",
                             (vol, now, len(recipients)))
            self._db.executemany(
                "INSERT INTO deliveries (vol, address_key, address, name, position, message_id, outcome, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                [(vol, r.key, r.address, r.name, position, message_id, now)
                 for position, (r, message_id) in enumerate(recipients)])

    def recipients(self, vol: int) -> list[Row]:
        rows = self._db.execute("SELECT address, name, message_id, outcome FROM deliveries WHERE vol = ?"
                                " ORDER BY position", (vol,)).fetchall()
        return [Row(Recipient(address, name), message_id, outcome) for address, name, message_id, outcome in rows]

    def todo(self, vol: int, *, retry_uncertain: bool) -> list[Row]:
        """Who still needs the issue: never `sent`, and `uncertain` only when the sender says so."""
        wanted = {PENDING, FAILED} | ({UNCERTAIN} if retry_uncertain else set())
        return [row for row in self.recipients(vol) if row.outcome in wanted]

    def mark(self, vol: int, recipient: Recipient, outcome: str, detail: str = "", *, attempt: bool = False) -> None:
        self._db.execute("UPDATE deliveries SET outcome = ?, detail = ?, updated_at = ?, attempts = attempts + ?"
                         " WHERE vol = ? AND address_key = ?",
                         (outcome, detail, _now(), int(attempt), vol, recipient.key))

    def counts(self, vol: int) -> Counter[str]:
        rows = self._db.execute("SELECT outcome, COUNT(*) FROM deliveries WHERE vol = ? GROUP BY outcome", (vol,))
        return Counter(dict(rows.fetchall()))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
