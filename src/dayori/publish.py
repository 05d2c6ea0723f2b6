"""`python -m dayori publish`: the weekly routine (build, put the site on the web server, mail the week's issue,
post it to Teams) as one command that is safe to run every hour, from Task Scheduler, cron or CI.

Each step is done at most once and remembered where it already is: the deployed folder (an unchanged site is not
deployed again), the delivery ledger (who has had which issue) and its announcements. So a second run does nothing
new, and a run after a failure goes on from the step that failed. Mail and Teams go through the `send` and
`announce` commands themselves, with their own arguments, so that they behave exactly as when run by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dayori import config, sitedir
from dayori.config import ConfigError, Settings
from dayori.delivery import announce
from dayori.delivery import cli as send_cli
from dayori.delivery.commands import ledger_path
from dayori.delivery.ledger import FAILED, PENDING, UNCERTAIN, Ledger, LedgerBusy, LedgerError
from dayori.delivery.suppress import suppressed_keys
from dayori.model import Issue

DEFAULT_DAYS = 7
PREVIOUS_SUFFIX = ".previous"

NEW, CONTINUE, CHECK, DONE = "new", "continue", "check", "done"
"""Where an issue's mailing stands: never started; started with readers left; only readers whose delivery is
unknown left (a person decides); every reader has it."""


@dataclass(frozen=True)
class MailState:
    state: str
    left: int = 0
    uncertain: int = 0


@dataclass(frozen=True)
class Plan:
    recent: list[Issue]
    """Published issues dated within the window: mailed and announced when not done yet."""
    older: list[Issue]
    """Published issues before the window that were never mailed: listed, never mailed."""
    mail: dict[int, MailState]
    posted: dict[int, str]
    """vol → the announcement's state in the ledger (`posting` or `posted`); absent when never posted."""


@dataclass
class Outcome:
    """What a run did, for the summary and the exit status."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def in_window(issue_date: dt.date, today: dt.date, days: int) -> bool:
    """Dated today or in the `days - 1` days before: with 7, this Friday's run still mails last Saturday's
    issue, never one from a week ago Friday."""
    return 0 <= (today - issue_date).days < days


def split_by_window(issues: Iterable[Issue], today: dt.date, days: int) -> tuple[list[Issue], list[Issue]]:
    """(recent, older), each by vol. Issues dated after today are not published, so not in `issues` at all."""
    recent = sorted((i for i in issues if in_window(i.date, today, days)), key=lambda i: i.vol)
    older = sorted((i for i in issues if i.date <= today and not in_window(i.date, today, days)),
                   key=lambda i: i.vol)
    return recent, older


def mail_state(ledger: Ledger, vol: int, suppressed: frozenset[str]) -> MailState:
    if not ledger.is_frozen(vol):
        return MailState(NEW)
    rows = [row for row in ledger.recipients(vol) if row.recipient.key not in suppressed]
    left = sum(row.outcome in (PENDING, FAILED) for row in rows)
    uncertain = sum(row.outcome == UNCERTAIN for row in rows)
    if left:
        return MailState(CONTINUE, left, uncertain)
    return MailState(CHECK if uncertain else DONE, 0, uncertain)


def _announcements(ledger: Ledger) -> dict[int, str]:
    """The issues' rows of the table `announce` keeps in the same file (none before the first post)."""
    if not ledger.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'announcements'"):
        return {}
    rows = ledger.query("SELECT item, state FROM announcements WHERE kind = 'issue'")
    return {int(str(item)): str(state) for item, state in rows if str(item).isdigit()}


def read_plan(settings: Settings, ledger_file: Path, today: dt.date, days: int) -> Plan:
    """Reads the content and the ledger (without creating it). Raises ContentError, LedgerError, LedgerBusy."""
    from dayori.content import load_content

    recent, older = split_by_window(load_content(settings).issues, today, days)
    mail: dict[int, MailState] = {}
    posted: dict[int, str] = {}
    if ledger_file.exists():
        with Ledger.open(ledger_file) as ledger:
            suppressed = frozenset(suppressed_keys(ledger))
            mail = {issue.vol: mail_state(ledger, issue.vol, suppressed) for issue in recent + older}
            posted = _announcements(ledger)
    never = MailState(NEW)
    return Plan(recent, [i for i in older if mail.get(i.vol, never).state == NEW],
                {i.vol: mail.get(i.vol, never) for i in recent + older}, posted)


def site_folder(config_file: Path) -> Path:
    """Where the build writes: `site_dir` of mkdocs.yml (read as the engine reads it), `site` by default."""
    data = yaml.load(config_file.read_text(encoding="utf-8-sig"),
                     Loader=config._config_loader(config_file.parent))
    value = data.get("site_dir") if isinstance(data, dict) else None
    return config_file.resolve().parent / str(value or "site")


