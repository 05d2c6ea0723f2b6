"""The `email` package's SMTP policy, with each distinct header parsed and folded once per process.

A build writes hundreds of messages whose headers are mostly the same (From, Reply-To, List-Unsubscribe, the
parts' Content-Type): parsing and folding them again for every message took ten times as long as writing the
bytes by hand. Header objects are immutable, so sharing them between messages changes nothing in the output.
The caches are small: the shared headers stay in them, while a message's own (subject, boundaries) would
only fill memory, some twenty megabytes for five hundred issues.
"""

from __future__ import annotations

from email.policy import EmailPolicy
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
