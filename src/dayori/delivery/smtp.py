"""Talking to the SMTP server, and telling apart what the server definitely refused from what it may have
accepted: only the moment between the message's last byte and the server's answer is uncertain."""

from __future__ import annotations

import enum
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class ConfigError(Exception):
    """The SMTP settings in the environment are missing or wrong."""


class AuthError(Exception):
    """The server refused the user name or password; nothing can be sent."""


class ConnectError(Exception):
    """The server cannot be reached (or refuses to talk) right now."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    user: str = ""
    password: str = ""
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig:
        """From DAYORI_SMTP_* variables only: credentials never live in a file of the repository."""
        env = os.environ if env is None else env
        host = env.get("DAYORI_SMTP_HOST", "").strip()
        if not host:
            raise ConfigError("環境変数 DAYORI_SMTP_HOST に SMTP サーバー名を設定してください")
        security = env.get("DAYORI_SMTP_SECURITY", "starttls").strip().lower() or "starttls"
        if security not in SECURITY_PORTS:
            raise ConfigError("DAYORI_SMTP_SECURITY は starttls・ssl・none のどれかにしてください")
        port_text = env.get("DAYORI_SMTP_PORT", "").strip()
        if port_text and not port_text.isdigit():
            raise ConfigError("DAYORI_SMTP_PORT は数字で指定してください")
        user = env.get("DAYORI_SMTP_USER", "")
        password = env.get("DAYORI_SMTP_PASSWORD", "")
        if user and not password:
            raise ConfigError("DAYORI_SMTP_USER を設定したときは DAYORI_SMTP_PASSWORD も設定してください")
        return cls(host, int(port_text) if port_text else SECURITY_PORTS[security], security, user, password)


class Kind(enum.Enum):
    SENT = "sent"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Result:
    kind: Kind
    detail: str = ""


class _Client(smtplib.SMTP):
    """smtplib's DATA step, with a hook before the message goes out so the caller can record the uncertainty.

    `payload_sent` turns true once every byte, the final dot included, has left: before that the server
    cannot have accepted the message; after it, until the answer, nobody knows."""

    payload_sent = False

    def send_payload(self, data: bytes, before_payload: Callable[[], None]) -> tuple[int, bytes]:
        self.payload_sent = False
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            return code, reply
        payload = re.sub(rb"(?m)^\.", b"..", data)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        before_payload()
        self.send(payload + b".\r\n")
        self.payload_sent = True
        return self.getreply()


class _SslClient(smtplib.SMTP_SSL, _Client):
    pass


def _classify(code: int, reply: bytes, step: str) -> Result:
    detail = f"{step} {code} {reply.decode('utf-8', 'replace')[:200]}"
    return Result(Kind.TEMPORARY if 400 <= code < 500 else Kind.PERMANENT, detail)


class Transport:
    """One SMTP connection, opened on demand and reopened after the server drops it."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._client: _Client | None = None

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                self._client.close()
            self._client = None

    def _connect(self) -> _Client:
        config = self.config
        context = ssl.create_default_context()
        try:
            if config.security == "ssl":
                client: _Client = _SslClient(config.host, config.port, timeout=config.timeout, context=context)
            else:
                client = _Client(config.host, config.port, timeout=config.timeout)
                if config.security == "starttls":
                    client.starttls(context=context)
            client.ehlo_or_helo_if_needed()
            if config.user:
                client.login(config.user, config.password)
        except smtplib.SMTPAuthenticationError as error:
            raise AuthError(f"SMTP サーバーがユーザー名またはパスワードを受け付けませんでした（{error.smtp_code}）。"
                            "DAYORI_SMTP_USER と DAYORI_SMTP_PASSWORD を確かめてください") from error
        except smtplib.SMTPNotSupportedError as error:
            raise AuthError("SMTP サーバーがログイン（AUTH）に対応していません。DAYORI_SMTP_SECURITY を確かめてください"
                            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise ConnectError(f"SMTP サーバー {config.host}:{config.port} に接続できません（{error}）") from error
        return client

    def send(self, sender: str, recipient: str, data: bytes, before_payload: Callable[[], None]) -> Result:
        """Sends one message; raises ConnectError when no connection can be made, AuthError on a refused login."""
        if self._client is None:
            self._client = self._connect()
        client = self._client
        client.payload_sent = False
        try:
            code, reply = client.mail(sender)
            if code != 250:
                return self._refused(code, reply, "MAIL")
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                return self._refused(code, reply, "RCPT")
            code, reply = client.send_payload(data, before_payload)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._client = None
            client.close()
            if client.payload_sent:
                return Result(Kind.UNCERTAIN, f"送信直後に接続が切れました（{type(error).__name__}）")
            return Result(Kind.TEMPORARY, f"接続が切れました（{type(error).__name__}）")
        if code == 250:
            return Result(Kind.SENT, f"DATA {code}")
        return self._refused(code, reply, "DATA")

    def _refused(self, code: int, reply: bytes, step: str) -> Result:
        """After a refusal the transaction is reset; a 421 means the server is closing, so reconnect."""
        if code in (421, -1) or self._client is None:
            self._drop()
        else:
            try:
                self._client.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
        return _classify(code, reply, step)

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
