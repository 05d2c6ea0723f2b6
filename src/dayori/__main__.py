"""`python -m dayori <command>`: the editors' and senders' commands besides the site build."""

from __future__ import annotations

import argparse
import sys

from dayori import scaffold
from dayori.check import cli as check_cli
from dayori.delivery import announce
from dayori.delivery import cli as delivery_cli
from dayori.delivery import commands as delivery_commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dayori", description="業務合理化便り / DX日記 の補助コマンド")
    commands = parser.add_subparsers(dest="command", required=True)

    scaffold.add_arguments(commands.add_parser("new-issue", help="次号の Markdown を作ります"))
    delivery_cli.add_arguments(commands.add_parser("send", help="号をメールで配信します"))
    check_cli.add_arguments(commands.add_parser("check", help="号と動画の文章を校正します"))
    delivery_commands.add_suppress_arguments(commands.add_parser("suppress", help="配信停止の宛先を管理します"))
    announce.add_arguments(commands.add_parser("announce", help="号や動画の公開を Teams のチャネルに投稿します"))
    delivery_commands.add_bounces_arguments(commands.add_parser("bounces", help="不達通知を読み、恒久的な不達を配信停止にします"))
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
