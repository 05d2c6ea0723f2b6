"""`python -m dayori send --vol N --to subscribers.csv`: sends one issue, never twice to anyone.

Built from the source files without MkDocs. The SMTP server comes from DAYORI_SMTP_* environment variables.
Output shows counts and line numbers, never addresses.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import unicodedata
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from dayori import config
from dayori.config import Settings
from dayori.delivery import commands
from dayori.delivery.ledger import FAILED, PENDING, SENT, UNCERTAIN, Ledger, LedgerError
from dayori.delivery.send import SendOptions, SendSummary, deliver, personalize
from dayori.delivery.smtp import (
    AuthError,
    ConfigError,
    ConnectError,
    Kind,
    SmtpConfig,
    Transport,
)
from dayori.delivery.subscribers import (
    Recipient,
    SubscriberList,
    SubscribersFileError,
    address_problem,
    read_subscribers,
)
from dayori.delivery.suppress import suppressed_keys, without_suppressed
from dayori.email.render import message_id, message_problem, sender_address, site_host

MAX_VOL = 9_999_999
"""Far beyond any newsletter, far below what the ledger (SQLite integers) can hold."""


def vol_number(text: str) -> int:
    """`--vol`, refused by argparse (exit 2, no traceback) unless it is a plausible issue number; full-width
    digits, as a Japanese input method types them, are digits."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_VOL:
        raise argparse.ArgumentTypeError(f"号数は 1 から {MAX_VOL} までの整数で指定してください（今は「{text}」）")
    return int(value)


