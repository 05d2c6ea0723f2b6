"""The builder boundary: only `dayori.material` knows MkDocs and Material, and the engine runs without them."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ROOT, Project
from testsupport.helpers import ENGINE_BUILD, NO_BUILDER

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


NO_BUILDER_CLI = NO_BUILDER + """
from dayori.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_every_command_but_site_and_serve_runs_without_the_builder(sample_project: Project) -> None:
    env = {"DAYORI_TODAY": "2026-11-26", "PATH": "/usr/bin:/bin"}
    listed = subprocess.run([sys.executable, "-c", NO_BUILDER_CLI, "--help"], capture_output=True, text=True,
                            timeout=120, env=env)
    assert listed.returncode == 0, listed.stderr
    assert all(name in listed.stdout for name in ("site", "serve", "publish", "wheelhouse", "check", "send"))
    checked = subprocess.run([sys.executable, "-c", NO_BUILDER_CLI, "check", "--format", "json"], capture_output=True,
                             text=True, timeout=300, env=env, cwd=sample_project.root)
    assert checked.returncode in (0, 1) and checked.stdout.startswith("["), checked.stderr
    built = subprocess.run([sys.executable, "-c", NO_BUILDER_CLI, "site"], capture_output=True, text=True, timeout=120,
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


def test_the_product_ships_no_benchmark_or_test_code() -> None:
    """`benchmarks/` and `testsupport/` sit beside `src/`: the package neither holds nor imports them, nor the
    tests' modules, and nothing reaches them by editing `sys.path`."""
    outside = {"benchmarks", "testsupport", "conftest", *(path.stem for path in (ROOT / "tests").glob("*.py"))}
    offenders = {str(path.relative_to(PACKAGE)): sorted(name for name in imported_modules(path)
                                                        if name.split(".")[0] in outside)
                 for path in PACKAGE.rglob("*.py")}
    assert {path: names for path, names in offenders.items() if names} == {}
    assert not [path for path in PACKAGE.rglob("*.py") if "bench" in path.stem]
    for folder in (PACKAGE, ROOT / "benchmarks", ROOT / "testsupport"):
        assert not [path for path in folder.rglob("*.py") if "sys.path" in path.read_text(encoding="utf-8")]
INTERNALS = PACKAGE / "material" / "internals.py"
PRIVATE_SOURCES = ("mkdocs", "material", "properdocs", "pymdownx")
OWN_RECEIVERS = {"self", "cls", "state", "reload"}
"""Objects of the adapter's own (its session and what `make serve` reuses), whose attributes it sets freely."""
PUBLIC_ATTRIBUTES = {"site_dir", "nav", "content_string", "active"}
"""The documented data attributes of MkDocs' objects the adapter sets (`config.site_dir`, `file.content_string` …)."""


def _private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def _root(expression: ast.expr) -> str | None:
    """The name an attribute chain starts from (`state` for `state.reload.writing`)."""
    while isinstance(expression, ast.Attribute | ast.Subscript | ast.Call):
        expression = expression.func if isinstance(expression, ast.Call) else expression.value
    return expression.id if isinstance(expression, ast.Name) else None


def builder_internals_used(path: Path) -> list[str]:
    """What in a file reaches behind MkDocs' or Material's documented API: a private name imported from them,
    another object's private attribute, a method or a plugin's attribute replaced (`x.method = …`, `setattr`),
    a log filter (how a builder warning is hidden by its text)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PRIVATE_SOURCES:
            found += [f"{node.lineno}: {node.module}.{alias.name}" for alias in node.names
                      if _private(f"{node.module}.{alias.name}")]
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: {alias.name}" for alias in node.names
                      if alias.name.split(".")[0] in PRIVATE_SOURCES and _private(alias.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and not (
                isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if (isinstance(element, ast.Attribute) and element.attr not in PUBLIC_ATTRIBUTES
                            and _root(element.value) not in OWN_RECEIVERS
                            and not _private(element.attr)):
                        found.append(f"{node.lineno}: {ast.unparse(element)} = …")
        elif isinstance(node, ast.Call) and (getattr(node.func, "id", None) == "setattr"
                                             or getattr(node.func, "attr", None) == "addFilter"):
            found.append(f"{node.lineno}: {ast.unparse(node.func)}(…)")
    return sorted(found, key=lambda use: int(use.split(":", 1)[0]))


def test_builder_internals_are_used_in_one_module_only() -> None:
    """Everything behind MkDocs' and Material's documented API lives in `dayori.material.internals`, which
    checks the releases it was written for; the rest of the package (and the hook) keeps to their API."""
    files = [*(PACKAGE / "material").rglob("*.py"), ROOT / "hooks" / "dayori_hook.py"]
    offenders = {str(path.relative_to(ROOT)): builder_internals_used(path) for path in files if path != INTERNALS}
    assert {name: uses for name, uses in offenders.items() if uses} == {}
    engine = [path for path in PACKAGE.rglob("*.py") if "material" not in path.relative_to(PACKAGE).parts[:1]]
    private_imports = {str(path.relative_to(ROOT)): [use for use in builder_internals_used(path)
                                                     if use.split(": ", 1)[1].split(".")[0] in PRIVATE_SOURCES]
                       for path in engine}
    assert {name: uses for name, uses in private_imports.items() if uses} == {}
    assert builder_internals_used(INTERNALS), "internals.py is where they are: the check must see them there"


def test_the_internals_check_sees_every_kind_of_reach(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(textwrap.dedent("""
        import logging
        from mkdocs.structure.toc import _TocToken
        import material._private
        def patch(page, server, config, search, state, file):
            page.render = lambda config, files: None
            server._inject_js_into_html = None
            server.builder = print
            search.search_index_prev = None
            setattr(file, "is_modified", bool)
            logging.getLogger("mkdocs").addFilter(lambda record: True)
            state.failure = None
            config.site_dir = "x"
            file.content_string = ""
    """), encoding="utf-8")
    assert builder_internals_used(sample) == [
        "3: mkdocs.structure.toc._TocToken", "4: material._private", "6: page.render = …",
        "7: server._inject_js_into_html", "8: server.builder = …", "9: search.search_index_prev = …",
        "10: setattr(…)", "11: logging.getLogger('mkdocs').addFilter(…)"]


def test_the_adapter_keeps_its_state_on_one_session_object() -> None:
    """No module global but the current session (MkDocs calls the hook's events as module functions): constants
    are in capitals, and the session is made by `on_startup` and dropped by `on_shutdown`."""
    tree = ast.parse((PACKAGE / "material" / "adapter.py").read_text(encoding="utf-8"))
    names = [target.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
             for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
             if isinstance(target, ast.Name)]
    assert [name for name in names if not name.isupper() and name not in {"log", "on_post_build"}] == ["_current"]


def test_a_session_lasts_from_startup_to_shutdown(project: Project) -> None:
    from dayori.material import adapter

    adapter.on_startup(command="serve", dirty=True)
    first = adapter.session()
    assert first.preview and first.reloading
    adapter.on_shutdown()
    project.add_issue(1, "2026-11-02", "最初の号")
    project.build()
    after = adapter.session()
    assert after is not first and not after.preview and after.build is None
