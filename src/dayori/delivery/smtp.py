"""Talking to the SMTP server, and telling apart what the server definitely refused from what it may have
accepted: only the moment between the message's last byte and the server's answer is uncertain."""

from __future__ import annotations

import enum
import os
import re
import smtplib
import ssl
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dayori.delivery.clock import SYSTEM, Clock
from dayori.delivery.oauth import (
    OAuthConfig,
    OAuthConfigError,
    TokenError,
    TokenSource,
    xoauth2,
)
from dayori.delivery.profiles import PROFILES, Profile

SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
AUTH_METHODS = ("basic", "oauth2", "none")
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
    profile: Profile = PROFILES["generic"]
    per_minute: int | None = None
    """The server's limit of messages a minute (the profile's, or DAYORI_SMTP_PER_MINUTE); None: unknown."""
    per_day: int | None = None
    """The server's limit of recipients in 24 hours (the profile's, or DAYORI_SMTP_DAILY_LIMIT); None: none known."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig:
        """From DAYORI_SMTP_* variables only: credentials never live in a file of the repository. A profile
        (DAYORI_SMTP_PROFILE) fills in what the variables leave out; a variable set explicitly always wins."""
        env = os.environ if env is None else env
        profile = _profile(env)
        host = env.get("DAYORI_SMTP_HOST", "").strip() or profile.host
        if not host:
            raise ConfigError("環境変数 DAYORI_SMTP_HOST に SMTP サーバー名を設定するか、DAYORI_SMTP_PROFILE に"
                              "exchange-online・exchange-hve のどれかを設定してください")
        security = env.get("DAYORI_SMTP_SECURITY", "").strip().lower() or profile.security
        if security not in SECURITY_PORTS:
            raise ConfigError("DAYORI_SMTP_SECURITY は starttls・ssl・none のどれかにしてください")
        port_text = env.get("DAYORI_SMTP_PORT", "").strip()
        if port_text and not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
            raise ConfigError("DAYORI_SMTP_PORT は 1 から 65535 までの数字で指定してください")
        explicit_security = bool(env.get("DAYORI_SMTP_SECURITY", "").strip())
        default_port = profile.port if profile.port is not None and not explicit_security else SECURITY_PORTS[security]
        port = int(port_text) if port_text else default_port
        auth = env.get("DAYORI_SMTP_AUTH", "").strip().lower() or profile.auth
        if auth not in AUTH_METHODS:
            raise ConfigError("DAYORI_SMTP_AUTH は basic（ユーザー名とパスワード）・oauth2（Microsoft 365）・none"
                              "（ログインしない。コネクタで IP アドレスを許可した中継など）のどれかにしてください")
        per_minute = _limit(env, "DAYORI_SMTP_PER_MINUTE", profile.per_minute)
        per_day = _limit(env, "DAYORI_SMTP_DAILY_LIMIT", profile.per_day)
        user = env.get("DAYORI_SMTP_USER", "").strip()
        if auth == "oauth2":
            try:
                oauth = OAuthConfig.from_env(env)
            except OAuthConfigError as error:
                raise ConfigError(str(error)) from error
            return cls(host, port, security, user, auth=auth, oauth=oauth, profile=profile, per_minute=per_minute, per_day=per_day)
        if auth == "none":
            return cls(host, port, security, auth=auth, profile=profile, per_minute=per_minute, per_day=per_day)
        password = env.get("DAYORI_SMTP_PASSWORD", "")
        if user and not password:
            raise ConfigError("DAYORI_SMTP_USER を設定したときは DAYORI_SMTP_PASSWORD も設定してください")
        if profile.auth == "basic" and profile.host and not user:
            raise ConfigError(f"{profile.label}（DAYORI_SMTP_PROFILE={profile.name}）では DAYORI_SMTP_USER と "
                              "DAYORI_SMTP_PASSWORD にアカウントを設定するか、DAYORI_SMTP_AUTH=oauth2 にしてください")
        return cls(host, port, security, user, password, profile=profile, per_minute=per_minute, per_day=per_day)


def _profile(env: Mapping[str, str]) -> Profile:
    name = env.get("DAYORI_SMTP_PROFILE", "").strip().lower() or "generic"
    if name not in PROFILES:
        raise ConfigError(f"DAYORI_SMTP_PROFILE は {'・'.join(PROFILES)} のどれかにしてください（今は「{name}」）")
    return PROFILES[name]


def _limit(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    """A limit from the environment: a positive whole number, or 0 for none."""
    text = unicodedata.normalize("NFKC", env.get(name, "")).replace(",", "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()):
        raise ConfigError(f"{name} は 0 以上の整数で指定してください（0 は上限なし。今は「{env.get(name)}」）")
    return int(text) or None


class Kind(enum.Enum):
    SENT = "sent"
    TEMPORARY = "temporary"
    """Refused for now (4xx, a dropped line before the message was sent): try this reader again."""
    PERMANENT = "permanent"
    """The server refused this reader for good (an unknown or blocked address): never delivered."""
    UNCERTAIN = "uncertain"
    """The message was sent and no readable answer came back: it may have been delivered."""
    THROTTLED = "throttled"
    """The server asks the sender to slow down (a per-minute quota, too many connections): later, not failed."""
    DAILY_CAP = "daily-cap"
    """The sender's daily allowance is used up: stop until it recovers."""
    SENDER = "sender"
    """The server refuses this sender or this message (login, permission, size): every reader would get the same
    answer, so the run stops and nobody is recorded as failed."""