def rate_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"1 秒あたりの送信数は 0 以上の数で指定してください（今は「{text}」）")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vol", type=vol_number, required=True, help="配信する号の番号")
    parser.add_argument("--to", type=Path, metavar="FILE",
                        help="購読者リスト（CSV か Excel の .xlsx。列: メールアドレス, 氏名。見出し行は任意）。"
                             "初回の送信で配信先が固定されます")
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"), help="mkdocs.yml の場所")
    parser.add_argument("--ledger", type=Path, default=None,
                        help="配信台帳（既定: state/ledger.sqlite3）。送信済みの宛先には二度と送りません")
    parser.add_argument("--dry-run", action="store_true", help="送信せず、送る予定の件数だけ表示します")
    parser.add_argument("--test-to", metavar="ADDRESS", help="この宛先に 1 通だけ試しに送ります（台帳に記録しません）")
    parser.add_argument("--rate", type=rate_number, default=5.0, help="1 秒あたりの最大送信数（0 で制限なし。既定 5）")
    parser.add_argument("--retry-uncertain", action="store_true",
                        help="送信中に接続が切れて届いたか分からない宛先にも送り直します（二重に届くことがあります）")
    parser.add_argument("--backoff", type=float, default=2.0, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dayori.check.gate import release_block
    from dayori.content import load_content
    from dayori.email.render import render_message
    from dayori.errors import ContentError
    from dayori.media import process_episodes

    try:
        settings = config.settings_from_file(args.config_file)
        # A test send is how an editor checks a draft or a scheduled issue before its day: it sees them all.
        content = load_content(settings, preview=bool(args.test_to))
    except config.ConfigError as error:
        return _fail(str(error))
    except UnicodeDecodeError:
        return _fail(f"{args.config_file}: UTF-8 で読めません。mkdocs.yml は UTF-8 で保存してください。")
    except OSError as error:
        return _fail(f"{args.config_file}: 読めません（{error.strerror}）。-f には mkdocs.yml のファイルを指定してください。")
    except ContentError as error:
        return _fail(error.report())
    issue = content.issue(args.vol)
    if issue is None:
        print(f"第{args.vol}号は見つからないか、まだ公開されていません（下書きや公開日前の号は配信できません。"
              "確認用に 1 通だけ送るには --test-to を使います）。", file=sys.stderr)
        return 2
    blocked = None if args.test_to else release_block(settings, content, "配信", vol=issue.vol)
    if blocked is not None:
        return _fail(blocked)
    videos = process_episodes([e for e in content.episodes if e.slug in issue.videos], settings)
    if videos.problems:
        print(ContentError(videos.problems).report(), file=sys.stderr)
        return 2
    return execute(args, render_message(issue, content, settings, videos.media), issue.vol, settings)


def execute(args: argparse.Namespace, message: EmailMessage, vol: int, settings: Settings) -> int:
    """Everything after the message is built; separate so that it runs against any message."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sender = sender_address(settings)
    options = SendOptions(rate=args.rate, retry_uncertain=args.retry_uncertain, backoff=args.backoff)
    too_big = message_problem(message, vol, settings)
    if too_big is not None:
        return _fail(too_big)
    if args.test_to:
        return _test_send(args.test_to, message, sender, settings)
    try:
        ledger = Ledger.open(commands.ledger_path(args, settings))
    except LedgerError as error:
        return _fail(str(error))
    try:
        with ledger:
            return _send_from(ledger, args, message, vol, settings, sender, options)
    except sqlite3.Error as error:
        return _fail(f"{ledger.path}: 配信台帳に記録できなくなったため止めました（{error}）。空き容量などを確かめてから、"
                     "同じコマンドをもう一度実行してください（記録できた分の続きから送ります）。")


def _send_from(ledger: Ledger, args: argparse.Namespace, message: EmailMessage, vol: int, settings: Settings,
               sender: str, options: SendOptions) -> int:
    """The send itself, while this process holds the ledger."""
    ledger_path = ledger.path
    if not ledger.is_frozen(vol):
        if args.to is None:
            return _fail("初回の送信では --to に購読者リスト（CSV か .xlsx）を指定してください")
        subscribers = _read(args.to)
        if subscribers is None:
            return 2
        subscribers.recipients, left_out = without_suppressed(subscribers.recipients, suppressed_keys(ledger))
        if left_out:
            print(f"配信停止中の宛先 {left_out} 件を除きました。")
        if not subscribers.recipients:
            return _fail(f"{args.to}: 送信できる宛先がありません")
        if args.dry_run:
            print(f"第{vol}号: {len(subscribers.recipients)} 件に送る予定です（--dry-run のため送信していません）")
            return 0
        config = _config()
        if config is None:
            return 2
        ledger.freeze(vol, [(r, message_id(vol, settings, r.address)) for r in subscribers.recipients])
        print(f"第{vol}号の配信先 {len(subscribers.recipients)} 件を台帳に固定しました。")
    else:
        _note_frozen(ledger, vol, args.to)
        todo = ledger.todo(vol, retry_uncertain=args.retry_uncertain)
        if args.dry_run:
            print(f"第{vol}号: あと {len(todo)} 件に送る予定です（--dry-run のため送信していません）")
            _print_counts(vol, ledger.counts(vol), ledger_path)
            return 0
        config = _config()
        if config is None:
            return 2
    try:
        summary = deliver(message, vol, ledger, Transport(config), sender, options, suppressed=suppressed_keys(ledger))
    except AuthError as error:
        print(str(error), file=sys.stderr)
        _print_counts(vol, ledger.counts(vol), ledger_path)
        return 2
    except KeyboardInterrupt:
        print("\n中断しました。同じコマンドをもう一度実行すると、まだ送っていない宛先にだけ送ります。",
              file=sys.stderr)
        _print_counts(vol, ledger.counts(vol), ledger_path)
        return 130
    return _report(summary, ledger_path)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def _read(path: Path) -> SubscriberList | None:
    """The list, or None after saying why nothing is sent: every bad row is shown, by its line, at once."""
    try:
        subscribers = read_subscribers(path)
    except SubscribersFileError as error:
        print(str(error), file=sys.stderr)
        return None
    if subscribers.problems:
        rows = {problem.line for problem in subscribers.problems}
        print(f"購読者リストの {len(rows)} 行に問題があります。直してから、もう一度実行してください"
              "（まだ誰にも送っていません）。", file=sys.stderr)
        for problem in subscribers.problems:
            print(f"  {problem}", file=sys.stderr)
        return None
    if subscribers.duplicate_lines:
        lines = ", ".join(str(n) for n in subscribers.duplicate_lines)
        print(f"{path}: 重複した宛先 {len(subscribers.duplicate_lines)} 件を除きました（{lines} 行目）", file=sys.stderr)
    return subscribers


def _config() -> SmtpConfig | None:
    try:
        return SmtpConfig.from_env()
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return None


def _note_frozen(ledger: Ledger, vol: int, csv_path: Path | None) -> None:
    """A rerun continues the first run's list; a changed CSV would otherwise add or drop people mid-send."""
    frozen = {row.recipient.key for row in ledger.recipients(vol)}
    print(f"第{vol}号の配信先は最初の実行で固定されています（{len(frozen)} 件）。続きを送ります。")
    if csv_path is None:
        return
    try:
        current = {r.key for r in read_subscribers(csv_path).recipients}
    except SubscribersFileError:
        return
    added, removed = len(current - frozen), len(frozen - current)
    if added or removed:
        print(f"注意: {csv_path} は固定した時点から変わっています（追加 {added} 件・削除 {removed} 件）。"
              "この号では反映しません。", file=sys.stderr)


def _test_send(address: str, message: EmailMessage, sender: str, settings: Settings) -> int:
    problem = address_problem(address)
    if problem is not None:
        return _fail(f"--test-to の宛先: {problem}")
    config = _config()
    if config is None:
        return 2
    subject = str(message["Subject"])
    del message["Subject"]
    message["Subject"] = f"[テスト] {subject}"
    data = personalize(message, Recipient(address), make_msgid(domain=site_host(settings)))
    transport = Transport(config)
    try:
        result = transport.send(sender, address, data, lambda: None)
    except (AuthError, ConnectError) as error:
        return _fail(str(error))
    finally:
        transport.close()
    if result.kind is Kind.SENT:
        print("テスト送信しました（1 通）。台帳には記録していません。")
        return 0
    return _fail(f"テスト送信できませんでした（{result.detail}）")


def _print_counts(vol: int, counts: dict[str, int], ledger_path: Path) -> None:
    total = sum(counts.values())
    print(f"第{vol}号の配信状況: 送信済み {counts.get(SENT, 0)} 件、失敗 {counts.get(FAILED, 0)} 件、"
          f"不明 {counts.get(UNCERTAIN, 0)} 件、未送信 {counts.get(PENDING, 0)} 件（全 {total} 件）")
    if counts.get(UNCERTAIN, 0):
        print("「不明」は送信の直後に接続が切れ、届いたか分からない宛先です。二重に届かないよう送り直していません。"
              "届いていないと分かったら --retry-uncertain を付けて実行してください。")
    if counts.get(FAILED, 0):
        print(f"失敗した宛先と理由は台帳 {ledger_path} に記録しています。もう一度実行すると送り直します。")


def _report(summary: SendSummary, ledger_path: Path) -> int:
    print(f"今回 {summary.sent_now} 通を送信しました。")
    if summary.suppressed:
        print(f"配信停止中の宛先 {summary.suppressed} 件には送っていません。")
    if summary.aborted:
        print(f"{summary.aborted}。途中で止めました。同じコマンドをもう一度実行すると、まだ送っていない宛先にだけ送ります。",
              file=sys.stderr)
    _print_counts(summary.vol, summary.counts, ledger_path)
    return 0 if summary.complete else 1
