"""The suite itself, run as `make test` runs it: what a module builds once (a site, a set of clips) is built once
per run even on two workers, and the one-time npm install cannot run twice at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ROOT

MODULE = '''
import os
import time
from pathlib import Path

import pytest

LOG = Path(__file__).with_suffix(".builds")


@pytest.fixture(scope="module")
def built():
    with LOG.open("a") as log:
        log.write(f"{os.getpid()}\\n")
    time.sleep(0.2)  # a build takes a while: the other worker is free to take this module's tests meanwhile


@pytest.mark.parametrize("n", range(8))
def test_uses_the_build(built, n):
    pass
'''


def test_module_fixtures_are_built_once_on_two_workers(tmp_path: Path) -> None:
    """With pytest 9.2 and pytest-xdist 3.8, `--dist loadgroup` silently spreads a group over both workers."""
    for name in ("test_first.py", "test_second.py"):
        (tmp_path / name).write_text(textwrap.dedent(MODULE), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
                             "--rootdir", str(tmp_path), "-p", "no:cacheprovider", "-n", "2", "-q", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("test_first", "test_second"):
        builds = (tmp_path / f"{name}.builds").read_text().split()
        assert len(builds) == 1, f"{name}'s module fixture was built by {len(builds)} workers"


def test_npm_install_lock_lets_one_process_in_at_a_time(tmp_path: Path) -> None:
    """Two processes that find nothing installed: the second waits, then sees the first one's marker."""
    script = textwrap.dedent(f'''
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from browser import exclusive
        root = Path(sys.argv[1])
        with exclusive(root / "lock"):
            if not (root / "done").exists():
                with (root / "installs").open("a") as log:
                    log.write("install\\n")
                time.sleep(0.5)
                (root / "done").write_text("yes")
    ''')
    workers = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)]) for _ in range(2)]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    assert (tmp_path / "installs").read_text().split() == ["install"]
