"""Helpers that several test modules share (test modules import from here, never from one another):
waiting on a condition, `make serve` on a port the system picks, and the sample content and subscriber lists
tests build with. The servers that play Teams, SMTP, Exchange and OAuth live in their own modules of
`testsupport/`; pytest fixtures live in tests/conftest.py."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from PIL import Image

from dayori.config import EmailSettings, MediaSettings, Settings
from dayori.email.render import render_message
from dayori.errors import Problems
from dayori.frontmatter import read_document
from dayori.model import Body, Content, Episode, Issue

if TYPE_CHECKING:
    from testsupport.smtp_server import SmtpServer

T = TypeVar("T")
TODAY = "2026-11-26"
"""The day every test's build takes as today (`DAYORI_TODAY`)."""


class _Project(Protocol):
    root: Path
WAIT_S = 120.0
"""How long a test waits for something that should happen: generous, the machine may be busy; not a speed
check."""


def wait_for(condition: Callable[[], T], what: str, *, timeout: float = WAIT_S, interval: float = 0.01) -> T:
    """`condition()` once it is true (and returns it); fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"never happened within {timeout:.0f} s: {what}"
        time.sleep(interval)
    return result


# `make serve` ------------------------------------------------------------------------------------------------

_SERVING = re.compile(r"プレビュー: (http://[^/\s]+:(\d+)/\S*)")


def serve_command(port: int = 0) -> list[str]:
    """`make serve` as the Makefile runs it; port 0 lets the system pick a free one as the server binds."""
    return [sys.executable, "-m", "dayori.material.serve", "--port", str(port)]


def serve_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DAYORI_TODAY": TODAY, "NO_COLOR": "1", **extra}


@dataclass
class Preview:
    """A preview server in a subprocess, with everything it prints kept for the test to read."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    url: str = ""
    """Where it serves, as it printed it (the port the system gave it)."""
    port: int = 0

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_output(self, text: str, count: int = 1) -> None:
        def printed() -> bool:
            assert self.process.poll() is None or self.output().count(text) >= count, \
                f"the preview stopped:\n{self.output()}"
            return self.output().count(text) >= count
        wait_for(printed, f"the preview printing {text!r} {count} times; it printed:\n{self.output()}")


def start_preview(root: Path, command: Sequence[str] | None = None, env: dict[str, str] | None = None) -> Preview:
    """A preview (by default `make serve` on port 0) once it says where it serves; stop it with `stop`."""
    process = subprocess.Popen(list(command or serve_command()), cwd=root, env=env or serve_env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    running = Preview(process)
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: running.lines.extend(iter(stream.readline, "")), daemon=True).start()
    try:
        found = wait_for(lambda: _SERVING.search(running.output()) or process.poll() is not None,
                         "the preview saying where it serves")
        assert isinstance(found, re.Match), f"the preview stopped:\n{running.output()}"
    except BaseException:
        stop(process)
        raise
    running.url, running.port = found.group(1), int(found.group(2))
    assert running.port != 0, f"the preview named port 0, not the one it listens on:\n{running.output()}"
    return running


def stop(process: subprocess.Popen[Any]) -> None:
    """The server asked to end, and made to if it does not within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# The engine without a builder --------------------------------------------------------------------------------

NO_BUILDER = """
import sys

class NoBuilder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"mkdocs", "material"} or name.startswith("dayori.material"):
            raise ImportError(f"the engine imported {name}")
        return None

sys.meta_path.insert(0, NoBuilder())
"""
"""The start of a script for a fresh interpreter where importing MkDocs, Material or the adapter fails."""

ENGINE_BUILD = NO_BUILDER + """
from pathlib import Path
from dayori.build import prepare
from dayori.config import settings_from_file

build = prepare(settings_from_file(Path(sys.argv[1])))
dests = {output.dest for output in build.outputs}
print(len(build.site.pages), len(build.content.issues),
      sum(d.startswith("feeds/") for d in dests), sum(d.startswith("email/") and d.endswith("/message.eml") for d in dests))