def same_tree(first: Path, second: Path) -> bool:
    """The same files with the same bytes: an unchanged build is not deployed again, which would replace the
    rollback copy with the current one."""
    if not second.is_dir():
        return False
    names = [sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) for root in (first, second)]
    if names[0] != names[1]:
        return False
    return all(filecmp.cmp(first / name, second / name, shallow=False) for name in names[0])


def previous_copy(target: Path) -> Path:
    return target.with_name(target.name + PREVIOUS_SUFFIX)


def deploy(site: Path, target: Path) -> bool:
    """Copies `site` beside `target` and swaps it in, keeping what was there as `<target>.previous`.
    False when `target` already has exactly this site. The web server sees the old or the new site, whole."""
    if same_tree(site, target):
        return False
    staging = sitedir.begin(target)
    try:
        shutil.copytree(site, staging.folder, dirs_exist_ok=True)
        sitedir.publish(staging, keep=previous_copy(staging.final))
    except BaseException:
        sitedir.discard(staging)
        raise
    return True


def rollback(target: Path) -> None:
    """Puts `<target>.previous` back in place, and the current site where the previous one was."""
    target = Path(os.path.abspath(target))
    previous = previous_copy(target)
    if not previous.is_dir():
        raise FileNotFoundError(previous)
    sitedir.publish(sitedir.Staging(target, previous), keep=previous)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", type=Path, metavar="FILE", help="購読者リスト（CSV か .xlsx）。送るのは今週の号だけです")
    parser.add_argument("--no-mail", action="store_true", help="メールを送りません（サイトの配置と Teams への投稿だけ）")
    parser.add_argument("--deploy", type=Path, metavar="DIR",
                        help="サイトを置くフォルダー（IIS・nginx が公開している場所や共有フォルダー）。"
                             "前の版は DIR.previous に残します。省略すると site/ を作るだけです")
    parser.add_argument("--days", type=_days, default=DEFAULT_DAYS,
                        help=f"今日を含めて何日以内の号を送るか（既定 {DEFAULT_DAYS}）。それより古い未配信の号は表示だけします")
    parser.add_argument("--dry-run", action="store_true", help="何もせず、行う予定の手順を表示します")
    parser.add_argument("--rollback", action="store_true", help="--deploy のフォルダーを前の版（DIR.previous）に戻します")
    parser.add_argument("-f", "--config-file", type=Path, default=Path("mkdocs.yml"), help="mkdocs.yml の場所")
    parser.add_argument("--ledger", type=Path, default=None, help="配信台帳（既定: send と同じ state/ledger.sqlite3）")
    parser.set_defaults(run=run)


