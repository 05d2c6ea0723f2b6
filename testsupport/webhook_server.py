"""A local HTTP server playing a Teams Workflows webhook, for `announce` and `publish` tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _answering() -> threading.Event:
    answering = threading.Event()
    answering.set()
    return answering


SECRET_PATH = "/workflows/7c1e5d2a9b/triggers/manual/paths/invoke?api-version=1&sig=Zx9SeCrEt"


@dataclass
class Webhook:
    """Answers each POST with the next planned reply (status, headers); 'drop' closes without answering."""

    plan: list[tuple[int | str, dict[str, str]]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    posted: list[bytes] = field(default_factory=list)
    """What reached the channel: like Teams, everything except what it refused before processing (4xx)."""
    paths: list[str] = field(default_factory=list)
    answering: threading.Event = field(default_factory=_answering)
    """Cleared, every answer waits until the test sets it again: a slow Teams, so that two runs overlap."""

    def __post_init__(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.paths.append(self.path)
                hook.bodies.append(body)
                status, headers = hook.plan.pop(0) if hook.plan else (202, {})
                if status == "drop" or (status != "drop-unprocessed" and not 400 <= int(status) < 500):
                    hook.posted.append(body)
                hook.answering.wait(timeout=120)
                if status in ("drop", "drop-unprocessed"):
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(int(status))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{SECRET_PATH}"

    def cards(self) -> list[dict]:
        return [json.loads(body)["attachments"][0]["content"] for body in self.bodies]
