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
import hashlib
import importlib
import inspect
import re
from collections.abc import Iterable
from email.headerregistry import BaseHeader, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from functools import lru_cache
from typing import Any

_parser: Any = importlib.import_module("email._header_value_parser")
_ew: Any = importlib.import_module("email._encoded_words")
"""The library's header parser and encoded words, whose folding `subject_header` copies (private: untyped)."""


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


def subject_header(value: str) -> bytes:
    """`header("Subject", value)`. The library folds a Japanese subject into encoded words of at most a line
    each by encoding ever shorter beginnings of the rest until one fits, some forty encodings of a subject: a
    tenth of the email stage. `_folded_subject` makes the same lines with one; it is a copy of the library's
    folding, so it is used only where the library's is the one it copies (`_ported`) and for the subjects it
    was checked on (`_plain_tokens`, tests/test_email_mime.py)."""
    tokens = _plain_tokens(value) if _ported() else None
    if tokens is None:
        return header("Subject", value)
    return _folded_subject(tokens).encode("ascii")


_UNPLAIN = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]|=\?")
"""Line ends, control characters and unpaired surrogates (refused, or reported as defects), and encoded words
(decoded by the parser): what `_folded_subject` leaves to the library."""


def _plain_tokens(value: str) -> list[Any] | None:
    """The words and spaces of a subject the library folds as encoded words (one not in ASCII)."""
    if value.isascii() or _UNPLAIN.search(value):
        return None
    tokens = _parser.get_unstructured(value)
    if tokens.all_defects or not all(isinstance(token, _parser.Terminal) and token.as_ew_allowed
                                     and token.ew_combine_allowed and token.token_type in ("vtext", "fws")
                                     for token in tokens):
        return None
    return list(tokens)


def _folded_subject(tokens: list[Any]) -> str:
    """`_parser._refold_parse_tree` of a Subject header of `tokens` (whose label, `Subject: `, fits on the
    first line), for terminals that may all be encoded and combined."""
    lines = ["Subject: "]
    last_ew: int | None = None
    want_encoding = False
    parts = list(tokens)
    while parts:
        part = parts.pop(0)
        text = str(part)
        charset = "us-ascii" if text.isascii() else "utf-8"
        want_encoding = want_encoding or charset == "utf-8"
        if want_encoding:
            last_ew = _fold_as_ew(text, lines, last_ew)
            want_encoding = False
            continue
        if len(text) <= _MAX_LINE - len(lines[-1]):
            lines[-1] += text
            continue
        if part.syntactic_break and len(text) + 1 <= _MAX_LINE:
            newline = _parser._steal_trailing_WSP_if_exists(lines)
            if newline or part.startswith_fws():
                lines.append(newline + text)
                last_ew = None
                continue
        parts.insert(0, part)
        want_encoding = True
    return "\r\n".join(lines) + "\r\n"


def _fold_as_ew(to_encode: str, lines: list[str], last_ew: int | None) -> int:
    """`_parser._fold_as_ew` in UTF-8, combining: each line's encoded word is found with one encoding."""
    if last_ew is not None:
        to_encode = str(_parser.get_unstructured(lines[-1][last_ew:] + to_encode))
        lines[-1] = lines[-1][:last_ew]
    if to_encode[0] in _parser.WSP:
        leading_wsp = to_encode[0]
        to_encode = to_encode[1:]
        if len(lines[-1]) == _MAX_LINE:
            lines.append(_parser._steal_trailing_WSP_if_exists(lines))
        lines[-1] += leading_wsp
    trailing_wsp = ""
    if to_encode[-1] in _parser.WSP:
        trailing_wsp = to_encode[-1]
        to_encode = to_encode[:-1]
    new_last_ew = len(lines[-1]) if last_ew is None else last_ew
    while to_encode:
        remaining_space = _MAX_LINE - len(lines[-1])
        text_space = remaining_space - _CHROME
        if text_space <= 0:
            lines.append(" ")
            continue
        word = to_encode[:_fitting(to_encode[:text_space], remaining_space - _CHROME)]
        lines[-1] += _ew.encode(word, charset="utf-8")
        to_encode = to_encode[len(word):]
        if to_encode:
            lines.append(" ")
            new_last_ew = len(lines[-1])
    lines[-1] += trailing_wsp
    return new_last_ew


_CHROME = len("=?utf-8?b??=")


