"""The ProperDocs canary: the sample site built by ProperDocs (MkDocs' maintained fork, installed in its own venv
without MkDocs, `make properdocs`) is the site MkDocs builds, file for file and byte for byte, but for the
generator's name in each page's head. When MkDocs stops being installable, the project switches builders by
changing the venv alone (README: "ビルダーを切り替える")."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import brotli
import pytest

from conftest import ROOT, TODAY, Project, copy_project

PROPERDOCS_PYTHON = ROOT / ".venv-properdocs" / "bin" / "python"
GENERATOR = re.compile(rb'<meta name="generator" content="([^"]*)">')


def properdocs_python() -> Path:
    """The canary's venv, made from requirements-properdocs.lock (`make test` makes it before pytest runs)."""
    if shutil.which("make") is None:
        pytest.fail("make が見つかりません: ProperDocs の venv は make properdocs で作ります")
    made = subprocess.run(["make", "--no-print-directory", "properdocs"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    return PROPERDOCS_PYTHON


def build_env() -> dict[str, str]:
    """The same day and the same sitemap date for both builders; nothing of this venv leaks into the other."""
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return {**env, "DAYORI_TODAY": TODAY, "NO_COLOR": "1", "SOURCE_DATE_EPOCH": "1764115200"}


def site(python: Path | str, project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m dayori site`, what `make site` runs, with the builder of that interpreter's venv."""
    return subprocess.run([str(python), "-m", "dayori", "site", *args], cwd=project.root, env=build_env(),
                          capture_output=True, text=True, timeout=600, check=False)


def published(site_dir: Path) -> dict[str, bytes]:
    """Every file a web server would hand out, compressed copies unpacked, generator names left out."""
    files = {}
    for path in sorted(site_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            elif path.suffix == ".br":
                data = brotli.decompress(data)
            files[path.relative_to(site_dir).as_posix()] = GENERATOR.sub(b"", data)
    return files


def generators(site_dir: Path) -> set[str]:
    return {match.decode() for path in site_dir.rglob("*.html")
            for match in GENERATOR.findall(path.read_bytes())}


class Builds:
    def __init__(self, mkdocs: Project, properdocs: Project, output: subprocess.CompletedProcess[str]) -> None:
        self.mkdocs, self.properdocs, self.output = mkdocs, properdocs, output


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """The sample project built once by each builder. The clips are transcoded once: the engine's cache is
    content-addressed and the same for both (copied before the ProperDocs build)."""
    python = properdocs_python()
    folder = tmp_path_factory.mktemp("canary")
    mkdocs, properdocs = (copy_project(folder / name, with_content=True) for name in ("mkdocs", "properdocs"))
    first = site(sys.executable, mkdocs)
    assert first.returncode == 0, first.stderr
    shutil.copytree(mkdocs.root / ".cache", properdocs.root / ".cache")
    second = site(python, properdocs)
    assert second.returncode == 0, second.stderr
    return Builds(mkdocs, properdocs, second)


def test_the_canary_venv_has_properdocs_and_no_mkdocs() -> None:
    python = properdocs_python()
    probe = "import importlib.metadata as m, importlib.util as u; print(m.version('properdocs'), u.find_spec('mkdocs'))"
    found = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, timeout=120, check=False,
                           env=build_env())
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["1.6.7", "None"]


def test_properdocs_publishes_the_same_files(builds: Builds) -> None:
    assert generators(builds.properdocs.site) == {"mkdocs-ProperDocs 1.6.7, mkdocs-material-9.8.2"}
    assert generators(builds.mkdocs.site) == {"mkdocs-1.6.1, mkdocs-material-9.8.2"}
    made_by_mkdocs, made_by_properdocs = published(builds.mkdocs.site), published(builds.properdocs.site)
    assert sorted(made_by_properdocs) == sorted(made_by_mkdocs)
    assert sum(name.endswith("index.html") for name in made_by_mkdocs) >= 30


def test_properdocs_pages_feeds_and_emails_have_the_same_bytes(builds: Builds) -> None:
    made_by_mkdocs, made_by_properdocs = published(builds.mkdocs.site), published(builds.properdocs.site)
    differ = sorted(name for name in made_by_mkdocs if made_by_properdocs.get(name) != made_by_mkdocs[name])
    assert differ == []


def test_editors_read_the_properdocs_build_in_japanese(builds: Builds) -> None:
    terminal = builds.output.stdout + builds.output.stderr
    assert "サイトを作りました" in terminal
    assert not re.search(r"Documentation built|Cleaning site directory|Building documentation", terminal)


def test_a_strict_properdocs_build_with_a_warning_leaves_the_site_as_it_was(project: Project) -> None:
    """ProperDocs logs its warnings under its own name: the build that it refuses must not replace site/."""
    python = properdocs_python()
    project.add_issue(1, "2026-11-02", "最初の号")
    good = site(python, project)
    assert good.returncode == 0, good.stderr
    before = published(project.site)
    project.write("docs/extra.md", "# 追加\n\n[壊れたリンク](missing.md)\n")
    refused = site(python, project, "--strict")
    assert refused.returncode != 0
    assert "ビルドを中止しました（strict: true のため、警告 1 件）" in refused.stdout + refused.stderr
    assert published(project.site) == before


def test_the_properdocs_lock_is_the_runtime_lock_with_properdocs_for_mkdocs() -> None:
    """One lock to update: the canary's may differ from requirements.lock only by the builder."""
    def pins(name: str) -> set[str]:
        lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
        return {line.strip() for line in lines if line.strip() and not line.startswith("#")}

    runtime, canary = pins("requirements.lock"), pins("requirements-properdocs.lock")
    assert runtime - canary == {pin for pin in runtime if pin.startswith(("mkdocs==", "mkdocs-get-deps=="))}
    assert canary - runtime == {"properdocs==1.6.7"}
