"""SMTP with OAuth (Microsoft 365): a real HTTPS token endpoint with its own CA and a real SMTP server that checks
the bearer token with AUTH XOAUTH2. Secrets never show up in output, reprs or logs."""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from dayori.config import EmailSettings, Settings
from dayori.delivery import cli
from dayori.delivery.clock import SYSTEM, Clock
from dayori.delivery.oauth import OAuthConfig, TokenError, TokenSource
from dayori.delivery.smtp import SmtpConfig, Transport
from dayori.email.render import render_message
from dayori.model import Body, Content, Issue
from testsupport.exchange_server import ScaledClock
from testsupport.oauth_servers import (
    CLIENT_SECRET,
    OAuthSmtpServer,
    TokenServer,
    make_client_certificate,
    make_pki,
)
from testsupport.smtp_server import Plan

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS",
                                        "ignore:auth_required == True")
SITE = "https://dx.example.go.jp/dayori/"
SENDER = "dx-team@example.go.jp"


@pytest.fixture
def pki(tmp_path, monkeypatch):
    pki = make_pki(tmp_path / "pki")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("DAYORI_SMTP_USER", "DAYORI_SMTP_PASSWORD", "DAYORI_OAUTH_CERT_PATH", "DAYORI_OAUTH_CERT_THUMBPRINT",
                 "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    return pki


def _message(tmp_path: Path):
    settings = Settings(root=tmp_path, site_url=SITE, email=EmailSettings(sender=f"DXチーム <{SENDER}>"))
    body = Body(html="<p>OAuth で届く号です。</p>", text="OAuth で届く号です。", toc=())
    issue = Issue(vol=7, date=dt.date(2026, 11, 26), title="OAuth の号", summary="", tags=(), authors=(),
                  draft=False, videos=(), source=Path("newsletter/2026/7.md"), body=body)
    return settings, render_message(issue, Content(issues=(issue,), episodes=(), today=dt.date(2026, 11, 26)), settings)


def _send(tmp_path: Path, monkeypatch, env: dict[str, str], addresses: list[str], clock: Clock = SYSTEM) -> int:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    tmp_path.mkdir(exist_ok=True)
    csv_path = tmp_path / "subscribers.csv"
    csv_path.write_text("address\n" + "\n".join(addresses) + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--vol", "7", "--ledger", str(tmp_path / "ledger.sqlite3"), "--rate", "0",
                              "--backoff", "0", "--to", str(csv_path)])
    settings, message = _message(tmp_path)
    return cli.execute(args, message, 7, settings, clock=clock)


ADDRESSES = [f"staff{n}@example.go.jp" for n in range(1, 6)]


