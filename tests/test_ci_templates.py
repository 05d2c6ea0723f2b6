"""The CI templates in ci-templates/: valid YAML, inactive here, a scheduled publish, .cache/ and the ledger kept
between runs, site/ uploaded as the preview artifact, and every `python -m dayori` line one the command accepts."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

from conftest import ROOT
from dayori.__main__ import parser

TEMPLATES = ROOT / "ci-templates"


def _load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((TEMPLATES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _steps(data: dict[Any, Any]) -> list[dict[str, Any]]:
    jobs = data["jobs"]
    return [step for job in (jobs.values() if isinstance(jobs, dict) else jobs) for step in job["steps"]]


def dayori_commands(text: str) -> list[list[str]]:
    """Each `python -m dayori …` line, split as a shell would, with variables replaced by a placeholder value."""
    found = []
    for line in text.splitlines():
        match = None if line.lstrip().startswith("#") else re.search(r"python -m dayori (.+)$", line)
        if match:
            plain = re.sub(r"\$\((\w|\.)+\)|\$\{\{[^}]*\}\}|\$\w+", "VALUE", match.group(1))
            found.append(shlex.split(plain.replace("$(date -u -d '+7 days' +%F)", "2026-12-03")))
    return found


@pytest.mark.parametrize("name", ["github-actions.yml", "azure-pipelines.yml"])
def test_every_dayori_line_is_a_command_the_cli_accepts(name: str) -> None:
    commands = dayori_commands((TEMPLATES / name).read_text(encoding="utf-8"))
    assert {c[0] for c in commands} >= {"check", "site", "publish"}
    for command in commands:
        args = parser().parse_args(command)
        if command[0] == "publish":
            assert args.to is not None and args.deploy is not None


def test_the_templates_are_not_active_in_this_repository() -> None:
    assert not (ROOT / ".github" / "workflows").exists()
    assert not (ROOT / "azure-pipelines.yml").exists()


def test_github_actions_publishes_hourly_keeps_cache_and_ledger_and_uploads_the_preview() -> None:
    data = _load("github-actions.yml")
    triggers = data["on"] if "on" in data else data[True]  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].split()[1] == "*" and "push" in triggers
    steps = _steps(data)
    cached = [s["with"]["path"] for s in steps if str(s.get("uses", "")).startswith("actions/cache")]
    assert ".cache/dayori" in cached and cached.count("state") == 2
    [save] = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache/save")]
    assert save["if"] == "always()"
    uploads = {s["with"]["name"]: s["with"]["path"] for s in steps if str(s.get("uses", "")).startswith(
        "actions/upload-artifact")}
    assert uploads["site-preview"] == "site/"
    assert data["concurrency"]["cancel-in-progress"] is False
    installs = [s["run"] for s in steps if "pip install" in str(s.get("run", ""))]
    assert installs and all("requirements-dev" not in run for run in installs)


def test_azure_pipelines_publishes_hourly_keeps_cache_and_ledger_and_uploads_the_preview() -> None:
    data = _load("azure-pipelines.yml")
    [schedule] = data["schedules"]
    assert schedule["cron"].split()[1] == "*" and schedule["always"] is True
    steps = _steps(data)
    assert any(s.get("task") == "Cache@2" and s["inputs"]["path"] == ".cache/dayori" for s in steps)
    artifacts = {s["inputs"]["artifact"]: s["inputs"]["targetPath"] for s in steps
                 if s.get("task") == "PublishPipelineArtifact@1"}
    assert artifacts["site-preview"] == "site"
    [publish] = [s["script"] for s in steps if "dayori publish" in str(s.get("script", ""))]
    assert "--ledger" in publish and "DAYORI_STATE_DIR" in publish
