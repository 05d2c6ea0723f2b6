"""Editors' files as the build names them: where they really are (symlinks followed) and how the editor
finds them in the project (`newsletter/2026/12.md`)."""

from __future__ import annotations

from pathlib import Path


class RealPaths:
    """`Path.resolve` for the many files of a few folders, resolving each folder once (resolving every file
    on its own walks every folder of its path again, a tenth of a preview rebuild at 520 issues)."""

    def __init__(self, root: Path) -> None:
        self._folders: dict[Path, Path] = {}
        self.root = self.real(root)

    def real(self, path: Path) -> Path:
        if path.is_symlink() or path.name in ("", ".", ".."):
            return path.resolve()
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = self._folders[path.parent] = path.parent.resolve()
        return folder / path.name

    def display(self, path: Path) -> Path:
        """The path from the project's folder, or as given when it lies outside."""
        try:
            return self.real(path).relative_to(self.root)
        except ValueError:
            return path
