"""The whole Microsoft 365 path as a sender runs it: `python -m dayori suppress add`, then `python -m dayori send`
with OAuth against a local HTTPS token endpoint and an XOAUTH2 SMTP server, an issue with a photo, and one reader
who unsubscribed. Everyone else gets exactly one message, with the photo inside it."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from lxml import html as lxml_html
from PIL import Image

from conftest import Project, body_text
from testsupport.helpers import photo
from testsupport.oauth_servers import CLIENT_SECRET, OAuthSmtpServer, TokenServer, make_pki

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
READERS = [f"staff{n:02d}@example.go.jp" for n in range(1, 6)]
UNSUBSCRIBED = READERS[2]


def test_send_with_oauth_inline_pictures_and_a_suppressed_reader(project: Project, tmp_path):
    project.add_issue(3, "2026-11-20", "写真の号", "会議の写真です。\n\n![会議室](photo.jpg)\n")
    (project.root / "newsletter" / "2026" / "photo.jpg").write_bytes(photo(2400, 1600))
    subscribers = tmp_path / "subscribers.csv"
    subscribers.write_text("メールアドレス,氏名\n" + "".join(f"{a},職員{n}\n" for n, a in enumerate(READERS)),
                           encoding="utf-8")
    pki = make_pki(tmp_path / "pki")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DAYORI_", "HTTP_PROXY", "HTTPS_PROXY"))
            and k.lower() not in ("http_proxy", "https_proxy")}
    env = {**base, "DAYORI_TODAY": "2026-11-26", "REQUESTS_CA_BUNDLE": str(pki.ca_file), "NO_PROXY": "127.0.0.1"}

    suppressed = subprocess.run([sys.executable, "-m", "dayori", "suppress", "add", UNSUBSCRIBED],
                                cwd=project.root, env=env, capture_output=True, text=True, timeout=60)
    assert suppressed.returncode == 0, suppressed.stderr
    with TokenServer(pki) as tokens, OAuthSmtpServer(tokens.log, user="dx-team@example.go.jp") as smtp:
        env |= {**smtp.env(), **tokens.env()}
        command = [sys.executable, "-m", "dayori", "send", "--vol", "3", "--to", str(subscribers), "--rate", "0"]
        first = subprocess.run(command, cwd=project.root, env=env, capture_output=True, text=True, timeout=300)
        second = subprocess.run(command, cwd=project.root, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert smtp.recorder.count_by_recipient() == {a: 1 for a in READERS if a != UNSUBSCRIBED}
    assert all(ok for _, ok in smtp.recorder.logins)
    assert "配信停止中の宛先 1 件を除きました" in first.stdout
    for result in (suppressed, first, second):
        shown = result.stdout + result.stderr
        assert CLIENT_SECRET not in shown and not any(a in shown for a in READERS)
        assert not any(token in shown for token in tokens.log.issued)

    for item in smtp.recorder.received:
        message = item.message
        html = body_text(message, "html")
        sources = lxml_html.fromstring(html).xpath("//img/@src")
        parts = {str(p["Content-ID"]).strip("<>"): p for p in message.walk() if p.get_content_maintype() == "image"}
        assert sources and {s.removeprefix("cid:") for s in sources} == set(parts)
        [part] = parts.values()
        assert Image.open(io.BytesIO(part.get_content())).size == (1200, 800)