def test_send_logs_in_with_a_token_from_the_authority_and_nowhere_else(tmp_path, monkeypatch, pki, capsys, caplog):
    """Every host but 127.0.0.1 goes through a proxy that does not exist: a request to Microsoft (instance
    discovery, login.microsoftonline.com) would fail the send."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with TokenServer(pki) as tokens, OAuthSmtpServer(tokens.log, user=SENDER) as smtp:
        assert _send(tmp_path, monkeypatch, {**smtp.env(), **tokens.env()}, ADDRESSES) == 0
    assert smtp.recorder.count_by_recipient() == {a: 1 for a in ADDRESSES}
    assert smtp.recorder.logins == [(SENDER, True)]
    assert len(tokens.log.token_requests) == 1 and tokens.log.discovery == 1
    request = tokens.log.token_requests[0]
    assert request["scope"] == "https://outlook.office365.com/.default"
    assert tokens.log.other_paths == []
    output = capsys.readouterr()
    issued = next(iter(tokens.log.issued))
    everything = output.out + output.err + caplog.text
    assert CLIENT_SECRET not in everything and issued not in everything
    assert "送信済み 5 件" in output.out


def test_a_token_revoked_mid_send_is_replaced_once_and_nobody_gets_two(tmp_path, monkeypatch, pki):
    """Exchange answers 530 5.7.57 at MAIL once the session's token is no longer good; the sender fetches one new
    token, reconnects and carries on."""
    with TokenServer(pki) as tokens, OAuthSmtpServer(tokens.log) as smtp:
        smtp.recorder.revoke_after_data = {2}
        assert _send(tmp_path, monkeypatch, {**smtp.env(), **tokens.env()}, ADDRESSES) == 0
    assert smtp.recorder.count_by_recipient() == {a: 1 for a in ADDRESSES}
    assert len(tokens.log.token_requests) == 2
    assert [ok for _, ok in smtp.recorder.logins] == [True, True]


def test_a_refused_token_at_login_gets_one_new_token_then_stops(tmp_path, monkeypatch, pki, capsys):
    """A reconnect after a dropped connection finds the token revoked (334 error, then 535): one new token is
    fetched. When the server keeps refusing every token, the send stops with a Japanese message, not a loop."""
    with TokenServer(pki) as tokens, OAuthSmtpServer(tokens.log, Plan(drop_at_rcpt={2})) as smtp:
        smtp.recorder.revoke_at_rcpt = {2}
        assert _send(tmp_path, monkeypatch, {**smtp.env(), **tokens.env()}, ADDRESSES) == 0
    assert smtp.recorder.count_by_recipient() == {a: 1 for a in ADDRESSES}
    assert [ok for _, ok in smtp.recorder.logins] == [True, False, True]

    with TokenServer(pki) as tokens, OAuthSmtpServer(tokens.log, user="someone-else@example.go.jp") as smtp:
        assert _send(tmp_path / "b", monkeypatch, {**smtp.env(), **tokens.env()}, ADDRESSES) == 2
    assert smtp.recorder.received == [] and len(smtp.recorder.logins) == 2
    assert len(tokens.log.token_requests) == 2
    assert "SMTP.SendAsApp" in capsys.readouterr().err


def test_a_wrong_client_secret_is_explained_without_the_secret(tmp_path, monkeypatch, pki, capsys):
    with TokenServer(pki, client_secret="the-right-one") as tokens, OAuthSmtpServer(tokens.log) as smtp:
        assert _send(tmp_path, monkeypatch, {**smtp.env(), **tokens.env()}, ADDRESSES) == 2
    assert smtp.recorder.received == [] and smtp.recorder.logins == []
    assert len(tokens.log.token_requests) == 1
    error = capsys.readouterr().err
    assert "invalid_client" in error and "アクセス トークン" in error
    assert CLIENT_SECRET not in error and "Traceback" not in error


def test_an_untrusted_token_server_is_refused(tmp_path, monkeypatch, pki, capsys):
    """Without the CA in REQUESTS_CA_BUNDLE the certificate check fails: the secret is never posted."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("SSL_CERT_FILE")
    with TokenServer(pki) as tokens, OAuthSmtpServer(tokens.log) as smtp:
        assert _send(tmp_path, monkeypatch, {**smtp.env(), **tokens.env()}, ADDRESSES) == 2
    assert tokens.log.token_requests == [] and smtp.recorder.received == []
    assert "認証サーバー" in capsys.readouterr().err


def test_tokens_are_reused_until_five_minutes_before_they_expire(pki):
    now = [1_000_000.0]
    with TokenServer(pki, expires_in=3600) as tokens:
        config = OAuthConfig.from_env(tokens.env())
        source = TokenSource(config, clock=lambda: now[0])
        first = source.token()
        now[0] += 3600 - 301
        assert source.token() == first
        now[0] += 2
        second = source.token()
        assert second != first
        assert len(tokens.log.token_requests) == 2


