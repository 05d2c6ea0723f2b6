"""`dayori.material.internals` runs only with the MkDocs (or ProperDocs) and Material releases it was read against:
any other release stops the build before anything is written, with a message naming both."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from conftest import TODAY, Project
from dayori.material.internals import WRITTEN_FOR, installed_versions, version_problem


def test_the_locked_releases_are_the_ones_it_was_written_for() -> None:
    installed = installed_versions()
    assert installed == {"mkdocs": WRITTEN_FOR["mkdocs"], "mkdocs-material": WRITTEN_FOR["mkdocs-material"]}
    assert version_problem(installed) is None


@given(st.sampled_from(["mkdocs", "properdocs", "mkdocs-material"]),
       st.from_regex(r"\A[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}(\.post[0-9])?\Z"))
def test_any_other_release_is_named_beside_the_one_it_was_written_for(name: str, version: str) -> None:
    builder = "properdocs" if name == "properdocs" else "mkdocs"
    installed = {builder: WRITTEN_FOR[builder], "mkdocs-material": WRITTEN_FOR["mkdocs-material"], name: version}
    problem = version_problem(installed)
    if version == WRITTEN_FOR[name]:
        assert problem is None
    else:
        assert problem is not None
        assert f" {version}" in problem and f" {WRITTEN_FOR[name]}" in problem and "internals.py" in problem


def test_a_newer_material_stops_the_build_before_it_writes(project: Project, tmp_path: Path) -> None:
    """A copy of Material's package record with another version, found first on the path: what an upgrade
    that skipped the lock file looks like to the build."""
    real = metadata.distribution("mkdocs-material")
    record = Path(str(real.locate_file(f"mkdocs_material-{real.version}.dist-info")))
    shadow = tmp_path / "shadow" / "mkdocs_material-9.99.0.dist-info"
    shutil.copytree(record, shadow)
    text = (shadow / "METADATA").read_text(encoding="utf-8")
    (shadow / "METADATA").write_text(text.replace(f"Version: {real.version}", "Version: 9.99.0", 1), encoding="utf-8")
    project.add_issue(1, "2026-11-02", "最初の号")
    env = {**os.environ, "DAYORI_TODAY": TODAY, "NO_COLOR": "1", "PYTHONPATH": str(shadow.parent)}
    result = subprocess.run([sys.executable, "-m", "dayori", "site"], cwd=project.root, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Material for MkDocs 9.8.2" in output and "Material for MkDocs 9.99.0" in output, output
    assert "ビルドを中止しました" in output
    assert not project.site.exists()
