"""`python -m dayori site` (and `make site`): MkDocs' build, reproducible and quiet about MkDocs 2 the way the
Makefile runs it, so that an editor on Windows without `make` gets the same site/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mkdocs.__main__ import cli


def last_commit_time(folder: Path) -> str | None:
    """The last commit's time, as `make` sets SOURCE_DATE_EPOCH: the same sources give the same bytes. None
    outside a Git checkout or without git."""
    try:
        result = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=folder, capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = result.stdout.strip()
    return value if result.returncode == 0 and value.isdigit() else None


def main(config_file: Path, *, strict: bool = False, quiet: bool = False) -> int:
    """Builds site/ from `config_file`; returns MkDocs' exit status (1 when the build stopped on an error)."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    if "SOURCE_DATE_EPOCH" not in os.environ:
        epoch = last_commit_time(config_file.resolve().parent)
        if epoch is not None:
            os.environ["SOURCE_DATE_EPOCH"] = epoch
    argv = ["build", "--config-file", str(config_file), *(["--strict"] if strict else []), *(["-q"] if quiet else [])]
    try:
        cli.main(argv, prog_name="mkdocs")
    except SystemExit as finished:
        return finished.code if isinstance(finished.code, int) else (0 if finished.code is None else 1)
    return 0
