"""Which builder runs: MkDocs, or ProperDocs, its maintained fork of MkDocs 1.x (a drop-in that keeps hooks). With
ProperDocs installed in place of MkDocs (`make site BUILDER=properdocs`, see the README), its own finder serves
every `mkdocs.*` import from `properdocs.*`, so this package and Material for MkDocs run unchanged.

Imported by the package before anything imports `mkdocs`. Where both are installed, MkDocs runs."""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("mkdocs") is None and importlib.util.find_spec("properdocs") is not None:
    import properdocs.replacement  # noqa: F401  (from here on `import mkdocs.x` imports `properdocs.x`)
