"""`python -m dayori <command>`: the editors' and senders' commands besides the site build."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dayori", description="業務合理化便り / DX日記 の補助コマンド")
    commands = parser.add_subparsers(dest="command", required=True)
    from dayori import scaffold

    scaffold.add_arguments(commands.add_parser("new-issue", help="次号の Markdown を作ります"))
    try:
        from dayori.delivery import cli as delivery_cli
    except ImportError:
        delivery_cli = None
    if delivery_cli is not None:
        delivery_cli.add_arguments(commands.add_parser("send", help="号をメールで配信します"))
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
