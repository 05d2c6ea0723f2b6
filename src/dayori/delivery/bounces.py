"""Delivery status notifications (RFC 3464 bounces) read from saved mail: `.eml` files or an mbox.

A recipient whose report says `Action: failed` with a 5.x.x status will never be reached at that address; one
with 4.x.x (or `delayed`) might be tomorrow, so it is only counted.
"""

from __future__ import annotations

import email
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

from dayori.delivery.subscribers import address_problem

PLAIN, GLOBAL = "message/delivery-status", "message/global-delivery-status"


class BounceFileError(Exception):
    """A path given to `bounces` cannot be read; the message names it."""


@dataclass
class BounceReport:
    messages: int = 0
    not_reports: int = 0
    permanent: set[str] = field(default_factory=set)
    temporary: set[str] = field(default_factory=set)


def read_bounces(paths: list[Path]) -> BounceReport:
    report = BounceReport()
    for path in paths:
        for message in _messages(path):
            report.messages += 1
            results = list(_recipients(message))
            if not results:
                report.not_reports += 1
            for address, permanent in results:
                (report.permanent if permanent else report.temporary).add(address.lower())
    report.temporary -= report.permanent
    return report


def _messages(path: Path) -> Iterator[Message]:
    """One message per `.eml`; every message of an mbox (recognised by its `From ` first line, not its name)."""
    try:
        with path.open("rb") as file:
            head = file.read(5)
    except IsADirectoryError as error:
        raise BounceFileError(f"{path}: フォルダーです。.eml ファイルか mbox ファイルを指定してください") from error
    except OSError as error:
        raise BounceFileError(f"{path}: 読めません（{error.strerror or type(error).__name__}）") from error
    if head == b"From ":
        box = mailbox.mbox(path, create=False)
        try:
            for key in box.iterkeys():
                yield email.message_from_bytes(box.get_bytes(key), policy=policy.default)
        finally:
            box.close()
    else:
        yield email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _blocks(part: Message) -> list[Message]:
    """The field blocks of a delivery-status part. The `email` package splits message/delivery-status into
    blocks itself; message/global-delivery-status (RFC 6533, non-ASCII addresses) arrives as one message whose
    body holds the per-recipient blocks."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    blocks = [block for block in payload if isinstance(block, Message)]
    if part.get_content_type() == GLOBAL and len(blocks) == 1:
        rest = blocks[0].get_payload()
        if isinstance(rest, str):
            parser = HeaderParser(policy=policy.default)
            blocks += [parser.parsestr(chunk.strip() + "\n") for chunk in re.split(r"\r?\n[ \t]*\r?\n", rest)
                       if chunk.strip()]
    return blocks


def _recipients(message: Message) -> Iterator[tuple[str, bool]]:
    """(address, permanent) for every failed or delayed recipient in the message's delivery-status parts."""
    for part in message.walk():
        if part.get_content_type() not in (PLAIN, GLOBAL):
            continue
        for block in _blocks(part):
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            action = str(block.get("Action") or "").strip().lower()
            status = str(block.get("Status") or "").strip()
            address = recipient.partition(";")[2].strip().strip("<>") if ";" in recipient else recipient.strip()
            if not address or address_problem(address) is not None:
                continue
            if action == "failed" and status.startswith("5."):
                yield address, True
            elif action in ("failed", "delayed") or status.startswith("4."):
                yield address, False