def _fitting(text: str, space: int) -> int:
    """How many of `text`'s first characters the library's loop keeps: the most whose encoding (Q, unless
    base64 is five or more characters shorter) takes at most `space` characters, trying from all of them down."""
    lengths = [0]
    q = size = 0
    for character in text:
        known = _CHARACTERS.get(character)
        if known is None:
            data = character.encode("utf-8")
            known = _CHARACTERS[character] = _ew.len_q(data), len(data)
        q += known[0]
        size += known[1]
        b = -(-size // 3) * 4
        lengths.append(q if q - b < 5 else b)
    return next(count for count in range(len(text), -1, -1) if lengths[count] <= space)


_CHARACTERS: dict[str, tuple[int, int]] = {}
"""Each character of the subjects: its length in Q and in UTF-8 bytes (the characters of a language, a few
thousand at most)."""


@lru_cache(maxsize=1)
def _ported() -> bool:
    """This Python's folding is the one `_folded_subject` copies (Python 3.11 and 3.12.1; 3.13 changed it).
    Functions only: finding a class's source parses its whole module, a tenth of a second."""
    try:
        source = "".join(inspect.getsource(function) for function in (
            _parser._refold_parse_tree, _parser._fold_as_ew, _parser._steal_trailing_WSP_if_exists,
            _parser.get_unstructured, _parser.WhiteSpaceTerminal.startswith_fws,
            _parser.ValueTerminal.startswith_fws, _ew.encode, _ew.len_q, _ew.len_b, BaseHeader.fold,
            UnstructuredHeader.parse, EmailPolicy.fold_binary, EmailPolicy.header_store_parse))
    except (OSError, TypeError):
        return False
    return (hashlib.sha256(source.encode()).hexdigest() == _PORTED_DIGEST and {" ", "\t"} == _parser.WSP
            and UnstructuredHeader.value_parser is _parser.get_unstructured)


_PORTED_DIGEST = "36276ff0eba1299384ea8d7e560f58a4ce0619af71e363bf94d4e28f96d2a6d9"
"""Of the sources `_ported` reads, in Python 3.11.7 and 3.12.1."""

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
        return _plain_image_head(subtype, filename) + f"{line}\r\n".encode("ascii")
    return _image_part_head(subtype, cid, filename)


def _plain_image_head(subtype: str, filename: str) -> bytes:
    """`_image_part_head(subtype, None, filename)`. A picture's file name is most often plain ASCII
    (`figure-12.png`) and each issue's its own, so that the one made for it is rarely made again: the
    library's parsing and folding of such a name comes to the Content-Disposition line as written, when it
    fits (tests/test_email_mime.py)."""
    disposition = f'Content-Disposition: inline; filename="{filename}"'
    if subtype in _IMAGE_SUBTYPES and len(disposition) <= _MAX_LINE and _PLAIN_FILENAME.fullmatch(filename):
        return (f"Content-Type: image/{subtype}\r\nContent-Transfer-Encoding: base64\r\n"
                f"{disposition}\r\n").encode("ascii")
    return _image_part_head(subtype, None, filename)


_IMAGE_SUBTYPES = frozenset({"png", "jpeg", "gif"})
_PLAIN_FILENAME = re.compile(r"[A-Za-z0-9._-]+")


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
    if not encoded:
        return b""
    return b"\r\n".join([encoded[start:start + 76] for start in range(0, len(encoded), 76)]) + b"\r\n"


def text_body(text: str) -> bytes:
    """A text part's payload: its lines with CRLF ends (MIME's canonical form), in base64. Without a CR, the
    lines split at each LF and joined again with CRLF are the text with each LF made CRLF, one at its end."""
    data = text.encode("utf-8")
    if b"\r" in data:
        return base64_body(b"\r\n".join(data.splitlines()) + b"\r\n")
    return base64_body(data.replace(b"\n", b"\r\n") + (b"" if data.endswith(b"\n") else b"\r\n"))


def multipart(boundary: str, parts: Iterable[bytes]) -> bytes:
    """The body of a multipart whose parts are already written (each its headers, a blank line and its body)."""
    delimiter = f"\r\n--{boundary}\r\n".encode("ascii")
    return (f"--{boundary}\r\n".encode("ascii") + delimiter.join(parts)
            + f"\r\n--{boundary}--\r\n".encode("ascii"))