def _days(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 366:
        raise argparse.ArgumentTypeError(f"--days は 1 から 366 までの日数で指定してください（今は「{text}」）")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from dayori.errors import ContentError

    if args.rollback:
        return _rollback(args.deploy)
    if args.to is None and not args.no_mail:
        return _fail("--to に購読者リストを指定してください（メールを送らないときは --no-mail）。")
    try:
        settings = config.settings_from_file(args.config_file)
        site = site_folder(args.config_file)
        ledger_file = ledger_path(args, settings)
    except (ConfigError, LedgerError) as error:
        return _fail(str(error))
    if args.deploy is not None and _inside(Path(args.deploy), site):
        return _fail(f"--deploy {args.deploy}: site/ の中や site/ そのものには配置できません。Web サーバーが公開している"
                     "別のフォルダーを指定してください。")
    if args.dry_run:
        try:
            plan = read_plan(settings, ledger_file, config.today(), args.days)
        except ContentError as error:
            return _fail(error.report())
        except LedgerError as error:
            return _fail(str(error))
        return _show_plan(args, plan, site)
    return _publish(args, settings, site, ledger_file)


def _publish(args: argparse.Namespace, settings: Settings, site: Path, ledger_file: Path) -> int:
    from dayori.errors import ContentError

    outcome = Outcome()
    print("1/4 サイトを作ります（python -m dayori site）", flush=True)
    if _build(args.config_file) != 0:
        outcome.failed.append("サイトを作れませんでした。上のメッセージのとおりに直してから、同じ publish をもう一度実行してください"
                              "（配置・メール・Teams はまだ何もしていません）")
        return _summary(outcome)
    outcome.done.append(f"サイトを作りました（{site}）")
    if args.deploy is not None:
        print(f"2/4 {args.deploy} に配置します", flush=True)
        try:
            changed = deploy(site, Path(args.deploy))
        except OSError as error:
            outcome.failed.append(f"{args.deploy} に配置できませんでした（{error.strerror or error}）。書き込みの権限と空き容量を"
                                  "確かめてから、同じ publish をもう一度実行してください（メールと Teams はまだです）")
            return _summary(outcome)
        previous = previous_copy(Path(args.deploy))
        kept = f"（前の版は {previous}）" if previous.is_dir() else ""
        outcome.done.append(f"{args.deploy} に配置しました{kept}" if changed
                            else f"{args.deploy} は最新です（配置し直していません）")
    else:
        print("2/4 配置先（--deploy）の指定がないので、配置はしません", flush=True)
    try:
        plan = read_plan(settings, ledger_file, config.today(), args.days)
    except ContentError as error:
        outcome.failed.append(error.report())
        return _summary(outcome)
    except LedgerBusy as error:
        outcome.notes.append(f"{error} メールと Teams は次の実行で行います。")
        return _summary(outcome)
    except LedgerError as error:
        outcome.failed.append(str(error))
        return _summary(outcome)
    mailed = _mail(args, plan, ledger_file, outcome)
    _announce(args, plan, mailed, ledger_file, outcome)
    _list_older(plan, outcome)
    return _summary(outcome)


def _mail(args: argparse.Namespace, plan: Plan, ledger_file: Path, outcome: Outcome) -> set[int]:
    """Sends the window's issues that some reader still needs; returns the vols whose mailing is finished."""
    print("3/4 今週の号をメールで送ります", flush=True)
    finished: set[int] = set()
    for issue in plan.recent:
        state = plan.mail[issue.vol]
        if args.no_mail:
            if state.state != CONTINUE:  # a mailing begun by hand is announced once it is finished
                finished.add(issue.vol)
            continue
        if state.state in (DONE, CHECK):
            finished.add(issue.vol)
            if state.state == CHECK:
                outcome.notes.append(_uncertain_note(issue.vol, state.uncertain, ledger_file))
            continue
        command = ["--vol", str(issue.vol), "--config-file", str(args.config_file), "--ledger", str(ledger_file),
                   *(["--to", str(args.to)] if args.to is not None else [])]
        status = _call(send_cli.add_arguments, command)
        if status == 0:
            finished.add(issue.vol)
            outcome.done.append(f"第{issue.vol}号をメールで送りました")
        elif status == send_cli.EXIT_PAUSED:
            outcome.notes.append(f"第{issue.vol}号のメールは、送信の上限（1 日の件数など）に達したので途中で止めました（上の"
                                 "メッセージに再開できる時刻があります）。その時刻の後の publish が、まだ届いていない人にだけ"
                                 "続きを送ります。Teams への投稿は送り終えてからにします")
        else:
            outcome.failed.append(f"第{issue.vol}号のメールを送り終えられませんでした（上のメッセージを参照）。直してから同じ publish を"
                                  f"もう一度実行すると、まだ届いていない人にだけ送ります（個別には python -m dayori send "
                                  f"--vol {issue.vol} --to {args.to}）。Teams への投稿は送り終えてからにします")
    if not plan.recent:
        outcome.notes.append(f"今日を含めて {args.days} 日以内に公開された号はありません（送るものはありません）。")
    return finished


def _announce(args: argparse.Namespace, plan: Plan, mailed: set[int], ledger_file: Path, outcome: Outcome) -> None:
    if not os.environ.get("DAYORI_TEAMS_WEBHOOK", "").strip():
        print("4/4 DAYORI_TEAMS_WEBHOOK が設定されていないので、Teams には投稿しません", flush=True)
        return
    print("4/4 Teams に投稿します", flush=True)
    for issue in plan.recent:
        if issue.vol not in mailed or plan.posted.get(issue.vol) == announce.POSTED:
            continue
        if plan.posted.get(issue.vol) == announce.POSTING:
            outcome.notes.append(f"第{issue.vol}号の Teams への投稿は、前の実行で届いたか分からないままです。チャネルに投稿がないと"
                                 f"確かめたら python -m dayori announce --vol {issue.vol} --retry-uncertain を実行してください。")
            continue
        status = _call(announce.add_arguments, ["--vol", str(issue.vol), "--config-file", str(args.config_file),
                                                "--ledger", str(ledger_file)])
        if status == 0:
            outcome.done.append(f"第{issue.vol}号を Teams に投稿しました")
        else:
            outcome.failed.append(f"第{issue.vol}号を Teams に投稿できませんでした（上のメッセージを参照）。直してから同じ publish を"
                                  f"もう一度実行してください（個別には python -m dayori announce --vol {issue.vol}）")


def _list_older(plan: Plan, outcome: Outcome) -> None:
    if plan.older:
        listed = "、".join(f"第{i.vol}号（{i.date.isoformat()}）" for i in plan.older)
        outcome.notes.append(f"メールで送っていない古い号があります: {listed}。publish は古い号を送りません。送るときは "
                             "python -m dayori send --vol 号数 --to 購読者リスト を実行してください。")


def _show_plan(args: argparse.Namespace, plan: Plan, site: Path) -> int:
    print("publish の予定です（--dry-run のため、何もしていません）:")
    print(f"  1. サイトを作る: python -m dayori site（{site}）")
    if args.deploy is not None:
        print(f"  2. {args.deploy} に配置する（変わっていなければ配置しません。今の版は {previous_copy(Path(args.deploy))} に残します）")
    else:
        print("  2. 配置しない（--deploy の指定がありません）")
    to_send = [i for i in plan.recent if plan.mail[i.vol].state in (NEW, CONTINUE) and not
               (args.no_mail and plan.mail[i.vol].state == NEW)]
    if not to_send:
        print("  3. メール: 送る号はありません")
    for issue in to_send:
        state = plan.mail[issue.vol]
        more = f"（残り {state.left} 件の続き）" if state.state == CONTINUE else ""
        print(f"  3. メール: 第{issue.vol}号「{issue.title}」（{issue.date.isoformat()}）を送る{more}")
        if state.state == NEW and args.to is not None:
            _call(send_cli.add_arguments, ["--vol", str(issue.vol), "--to", str(args.to), "--dry-run",
                                           "--config-file", str(args.config_file),
                                           *(["--ledger", str(args.ledger)] if args.ledger else [])], indent="     ")
    if not os.environ.get("DAYORI_TEAMS_WEBHOOK", "").strip():
        print("  4. Teams: 投稿しない（DAYORI_TEAMS_WEBHOOK が設定されていません）")
    else:
        to_post = [i for i in plan.recent if plan.posted.get(i.vol) is None]
        print("  4. Teams: " + ("、".join(f"第{i.vol}号を投稿する（メールを送り終えてから）" for i in to_post)
                                if to_post else "投稿する号はありません"))
    outcome = Outcome()
    _list_older(plan, outcome)
    for note in outcome.notes:
        print(f"  注意: {note}")
    return 0


def _uncertain_note(vol: int, count: int, ledger_file: Path) -> str:
    return (f"第{vol}号は {count} 件が「不明」（送信の直後に接続が切れ、届いたか分からない）のままです。二重に届かないよう"
            f"publish は送り直しません。届いていないと分かったら python -m dayori send --vol {vol} --retry-uncertain "
            f"--ledger {ledger_file} を実行してください。")


def _call(add_arguments: Callable[[argparse.ArgumentParser], None], argv: Sequence[str], indent: str = "") -> int:
    """Runs a command (`send`, `announce`) as its own parser reads it; a crash is that step's failure."""
    parser = argparse.ArgumentParser(prog="python -m dayori publish")
    add_arguments(parser)
    args = parser.parse_args(list(argv))
    try:
        if not indent:
            return int(args.run(args) or 0)
        return _indented(lambda: int(args.run(args) or 0), indent)
    except (OSError, sqlite3.Error, ValueError, RuntimeError) as error:
        print(f"予期しないエラーで止まりました（{type(error).__name__}: {error}）", file=sys.stderr)
        return 1


def _indented(call: Callable[[], int], indent: str) -> int:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = call()
    for line in buffer.getvalue().splitlines():
        print(f"{indent}{line}")
    return status


def _build(config_file: Path) -> int:
    """The build in its own process, as `python -m dayori site` runs it: only that command knows the builder."""
    command = [sys.executable, "-m", "dayori", "site", "--config-file", str(config_file)]
    return subprocess.run(command, check=False).returncode


def _rollback(target: Path | None) -> int:
    if target is None:
        return _fail("--rollback には --deploy で戻すフォルダーを指定してください。")
    try:
        rollback(target)
    except FileNotFoundError:
        return _fail(f"{previous_copy(target)} がありません。戻せる前の版は、publish が 2 回以上配置した後にできます。")
    except OSError as error:
        return _fail(f"{target} を戻せませんでした（{error.strerror or error}）。")
    print(f"{target} を前の版に戻しました（戻す前の版は {previous_copy(target)} にあります）。次の publish は site/ の内容を"
          "また配置するので、直すまでは定期実行を止めてください。")
    return 0


def _inside(path: Path, folder: Path) -> bool:
    resolved, root = path.resolve(), folder.resolve()
    return resolved == root or resolved.is_relative_to(root) or root.is_relative_to(resolved)


def _summary(outcome: Outcome) -> int:
    print()
    for line in outcome.done:
        print(f"済: {line}")
    for line in outcome.notes:
        print(f"注意: {line}")
    for line in outcome.failed:
        print(f"失敗: {line}", file=sys.stderr)
    if not outcome.failed:
        print("publish を終えました。もう一度実行しても、済んだ手順は繰り返しません。")
    return 1 if outcome.failed else 0


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2
