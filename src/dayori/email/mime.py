"""The `email` package's SMTP policy, with each distinct header parsed and folded once per process.

A build writes hundreds of messages whose headers are mostly the same (From, Reply-To, List-Unsubscribe, the
parts' Content-Type): parsing and folding them again for every message took ten times as long as writing the
bytes by hand. Header objects are immutable, so sharing them between messages changes nothing in the output.
The caches are small: the shared headers stay in them, while a message's own (subject, boundaries) would
only fill memory, some twenty megabytes for five hundred issues.
"""

from __future__ import annotations

import binascii
import datetime as dt
import re
from collections.abc import Iterable
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from functools import lru_cache
from typing import Any


class ReusingPolicy(EmailPolicy):
    """`email.policy.SMTP` (CRLF line ends, RFC 2047 headers, RFC 2231 parameters) with shared headers."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if isinstance(value, str) and not hasattr(value, "name"):
            return _parsed(self, name, value)
        return super().header_store_parse(name, value)

    def header_max_count(self, name: str) -> int | None:
        return _max_count(self, name.lower())

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:
        if hasattr(value, "name"):
            return _folded(self, name, type(value).__name__, value)
        return str(super()._fold(name, value, refold_binary))  # type: ignore[misc]


@lru_cache(maxsize=256)
def _parsed(policy: ReusingPolicy, name: str, value: str) -> tuple[str, Any]:
    return EmailPolicy.header_store_parse(policy, name, value)


@lru_cache(maxsize=256)
def _max_count(policy: ReusingPolicy, name: str) -> int | None:
    return EmailPolicy.header_max_count(policy, name)


@lru_cache(maxsize=256)
def _folded(policy: ReusingPolicy, name: str, kind: str, value: Any) -> str:
    return str(value.fold(policy=policy))


SMTP = ReusingPolicy(linesep="\r\n")


def header(name: str, value: str) -> bytes:
    """One header line (folded, CRLF) as the generator writes a header set as `message[name] = value`."""
    return SMTP.fold_binary(*SMTP.header_store_parse(name, value))


def message_id_header(value: str) -> bytes:
    """`header("Message-ID", value)`; an id of plain dot-separated words that fits on the line is written as
    it is, which is what the library's parsing and folding come to (tests/test_email_mime.py)."""
    line = f"Message-ID: {value}"
    if len(line) <= _MAX_LINE and _PLAIN_ID.fullmatch(value):
        return f"{line}\r\n".encode("ascii")
    return header("Message-ID", value)


def date_header(when: dt.datetime) -> bytes:
    """`header("Date", format_datetime(when))`: the library parses the date and writes it again the same way, on
    one line (tests/test_email_mime.py); a year before 1000 it would read as two digits, so it folds that."""
    value = format_datetime(when)
    line = f"Date: {value}"
    if len(line) <= _MAX_LINE and _PLAIN_DATE.fullmatch(value):
        return f"{line}\r\n".encode("ascii")
    return header("Date", value)


def multipart_head(subtype: str, boundary: str) -> bytes:
    """A multipart's Content-Type with the boundary `set_boundary` gives it. For a boundary of letters,
    digits, `=` and `-` (Dayori's), the library's folding comes to: the line as written when it fits, else
    the parameter alone on the next line (tests/test_email_mime.py)."""
    value = f'multipart/{subtype}; boundary="{boundary}"'
    if not (_PLAIN_TOKEN.fullmatch(subtype) and _PLAIN_BOUNDARY.fullmatch(boundary)):
        return header("Content-Type", value)
    line = f"Content-Type: {value}"
    if len(line) <= _MAX_LINE:
        return f"{line}\r\n".encode("ascii")
    parameter = f' boundary="{boundary}"'
    if len(parameter) + 1 <= _MAX_LINE:
        return f"Content-Type: multipart/{subtype};\r\n{parameter}\r\n".encode("ascii")
    return header("Content-Type", value)


_MAX_LINE = 78
_PLAIN_ID = re.compile(r"<[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>")
_PLAIN_TOKEN = re.compile(r"[a-z]+")
_PLAIN_BOUNDARY = re.compile(r"[A-Za-z0-9=-]+")
_PLAIN_DATE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                         r"[1-9]\d{3} \d\d:\d\d:\d\d [+-]\d{4}")


@lru_cache(maxsize=256)
def shared_header(name: str, value: str) -> bytes:
    """`header` for a value every message carries (From, List-Unsubscribe): folded once per process."""
    return header(name, value)


@lru_cache(maxsize=4)
def text_part_head(subtype: str) -> bytes:
    """The headers of a UTF-8 text part as `set_content(text, subtype=…, charset="utf-8", cte="base64")` makes them."""
    part = EmailMessage(policy=SMTP)
    part.set_content("", subtype=subtype, charset="utf-8", cte="base64")
    return _head(part)


def image_part_head(subtype: str, cid: str, filename: str) -> bytes:
    """The headers of a picture's part as `add_related` makes them (RFC 2231 for a Japanese file name). The
    Content-ID comes last; one of plain words that fits on its line is written as it is, which is what the
    library's folding comes to (tests/test_email_mime.py), after the other headers of a picture of that
    type and name, made once."""
    line = f"Content-ID: {cid}"
    if len(line) <= _MAX_LINE and _PLAIN_ID.fullmatch(cid):
        return _image_part_head(subtype, None, filename) + f"{line}\r\n".encode("ascii")
    return _image_part_head(subtype, cid, filename)


@lru_cache(maxsize=1024)
def _image_part_head(subtype: str, cid: str | None, filename: str) -> bytes:
    part = EmailMessage(policy=SMTP)
    part.set_content(b"", maintype="image", subtype=subtype, cid=cid, filename=filename, disposition="inline")
    return _head(part)


def _head(part: EmailMessage) -> bytes:
    del part["MIME-Version"]  # a part has none (see `EmailRenderer.mime_message`)
    return b"".join(SMTP.fold_binary(name, value) for name, value in part.raw_items())


def base64_body(data: bytes) -> bytes:
    """`data` in base64 lines of 76 characters, each ended by CRLF, as the generator writes a part's payload."""
    encoded = binascii.b2a_base64(data, newline=False)
    return b"".join([encoded[start:start + 76] + b"\r\n" for start in range(0, len(encoded), 76)])


def text_body(text: str) -> bytes:
    """A text part's payload: its lines with CRLF ends (MIME's canonical form), in base64."""
    return base64_body(b"\r\n".join(text.encode("utf-8").splitlines()) + b"\r\n")


def multipart(boundary: str, parts: Iterable[bytes]) -> bytes:
    """The body of a multipart whose parts are already written (each its headers, a blank line and its body)."""
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    return (f"--{boundary}\r\n".encode("ascii") + delimiter.join(parts)
            + f"\r\n--{boundary}--\r\n".encode("ascii"))
