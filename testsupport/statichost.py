"""A static web server that behaves like the guide's nginx and IIS settings, for tests and `make bench`:
each file's compressed copy (see `dayori.compress`) is sent when the browser accepts its encoding, hashed
names are kept by browsers for a year and everything else is revalidated. Not for production."""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HASHED = re.compile(r"\.[0-9a-f]{8,}(?:\.min)?\.[a-z0-9]+$")
"""Names that change with their content (Material's bundles, the search shards, content-addressed media),
as the guide's server settings tell them apart."""
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "no-cache"


def cache_control(request_path: str) -> str:
    """The guide's cache lifetimes: a year for hashed names, revalidation for pages and everything else."""
    return LONG_CACHE if HASHED.search(request_path.split("?", 1)[0]) else SHORT_CACHE


class PrecompressedHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, their `.br`/`.gz` copies where accepted (`gzip_static`, `brotli_static`), and the
    guide's `Cache-Control`."""

    # The base class declares this mapping the same way; the override only adds Atom's type (RUF012 is moot).
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,  # noqa: RUF012
                      ".atom": "application/atom+xml; charset=utf-8"}
    """As the guide tells the web server to send Atom feeds."""

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?", 1)[0].endswith("/"):
            path = path / "index.html"
        compressed = self.precompressed(path) if "Range" not in self.headers else None
        if compressed is None:
            return super().send_head()
        copy, encoding = compressed
        data = copy.read_bytes()
        self.send_response(http.HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(data)

    def precompressed(self, path: Path) -> tuple[Path, str] | None:
        accepted = {part.split(";")[0].strip() for part in self.headers.get("Accept-Encoding", "").split(",")}
        for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
            copy = path.with_name(path.name + suffix)
            if encoding in accepted and path.is_file() and copy.is_file():
                return copy, encoding
        return None

    def end_headers(self) -> None:
        self.send_header("Cache-Control", cache_control(self.path))
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A closed page drops its media requests mid-transfer; that is not worth a traceback."""


@contextlib.contextmanager
def serve_folder(directory: Path, handler: type[PrecompressedHandler] = PrecompressedHandler) -> Iterator[str]:
    """`directory` over HTTP on 127.0.0.1; yields the base URL ("http://…/")."""
    server = _QuietServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
