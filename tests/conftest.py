"""Shared fixtures: a temporary copy of the project (real mkdocs.yml, docs/, hooks/) built by real MkDocs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from hypothesis import HealthCheck, settings

from testsupport.helpers import TODAY

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

# The fuzzer's budgets: `make test` runs a small fixed set of examples (the same every run, so that CI is
# repeatable); `make fuzz` (`--hypothesis-profile=fuzz`) searches far more, with new examples each time.
_FUZZ_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture,
                HealthCheck.filter_too_much]
settings.register_profile("default", max_examples=10, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_FUZZ_CHECKS, print_blob=True)
settings.register_profile("fuzz", max_examples=400, deadline=None, suppress_health_check=_FUZZ_CHECKS,
                          print_blob=True)
settings.load_profile("default")


def issue_text(vol: int, date: str, title: str, body: str, **front: object) -> str:
    meta = {"vol": vol, "date": date, "title": title, "summary": f"{title}についての要約です。",
            "tags": ["テスト"], **front}
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None)
    return f"---\n{header}---\n\n{textwrap.dedent(body).strip()}\n"


@dataclass
class Project:
    """A throwaway copy of the project that tests fill with issues and build like `make site` does."""

    root: Path

    @property
    def site(self) -> Path:
        return self.root / "site"

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def add_issue(self, vol: int, date: str, title: str, body: str = "本文です。", **front: object) -> Path:
        return self.write(f"newsletter/{date[:4]}/{vol}.md", issue_text(vol, date, title, body, **front))

    def set_limit(self, name: str, value: int) -> None:
        """One of mkdocs.yml's `extra.dayori.limits`, as an administrator would change it."""
        config = self.root / "mkdocs.yml"
        text, count = re.subn(rf"(?m)^(      {name}: )\d+", rf"\g<1>{value}", config.read_text(encoding="utf-8"))
        assert count == 1, f"mkdocs.yml has no limits.{name}"
        config.write_text(text, encoding="utf-8")

    def build(self, *, command: Literal["build", "serve"] = "build", today: str = TODAY) -> None:
        """An in-process build, as `mkdocs build` runs it (startup event included)."""
        from mkdocs.commands.build import build
        from mkdocs.config import load_config

        previous = os.environ.get("DAYORI_TODAY")
        os.environ["DAYORI_TODAY"] = today
        try:
            config = load_config(str(self.root / "mkdocs.yml"))
            config.plugins.on_startup(command=command, dirty=False)
            try:
                build(config)
            finally:
                config.plugins.on_shutdown()
        finally:
            if previous is None:
                os.environ.pop("DAYORI_TODAY", None)
            else:
                os.environ["DAYORI_TODAY"] = previous

    def run_build(self, today: str = TODAY, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        """`mkdocs build` as a separate process, for what an editor sees in the terminal and the exit code."""
        env = {**os.environ, "DAYORI_TODAY": today, "NO_COLOR": "1"}
        return subprocess.run([sys.executable, "-m", "mkdocs", "build", *args], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=300)

    def site_text(self) -> str:
        """Every text file of the built site, for checks that something appears nowhere."""
        parts = []
        for path in sorted(self.site.rglob("*")):
            if path.is_file() and path.suffix in {".html", ".xml", ".json", ".txt", ".atom", ".eml", ".js", ".css"}:
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)


def body_text(message: EmailMessage, subtype: str) -> str:
    """The message's text/<subtype> part, the one a mail client shows."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())


def copy_project(destination: Path, *, with_content: bool) -> Project:
    destination.mkdir(parents=True)
    for name in ("mkdocs.yml", "docs", "hooks"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name)
        else:
            shutil.copy2(source, destination / name)
    for name in ("newsletter", "videos"):
        if with_content:
            shutil.copytree(ROOT / name, destination / name)
        else:
            (destination / name).mkdir()
    return Project(destination)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """The real configuration and hand-written pages, with no issues or episodes yet."""
    return copy_project(tmp_path / "project", with_content=False)


@pytest.fixture
def sample_project(tmp_path: Path) -> Project:
    """The real project with its sample issues and episodes."""
    return copy_project(tmp_path / "project", with_content=True)


@pytest.fixture
def webhook() -> Iterator[Any]:
    """A local server playing a Teams Workflows webhook (`testsupport.webhook_server.Webhook`), closed after the test."""
    from testsupport.webhook_server import Webhook

    hook = Webhook()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()
