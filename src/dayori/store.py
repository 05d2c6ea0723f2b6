"""Content keys and atomic writes, shared by the caches (media, email): a key names exactly what went into a
result, and a result only ever appears under its final name complete."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any


def digest(*parts: Any) -> str:
    """A stable key from JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def temporary_beside(final: Path) -> Path:
    """A name in the same folder (so `os.replace` is atomic) that never looks like a finished file."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return final.with_name(f".tmp-{uuid.uuid4().hex}-{final.name}")


def write_atomic(final: Path, data: bytes) -> None:
    temporary = temporary_beside(final)
    temporary.write_bytes(data)
    os.replace(temporary, final)


def read_json(path: Path) -> Any:
    """A cached record, or None when absent or unreadable (then it is simply made again)."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def write_folder_atomic(final: Path, files: dict[str, bytes]) -> None:
    """A folder of files that appears complete or not at all (a killed build leaves only a `.tmp-` folder)."""
    temporary = temporary_beside(final)
    temporary.mkdir()
    for name, data in files.items():
        (temporary / name).write_bytes(data)
    try:
        os.replace(temporary, final)
    except OSError:
        shutil.rmtree(temporary)
        if not final.is_dir():
            raise


def link_or_copy(source: Path, destination: Path) -> None:
    """Cached files are never changed in place (they are replaced whole), so a hard link is as good as a
    copy and costs no bytes; across file systems it is a copy."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.unlink(missing_ok=True)
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)
