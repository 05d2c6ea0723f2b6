"""Access tokens for Exchange Online SMTP (SASL XOAUTH2), from the client-credentials flow of an app registered in
Entra ID. Microsoft 365 turns SMTP Basic authentication off, so this is how `send` logs in there.

Secrets (client secret, private key, tokens) never appear in a repr, a log line or a message.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCOPE = "https://outlook.office365.com/.default"
LOGIN_HOST = "https://login.microsoftonline.com"
REFRESH_MARGIN = 300.0
"""Seconds before expiry at which a token counts as used up (msal's own cache uses the same five minutes)."""
TOKEN_ATTEMPTS = 5
MAX_TOKEN_WAIT = 60.0
"""Longest wait between two token requests; a longer Retry-After ends the attempts with a message instead."""


class OAuthConfigError(Exception):
    """The DAYORI_OAUTH_* settings are missing or wrong; the message says which variable to set."""


class TokenError(Exception):
    """No token could be obtained; the message says why, in Japanese, without any secret."""


@dataclass(frozen=True)
class OAuthConfig:
    tenant: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    cert_path: Path | None = None
    cert_thumbprint: str = ""
    authority_override: str = ""
    scope: str = SCOPE

    @property
    def authority(self) -> str:
        """DAYORI_OAUTH_AUTHORITY as given (a sovereign cloud, a test server) or the public Entra ID tenant."""
        return self.authority_override.rstrip("/") or f"{LOGIN_HOST}/{self.tenant}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OAuthConfig:
        env = os.environ if env is None else env
        tenant = env.get("DAYORI_OAUTH_TENANT", "").strip()
        client_id = env.get("DAYORI_OAUTH_CLIENT_ID", "").strip()
        secret = env.get("DAYORI_OAUTH_CLIENT_SECRET", "")
        cert = env.get("DAYORI_OAUTH_CERT_PATH", "").strip()
        thumbprint = env.get("DAYORI_OAUTH_CERT_THUMBPRINT", "").strip().replace(":", "")
        authority = env.get("DAYORI_OAUTH_AUTHORITY", "").strip()
        if not tenant and not authority:
            raise OAuthConfigError("DAYORI_SMTP_AUTH=oauth2 のときは DAYORI_OAUTH_TENANT にテナント ID を設定してください")
        if not client_id:
            raise OAuthConfigError("DAYORI_OAUTH_CLIENT_ID にアプリ（クライアント）ID を設定してください")
        if secret and cert:
            raise OAuthConfigError("DAYORI_OAUTH_CLIENT_SECRET と DAYORI_OAUTH_CERT_PATH はどちらか一方だけ設定してください")
        if not secret and not cert:
            raise OAuthConfigError("DAYORI_OAUTH_CLIENT_SECRET（クライアント シークレット）か DAYORI_OAUTH_CERT_PATH"
                                   "（証明書）のどちらかを設定してください")
        if cert and not thumbprint:
            raise OAuthConfigError("証明書を使うときは DAYORI_OAUTH_CERT_THUMBPRINT に拇印（SHA-1、16 進数）も設定してください")
        if authority and not authority.startswith("https://"):
            raise OAuthConfigError("DAYORI_OAUTH_AUTHORITY は https:// で始まる URL にしてください")
        return cls(tenant, client_id, secret, Path(cert) if cert else None, thumbprint, authority)

    def credential(self) -> str | dict[str, str]:
        """What msal takes as the client credential: the secret, or the certificate's private key and thumbprint."""
        if self.cert_path is None:
            return self.client_secret
        try:
            pem = self.cert_path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            raise TokenError(f"証明書ファイル {self.cert_path} を読めません（PEM 形式の秘密鍵を含むファイルにしてください）"
                             ) from error
        credential = {"private_key": pem, "thumbprint": self.cert_thumbprint}
        if "BEGIN CERTIFICATE" in pem:
            credential["public_certificate"] = pem
        return credential


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float


class TokenSource:
    """Hands out a token that is good for at least REFRESH_MARGIN more seconds, asking Entra ID only when needed.

    `invalidate()` forgets the current token, for when the mail server refuses it before its time."""

    def __init__(self, config: OAuthConfig, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, backoff: float = 2.0) -> None:
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self.backoff = backoff
        self._app: Any = None
        self._http: Any = None
        self._http_cache: dict[Any, Any] = {}
        self._token: Token | None = None
        self._lock = threading.Lock()
        # msal logs a traceback at ERROR for a token response that is not JSON (a proxy's or a busy server's
        # page): the message below says what happened instead.
        logging.getLogger("msal").setLevel(logging.CRITICAL)

    def __repr__(self) -> str:
        return f"TokenSource(authority={self.config.authority!r}, client_id={self.config.client_id!r})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._token.expires_at - REFRESH_MARGIN:
                self._token = self._acquire()
            return self._token.value

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _application(self) -> Any:
        if self._app is None:
            import msal

            overridden = bool(self.config.authority_override)
            self._http = _recording_session()
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.config.client_id, client_credential=self.config.credential(),
                    authority=self.config.authority, instance_discovery=False if overridden else None,
                    timeout=30, http_client=self._http, http_cache=self._http_cache)
            except ValueError as error:
                raise TokenError(f"認証サーバー {self.config.authority} の設定を読めません。DAYORI_OAUTH_TENANT"
                                 f"（または DAYORI_OAUTH_AUTHORITY）を確かめてください（{_short(error)}）") from error
            except OSError as error:
                raise TokenError(f"認証サーバー {self.config.authority} に接続できません（{type(error).__name__}）"
                                 ) from error
        return self._app

    def _acquire(self) -> Token:
        """A new token, asking again when Entra ID is busy (429, 5xx, a dropped line): after its Retry-After or
        a doubling pause. Raises TokenError with a message that tells a busy service from wrong credentials."""
        busy = ""
        for attempt in range(1, TOKEN_ATTEMPTS + 1):
            outcome = self._request()
            if isinstance(outcome, Token):
                return outcome
            busy, retry_after = outcome
            wait = max(retry_after, min(MAX_TOKEN_WAIT, self.backoff * 2 ** (attempt - 1)))
            if attempt == TOKEN_ATTEMPTS or wait > MAX_TOKEN_WAIT:
                break
            self._http_cache.clear()  # msal would otherwise answer the retry from its copy of the refusal
            self.sleep(wait)
        raise TokenError(f"認証サーバー（Microsoft Entra ID）が混雑しているか、一時的に使えません（{busy}。"
                         f"{attempt} 回試しました）。シークレットや設定の誤りではありません。しばらく待ってから、"
                         "同じコマンドをもう一度実行してください（送信済みの人には送りません）")

    def _request(self) -> Token | tuple[str, float]:
        """One token request: the token, or (what went wrong, Retry-After seconds) when it is worth asking again."""
        import msal
        import requests

        app = self._application()
        assert self._http is not None
        for entry in list(app.token_cache.search(app.token_cache.CredentialType.ACCESS_TOKEN)):
            app.token_cache.remove_at(entry)  # this class decides when a token is used up, not msal's cache
        started = self.clock()
        self._http.last_status, self._http.retry_after = 0, 0.0
        try:
            result = app.acquire_token_for_client(scopes=[self.config.scope])
        except (requests.ConnectionError, requests.Timeout) as error:
            if self._http.last_status == 0 and not _dropped(error):
                raise TokenError(f"認証サーバー {self.config.authority} に接続できません（{type(error).__name__}）"
                                 ) from error
            return f"応答の途中で接続が切れました（{type(error).__name__}）", 0.0
        except (requests.RequestException, OSError) as error:
            raise TokenError(f"認証サーバー {self.config.authority} に接続できません（{type(error).__name__}）"
                             ) from error
        except (ValueError, msal.exceptions.MsalServiceError) as error:
            if _busy(self._http.last_status):
                return f"HTTP {self._http.last_status}", self._http.retry_after
            raise TokenError(f"認証サーバーの応答を読めません（{_short(error)}）") from error
        if "access_token" in result:
            return Token(result["access_token"], started + float(result.get("expires_in", 0)))
        if _busy(self._http.last_status):
            return f"HTTP {self._http.last_status}", self._http.retry_after
        code = result.get("error", "unknown")
        description = str(result.get("error_description", "")).splitlines()[0][:200] if result.get(
            "error_description") else ""
        raise TokenError(f"アクセス トークンを取得できませんでした（{code}: {description}）。"
                         "DAYORI_OAUTH_CLIENT_ID・シークレットまたは証明書、管理者の同意を確かめてください")


def _busy(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def _dropped(error: Exception) -> bool:
    """A connection that was made and then closed before an answer (as opposed to one that could not be made)."""
    text = repr(error)
    return any(word in text for word in ("RemoteDisconnected", "ConnectionResetError", "ConnectionAbortedError",
                                         "IncompleteRead", "ProtocolError"))


def _recording_session() -> Any:
    """The HTTP client msal uses, keeping the last answer's status and Retry-After (msal hands back only the
    body, and raises for a 5xx): they tell a busy Entra ID from a refusal of the credentials."""
    import requests

    class RecordingSession(requests.Session):
        last_status: int = 0
        retry_after: float = 0.0

        def request(self, *args: Any, **kwargs: Any) -> Any:
            response = super().request(*args, **kwargs)
            self.last_status = response.status_code
            self.retry_after = _seconds(response.headers.get("Retry-After"))
            return response

    return RecordingSession()


def _seconds(value: str | None) -> float:
    """Retry-After in seconds (Entra ID sends whole seconds); 0 when absent or unreadable."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64, which smtplib adds)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"
