"""Content-addressed media cache: a rebuild with unchanged clips starts no ffmpeg and opens no clip.

Layout under `settings.cache_path / "media"`:
- `files/<key>.<ext>` and `files/<key>.hls/`: finished outputs (an MP4, an HLS stream's folder). ffmpeg writes
  into a `.tmp-…` folder of its own; an output only ever gets its final name through `os.replace` after ffmpeg
  succeeded and the result was checked, so a build killed mid-transcode leaves a `.tmp-…` folder that no later
  build takes as finished (stale temporaries are removed after an hour).
- `locks/<key>.lock`: held while a transcode runs, so that a second build at the same time waits for it and
  uses its result instead of making the same files again.
- `probes/<sha256>.json`: the probe of a source, keyed by its content.
- `index.json`: memo of source hashes by (path, size, mtime_ns), so an unchanged clip is not read again on
  a warm rebuild, plus the ffmpeg version line by the binary's (path, size, mtime_ns). Touching a clip or
  swapping ffmpeg makes it read again; the content hash still decides the outputs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dayori.media.probe import Probe
from dayori.store import temporary_beside, write_atomic

_CHUNK = 1 << 20
_STALE_SECONDS = 3600


def sha256_file(path: Path) -> str:
    """Streamed, so a 2 GB clip costs 1 MB of memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class MediaCache:
    """One build's view of the cache; thread-safe because jobs hash and probe in a pool."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = root / "files"
        self.probes = root / "probes"
        self.locks = root / "locks"
        self._index_path = root / "index.json"
        self._lock = threading.Lock()
        self._index = self._load_index()
        self._dirty = False

    def source_hash(self, path: Path) -> tuple[str, bool]:
        """(sha256, whether the file had to be read)."""
        stat = path.stat()
        key = str(path.resolve())
        stamp = [stat.st_size, stat.st_mtime_ns]
        with self._lock:
            known = self._index["sources"].get(key)
        if known and known[:2] == stamp:
            return known[2], False
        sha = sha256_file(path)
        with self._lock:
            self._index["sources"][key] = [*stamp, sha]
            self._dirty = True
        return sha, True

    def ffmpeg_version(self, exe: str, read: Callable[[str], str]) -> str:
        """Read once per binary, not per build: `ffmpeg -version` is a process start we can spare."""
        stat = Path(exe).stat()
        stamp = [str(Path(exe).resolve()), stat.st_size, stat.st_mtime_ns]
        with self._lock:
            known = self._index.get("ffmpeg")
        if known and known[:3] == stamp:
            return str(known[3])
        version = read(exe)
        with self._lock:
            self._index["ffmpeg"] = [*stamp, version]
            self._dirty = True
        return version

    def probe(self, sha: str, path: Path, run: Callable[[Path], Probe]) -> tuple[Probe, bool]:
        """(probe, whether the clip had to be opened)."""
        stored = self.probes / f"{sha}.json"
        if stored.is_file():
            try:
                cached = Probe.from_json(json.loads(stored.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                cached = None
            if cached is not None:
                return cached, False
        result = run(path)
        self.write_bytes(stored, json.dumps(result.to_json(), sort_keys=True).encode())
        return result, True

    def file(self, key: str, ext: str) -> Path:
        return self.files / f"{key}.{ext}"

    def stream(self, key: str) -> Path:
        """The folder of one HLS stream: its playlist, initialisation segment and segments."""
        return self.files / f"{key}.hls"

    def temporary(self, final: Path) -> Path:
        return temporary_beside(final)

    def write_bytes(self, final: Path, data: bytes) -> None:
        write_atomic(final, data)

    def remove_stale_temporaries(self) -> None:
        """Leftovers of killed builds; an hour's grace keeps a concurrent build's files alone."""
        if not self.root.is_dir():
            return
        limit = time.time() - _STALE_SECONDS
        for leftover in list(self.root.rglob(".tmp-*")):
            try:
                if leftover.stat().st_mtime >= limit:
                    continue
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink()
            except FileNotFoundError:
                continue

    def save(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            data = json.dumps(self._index, sort_keys=True, ensure_ascii=False).encode()
            self._dirty = False
        self.root.mkdir(parents=True, exist_ok=True)
        self.write_bytes(self._index_path, data)

    def _load_index(self) -> dict[str, Any]:
        try:
            data = json.loads(self._index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or not isinstance(data.get("sources"), dict):
            data = {"sources": {}}
        return data
