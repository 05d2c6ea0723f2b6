"""Editors' files as the build names them: where they really are (symlinks followed) and how the editor
finds them in the project (`newsletter/2026/12.md`)."""

from __future__ import annotations

import difflib
import unicodedata
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


def is_markdown(name: str) -> bool:
    """`.md` in any case: Windows and macOS do not tell `12.MD` from `12.md`, so neither does the build."""
    return name.lower().endswith(".md")


def markdown_files(folder: Path) -> list[Path]:
    """Every Markdown file under `folder`, in name order."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*") if is_markdown(path.name) and path.is_file())


def same_name(name: str) -> str:
    """A name as Unicode compares it: a Mac writes `ダ` as two characters (NFD), Windows and IMEs as one (NFC)."""
    return unicodedata.normalize("NFC", name)


def folded_name(name: str) -> str:
    """A name as a person reads it: case and width do not count (`Outlook-Rules.PNG`, `ｏｕｔｌｏｏｋ-rules.png`)."""
    return unicodedata.normalize("NFKC", name).casefold()


def find_entry(folder: Path, name: str) -> Path | None:
    """The entry of `folder` named `name` as Unicode compares names, or None: the name an editor typed is
    found whether the file was saved on a Mac or on Windows."""
    try:
        exact = folder / name
        if exact.exists():
            return exact
        wanted = same_name(name)
        return next((entry for entry in folder.iterdir() if same_name(entry.name) == wanted), None)
    except (OSError, ValueError):  # no such folder, a NUL byte, a name too long for any file
        return None


def near_name(names: list[str], name: str) -> tuple[str, str] | None:
    """(the name meant, how it differs) among `names`: the same letters in another case or width, or a
    near spelling (`smartphone-vidoe.png`)."""
    folded = {folded_name(candidate): candidate for candidate in sorted(names)}
    wanted = folded_name(name)
    if wanted in folded:
        guess = folded[wanted]
        if guess.lower() == same_name(name).lower():
            return guess, "大文字・小文字が違います"
        return guess, "全角・半角や大文字・小文字が違います"
    close = difflib.get_close_matches(wanted, list(folded), n=1, cutoff=0.75)
    return (folded[close[0]], "") if close else None


def find_path(folder: Path, relative: str) -> Path | None:
    """`folder / relative` with each name found as `find_entry` finds it, or None when one is missing."""
    current = folder
    for part in relative.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            current = current / part
            continue
        found = find_entry(current, part)
        if found is None:
            return None
        current = found
    return current


def episode_index(folder: Path) -> Path | None:
    """An episode folder's index.md, in any case (`INDEX.MD` saved on Windows)."""
    exact = folder / "index.md"
    if exact.is_file():
        return exact
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return None
    return next((entry for entry in entries if is_markdown(entry.name) and entry.name.lower() == "index.md"
                 and entry.is_file()), None)