@dataclass(frozen=True)
class Result:
    kind: Kind
    detail: str = ""
    code: int = 0


_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_DAILY = re.compile(r"daily|per day|24 ?h|recipient rate limit|RecipientRateLimit", re.IGNORECASE)
_LIMIT = re.compile(r"limit|quota|exceed", re.IGNORECASE)
_THROTTLE = re.compile(r"quota ?exceeded|thread limit|rate limit|throttl|too many (messages|connections|sessions)"
                       r"|server busy|concurrent|try again later", re.IGNORECASE)
_SENDER_ADDRESSING = {"5.1.7", "5.1.8"}
"""Enhanced codes in the 5.1 class that are about the sender's address, not the reader's."""


def enhanced_status(reply: str) -> str:
    """The RFC 3463 status (`5.2.0`) at the start of a reply's text, or ''."""
    match = _ENHANCED.match(reply.strip())
    return ".".join(match.groups()) if match else ""


def classify(code: int, reply: str, step: str) -> Kind:
    """What a refusal means for the run. `step` is MAIL, RCPT, DATA (the command) or END (the answer after the
    message's last byte, when the server may already have it); `code` is -1 when the reply had no status code. Exchange Online's per-minute quota comes as a 5xx
    (554 5.2.0 …SubmissionQuotaExceededException), so text counts as much as the code."""
    if code == -1 or not 200 <= code < 600:
        return Kind.UNCERTAIN if step == "END" else Kind.TEMPORARY
    status = enhanced_status(reply)
    if code >= 400 and (status == "5.1.90" or (_DAILY.search(reply) and _LIMIT.search(reply))):
        return Kind.DAILY_CAP
    if code == 421 or status == "4.3.2" or status.startswith("4.7.") or (code >= 400 and _THROTTLE.search(reply)):
        return Kind.THROTTLED
    if 400 <= code < 500:
        return Kind.TEMPORARY
    if code < 400:
        return Kind.TEMPORARY
    if code == 530 or status in ("5.7.57", "5.7.3", "5.7.30", "5.7.139"):
        return Kind.SENDER
    if step == "RCPT":
        return Kind.PERMANENT
    if step in ("DATA", "END") and status.startswith("5.1.") and status not in _SENDER_ADDRESSING:
        return Kind.PERMANENT
    return Kind.SENDER


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


def _result(code: int, reply: bytes, step: str) -> Result:
    text = reply.decode("utf-8", "replace")
    shown = code if code != -1 else "（応答コードなし）"
    return Result(classify(code, text, step), f"{step} {shown} {text[:200]}", code)


class Transport:
    """One SMTP connection, opened on demand and reopened after the server drops it.

    With OAuth, a login the server refuses (at AUTH, or later at MAIL) gets one new token and one new
    connection before the refusal counts: the token may have expired or been revoked mid-send."""

    def __init__(self, config: SmtpConfig, tokens: TokenSource | None = None, clock: Clock = SYSTEM) -> None:
        self.config = config
        if tokens is None and config.oauth is not None:
            tokens = TokenSource(config.oauth, clock=lambda: clock.now().timestamp(), sleep=clock.sleep)
        self.tokens = tokens
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
            elif config.auth == "basic" and config.user:
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
        if client.payload_sent and 200 <= code < 300:
            return Result(Kind.SENT, f"END {code}")
        return self._refused(code, reply, "END" if client.payload_sent else "DATA")

    def _refused(self, code: int, reply: bytes, step: str) -> Result:
        """After a refusal the transaction is reset; after a 421 (the server is closing) or an answer without a
        status code (the conversation is out of step), the connection is dropped and a new one made."""
        if code in (421, -1) or self._client is None:
            self._drop()
        else:
            try:
                self._client.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
        return _result(code, reply, step)

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