def test_a_certificate_credential_signs_a_client_assertion(tmp_path, pki):
    """With DAYORI_OAUTH_CERT_PATH the secret is never sent: Entra ID gets a JWT signed with the app's key, naming
    the certificate by its thumbprint."""
    path, thumbprint, public_key = make_client_certificate(tmp_path)
    seen = []

    def check(form: dict[str, str]) -> bool:
        header, payload, signature = form["client_assertion"].split(".")
        decoded = json.loads(base64.urlsafe_b64decode(header + "=="))
        public_key.verify(base64.urlsafe_b64decode(signature + "=="), f"{header}.{payload}".encode(),
                          padding.PKCS1v15(), hashes.SHA256())
        seen.append(decoded)
        return form["client_assertion_type"].endswith("jwt-bearer")

    with TokenServer(pki) as tokens:
        tokens.assertion_check = check
        env = {**tokens.env(), "DAYORI_OAUTH_CERT_PATH": str(path), "DAYORI_OAUTH_CERT_THUMBPRINT": thumbprint}
        del env["DAYORI_OAUTH_CLIENT_SECRET"]
        assert TokenSource(OAuthConfig.from_env(env)).token() in tokens.log.issued
    assert "client_secret" not in tokens.log.token_requests[0]
    assert seen and ("x5t" in seen[0] or "x5t#S256" in seen[0])


def test_secrets_stay_out_of_reprs_and_configuration_errors(pki):
    env = {"DAYORI_SMTP_HOST": "smtp.office365.com", "DAYORI_SMTP_AUTH": "oauth2", "DAYORI_OAUTH_TENANT": "t",
           "DAYORI_OAUTH_CLIENT_ID": "c", "DAYORI_OAUTH_CLIENT_SECRET": CLIENT_SECRET}
    config = SmtpConfig.from_env(env)
    assert config.port == 587 and config.auth == "oauth2"
    assert config.oauth is not None and config.oauth.authority == "https://login.microsoftonline.com/t"
    transport = Transport(config)
    for text in (repr(config), str(config), repr(config.oauth), repr(transport.tokens)):
        assert CLIENT_SECRET not in text
    basic = SmtpConfig.from_env({"DAYORI_SMTP_HOST": "h", "DAYORI_SMTP_USER": "u", "DAYORI_SMTP_PASSWORD": "pw-secret"})
    assert basic.auth == "basic" and "pw-secret" not in repr(basic)
    with pytest.raises(Exception, match="DAYORI_OAUTH_CLIENT_SECRET"):
        SmtpConfig.from_env({**env, "DAYORI_OAUTH_CLIENT_SECRET": ""})
    with pytest.raises(Exception, match="DAYORI_SMTP_AUTH"):
        SmtpConfig.from_env({**env, "DAYORI_SMTP_AUTH": "OAuth"[:3]})


@pytest.mark.parametrize("failures", [
    [(500, {})], [(503, {"Retry-After": "2"})], [(429, {"Retry-After": "1"}), (429, {"Retry-After": "1"})],
    [("drop", {})], [(502, {}), (429, {}), (503, {})],
])
def test_a_busy_token_endpoint_is_asked_again_and_the_send_completes(tmp_path, monkeypatch, pki, capsys, failures):
    """Entra ID answers 5xx, 429 with Retry-After, or drops the line: the token is asked for again after a pause,
    and every reader gets one copy; no traceback, no message blaming the secret."""
    with TokenServer(pki) as tokens, OAuthSmtpServer(tokens.log) as smtp:
        tokens.failures = list(failures)
        clock = ScaledClock(scale=1000)
        assert _send(tmp_path, monkeypatch, {**smtp.env(), **tokens.env()}, ADDRESSES, clock) == 0
    assert smtp.recorder.count_by_recipient() == {a: 1 for a in ADDRESSES}
    assert len(tokens.log.token_requests) == len(failures) + 1
    output = capsys.readouterr()
    assert "Traceback" not in output.err and "シークレット" not in output.err


def test_a_token_endpoint_that_stays_busy_ends_in_japanese_without_blaming_the_secret(tmp_path, monkeypatch, pki,
                                                                                       capsys):
    waits: list[float] = []
    with TokenServer(pki) as tokens:
        tokens.failures = [(429, {"Retry-After": "7"}), *[(503, {}) for _ in range(10)]]
        source = TokenSource(OAuthConfig.from_env(tokens.env()), sleep=waits.append)
        with pytest.raises(TokenError) as caught:
            source.token()
    message = str(caught.value)
    assert "混雑" in message and "HTTP 503" in message and "誤りではありません" in message
    assert len(tokens.log.token_requests) == 5 and waits[0] == 7.0 and len(waits) == 4
    assert "Traceback" not in capsys.readouterr().err
