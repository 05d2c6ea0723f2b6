"""Talking to the SMTP server, and telling apart what the server definitely refused from what it may have
accepted: only the moment between the message's last byte and the server's answer is uncertain."""

from __future__ import annotations

import enum
import os
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dayori.delivery.oauth import (
    OAuthConfig,
    OAuthConfigError,
    TokenError,
    TokenSource,
    xoauth2,
)

SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
AUTH_METHODS = ("basic", "oauth2")
_AUTH_REFUSED = (530, 535)
"""Answers to MAIL that mean the session is not (or no longer) logged in, e.g. Exchange's 5.7.57 or an expired
token: with OAuth, worth one new token and one new connection."""


class ConfigError(Exception):
    """The SMTP settings in the environment are missing or wrong."""


class AuthError(Exception):
    """The server refused the login (password or token); nothing can be sent."""


class _TokenRefused(AuthError):
    """The mail server refused the access token: worth one new token, unlike a failure to get one."""


class ConnectError(Exception):
    """The server cannot be reached (or refuses to talk) right now."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    auth: str = "basic"
    oauth: OAuthConfig | None = None

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
        port = int(port_text) if port_text else SECURITY_PORTS[security]
        auth = env.get("DAYORI_SMTP_AUTH", "basic").strip().lower() or "basic"
        if auth not in AUTH_METHODS:
            raise ConfigError("DAYORI_SMTP_AUTH は basic（ユーザー名とパスワード）か oauth2（Microsoft 365）にしてください")
        user = env.get("DAYORI_SMTP_USER", "")
        if auth == "oauth2":
            try:
                oauth = OAuthConfig.from_env(env)
            except OAuthConfigError as error:
                raise ConfigError(str(error)) from error
            return cls(host, port, security, user, auth=auth, oauth=oauth)
        password = env.get("DAYORI_SMTP_PASSWORD", "")
        if user and not password:
            raise ConfigError("DAYORI_SMTP_USER を設定したときは DAYORI_SMTP_PASSWORD も設定してください")
        return cls(host, port, security, user, password)


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
    """One SMTP connection, opened on demand and reopened after the server drops it.

    With OAuth, a login the server refuses (at AUTH, or later at MAIL) gets one new token and one new
    connection before the refusal counts: the token may have expired or been revoked mid-send."""

    def __init__(self, config: SmtpConfig, tokens: TokenSource | None = None) -> None:
        self.config = config
        self.tokens = tokens if tokens is not None or config.oauth is None else TokenSource(config.oauth)
        self._client: _Client | None = None

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                self._client.close()
            self._client = None

    def _connect(self, sender: str) -> _Client:
        if self.tokens is None:
            return self._open(sender)
        try:
            return self._open(sender)
        except _TokenRefused:
            self.tokens.invalidate()
            return self._open(sender)

    def _open(self, sender: str) -> _Client:
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
            if self.tokens is not None:
                _login_oauth(client, config.user or sender, self.tokens)
            elif config.user:
                client.login(config.user, config.password)
        except TokenError as error:
            raise AuthError(str(error)) from error
        except smtplib.SMTPAuthenticationError as error:
            if self.tokens is not None:
                raise _TokenRefused(f"SMTP サーバーがアクセス トークンを受け付けませんでした（{error.smtp_code}）。"
                                    "アプリに SMTP.SendAsApp の権限と管理者の同意があるか、Exchange Online にサービス"
                                    "プリンシパルと送信元メールボックスの権限を登録したかを確かめてください") from error
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
            self._client = self._connect(sender)
        client = self._client
        client.payload_sent = False
        try:
            code, reply = client.mail(sender)
            if code in _AUTH_REFUSED and self.tokens is not None:
                self._drop()
                self.tokens.invalidate()
                self._client = client = self._connect(sender)
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


def _login_oauth(client: smtplib.SMTP, user: str, tokens: TokenSource) -> None:
    """AUTH XOAUTH2. On a bad token the server sends a 334 with an error report first; the client answers with
    an empty line and then gets the 535 that smtplib raises as SMTPAuthenticationError."""
    initial = xoauth2(user, tokens.token())

    def respond(challenge: bytes | None = None) -> str:
        return initial if challenge is None else ""

    client.auth("XOAUTH2", respond, initial_response_ok=True)
