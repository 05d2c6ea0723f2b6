"""`python -m dayori check [PATH…]`: every finding as `path:line:column: 規則名: message（修正案：…）`, errors
first; `--format json` for tools. Exit 1 when there is an error, 2 when the settings cannot be used."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dayori.check.archive import SettingsError, check_files, content_files
from dayori.check.findings import as_json
from dayori.config import ConfigError, settings_from_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="調べる号・動画のファイルまたはフォルダー（省略するとすべて）")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="出力の形式")
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"), help="mkdocs.yml の場所")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_file(args.config_file)
        files = content_files(settings)
        wanted = _wanted(args.paths, files)
        report = check_files(settings, files, wanted)
    except (ConfigError, SettingsError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    if args.format == "json":
        print(as_json(report.findings))
    else:
        for finding in report.findings:
            print(finding)
        warnings = len(report.findings) - report.errors
        print(f"エラー {report.errors} 件、警告 {warnings} 件（{len(files)} ファイルを確認）" if report.findings
              else f"指摘はありません（{len(files)} ファイルを確認）。", file=sys.stderr)
    return 1 if report.errors else 0


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
            raise FileNotFoundError(f"{path} は号（newsletter/）や動画（videos/）のファイルではありません。")
        wanted += chosen
    return wanted
