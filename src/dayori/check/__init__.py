"""校正: the proofreading check editors run (`python -m dayori check`) and every build runs.

The checker itself is imported when first used: a site build proofreads in another process and only reads
its result here (`dayori.check.result.CheckResult`), which needs none of the rules or the analyser."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dayori.check.findings import Finding

if TYPE_CHECKING:
    from dayori.check.archive import Report, SettingsError, check_files, content_files

__all__ = ["Finding", "Report", "SettingsError", "check_files", "content_files"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dayori.check import archive

        return getattr(archive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
