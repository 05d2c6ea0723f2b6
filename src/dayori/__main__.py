"""`python -m dayori <command>` (or the `dayori` script): every command of the project, so that Windows, where
there is no `make`, runs exactly what each make target runs.

`site` and `serve` are the only commands that need the site builder: they import `dayori.material` when they
run, never when this module loads, so every other command works without MkDocs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dayori import publish, scaffold, wheelhouse
from dayori.check import cli as check_cli
from dayori.delivery import announce
from dayori.delivery import cli as delivery_cli
from dayori.delivery import commands as delivery_commands


def add_site_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"), help="mkdocs.yml の場所")
    parser.add_argument("--strict", action="store_true", help="警告があればサイトを作らずに止めます")
    parser.add_argument("-q", "--quiet", action="store_true", help="警告とエラーだけを表示します")
    parser.set_defaults(run=run_site)


def run_site(args: argparse.Namespace) -> int:
    from dayori.material import site

    return site.main(args.config_file, strict=args.strict, quiet=args.quiet)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="待ち受けるポート番号（既定 8000）")
    parser.add_argument("--host", default="127.0.0.1", help="待ち受けるアドレス（既定 127.0.0.1）")
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"), help="mkdocs.yml の場所")
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from dayori.material import serve

    return serve.main(["--port", str(args.port), "--host", args.host, "--config-file", str(args.config_file)])


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="dayori", description="業務合理化便り / DX日記 のコマンド")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_site_arguments(commands.add_parser("site", help="site/ にサイト・フィード・メールを作ります（make site）"))
    add_serve_arguments(commands.add_parser("serve", help="プレビューを http://127.0.0.1:8000/ で表示します（make serve）"))
    check_cli.add_arguments(commands.add_parser("check", help="号と動画の文章を校正します（make check）"))
    scaffold.add_arguments(commands.add_parser("new-issue", help="次号の Markdown を作ります（make new-issue）"))
    delivery_cli.add_arguments(commands.add_parser("send", help="号をメールで配信します"))
    announce.add_arguments(commands.add_parser("announce", help="号や動画の公開を Teams のチャネルに投稿します"))
    publish.add_arguments(commands.add_parser(
        "publish", help="サイトを作って配置し、今週の号を配信して Teams に投稿します（何度実行しても一度だけ。make publish）"))
    delivery_commands.add_suppress_arguments(commands.add_parser("suppress", help="配信停止の宛先を管理します"))
    delivery_commands.add_bounces_arguments(commands.add_parser("bounces", help="不達通知を読み、恒久的な不達を配信停止にします"))
    wheelhouse.add_arguments(commands.add_parser(
        "wheelhouse", help="閉じたネットワーク向けに、Windows と Linux のインストール用ファイルを集めます（make wheelhouse）"))
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
