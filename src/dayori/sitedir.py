"""A published folder that is always one whole build: a build writes into a fresh folder beside it and
exchanges the two at the end, so a killed or failed build, or two builds at once, leave a complete earlier
or later site and never a mix or an empty folder. Builder-neutral: the builder only decides when."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Folders left by a killed build are cleared once their process is gone, or after this long whatever the
# process id says (ids are reused).
STALE_AFTER_SECONDS = 24 * 3600
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class Staging:
    """Where one build writes (`folder`) and what it replaces when done (`final`)."""

    final: Path
    folder: Path


def begin(final: Path) -> Staging:
    """A new empty folder beside `final` (same file system, so the exchange is a rename), after clearing what
    killed builds left there."""
    final = _target(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(final)
    folder = final.with_name(f"{_prefix(final, 'tmp')}{os.getpid()}-{uuid.uuid4().hex[:12]}")
    folder.mkdir()
    if final.is_dir():
        folder.chmod(final.stat().st_mode & 0o7777)  # a web server's group access survives the swap
    return Staging(final, folder)


def publish(staging: Staging, keep: Path | None = None) -> None:
    """Put the finished folder in place of the published one in one step where the OS allows, then delete
    the earlier tree, or move it to `keep` (replacing what was there) for a rollback. Another build publishing
    at the same time simply wins or loses as a whole."""
    for _ in range(10):
        if _exchange(staging.folder, staging.final):
            _retire(staging.folder, staging.final, keep)
            return
        if not staging.final.exists():
            try:
                staging.folder.rename(staging.final)
                return
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            continue
        if _swap_by_renames(staging, keep):
            return
    raise OSError(errno.EBUSY, f"{staging.final} を置き換えられませんでした。別のビルドが続けて書き換えています。")


def discard(staging: Staging) -> None:
    """A failed build's folder; the published site stays as it was."""
    shutil.rmtree(staging.folder, ignore_errors=True)


def remove_leftovers(final: Path) -> None:
    """Folders of builds that were killed (their process is gone) or are long abandoned; a running build's
    folder is left alone."""
    now = time.time()
    for kind in ("tmp", "old"):
        for folder in final.parent.glob(f"{_prefix(final, kind)}*"):
            owner = _owner(folder.name.removeprefix(_prefix(final, kind)))
            try:
                age = now - folder.lstat().st_mtime
            except FileNotFoundError:
                continue
            if owner is None or not _alive(owner) or age > STALE_AFTER_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)


def _target(final: Path) -> Path:
    """A `site` that is a symlink (to a web server's folder) is replaced where it points, keeping the link."""
    final = Path(os.path.abspath(final))
    return final.resolve() if final.is_symlink() else final


def _prefix(final: Path, kind: str) -> str:
    return f".{final.name}.{kind}-"


def _owner(rest: str) -> int | None:
    pid, _, _ = rest.partition("-")
    return int(pid) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return _alive_on_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive_on_windows(pid: int) -> bool:
    """Asked without `os.kill(pid, 0)`, which on Windows terminates the process."""
    if sys.platform != "win32":
        return True
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _exchange(first: Path, second: Path) -> bool:
    """Linux `renameat2(RENAME_EXCHANGE)`: both names stay valid throughout. False where unsupported (other
    systems, old C libraries, file systems without it) or when `second` does not exist."""
    if sys.platform == "win32":
        return False  # no renameat2, and ctypes.CDLL(None) raises TypeError there
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOENT, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _retire(earlier: Path, final: Path, keep: Path | None) -> None:
    """The tree that was published until now at `final`: deleted, or kept under `keep` (the copy before it
    is deleted)."""
    if keep is None:
        delete_later(earlier, final)
        return
    keep = Path(os.path.abspath(keep))
    if keep == Path(os.path.abspath(earlier)):
        return
    older = keep.with_name(f"{_prefix(keep, 'old')}{os.getpid()}-{uuid.uuid4().hex[:12]}")
    if os.path.lexists(keep):
        keep.rename(older)
    earlier.rename(keep)
    shutil.rmtree(older, ignore_errors=True)


_DELETE = "import os, shutil, sys; shutil.rmtree(os.fsdecode(sys.stdin.buffer.read().rstrip(b'\\n')), ignore_errors=True)"
_DELETE_WITH_RM = 'IFS= read -r folder; exec rm -rf -- "$folder"'
"""Where there is a shell: `rm` holds a tenth of the memory of a Python process."""


def _deleter(final: Path) -> list[str]:
    if sys.platform != "win32" and os.path.exists("/bin/sh") and b"\n" not in os.fsencode(final):
        return ["/bin/sh", "-c", _DELETE_WITH_RM]
    return [sys.executable, "-I", "-S", "-c", _DELETE]


def delete_later(folder: Path, final: Path) -> None:
    """Deletes `folder` (beside `final`) in a process of its own, which outlives the build: the new site is in
    place already, and deleting thousands of files can take seconds on a busy disk that nobody needs to wait
    for. The folder is renamed after that process, so that a build starting meanwhile leaves it to it; if it
    is stopped first, the next build clears the folder (see `remove_leftovers`). Where no process can be
    started, the folder is deleted at once."""
    detached: dict[str, Any]
    if sys.platform == "win32":
        detached = {"creationflags": subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP}
    else:
        detached = {"start_new_session": True}
    try:
        deleter = subprocess.Popen(_deleter(final), stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True, **detached)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    marked = final.with_name(f"{_prefix(final, 'old')}{deleter.pid}-{uuid.uuid4().hex[:12]}")
    try:
        folder.rename(marked)
    except OSError:
        marked = folder
    try:
        assert deleter.stdin is not None
        with deleter.stdin:
            deleter.stdin.write(os.fsencode(marked) + b"\n")
    except OSError:
        shutil.rmtree(marked, ignore_errors=True)


def _swap_by_renames(staging: Staging, keep: Path | None = None) -> bool:
    """Where no exchange exists: the published folder is moved aside, the new one takes its name. For a
    moment there is no site; never a partial one."""
    aside = staging.final.with_name(f"{_prefix(staging.final, 'old')}{os.getpid()}-{uuid.uuid4().hex[:12]}")
    try:
        staging.final.rename(aside)
    except FileNotFoundError:
        return False
    try:
        staging.folder.rename(staging.final)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            shutil.rmtree(aside, ignore_errors=True)
            return False
        aside.rename(staging.final)
        raise
    _retire(aside, staging.final, keep)
    return True
