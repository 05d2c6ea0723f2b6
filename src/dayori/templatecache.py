"""Jinja templates compiled once and kept in the cache, as Python keeps its bytecode.

Every build compiled the theme's templates again (45 of them, about a tenth of a rebuild of 520 issues) from
sources that had not changed. Jinja keeps what it compiled, by template and file name, and recompiles a template
whose source changed (its checksum); what else the compiled code depends on (Jinja's and Python's version, the
environment's syntax and options) names the folder, so a cache made by another version or another environment
is never read. A cache file that cannot be read or written is not an error: the template is compiled as before.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

FOLDER_PREFIX = "templates-"


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's own file cache (it writes each file whole, then renames it), where a damaged or unwritable file
    means compiling the template again instead of stopping the build: Jinja reads a file's checksum with
    `pickle` and lets a damaged one raise."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # any damage: the template is compiled again and the file replaced
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            return


def keep_compiled(env: jinja2.Environment, cache: Path) -> jinja2.Environment:
    """`env`, which now keeps its compiled templates in `cache` (a folder of the engine's cache)."""
    folder = cache / f"{FOLDER_PREFIX}{_compiled_with(env)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return env
    env.bytecode_cache = TemplateCache(str(folder), "%s.cache")
    return env


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
