"""Real local servers for Microsoft 365 delivery: an HTTPS token endpoint (Entra ID's client-credentials flow, with a
self-signed CA made here) and an SMTP server that implements AUTH XOAUTH2 and checks the bearer token it gets.

The token server counts what it is asked, so tests can see when a token was fetched and with which credentials.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from testsupport.smtp_server import Plan, Recorder, SmtpServer, _Controller

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
CLIENT_SECRET = "s3cr3t~Dayori.Test_0123456789"
SCOPE = "https://outlook.office365.com/.default"


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for 127.0.0.1 signed by it, and their files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dayori Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pki = Pki(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return pki


def make_client_certificate(folder: Path) -> tuple[Path, str, rsa.RSAPublicKey]:
    """An app's certificate credential as Entra ID takes it: a PEM with key and certificate, and its SHA-1 thumbprint."""
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dayori-sender")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    path = folder / "app.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM))
    return path, cert.fingerprint(hashes.SHA1()).hex().upper(), key.public_key()


@dataclass
class TokenLog:
    """What the token endpoint saw and what it issued; `valid` is what the SMTP server accepts."""

    discovery: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issued: dict[str, float] = field(default_factory=dict)
    other_paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def valid(self, token: str) -> bool:
        with self.lock:
            return self.issued.get(token, 0.0) > time.time()

    def revoke_all(self) -> None:
        with self.lock:
            self.issued.clear()


class TokenServer:
    """`with TokenServer(pki) as server:` then `server.authority`; tokens live `expires_in` seconds."""

    def __init__(self, pki: Pki, *, expires_in: int = 3600, client_secret: str = CLIENT_SECRET) -> None:
        self.log = TokenLog()
        self.expires_in = expires_in
        self.client_secret = client_secret
        self.assertion_check: Callable[[dict[str, str]], bool] | None = None
        self.failures: list[tuple[int | str, dict[str, str]]] = []
        """Planned answers to the next token requests, before any is issued: (status, headers) as Entra ID
        sends them when busy (429 with Retry-After, 500, 503 with an HTML page), or "drop" to close at once."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _fail(self, status: int | str, headers: dict[str, str]) -> None:
                if status == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                page = b"<html><body><h1>Service Unavailable</h1></body></html>"
                self.send_response(int(status))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == f"/{TENANT}/v2.0/.well-known/openid-configuration":
                    server.log.discovery += 1
                    base = server.authority
                    return self._json(200, {"issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
                                            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"})
                server.log.other_paths.append(self.path)
                self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path.split("?")[0] != f"/{TENANT}/oauth2/v2.0/token":
                    server.log.other_paths.append(self.path)
                    return self._json(404, {"error": "not_found"})
                with server.log.lock:
                    server.log.token_requests.append(form)
                    planned = server.failures.pop(0) if server.failures else None
                if planned is not None:
                    return self._fail(*planned)
                if (form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID
                        or form.get("scope") != SCOPE or not server.credential_ok(form)):
                    return self._json(401, {"error": "invalid_client",
                                            "error_description": "AADSTS7000215: Invalid client secret provided."})
                token = "eyJ0eXAi." + secrets.token_urlsafe(24)
                with server.log.lock:
                    server.log.issued[token] = time.time() + server.expires_in
                self._json(200, {"token_type": "Bearer", "expires_in": server.expires_in,
                                 "ext_expires_in": server.expires_in, "access_token": token})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pki.cert_file, pki.key_file)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def credential_ok(self, form: dict[str, str]) -> bool:
        if "client_assertion" in form:
            return self.assertion_check is not None and self.assertion_check(form)
        return form.get("client_secret") == self.client_secret

    @property
    def authority(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}/{TENANT}"

    def env(self, **extra: str) -> dict[str, str]:
        return {"DAYORI_SMTP_AUTH": "oauth2", "DAYORI_OAUTH_TENANT": TENANT, "DAYORI_OAUTH_CLIENT_ID": CLIENT_ID,
                "DAYORI_OAUTH_CLIENT_SECRET": CLIENT_SECRET, "DAYORI_OAUTH_AUTHORITY": self.authority, **extra}

    def __enter__(self) -> TokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class OAuthRecorder(Recorder):
    """The recording SMTP handler, plus AUTH XOAUTH2 as Exchange Online answers it."""

    def __init__(self, tokens: TokenLog, plan: Plan | None = None, *, user: str | None = None) -> None:
        super().__init__(plan)
        self.tokens = tokens
        self.user = user
        self.logins: list[tuple[str, bool]] = []
        self.revoke_after_data: set[int] = set()
        """Revoke every token once this transaction's message is kept (a token that expires mid-send)."""
        self.revoke_at_rcpt: set[int] = set()
        """Revoke every token when this transaction's RCPT arrives (with Plan.drop_at_rcpt: revoked while away)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if self.transactions + 1 in self.revoke_at_rcpt:
            self.tokens.revoke_all()
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]) -> str:
        """Exchange checks the session's token again; one that has expired since AUTH gets 5.7.57."""
        if not self.tokens.valid(getattr(session, "dayori_token", "")):
            return "530 5.7.57 Client not authenticated to send mail"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if getattr(envelope, "dayori_number", 0) in self.revoke_after_data:
            self.tokens.revoke_all()
        return answer

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        blob = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
        fields = dict(part.split("=", 1) for part in blob.decode().split("\x01") if "=" in part)
        user, bearer = fields.get("user", ""), fields.get("auth", "")
        token = bearer.removeprefix("Bearer ")
        ok = bearer.startswith("Bearer ") and self.tokens.valid(token) and (self.user is None or user == self.user)
        self.logins.append((user, ok))
        if ok:
            server.session.dayori_token = token
            return AuthResult(success=True, auth_data=user)
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": SCOPE})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")


class OAuthSmtpServer(SmtpServer):
    """`with OAuthSmtpServer(token_log) as smtp:` — only AUTH XOAUTH2 is offered, and it is required."""

    def __init__(self, tokens: TokenLog, plan: Plan | None = None, *, user: str | None = None) -> None:
        self.recorder: OAuthRecorder = OAuthRecorder(tokens, plan, user=user)
        self.controller = _Controller(self.recorder, hostname="127.0.0.1", port=0, auth_required=True,
                                      auth_require_tls=False, auth_exclude_mechanism=["LOGIN", "PLAIN"])
