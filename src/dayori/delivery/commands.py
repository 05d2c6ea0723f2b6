"""`python -m dayori suppress add|remove|list` and `python -m dayori bounces PATH…`: the ledger's list of
addresses that `send` skips. Output shows counts; addresses only masked, or in full with `--show-addresses`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dayori.config import ConfigError, Settings, settings_from_file
from dayori.delivery.bounces import BounceFileError, read_bounces
from dayori.delivery.subscribers import address_problem
from dayori.delivery.suppress import BOUNCE, MANUAL, REASON_LABELS, Suppressions, mask


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"), help="mkdocs.yml の場所")
    parser.add_argument("--ledger", type=Path, default=None, help="配信台帳（既定: send と同じ場所）")


def ledger_path(args: argparse.Namespace) -> Path | None:
    """The ledger `send` uses for this project, or `--ledger`; None (with a message) when mkdocs.yml is unusable."""
    if args.ledger is not None:
        return Path(args.ledger)
    from dayori.delivery.cli import LEDGER_NAME

    settings = _settings(args.config_file)
    return None if settings is None else settings.cache_path / LEDGER_NAME


def _settings(config_file: Path) -> Settings | None:
    try:
        return settings_from_file(config_file)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return None


def add_suppress_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="宛先を配信停止にします（以後の send で送りません）")
    add.add_argument("addresses", nargs="+", metavar="ADDRESS")
    remove = actions.add_parser("remove", help="配信停止を取り消します")
    remove.add_argument("addresses", nargs="+", metavar="ADDRESS")
    listing = actions.add_parser("list", help="配信停止中の件数と宛先（伏せ字）を表示します")
    listing.add_argument("--show-addresses", action="store_true", help="宛先を伏せ字にせず表示します（取り扱いに注意）")
    for sub in (add, remove, listing):
        add_common(sub)
        sub.set_defaults(run=run_suppress)


def run_suppress(args: argparse.Namespace) -> int:
    path = ledger_path(args)
    if path is None:
        return 2
    if args.action == "list":
        return _list(path, args.show_addresses)
    addresses = []
    for number, address in enumerate(args.addresses, start=1):
        problem = address_problem(address.strip())
        if problem is not None:
            print(f"{number} 番目の宛先: {problem}。何も変更していません", file=sys.stderr)
            return 2
        addresses.append(address.strip())
    with Suppressions(path) as suppressions:
        if args.action == "add":
            changed = suppressions.add(addresses, MANUAL)
            print(f"配信停止に {changed} 件を追加しました（既に停止中 {len({a.lower() for a in addresses}) - changed}"
                  f" 件）。配信停止は全部で {suppressions.count()} 件です。")
        else:
            changed = suppressions.remove(addresses)
            print(f"配信停止を {changed} 件取り消しました（停止していなかった宛先 "
                  f"{len({a.lower() for a in addresses}) - changed} 件）。配信停止は全部で {suppressions.count()} 件です。")
    return 0


def _list(path: Path, show: bool) -> int:
    if not path.exists():
        print("配信停止の宛先はありません（台帳がまだありません）。")
        return 0
    with Suppressions(path) as suppressions:
        entries = suppressions.entries()
        reasons = suppressions.reasons()
    print(f"配信停止 {len(entries)} 件: "
          + "、".join(f"{REASON_LABELS.get(reason, reason)} {count} 件" for reason, count in sorted(reasons.items())))
    for entry in entries:
        print(f"  {entry.address if show else mask(entry.address)}\t{REASON_LABELS.get(entry.reason, entry.reason)}"
              f"\t{entry.added_at}")
    return 0


def add_bounces_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="不達通知（.eml ファイル、または mbox ファイル）。複数指定できます")
    parser.add_argument("--dry-run", action="store_true", help="件数を数えるだけで、配信停止にはしません")
    add_common(parser)
    parser.set_defaults(run=run_bounces)


def run_bounces(args: argparse.Namespace) -> int:
    try:
        report = read_bounces(args.paths)
    except BounceFileError as error:
        print(f"{error}。何も変更していません", file=sys.stderr)
        return 2
    path = ledger_path(args)
    if path is None:
        return 2
    added = 0
    if report.permanent and not args.dry_run:
        with Suppressions(path) as suppressions:
            added = suppressions.add(sorted(report.permanent), BOUNCE)
    note = "（--dry-run のため変更していません）" if args.dry_run else f"（新たに配信停止 {added} 件）"
    print(f"メール {report.messages} 通を読みました。恒久的な不達 {len(report.permanent)} 件{note}、"
          f"一時的な不達 {len(report.temporary)} 件（配信停止にはしていません）。")
    if report.not_reports:
        print(f"不達通知（DSN）ではないメール {report.not_reports} 通は読み飛ばしました。")
    return 0
