"""Unsubscribing that works inside a closed network: every reader's message carries a `mailto:` to the team's
mailbox whose subject names the issue and a token of that reader's own, and `suppress import` reads the requests
that arrive there (saved from Outlook as .eml or .msg) and suppresses whoever they name.

RFC 8058 one-click (`List-Unsubscribe-Post`) is offered only when an HTTPS endpoint that accepts the POST is
configured (`email.unsubscribe_endpoint`); the endpoint gets the same token, which only this ledger can resolve.
Tokens are an HMAC of the address with a secret kept in the ledger: they cannot be guessed from an address, so
nobody can unsubscribe a colleague by writing their token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from dayori.config import Settings
from dayori.delivery.ledger import Ledger
from dayori.delivery.outlook import read_mail
from dayori.delivery.subscribers import Recipient, address_problem
from dayori.email.render import unsubscribe_mailbox

_SCHEMA = "CREATE TABLE IF NOT EXISTS ledger_secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL)"
TOKEN = re.compile(r"dayori-(\d{1,7})-([a-z2-7]{16})\b", re.IGNORECASE)
"""How a token appears in a request's subject (or an endpoint's forwarded mail): `dayori-12-abcdefghijklmnop`."""


def ledger_secret(ledger: Ledger) -> bytes:
    """The ledger's own secret for tokens, made on first use; a copy of the ledger keeps it, so tokens in mail
    already sent stay valid."""
    with ledger.transaction() as db:
        db.execute(_SCHEMA)
        row = db.execute("SELECT value FROM ledger_secrets WHERE name = 'unsubscribe'").fetchone()
        if row is None:
            value = secrets.token_bytes(32)
            db.execute("INSERT INTO ledger_secrets (name, value) VALUES ('unsubscribe', ?)", (value,))
            return value
    return bytes(row[0])


def token(secret: bytes, recipient: Recipient) -> str:
    digest = hmac.new(secret, recipient.key.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode("ascii").lower()


def reference(vol: int, secret: bytes, recipient: Recipient) -> str:
    return f"dayori-{vol}-{token(secret, recipient)}"


def reader_headers(settings: Settings, vol: int, secret: bytes, recipient: Recipient) -> dict[str, str]:
    """One reader's List-Unsubscribe: the team mailbox with their token in the subject, then the one-click endpoint
    (with List-Unsubscribe-Post) when configured, else the unsubscribe page."""
    ref = reference(vol, secret, recipient)
    targets = []
    mailbox = unsubscribe_mailbox(settings)
    if mailbox:
        targets.append(f"mailto:{mailbox}?subject={quote(f'unsubscribe {ref}')}")
    endpoint = settings.email.unsubscribe_endpoint.strip()
    page = settings.email.unsubscribe_url
    if endpoint:
        separator = "&" if "?" in endpoint else "?"
        targets.append(f"{endpoint}{separator}{urlencode({'token': ref})}")
    elif page.startswith(("https://", "http://")):
        targets.append(page)
    headers = {"List-Unsubscribe": ", ".join(f"<{target}>" for target in targets)}
    if endpoint:
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def resolve(ledger: Ledger, secret: bytes, references: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """(vol, token) → the address it was made for, among that issue's readers in the ledger."""
    wanted: dict[int, set[str]] = {}
    for vol, value in references:
        wanted.setdefault(vol, set()).add(value.lower())
    found: dict[tuple[int, str], str] = {}
    for vol, values in wanted.items():
        for row in ledger.recipients(vol):
            value = token(secret, row.recipient)
            if value in values:
                found[(vol, value)] = row.recipient.address
    return found


REQUEST_WORDS = re.compile(r"unsubscribe|配信停止|購読停止|配信解除|購読解除|停止", re.IGNORECASE)
MAIL_SUFFIXES = (".eml", ".msg")


@dataclass
class ImportReport:
    """What `suppress import` read: counts only, addresses stay inside."""

    files: int = 0
    by_token: set[str] = field(default_factory=set)
    """Readers named by the token in a request's subject (whoever sent it)."""
    by_sender: set[str] = field(default_factory=set)
    """Senders of requests without a token this ledger knows."""
    not_requests: int = 0
    """Mails that do not ask to unsubscribe (a question, a bounce): left alone."""

    @property
    def addresses(self) -> set[str]:
        return self.by_token | self.by_sender


def mail_files(paths: Iterable[Path]) -> list[Path]:
    """The files given, and the .eml and .msg files in each folder given (where Outlook drags them)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in MAIL_SUFFIXES and p.is_file())
        else:
            found.append(path)
    return found


def read_requests(ledger: Ledger, paths: Iterable[Path]) -> ImportReport:
    """Reads every file first (raising MailFileError, before anything changes), then resolves the tokens."""
    report = ImportReport()
    mails = [read_mail(path) for path in mail_files(paths)]
    report.files = len(mails)
    secret = ledger_secret(ledger)
    wanted = [(mail, TOKEN.search(mail.subject)) for mail in mails]
    known = resolve(ledger, secret, [(int(m.group(1)), m.group(2)) for _, m in wanted if m is not None])
    for mail, match in wanted:
        reader = known.get((int(match.group(1)), match.group(2).lower())) if match is not None else None
        if mail.report or (match is None and not REQUEST_WORDS.search(mail.subject)):
            report.not_requests += 1
        elif reader is not None:
            report.by_token.add(reader)
        elif mail.sender and address_problem(mail.sender) is None:
            report.by_sender.add(mail.sender)
        else:
            report.not_requests += 1
    return report
