"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives and misbehaves on cue.

Misbehaviour is keyed by the transaction number (1, 2, … counted at RCPT, retries included) so tests can say
"drop the connection at the 3rd message" the way a flaky production server would.
"""

from __future__ import annotations

import asyncio
import email
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    recipients: list[str]
    message: EmailMessage


@dataclass
class Plan:
    drop_at_rcpt: set[int] = field(default_factory=set)
    """Close the connection when this transaction's RCPT arrives (nothing delivered)."""
    drop_after_data: set[int] = field(default_factory=set)
    """Keep the message, then close the connection without answering (the sender cannot know)."""
    tempfail_rcpt: set[int] = field(default_factory=set)
    """Answer 451 to this transaction's RCPT."""
    down_after: int | None = None
    """After this many delivered messages, drop every new connection (a server that went away)."""
    hold_data: set[int] = field(default_factory=set)
    """Keep this transaction's message but answer its DATA only after `Recorder.release()`: the sender stays
    mid-send, waiting for the answer, for as long as the test needs (to start another send, to kill it)."""


class Recorder:
    """The aiosmtpd handler: keeps every accepted message and follows the plan."""

    def __init__(self, plan: Plan | None = None) -> None:
        self.plan = plan or Plan()
        self.received: list[Received] = []
        self.transactions = 0
        self._lock = threading.Lock()
        self._released = threading.Event()

    def release(self) -> None:
        """Answers the held DATA commands, and every later one at once."""
        self._released.set()

    @property
    def is_down(self) -> bool:
        return self.plan.down_after is not None and len(self.received) >= self.plan.down_after

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        if self.is_down:
            server.transport.abort()
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self._lock:
            self.transactions += 1
            number = self.transactions
        envelope.dayori_number = number
        if number in self.plan.drop_at_rcpt or self.is_down:
            server.transport.abort()
            return "421 closing"
        if number in self.plan.tempfail_rcpt:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(Received(list(envelope.rcpt_tos), message))
        if getattr(envelope, "dayori_number", 0) in self.plan.hold_data:
            while not self._released.is_set():
                await asyncio.sleep(0.01)
        if getattr(envelope, "dayori_number", 0) in self.plan.drop_after_data:
            server.transport.abort()
            await asyncio.sleep(0)
        return "250 2.0.0 accepted"

    def count_by_recipient(self) -> Counter[str]:
        return Counter(address.lower() for item in self.received for address in item.recipients)


class _Controller(Controller):
    """Listens on an ephemeral port; aiosmtpd's own readiness check needs the real port number first."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def password_checker(user: str, password: str) -> Callable[..., AuthResult]:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False)
    return authenticate


class SmtpServer:
    """Context manager: `with SmtpServer(plan) as server: …` then `server.port`, `server.recorder`."""

    def __init__(self, plan: Plan | None = None, *, user: str | None = None, password: str | None = None) -> None:
        self.recorder = Recorder(plan)
        kwargs: dict[str, Any] = {}
        if user is not None:
            kwargs = {"authenticator": password_checker(user, password or ""), "auth_required": True,
                      "auth_require_tls": False}
        self.controller = _Controller(self.recorder, hostname="127.0.0.1", port=0, **kwargs)

    @property
    def port(self) -> int:
        return self.controller.port

    def env(self, **extra: str) -> dict[str, str]:
        return {"DAYORI_SMTP_HOST": "127.0.0.1", "DAYORI_SMTP_PORT": str(self.port),
                "DAYORI_SMTP_SECURITY": "none", **extra}

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.recorder.release()
        self.controller.stop()
