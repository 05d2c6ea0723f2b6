"""The installs that fit their users: an editor's install (requirements.lock) has no test tools and builds the site;
`python -m dayori wheelhouse` gathers wheels that install it with no index at all (a closed network), and wheels
for Windows as well as Linux. These tests download from PyPI, as the command does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import ROOT, copy_project

TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "mypy", "ruff", "playwright", "aiosmtpd", "feedparser",
              "types-pyyaml"}


def _name(line: str) -> str:
    return re.sub(r"[-_.]+", "-", line.split("==")[0]).strip().lower()


def _pins(path: Path) -> set[str]:
    return {_name(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith(("#", "-r"))}


def test_the_runtime_lock_has_no_test_tools_and_the_dev_lock_adds_them_on_top() -> None:
    runtime, dev = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-dev.lock")
    assert runtime & TEST_TOOLS == set()
    assert dev >= TEST_TOOLS and not runtime & dev
    assert "-r requirements.lock" in (ROOT / "requirements-dev.lock").read_text(encoding="utf-8").splitlines()


def test_make_site_installs_the_runtime_lock_and_make_test_both() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipes = dict(re.findall(r"^([\w$()-]+):([^\n]*)\n", makefile, re.MULTILINE))
    assert "$(DEV_STAMP)" not in recipes["site"] and "$(TEMPLATES_STAMP)" in recipes["site"]
    assert "$(STAMP)" in recipes["$(TEMPLATES_STAMP)"] and "$(TEMPLATES_STAMP)" in recipes["$(DEV_STAMP)"]
    assert "$(DEV_STAMP)" in recipes["test"]
    assert re.search(r"^\$\(DEV_STAMP\):.*\n\t\$\(PIP\) -r requirements-dev\.lock$", makefile, re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_wheels_for_windows_and_linux_and_pure_python_wheels_built_from_source_only_packages(tmp_path: Path) -> None:
    """feedgen is published as source only: the folder gets one wheel for every platform instead."""
    lock = tmp_path / "small.lock"
    lock.write_text("nh3==0.3.8\nfeedgen==1.0.0\n", encoding="utf-8")
    folder = tmp_path / "wheelhouse"
    _run([sys.executable, "-m", "dayori", "wheelhouse", str(folder), "-r", str(lock),
          "--target", "windows-3.12", "--target", "linux-3.13"], cwd=tmp_path)
    names = sorted(p.name for p in folder.iterdir())
    assert any(re.fullmatch(r"nh3-0\.3\.8-cp\d+-(abi3|cp312)-win_amd64\.whl", n) for n in names), names
    assert any(re.fullmatch(r"nh3-0\.3\.8-cp\d+-(abi3|cp313)-manylinux.*x86_64\.whl", n) for n in names), names
    assert any(re.fullmatch(r"feedgen-1\.0\.0-.*-none-any\.whl", n) for n in names), names
    assert not any(n.endswith((".tar.gz", ".zip")) for n in names), names


def test_a_bad_target_is_refused_in_japanese(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "dayori", "wheelhouse", str(tmp_path), "--target", "mac-3.12"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "windows-3.12" in result.stderr and "mac-3.12" in result.stderr


@pytest.mark.slow
def test_an_offline_install_from_the_wheelhouse_builds_the_site_without_any_test_tool(tmp_path: Path) -> None:
    """What a PC on a closed network does: the folder gathered elsewhere, then pip with no index at all."""
    folder = tmp_path / "wheelhouse"
    _run([sys.executable, "-m", "dayori", "wheelhouse", str(folder), "--target", "current"], cwd=ROOT)
    source = tmp_path / "dayori"
    source.mkdir()
    for name in ("pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    offline = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(folder), "PIP_CONFIG_FILE": os.devnull,
               "PIP_CONSTRAINT": "", "PIP_EXTRA_INDEX_URL": "", "PIP_INDEX_URL": "http://127.0.0.1:9/"}
    _run([python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(folder),
          "-r", "requirements.lock"], cwd=source, env=offline)
    _run([python, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(folder), "--no-deps", "-e", "."],
         cwd=source, env=offline)
    installed = {_name(line) for line in _run([python, "-m", "pip", "freeze"], env=offline).stdout.splitlines()}
    assert installed & TEST_TOOLS == set()
    project = copy_project(tmp_path / "project", with_content=False)
    project.add_issue(1, "2026-11-20", "閉じたネットワークの号", "本文です。")
    _run([python, "-m", "dayori", "site"], cwd=project.root, env={**offline, "DAYORI_TODAY": "2026-11-26"})
    assert (project.site / "newsletter" / "1" / "index.html").is_file()
    assert (project.site / "email" / "1" / "message.eml").is_file()
