"""The delivery ledger: one row per (vol, address), so that no rerun ever sends an issue to anyone twice.

A send first freezes its recipients as `pending` rows in one transaction. A row becomes `uncertain` (committed)
just before the message's last byte goes to the server, and `sent` once the server confirms; a crash or Ctrl-C
between the two leaves `uncertain`, which is never resent unless asked. `failed` rows were refused and are
retried by the next run.

The ledger is state, not cache: it cannot be rebuilt, so it lives in `state/` and is one self-contained file
after every commit (rollback journal, `synchronous=FULL`): a plain copy of `ledger.sqlite3` is a complete backup.
An open Ledger holds the file exclusively (SQLite's exclusive locking mode) until it is closed or its process
dies, `kill -9` included: two sends can never work from the same to-do list.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from dayori.config import Settings
from dayori.delivery.subscribers import Recipient
from dayori.store import temporary_beside

PENDING, SENT, FAILED, UNCERTAIN = "pending", "sent", "failed", "uncertain"

LEDGER_NAME = "ledger.sqlite3"
STATE_DIR = "state"
APPLICATION_ID = 0x44617931
"""`PRAGMA application_id` of a Dayori ledger ("Day1"), so that another SQLite file is never written into."""
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_CANNOT_WRITE = {sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
                 sqlite3.SQLITE_CANTOPEN}

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS deliveries (
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
    )""",
    """CREATE TABLE IF NOT EXISTS runs (
        vol INTEGER PRIMARY KEY,
        frozen_at TEXT NOT NULL,
        recipients INTEGER NOT NULL
    )""",
    f"PRAGMA application_id = {APPLICATION_ID}",
)

_RESTORE = ("バックアップ（コピーしておいた ledger.sqlite3）があれば、それをこの場所に戻してから、もう一度実行してください。"
            "新しい台帳で送り直すと、送信済みの人にも二重に届きます。このファイルは変更していません。")


class LedgerError(Exception):
    """The ledger file cannot be used; the message names it and says what to do, in Japanese."""


class LedgerBusy(LedgerError):
    """Another process holds the ledger (which one cannot be known from here)."""


@dataclass(frozen=True)
class Row:
    recipient: Recipient
    message_id: str
    outcome: str


def default_path(settings: Settings) -> Path:
    return settings.root / STATE_DIR / LEDGER_NAME


