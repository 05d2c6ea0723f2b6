"""`python -m dayori check [PATH…]`: every finding as `path:line:column: 規則名: message（修正案：…）`, errors
first; `--format json` for tools. Exit 1 when there is an error, 2 when the settings or a file cannot be used.

Word (.docx) and text (.txt) files are checked too, inside the project or anywhere else (`python -m dayori
check 答弁案.docx メモ.txt`); outside a project the default settings apply."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dayori.check.analyzer import Analyzer
from dayori.check.archive import (
    SettingsError,
    check_context,
    check_files,
    content_files,
    project_dictionary,
    rule_levels,
)
from dayori.check.external import DOCUMENT_SUFFIXES, DocumentError, check_document
from dayori.check.findings import Finding, as_json, ordered
from dayori.config import ConfigError, Settings, settings_from_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="調べる号・動画のファイルまたはフォルダー、Word（.docx）やテキスト（.txt）のファイル（省略すると号と動画のすべて）")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="出力の形式")
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"), help="mkdocs.yml の場所")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    documents = [p for p in args.paths if p.suffix.lower() in DOCUMENT_SUFFIXES]
    content_paths = [p for p in args.paths if p.suffix.lower() not in DOCUMENT_SUFFIXES]
    try:
        settings = _settings(args.config_file, standalone=bool(documents) and not content_paths)
        findings: list[Finding] = []
        checked = 0
        if content_paths or not documents:
            files = content_files(settings)
            report = check_files(settings, files, _wanted(content_paths, files))
            findings += report.findings
            checked += len(files)
        findings += _documents(documents, settings)
        checked += len(documents)
    except (ConfigError, SettingsError, FileNotFoundError, DocumentError) as error:
        print(error, file=sys.stderr)
        return 2
    findings = ordered(findings)
    errors = sum(1 for f in findings if f.is_error)
    if args.format == "json":
        print(as_json(findings))
    else:
        for finding in findings:
            print(finding)
        print(f"エラー {errors} 件、警告 {len(findings) - errors} 件（{checked} ファイルを確認）" if findings
              else f"指摘はありません（{checked} ファイルを確認）。", file=sys.stderr)
    return 1 if errors else 0


def _settings(config_file: Path, *, standalone: bool) -> Settings:
    """The project's settings; a Word or text file checked where there is no mkdocs.yml gets the defaults."""
    if standalone and not config_file.is_file():
        return Settings(root=Path.cwd(), site_url="")
    return settings_from_file(config_file)


def _documents(paths: list[Path], settings: Settings) -> list[Finding]:
    if not paths:
        return []
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path} が見つかりません。ファイルの名前と場所を確かめてください。")
    levels = rule_levels(settings)
    _, entries = project_dictionary(settings)
    context = check_context(settings, Analyzer(), entries)
    return [finding for path in paths for finding in check_document(path, str(path), context, levels)]


def _wanted(paths: list[Path], files: list[Path]) -> list[Path] | None:
    """The content files named or inside named folders; a path that is not content is an error."""
    if not paths:
        return None
    wanted = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path} が見つかりません。号の .md ファイルか、そのフォルダーを指定してください。")
        resolved = path.resolve()
        chosen = [f for f in files if f.resolve() == resolved or f.resolve().is_relative_to(resolved)
                  or (resolved.suffix.lower() in (".vtt", ".srt") and f.resolve().parent == resolved.parent)]
        if not chosen:
            raise FileNotFoundError(f"{path} は号（newsletter/）や動画（videos/）のファイルではありません。"
                                    "Word やテキストのファイルは .docx か .txt のものを指定してください。")
        wanted += chosen
    return wanted
