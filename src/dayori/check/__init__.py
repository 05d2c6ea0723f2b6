"""校正: the proofreading check editors run (`python -m dayori check`) and every build runs."""

from dayori.check.archive import Report, SettingsError, check_files, content_files
from dayori.check.findings import Finding

__all__ = ["Finding", "Report", "SettingsError", "check_files", "content_files"]
