"""`python -m dayori send --vol N --to subscribers.csv`: sends one issue, never twice to anyone.

Built from the source files without MkDocs. The SMTP server comes from DAYORI_SMTP_* environment variables
(DAYORI_SMTP_PROFILE names a provider's defaults). Output shows counts and line numbers, never addresses.

For other commands (`publish`), `send_issue(settings, content, SendRequest(...))` does what `send` does for an
issue of already loaded content and returns a SendOutcome (exit code and summary); `send_message` does it for a
message already rendered.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from dayori import config
from dayori.config import Settings
from dayori.delivery import commands, unsubscribe, words
from dayori.delivery.clock import SYSTEM, Clock
from dayori.delivery.ledger import FAILED, PENDING, SENT, UNCERTAIN, Ledger, LedgerError
from dayori.delivery.send import DAILY, SendOptions, SendSummary, deliver, personalize
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

if TYPE_CHECKING:
    from dayori.model import Content

EXIT_PAUSED = 75
"""The run stopped for a provider's limit and says when to run again (EX_TEMPFAIL: a scheduler retries later)."""

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
    parser.add_argument("--add-new", action="store_true",
                        help="固定した後に --to のリストに加わった読者にも、この号を送ります（一人に一度だけ）")
    parser.add_argument("--rate", type=rate_number, default=None,
                        help="1 秒あたりの最大送信数（0 で制限なし。既定: サーバーの上限の 9 割。上限が分からなければ 5）")
    parser.add_argument("--retry-uncertain", action="store_true",
                        help="送信中に接続が切れて届いたか分からない宛先にも送り直します（二重に届くことがあります）")
    parser.add_argument("--backoff", type=float, default=2.0, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class SendRequest:
    """What `send` is asked to do, without argparse: the library form of its options."""

    vol: int
    to: Path | None = None
    ledger: Path | None = None
    dry_run: bool = False
    add_new: bool = False
    retry_uncertain: bool = False
    test_to: str | None = None
    rate: float | None = None
    backoff: float = 2.0
    progress: bool | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SendRequest:
        return cls(vol=args.vol, to=args.to, ledger=args.ledger, dry_run=args.dry_run,
                   add_new=getattr(args, "add_new", False), retry_uncertain=args.retry_uncertain,
                   test_to=args.test_to, rate=args.rate, backoff=args.backoff)


@dataclass(frozen=True)
class SendOutcome:
    exit_code: int
    """0 all sent; 1 some not (failed, uncertain, or stopped); 2 nothing done (bad input or settings);
    75 paused for a provider's limit (run again at summary.paused_until); 130 interrupted."""
    summary: SendSummary | None = None


def run(args: argparse.Namespace) -> int:
    from dayori.content import load_content
    from dayori.errors import ContentError

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
    return send_issue(settings, content, SendRequest.from_args(args)).exit_code


def execute(args: argparse.Namespace, message: EmailMessage, vol: int, settings: Settings, *, clock: Clock = SYSTEM,
            env: Mapping[str, str] | None = None) -> int:
    """Everything after the message is built; separate so that it runs against any message."""
    return send_message(SendRequest.from_args(args), message, settings, clock=clock, env=env).exit_code


def send_issue(settings: Settings, content: Content, request: SendRequest, *, clock: Clock = SYSTEM,
               env: Mapping[str, str] | None = None) -> SendOutcome:
    """`send` for issue `request.vol` of `content` (already loaded and checked): renders its message, with the
    stills of its videos, and sends it through the ledger. Prints what an editor reads, as the command does."""
    from dayori.check.gate import release_block
    from dayori.email.render import render_message
    from dayori.errors import ContentError
    from dayori.media import process_episodes

    issue = content.issue(request.vol)
    if issue is None:
        print(f"第{request.vol}号は見つからないか、まだ公開されていません（下書きや公開日前の号は配信できません。"
              "確認用に 1 通だけ送るには --test-to を使います）。", file=sys.stderr)
        return SendOutcome(2)
    blocked = None if request.test_to else release_block(settings, content, "配信", vol=issue.vol)
    if blocked is not None:
        return SendOutcome(_fail(blocked))
    videos = process_episodes([e for e in content.episodes if e.slug in issue.videos], settings)
    if videos.problems:
        print(ContentError(videos.problems).report(), file=sys.stderr)
        return SendOutcome(2)
    return send_message(request, render_message(issue, content, settings, videos.media), settings, clock=clock,
                        env=env)


def send_message(request: SendRequest, message: EmailMessage, settings: Settings, *, clock: Clock = SYSTEM,
                 env: Mapping[str, str] | None = None) -> SendOutcome:
    """Sends `message` as issue `request.vol` to its readers through the ledger (or once to `request.test_to`).
    `env` stands for os.environ (the DAYORI_SMTP_* settings); `clock` for real time."""
    env = os.environ if env is None else env
    sender = sender_address(settings)
    options = SendOptions(rate=request.rate, retry_uncertain=request.retry_uncertain, backoff=request.backoff,
                          progress=request.progress)
    too_big = message_problem(message, request.vol, settings)
    if too_big is not None:
        return SendOutcome(_fail(too_big))
    if request.test_to:
        return SendOutcome(_test_send(request.test_to, message, sender, settings, env, clock))
    try:
        path = commands.ledger_path(argparse.Namespace(ledger=request.ledger), settings)
        ledger = Ledger.open(path)
    except (LedgerError, config.ConfigError) as error:
        return SendOutcome(_fail(str(error)))
    try:
        with ledger:
            return _send_from(ledger, request, message, settings, sender, options, env, clock)
    except sqlite3.Error as error:
        return SendOutcome(_fail(f"{ledger.path}: 配信台帳に記録できなくなったため止めました（{error}）。空き容量などを"
                                 "確かめてから、同じコマンドをもう一度実行してください（記録できた分の続きから送ります）。"))


def _send_from(ledger: Ledger, request: SendRequest, message: EmailMessage, settings: Settings, sender: str,
               options: SendOptions, env: Mapping[str, str], clock: Clock) -> SendOutcome:
    """The send itself, while this process holds the ledger."""
    vol, ledger_path = request.vol, ledger.path
    if not ledger.is_frozen(vol):
        if request.to is None:
            return SendOutcome(_fail("初回の送信では --to に購読者リスト（CSV か .xlsx）を指定してください"))
        subscribers = _read(request.to)
        if subscribers is None:
            return SendOutcome(2)
        subscribers.recipients, left_out = without_suppressed(subscribers.recipients, suppressed_keys(ledger))
        if left_out:
            print(f"配信停止中の宛先 {words.count(left_out)} 件を除きました。")
        if not subscribers.recipients:
            return SendOutcome(_fail(f"{request.to}: 送信できる宛先がありません"))
        if request.dry_run:
            print(f"第{vol}号: {words.count(len(subscribers.recipients))} 件に送る予定です（--dry-run のため送信していません）")
            return SendOutcome(0)
        smtp = _config(env)
        if smtp is None:
            return SendOutcome(2)
        _warn_outside(smtp, sender, subscribers.recipients)
        ledger.freeze(vol, [(r, message_id(vol, settings, r.address)) for r in subscribers.recipients])
        print(f"第{vol}号の配信先 {words.count(len(subscribers.recipients))} 件を台帳に固定しました。")
    else:
        added = _note_frozen(ledger, request, settings)
        if added is None:
            return SendOutcome(2)
        todo = ledger.todo(vol, retry_uncertain=request.retry_uncertain)
        if request.dry_run:
            print(f"第{vol}号: あと {words.count(len(todo) + added)} 件に送る予定です（--dry-run のため送信していません）")
            _print_counts(vol, ledger.counts(vol), ledger_path)
            return SendOutcome(0)
        smtp = _config(env)
        if smtp is None:
            return SendOutcome(2)
    secret = unsubscribe.ledger_secret(ledger)
    try:
        summary = deliver(message, vol, ledger, Transport(smtp, clock=clock), sender, options, clock,
                          suppressed=suppressed_keys(ledger),
                          headers_for=lambda r: unsubscribe.reader_headers(settings, vol, secret, r))
    except AuthError as error:
        print(str(error), file=sys.stderr)
        _print_counts(vol, ledger.counts(vol), ledger_path)
        return SendOutcome(2)
    except KeyboardInterrupt:
        print("\n中断しました。同じコマンドをもう一度実行すると、まだ送っていない宛先にだけ送ります。",
              file=sys.stderr)
        _print_counts(vol, ledger.counts(vol), ledger_path)
        return SendOutcome(130)
    return SendOutcome(_report(summary, ledger_path, smtp), summary)


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
    for notice in subscribers.notices:
        print(notice, file=sys.stderr)
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


def _config(env: Mapping[str, str]) -> SmtpConfig | None:
    try:
        return SmtpConfig.from_env(env)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return None


def _note_frozen(ledger: Ledger, request: SendRequest, settings: Settings) -> int | None:
    """A rerun continues the first run's list: a changed list would otherwise add or drop people mid-send. With
    `--add-new`, readers added to the list since are added to the issue (once each); returns how many, or None
    when the list cannot be used."""
    vol, path = request.vol, request.to
    frozen = {row.recipient.key for row in ledger.recipients(vol)}
    print(f"第{vol}号の配信先は最初の実行で固定されています（{words.count(len(frozen))} 件）。続きを送ります。")
    if path is None:
        if request.add_new:
            _fail("--add-new には、新しい読者を含む購読者リストを --to で指定してください")
            return None
        return 0
    if request.add_new:
        subscribers = _read(path)
        if subscribers is None:
            return None
        current = subscribers.recipients
    else:
        try:
            current = read_subscribers(path).recipients
        except SubscribersFileError:
            return 0
    suppressed = suppressed_keys(ledger)
    new = [r for r in current if r.key not in frozen and r.key not in suppressed]
    removed = len(frozen - {r.key for r in current})
    if request.add_new and request.dry_run:
        print(f"新しい読者 {words.count(len(new))} 件も第{vol}号の配信先に加える予定です。")
        return len(new)
    if request.add_new:
        added = ledger.add(vol, [(r, message_id(vol, settings, r.address)) for r in new]) if new else 0
        print(f"新しい読者 {words.count(added)} 件を第{vol}号の配信先に加えました（一人に一度だけ送ります）。")
    elif new:
        print(f"注意: {path} には、配信先を固定した後に加わった読者が {words.count(len(new))} 件います。"
              "この号をその人たちにも送るには --add-new を付けて同じコマンドを実行してください（固定済みの人には"
              "二度送りません）。", file=sys.stderr)
    if removed:
        print(f"注意: 固定した配信先のうち {words.count(removed)} 件は {path} にもういません。この号を送らないように"
              "するには、python -m dayori suppress add でその人を配信停止にしてください。", file=sys.stderr)
    return 0


def _warn_outside(smtp: SmtpConfig, sender: str, recipients: list[Recipient]) -> None:
    """High Volume Email delivers inside the organisation only: readers at other domains would bounce."""
    if not smtp.profile.internal_only:
        return
    domain = sender.rpartition("@")[2].lower()
    outside = sum(not (r.key.endswith("@" + domain) or r.key.endswith("." + domain)) for r in recipients)
    if outside:
        print(f"注意: {smtp.profile.label}は組織内の宛先にしか届きません。送信元（{domain}）と違うドメインの宛先が"
              f" {words.count(outside)} 件あり、届かない可能性があります。", file=sys.stderr)


def _test_send(address: str, message: EmailMessage, sender: str, settings: Settings, env: Mapping[str, str],
               clock: Clock) -> int:
    problem = address_problem(address)
    if problem is not None:
        return _fail(f"--test-to の宛先: {problem}")
    smtp = _config(env)
    if smtp is None:
        return 2
    subject = str(message["Subject"])
    del message["Subject"]
    message["Subject"] = f"[テスト] {subject}"
    data = personalize(message, Recipient(address), make_msgid(domain=site_host(settings)))
    transport = Transport(smtp, clock=clock)
    try:
        result = transport.send(sender, address, data, lambda: None)
    except (AuthError, ConnectError) as error:
        return _fail(str(error))
    finally:
        transport.close()
    if result.kind is Kind.SENT:
        print("テスト送信しました（1 通）。台帳には記録していません。")
        return 0
    if result.kind is Kind.UNCERTAIN:
        return _fail(f"テスト送信の結果が分かりません（{result.detail}）。受信トレイを確かめてください")
    return _fail(f"テスト送信できませんでした（{result.detail}）")


def _print_counts(vol: int, counts: Mapping[str, int], ledger_path: Path) -> None:
    total = sum(counts.values())
    print(f"第{vol}号の配信状況: 送信済み {words.count(counts.get(SENT, 0))} 件、失敗 {words.count(counts.get(FAILED, 0))} 件、"
          f"不明 {words.count(counts.get(UNCERTAIN, 0))} 件、未送信 {words.count(counts.get(PENDING, 0))} 件"
          f"（全 {words.count(total)} 件）")
    if counts.get(UNCERTAIN, 0):
        print("「不明」は送信の直後に接続が切れたか、サーバーの応答が読めず、届いたか分からない宛先です。二重に届かないよう"
              "送り直していません。届いていないと分かったら --retry-uncertain を付けて実行してください。")
    if counts.get(FAILED, 0):
        print(f"「失敗」はサーバーが宛先そのものを受け付けなかった（アドレスが存在しないなど）宛先です。理由は台帳 "
              f"{ledger_path} に記録しています。アドレスを確かめ、不要なら python -m dayori suppress add で配信停止に"
              "してください（もう一度実行すると、もう一度だけ試します）。")


def _report(summary: SendSummary, ledger_path: Path, smtp: SmtpConfig) -> int:
    print(f"今回 {words.count(summary.sent_now)} 通を送信しました。")
    if summary.suppressed:
        print(f"配信停止中の宛先 {words.count(summary.suppressed)} 件には送っていません。")
    if summary.throttled:
        slowed = f"1 分あたり {summary.slowed_to:,.0f} 通まで" if summary.slowed_to else ""
        print(f"SMTP サーバーから「少し待って」という応答が {words.count(summary.throttled)} 回あり、そのつど待って"
              f"{slowed}ペースを下げて続けました（失敗ではありません）。")
    if summary.deferred:
        print(f"一時的に受け付けられなかった宛先 {words.count(summary.deferred)} 件は「未送信」のまま残しました。"
              "同じコマンドをもう一度実行すると送ります。")
    if summary.aborted:
        print(f"{summary.aborted}。途中で止めました。同じコマンドをもう一度実行すると、まだ送っていない宛先にだけ送ります。",
              file=sys.stderr)
    _print_counts(summary.vol, summary.counts, ledger_path)
    if summary.paused_until is not None:
        when = words.japan_time(summary.paused_until)
        if summary.pause_reason == DAILY:
            limit = f"（24 時間で {words.count(smtp.per_day)} 通）" if smtp.per_day else ""
            print(f"1 日に送れる上限{limit}に達したため、ここで止めました。{when} 以降に同じコマンドをもう一度実行すると、"
                  "続きから送ります（送信済みの人には送りません）。")
        else:
            print(f"SMTP サーバーが長い間「少し待って」と応え続けたため、ここで止めました。{when} 以降に同じコマンドを"
                  "もう一度実行すると、続きから送ります（送信済みの人には送りません）。1 日の上限に達している場合は、"
                  "最初に送ってから 24 時間たつまで送れません。")
        return EXIT_PAUSED
    return 0 if summary.complete else 1
