"""`python -m dayori suppress add|remove|list` and `python -m dayori bounces PATH…`: the ledger's list of
addresses that `send` skips. Output shows counts; addresses only masked, or in full with `--show-addresses`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dayori.config import ConfigError, Settings, settings_from_file
from dayori.delivery import ledger as ledgers
from dayori.delivery import words
from dayori.delivery.bounces import BounceFileError, read_bounces
from dayori.delivery.ledger import Ledger, LedgerError
from dayori.delivery.outlook import MailFileError
from dayori.delivery.subscribers import address_problem
from dayori.delivery.suppress import BOUNCE, MANUAL, REASON_LABELS, REQUEST, Suppressions, mask
from dayori.delivery.unsubscribe import read_requests


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"), help="mkdocs.yml の場所")
    parser.add_argument("--ledger", type=Path, default=None, help="配信台帳（既定: send と同じ場所）")


def ledger_path(args: argparse.Namespace, settings: Settings | None = None) -> Path:
    """`--ledger`, or the ledger `send` uses for this project: every command works on the same file.
    Raises ConfigError when mkdocs.yml is unusable, LedgerError when an old ledger cannot be taken over."""
    if args.ledger is not None:
        return Path(args.ledger)
    return ledgers.default_location(settings or settings_from_file(args.config_file))


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
    imported = actions.add_parser("import", help="配信停止の依頼メール（Outlook で保存した .eml・.msg）を読み、"
                                                 "依頼した読者を配信停止にします")
    imported.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                          help=".eml か .msg のファイル、またはそれを入れたフォルダー。複数指定できます")
    imported.add_argument("--dry-run", action="store_true", help="件数を数えるだけで、配信停止にはしません")
    add_common(imported)
    imported.set_defaults(run=run_import)


def run_suppress(args: argparse.Namespace) -> int:
    """Stops (exit 2) rather than waits while another command holds the ledger: a send can take an hour."""
    addresses = []
    for number, address in enumerate(getattr(args, "addresses", ()), start=1):
        problem = address_problem(address.strip())
        if problem is not None:
            print(f"{number} 番目の宛先: {problem}。何も変更していません", file=sys.stderr)
            return 2
        addresses.append(address.strip())
    try:
        path = ledger_path(args)
        if args.action == "list" and not path.exists():
            print("配信停止の宛先はありません（台帳がまだありません）。")
            return 0
        with Ledger.open(path) as ledger:
            _suppress(args, Suppressions(ledger), addresses)
    except (ConfigError, LedgerError) as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0


def _suppress(args: argparse.Namespace, suppressions: Suppressions, addresses: list[str]) -> None:
    distinct = len({a.lower() for a in addresses})
    if args.action == "add":
        changed = suppressions.add(addresses, MANUAL)
        print(f"配信停止に {changed} 件を追加しました（既に停止中 {distinct - changed} 件）。"
              f"配信停止は全部で {suppressions.count()} 件です。")
    elif args.action == "remove":
        changed = suppressions.remove(addresses)
        print(f"配信停止を {changed} 件取り消しました（停止していなかった宛先 {distinct - changed} 件）。"
              f"配信停止は全部で {suppressions.count()} 件です。")
    else:
        _list(suppressions, args.show_addresses)


def _list(suppressions: Suppressions, show: bool) -> None:
    entries = suppressions.entries()
    if not entries:
        print("配信停止の宛先はありません。")
        return
    print(f"配信停止 {words.count(len(entries))} 件: " + "、".join(
        f"{REASON_LABELS.get(reason, reason)} {words.count(count)} 件"
        for reason, count in sorted(suppressions.reasons().items())))
    for entry in entries:
        print(f"  {entry.address if show else mask(entry.address)}\t{REASON_LABELS.get(entry.reason, entry.reason)}"
              f"\t{words.japan_time(entry.added_at)}")


def run_import(args: argparse.Namespace) -> int:
    """Reads every file before changing anything; a file that cannot be read stops the command with its name."""
    try:
        with Ledger.open(ledger_path(args)) as ledger:
            report = read_requests(ledger, args.paths)
            added = 0 if args.dry_run else Suppressions(ledger).add(sorted(report.addresses), REQUEST)
    except MailFileError as error:
        print(f"{error}。何も変更していません", file=sys.stderr)
        return 2
    except (ConfigError, LedgerError) as error:
        print(str(error), file=sys.stderr)
        return 2
    note = "（--dry-run のため変更していません）" if args.dry_run else f"（新たに配信停止 {words.count(added)} 件）"
    print(f"メール {words.count(report.files)} 通を読みました。配信停止の依頼 {words.count(len(report.addresses))} 件"
          f"{note}。うち {words.count(len(report.by_token))} 件はメールの件名の記号から読者を確かめ、"
          f"{words.count(len(report.by_sender))} 件は差出人のアドレスで{'登録します' if args.dry_run else '登録しました'}。")
    if report.not_requests:
        print(f"配信停止の依頼ではないメール（件名に「配信停止」や unsubscribe がないもの、不達通知など） "
              f"{words.count(report.not_requests)} 通は読み飛ばしました。")
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
    added = 0
    if report.permanent and not args.dry_run:
        try:
            with Ledger.open(ledger_path(args)) as ledger:
                added = Suppressions(ledger).add(sorted(report.permanent), BOUNCE)
        except (ConfigError, LedgerError) as error:
            print(str(error), file=sys.stderr)
            return 2
    note = "（--dry-run のため変更していません）" if args.dry_run else f"（新たに配信停止 {added} 件）"
    print(f"メール {report.messages} 通を読みました。恒久的な不達 {len(report.permanent)} 件{note}、"
          f"一時的な不達 {len(report.temporary)} 件（配信停止にはしていません）。")
    if report.not_reports:
        print(f"不達通知（DSN）ではないメール {report.not_reports} 通は読み飛ばしました。")
    return 0
