"""`python -m dayori.material.precompile`: compiles Material's templates, and the engine's that come before them,
into the virtual environment when `make` sets it up (see `dayori.templatecache`), so that a first build of a
fresh checkout does not compile them."""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.theme import Theme

from dayori.material.adapter import theme_templates
from dayori.templatecache import INSTALLED, precompile


def compile_theme(installed: Path | None = None) -> int:
    """Compiles the templates a build's theme loads (the engine's, then Material's, then MkDocs'), into
    `installed` (`INSTALLED`), and tells how many."""
    theme = Theme(name="material", locale="en")  # the locale names translations only, not how templates compile
    theme.dirs.insert(0, theme_templates())
    return precompile(theme.get_env(), installed)


def main() -> int:
    print(f"{compile_theme()} templates compiled into {INSTALLED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