"""
"""A build by the engine alone in a fresh interpreter, where importing MkDocs or Material fails (argv[1]: the
project's mkdocs.yml); it prints what it built."""


# Sample content ---------------------------------------------------------------------------------------------

VTT = "WEBVTT\n\n00:00.000 --> 00:01.500\nチャネルを作ります。\n"


def add_episode(project: _Project, slug: str, *, clip_name: str = "clip.mp4", newsletter: int | None = None,
                captions: bool = True, draft: bool = False) -> None:
    """A DX日記 episode's folder with its front matter (and captions); the clip is the test's to make."""
    folder = project.root / "videos" / slug
    folder.mkdir(parents=True, exist_ok=True)
    if captions:
        (folder / "captions.vtt").write_text(VTT, encoding="utf-8")
    front = textwrap.dedent(f"""\
        ---
        title: チャネルの作り方
        date: {slug[:10]}
        clip: {clip_name}
        summary: Teams でチャネルを作る手順を 2 秒で紹介します。
        tags: [Teams]
        """)
    front += "captions: captions.vtt\n" if captions else ""
    front += f"newsletter: {newsletter}\n" if newsletter else ""
    front += "draft: true\n" if draft else ""
    (folder / "index.md").write_text(front + "---\n\n画面右上の「…」からチャネルを追加します。\n", encoding="utf-8")


def photo(width: int, height: int, seed: int = 0) -> bytes:
    """A camera-like JPEG: noise, so that it is as heavy as a real photograph."""
    image = Image.effect_noise((width, height), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def make_episode(root: Path, slug: str, clip_name: str = "clip.mp4", *, captions: str | None = "captions.vtt",
                 poster_at: float | None = None) -> Episode:
    """Like the content loader makes them: files absolute, `source` relative to the project root."""
    folder = root / "videos" / f"2026-10-02-{slug}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", f"title: {slug}", "date: 2026-10-02", f"clip: {clip_name}"]
    if captions:
        lines.append(f"captions: {captions}")
        if not (folder / captions).exists():
            (folder / captions).write_text("WEBVTT\n\n00:00.000 --> 00:01.500\nこんにちは。\n", encoding="utf-8")
    if poster_at is not None:
        lines.append(f"poster_at: {poster_at}")
    index = folder / "index.md"
    index.write_text("\n".join([*lines, "---", "", "本文"]) + "\n", encoding="utf-8")
    document = read_document(index, index, Problems())
    assert document is not None
    return Episode(slug=slug, date=dt.date(2026, 10, 2), title=slug, summary="", tags=(), draft=False,
                   clip=folder / clip_name, captions=folder / captions if captions else None, poster_at=poster_at,
                   newsletter=None, source=folder.relative_to(root) / "index.md", body=Body(html="", text="", toc=()),
                   key_lines=tuple(document.key_lines.items()))


def settings_for(root: Path, **media: Any) -> Settings:
    return Settings(root=root, site_url="http://localhost:8000/", media=replace(MediaSettings(), **media))


# Subscribers and delivery ------------------------------------------------------------------------------------

SITE = "https://dx.example.go.jp/dayori/"


TITLE = "会議資料を一枚にまとめるコツ"


def delivery_message(settings: Settings) -> Any:
    """Issue 7, rendered as subscribers get it."""
    body = Body(html="<p>今週は<a href=\"https://example.com/tips\">資料のコツ</a>です。</p>", text="今週は資料のコツです。",
                toc=())
    issue = Issue(vol=7, date=dt.date(2026, 11, 26), title=TITLE, summary="資料づくりの時間を半分にします。", tags=(),
                  authors=(), draft=False, videos=(), source=Path("newsletter/2026/7.md"), body=body)
    content = Content(issues=(issue,), episodes=(), today=dt.date(2026, 11, 26))
    return render_message(issue, content, settings)


def staff_addresses(count: int) -> list[str]:
    return [f"staff{n:02d}@example.go.jp" for n in range(1, count + 1)]


def delivery_settings(root: Path) -> Settings:
    return Settings(root=root, site_url=SITE,
                    email=EmailSettings(unsubscribe_url="https://dx.example.go.jp/dayori/subscribe/#unsubscribe"))


def subscribers_csv(folder: Path, emails: list[str], *, extra: str = "") -> Path:
    """`subscribers.csv` as Excel saves it (BOM, CRLF), with `extra` rows after."""
    rows = ["address,name"] + [f"{a},職員{n}" for n, a in enumerate(emails, start=1)]
    path = folder / "subscribers.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n" + extra).encode("utf-8"))
    return path


def dsn(recipient: str, action: str, status: str, *, original: bool = False, kind: str = "delivery-status") -> bytes:
    """A delivery status notification as Exchange Online sends one (RFC 3464 multipart/report; RFC 6533's
    global-delivery-status for servers that speak SMTPUTF8)."""
    name = "Original-Recipient" if original else "Final-Recipient"
    return (
        "From: Microsoft Outlook <postmaster@example.go.jp>\r\n"
        "To: dx-team@example.go.jp\r\n"
        "Subject: =?utf-8?b?6YWN5L+h5LiN6IO9?=\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="ndr"\r\n\r\n'
        "--ndr\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDelivery has failed.\r\n"
        f"--ndr\r\nContent-Type: message/{kind}\r\n\r\n"
        "Reporting-MTA: dns;TY0PR01MB0000.jpnprd01.prod.outlook.com\r\n\r\n"
        f"{name}: rfc822;{recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound\r\n\r\n"
        "--ndr--\r\n").encode()


# `python -m dayori send` as a command ------------------------------------------------------------------------

def excel_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8-sig") -> Path:
    """As Excel writes it: CRLF, cells with commas or line breaks quoted."""
    def cell(text: str) -> str:
        return f'"{text}"' if any(c in text for c in ',"\n') else text
    path.write_bytes("".join(",".join(cell(c) for c in row) + "\r\n" for row in rows).encode(encoding))
    return path


def send_list(tmp_path: Path, addresses: list[str]) -> Path:
    return excel_csv(tmp_path / "subscribers.csv", [["メールアドレス", "氏名"]] + [[a, f"職員{n}"] for n, a in
                                                                           enumerate(addresses, start=1)])


def send_env(server: SmtpServer | None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DAYORI_SMTP")}
    return {**env, **(server.env() if server else {}), "DAYORI_TODAY": TODAY}


def send_command(*options: str | Path) -> list[str]:
    return [sys.executable, "-m", "dayori", "send", "--rate", "0", *map(str, options)]


def run_send(cwd: Path, server: SmtpServer | None, *options: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(send_command(*options), cwd=cwd, env=send_env(server), capture_output=True, text=True, timeout=120,
                          check=False)


def start_send(cwd: Path, server: SmtpServer, *options: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(send_command(*options), cwd=cwd, env=send_env(server), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