def legacy_path(settings: Settings) -> Path:
    """Where earlier versions kept the ledger, among the caches that people delete."""
    return settings.cache_path / LEDGER_NAME


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Ledger:
    """One open ledger file, held exclusively. Every state change is committed before the next step.

    Features with their own records in the same file (suppressions, announcements) create their table with
    `CREATE TABLE IF NOT EXISTS` inside `transaction()` and read with `query()`, on this Ledger: a second
    connection to the file, even in the same process, finds it locked.
    """

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db

    @classmethod
    def open(cls, path: Path) -> Ledger:
        """Opens (or first creates) the ledger at `path` and claims it for this process.

        Raises LedgerBusy when another process has it, LedgerError when it is not a usable ledger; in
        neither case is the file changed."""
        if not os.path.lexists(path):
            _create(path)
        _check_header(path)
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=0)
        except sqlite3.Error as error:
            raise _error(path, error) from error
        try:
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("BEGIN EXCLUSIVE")
            _verify(path, db)
            db.execute("COMMIT")
            db.execute("PRAGMA journal_mode=TRUNCATE")
            Path(f"{path}-shm").unlink(missing_ok=True)  # an earlier version's WAL index, now meaningless
            db.execute("PRAGMA synchronous=FULL")
            ledger = cls(path, db)
            with ledger.transaction():
                for statement in _SCHEMA:
                    db.execute(statement)
        except sqlite3.Error as error:
            db.close()
            raise _error(path, error) from error
        except BaseException:
            db.close()
            raise
        return ledger

    def close(self) -> None:
        """Leaves one file behind: the journal, kept open by the exclusive lock, goes with the connection."""
        try:
            self._db.execute("PRAGMA journal_mode=DELETE")
        finally:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All the statements inside, committed together or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def query(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        return self._db.execute(sql, parameters).fetchall()

    def is_frozen(self, vol: int) -> bool:
        return bool(self.query("SELECT 1 FROM runs WHERE vol = ?", (vol,)))

    def freeze(self, vol: int, recipients: list[tuple[Recipient, str]]) -> None:
        """Stores the recipient list of a first send, all at once or not at all."""
        now = _now()
        with self.transaction() as db:
            db.execute("INSERT INTO runs (vol, frozen_at, recipients) VALUES (?, ?, ?)", (vol, now, len(recipients)))
            db.executemany(
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

    def add(self, vol: int, recipients: list[tuple[Recipient, str]]) -> int:
        """Adds readers to a frozen issue (`send --add-new`) after those already there; returns how many were new.
        A reader already in the issue, whatever their outcome, is left as they are."""
        now = _now()
        with self.transaction() as db:
            start = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM deliveries WHERE vol = ?", (vol,)).fetchone()[0]
            added = 0
            for recipient, message_id in recipients:
                added += db.execute(
                    "INSERT OR IGNORE INTO deliveries (vol, address_key, address, name, position, message_id, outcome,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                    (vol, recipient.key, recipient.address, recipient.name, start + added, message_id, now)).rowcount
            db.execute("UPDATE runs SET recipients = recipients + ? WHERE vol = ?", (added, vol))
        return added

    def mark(self, vol: int, recipient: Recipient, outcome: str, detail: str = "", *, attempt: bool = False,
             at: dt.datetime | None = None) -> None:
        when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
        self._db.execute("UPDATE deliveries SET outcome = ?, detail = ?, updated_at = ?, attempts = attempts + ?"
                         " WHERE vol = ? AND address_key = ?",
                         (outcome, detail, when, int(attempt), vol, recipient.key))

    def submitted_since(self, since: dt.datetime) -> list[dt.datetime]:
        """When each message handed to the server since `since` (any issue) was handed over, oldest first: what
        counts against a provider's daily allowance. `uncertain` ones count, the server may have them."""
        cutoff = since.astimezone(dt.UTC).isoformat(timespec="seconds")
        rows = self._db.execute("SELECT updated_at FROM deliveries WHERE outcome IN ('sent', 'uncertain')"
                                " AND updated_at >= ? ORDER BY updated_at", (cutoff,)).fetchall()
        return [dt.datetime.fromisoformat(row[0]) for row in rows]

    def counts(self, vol: int) -> Counter[str]:
        rows = self._db.execute("SELECT outcome, COUNT(*) FROM deliveries WHERE vol = ? GROUP BY outcome", (vol,))
        return Counter(dict(rows.fetchall()))


def default_location(settings: Settings) -> Path:
    """The default ledger of the project, taking over one that an earlier version kept among the caches: starting
    a new ledger there would send the issue again to everyone. Raises LedgerError/LedgerBusy for the old file."""
    path, legacy = default_path(settings), legacy_path(settings)
    if move_legacy(legacy, path):
        print(f"配信台帳を {legacy} から {path} に移しました（キャッシュを消しても台帳が消えないように）。")
    return path


def move_legacy(old: Path, new: Path) -> bool:
    """Moves a ledger from the old default place to the new one, unless one is already there.

    The old ledger was in WAL mode: opening it folds its `-wal` into the file, so the one file moved is all
    of it. Raises LedgerError/LedgerBusy for the old file as `Ledger.open` does."""
    if os.path.lexists(new) or not old.is_file():
        return False
    Ledger.open(old).close()
    new.parent.mkdir(parents=True, exist_ok=True)
    if not _place(old, new):
        return False
    old.unlink()
    return True


def _create(path: Path) -> None:
    """A new, empty ledger appears under its name complete, so that a 0-byte file always means damage.
    Only its owner may read it: it holds every subscriber's address."""
    try:
        temporary = temporary_beside(path)
    except OSError as error:
        raise _cannot_write(path, error.strerror) from error
    try:
        db = sqlite3.connect(temporary, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("COMMIT")
        finally:
            db.close()
        os.chmod(temporary, 0o600)
        _place(temporary, path)
    except (OSError, sqlite3.Error) as error:
        raise _cannot_write(path, str(error)) from error
    finally:
        temporary.unlink(missing_ok=True)


def _place(source: Path, final: Path) -> bool:
    """Gives `source`'s content the name `final` unless something already has it (never overwrites)."""
    try:
        os.link(source, final)
        return True
    except FileExistsError:
        return False
    except OSError:
        copy = temporary_beside(final)
        try:
            shutil.copy2(source, copy)
            os.link(copy, final)
            return True
        except FileExistsError:
            return False
        finally:
            copy.unlink(missing_ok=True)


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except OSError as error:
        raise LedgerError(f"{path}: 配信台帳を開けません（{error.strerror}）。ファイルの場所と権限を確かめてください。"
                          ) from error
    if not head:
        raise LedgerError(f"{path}: 配信台帳が空（0 バイト）です。コピーや保存の途中で壊れたようです。{_RESTORE}")
    if head != _SQLITE_MAGIC:
        raise LedgerError(f"{path}: 配信台帳として読めません（SQLite のファイルではありません）。"
                          f"--ledger の指定が正しいか確かめてください。{_RESTORE}")


def _verify(path: Path, db: sqlite3.Connection) -> None:
    """Checks, before anything is written, that the file is whole and is a Dayori ledger."""
    check = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if check != ["ok"]:
        raise LedgerError(f"{path}: 配信台帳が壊れています（{check[0]}）。{_RESTORE}")
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    if application_id == APPLICATION_ID or "deliveries" in tables or not tables:
        return
    raise LedgerError(f"{path}: Dayori の配信台帳ではない SQLite のファイルです。--ledger の指定を確かめてください。"
                      "このファイルは変更していません。")


def _cannot_write(path: Path, reason: str | None) -> LedgerError:
    return LedgerError(f"{path}: 配信台帳に書き込めません（{reason}）。フォルダーの権限と空き容量を確かめてから、"
                       "もう一度実行してください。")


def _error(path: Path, error: sqlite3.Error) -> LedgerError:
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code in _CANNOT_WRITE:
        return _cannot_write(path, str(error))
    if code in _BUSY:
        return LedgerBusy(
            f"{path}: 別の送信（python -m dayori send）など、ほかの dayori のコマンドがこの台帳を使っています。"
            "二重に届いたり記録が食い違ったりしないよう、何も変更せずに止めました。先のコマンドが終わってから、"
            "同じコマンドをもう一度実行してください（send なら、まだ送っていない宛先にだけ送ります）。")
    return LedgerError(f"{path}: 配信台帳が壊れていて読めません（{error}）。{_RESTORE}")
