"""Jinja templates compiled once and kept in the cache, as Python keeps its bytecode.

Every build compiled the theme's templates again (45 of them, about a tenth of a rebuild of 520 issues) from
sources that had not changed. Jinja keeps what it compiled, by template and file name, and recompiles a template
whose source changed (its checksum); what else the compiled code depends on (Jinja's and Python's version, the
environment's syntax and options) names the folder, so a cache made by another version or another environment
is never read. A cache file that cannot be read or written is not an error: the template is compiled as before.

A first build has no cache (CI on a fresh checkout, a new clone): the theme's templates were compiled when the
engine was installed (`precompile`, which `make` runs when it sets up `.venv`, as pip compiles the packages'
Python), into a folder of the virtual environment that builds only read. A project's own overrides
(`theme.custom_dir`) are compiled at its first build and kept in its cache.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

FOLDER_PREFIX = "templates-"
INSTALLED = Path(sys.prefix) / "share" / "dayori" / "compiled-templates"
"""Where `precompile` keeps the templates compiled at installation."""
TEMPLATE_SUFFIXES = (".html", ".xml")
"""What a theme renders (pages, `sitemap.xml`); its folders also hold scripts, stylesheets and pictures, and
Material's 10,000 icons, of which a site includes a few (compiled by its first build, which keeps them)."""


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's own file cache (it writes each file whole, then renames it), where a damaged or unwritable file
    means compiling the template again instead of stopping the build: Jinja reads a file's checksum with
    `pickle` and lets a damaged one raise. Where the project's cache has no good copy, the one compiled at
    installation is read from `installed`, which is never written."""

    def __init__(self, directory: Path, installed: Path | None = None) -> None:
        super().__init__(str(directory), "%s.cache")
        self.installed = None if installed is None else jinja2.FileSystemBytecodeCache(str(installed), "%s.cache")

    def load_bytecode(self, bucket: Bucket) -> None:
        _load(super().load_bytecode, bucket)
        if bucket.code is None and self.installed is not None:
            _load(self.installed.load_bytecode, bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            return


def _load(load: Callable[[Bucket], None], bucket: Bucket) -> None:
    try:
        load(bucket)
    except Exception:  # any damage: the template is compiled again (and kept in the project's cache)
        bucket.reset()


def keep_compiled(env: jinja2.Environment, cache: Path, installed: Path | None = None) -> jinja2.Environment:
    """`env`, which now keeps its compiled templates in `cache` (a folder of the engine's cache) and reads those
    compiled at installation from `installed` (`INSTALLED`)."""
    name = f"{FOLDER_PREFIX}{_compiled_with(env)}"
    installed = INSTALLED if installed is None else installed
    folder = cache / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return env
    env.bytecode_cache = TemplateCache(folder, installed / name if (installed / name).is_dir() else None)
    return env


def precompile(env: jinja2.Environment, installed: Path | None = None) -> int:
    """Compiles every template `env` can load into `installed` (`INSTALLED`; what is there is replaced) and tells
    how many; a template that does not compile on its own is left to the build, which reports it as before."""
    folder = (INSTALLED if installed is None else installed) / f"{FOLDER_PREFIX}{_compiled_with(env)}"
    folder.mkdir(parents=True, exist_ok=True)
    env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(folder), "%s.cache")
    compiled = 0
    for name in env.list_templates(filter_func=lambda name: name.endswith(TEMPLATE_SUFFIXES)):
        try:
            env.get_template(name)
        except (jinja2.TemplateError, UnicodeDecodeError):
            continue
        compiled += 1
    return compiled


def _compiled_with(env: jinja2.Environment) -> str:
    """What the compiled code of the same source depends on besides it."""
    options = (jinja2.__version__, sys.version, sys.implementation.cache_tag,
               env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
               env.comment_start_string, env.comment_end_string, env.line_statement_prefix,
               env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
               env.keep_trailing_newline, env.optimized, env.is_async, _named(env.autoescape), _named(env.finalize),
               sorted(env.extensions))
    return hashlib.sha256(repr(options).encode("utf-8")).hexdigest()[:16]


def _named(value: object) -> str:
    """A setting by value, or a function by its name (its identity changes with every process)."""
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__name__)}"
    return repr(value)
