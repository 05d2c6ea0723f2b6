"""The builder boundary: only `dayori.material` knows MkDocs and Material, and the engine runs without them."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from testsupport.helpers import ENGINE_BUILD

from conftest import ROOT, Project

PACKAGE = ROOT / "src" / "dayori"
BUILDER_MODULES = ("mkdocs", "material", "dayori.material", "pymdownx.slugs")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".rstrip(".")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
                "import_module", "__import__"} and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
    return names


def builder_imports(path: Path) -> set[str]:
    return {name for name in imported_modules(path)
            if any(name == m or name.startswith(m + ".") for m in BUILDER_MODULES[:3])}


COMMAND_LINE = PACKAGE / "__main__.py"


def test_only_the_material_package_imports_the_builder() -> None:
    """The command line is the one exception, checked below: its `site` and `serve` commands start the builder."""
    offenders = {str(path.relative_to(PACKAGE)): sorted(builder_imports(path))
                 for path in PACKAGE.rglob("*.py")
                 if "material" not in path.relative_to(PACKAGE).parts[:1] and path != COMMAND_LINE
                 and builder_imports(path)}
    assert offenders == {}


def test_the_command_line_starts_the_builder_only_inside_its_site_and_serve_commands() -> None:
    tree = ast.parse(COMMAND_LINE.read_text(encoding="utf-8"))
    at_load = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    assert not any(builder_imports_of(node) for node in at_load)
    inside = {node.name: builder_imports_of(node) for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {name for name, imports in inside.items() if imports} == {"run_site", "run_serve"}
    assert inside["run_site"] | inside["run_serve"] == {"dayori.material", "dayori.material.site",
                                                        "dayori.material.serve"}


def builder_imports_of(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.ImportFrom) and inner.module:
            names |= {inner.module, *(f"{inner.module}.{alias.name}" for alias in inner.names)}
        elif isinstance(inner, ast.Import):
            names |= {alias.name for alias in inner.names}
    return {name for name in names if any(name == m or name.startswith(m + ".") for m in BUILDER_MODULES[:3])}


NO_BUILDER = """
import sys

class NoBuilder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"mkdocs", "material"} or name.startswith("dayori.material"):
            raise ImportError(f"the engine imported {name}")
        return None

sys.meta_path.insert(0, NoBuilder())
from dayori.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_every_command_but_site_and_serve_runs_without_the_builder(sample_project: Project) -> None:
    env = {"DAYORI_TODAY": "2026-11-26", "PATH": "/usr/bin:/bin"}
    listed = subprocess.run([sys.executable, "-c", NO_BUILDER, "--help"], capture_output=True, text=True,
                            timeout=120, env=env)
    assert listed.returncode == 0, listed.stderr
    assert all(name in listed.stdout for name in ("site", "serve", "publish", "wheelhouse", "check", "send"))
    checked = subprocess.run([sys.executable, "-c", NO_BUILDER, "check", "--format", "json"], capture_output=True,
                             text=True, timeout=300, env=env, cwd=sample_project.root)
    assert checked.returncode in (0, 1) and checked.stdout.startswith("["), checked.stderr
    built = subprocess.run([sys.executable, "-c", NO_BUILDER, "site"], capture_output=True, text=True, timeout=120,
                           env=env, cwd=sample_project.root)
    assert built.returncode != 0 and "the engine imported dayori.material" in built.stderr


def test_the_import_check_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    sample = PACKAGE / "delivery" / "_probe_sample.py"
    sample.write_text(textwrap.dedent("""
        import importlib
        def later():
            from mkdocs.config import load_config
            from ..material import adapter
            importlib.import_module("material.plugins")
    """), encoding="utf-8")
    try:
        assert builder_imports(sample) == {"mkdocs.config", "mkdocs.config.load_config", "dayori.material",
                                           "dayori.material.adapter", "material.plugins"}
    finally:
        sample.unlink()


def test_the_hook_file_only_forwards() -> None:
    tree = ast.parse((ROOT / "hooks" / "dayori_hook.py").read_text(encoding="utf-8"))
    assert all(isinstance(node, ast.ImportFrom | ast.Expr) for node in tree.body)




def test_the_engine_builds_everything_without_mkdocs(sample_project: Project) -> None:
    """Content → stages → outputs in memory, in a process where importing MkDocs or Material fails."""
    result = subprocess.run([sys.executable, "-c", ENGINE_BUILD, str(sample_project.root / "mkdocs.yml")],
                            capture_output=True, text=True, timeout=300,
                            env={"DAYORI_TODAY": "2026-11-26", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    pages, issues, feeds, emails = map(int, result.stdout.split())
    assert issues >= 9 and pages > issues and feeds > 9 and emails == issues


def test_engine_settings_match_what_mkdocs_reads(sample_project: Project) -> None:
    """The engine reads mkdocs.yml itself; its Markdown settings must be the ones MkDocs renders docs/ with."""
    from mkdocs.config import load_config

    from dayori.config import settings_from_file
    from dayori.render import _stable

    config = load_config(str(sample_project.root / "mkdocs.yml"))
    settings = settings_from_file(sample_project.root / "mkdocs.yml")
    assert list(settings.markdown_extensions) == list(config.markdown_extensions)
    assert _stable(settings.markdown_configs) == _stable(dict(config.mdx_configs))
    assert settings.site_url == config.site_url
