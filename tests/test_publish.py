"""`python -m dayori publish` as a scheduled task runs it, against a real SMTP server (aiosmtpd), a local webhook
playing Teams and a deploy folder: run it again and again, and each reader gets the week's issue once, Teams one
post, the web server a whole site with the previous one kept."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from conftest import Project
from dayori.publish import deploy, in_window, previous_copy, same_tree
from testsupport.smtp_server import Plan, SmtpServer
from testsupport.webhook_server import Webhook

READERS = ["staff01@example.go.jp", "staff02@example.go.jp", "staff03@example.go.jp"]


def _subscribers(folder: Path) -> Path:
    path = folder / "subscribers.csv"
    rows = ["メールアドレス,氏名", *(f"{address},職員{n}" for n, address in enumerate(READERS, start=1))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _publish(project: Project, *options: str, smtp: SmtpServer | None = None, webhook: Webhook | None = None,
             today: str = "2026-11-26", env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAYORI_TODAY": today, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", **(env_extra or {})}
    env.pop("DAYORI_TEAMS_WEBHOOK", None)
    if smtp is not None:
        env.update(smtp.env())
    if webhook is not None:
        env["DAYORI_TEAMS_WEBHOOK"] = webhook.url
    return subprocess.run([sys.executable, "-m", "dayori", "publish", *options], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=600)


def _vols_received(server: SmtpServer) -> list[tuple[str, str]]:
    return sorted((address.lower(), str(item.message["Subject"])) for item in server.recorder.received
                  for address in item.recipients)


def test_publishing_every_hour_mails_and_posts_the_weeks_issue_once_and_deploys_the_site(project, tmp_path, webhook):
    project.add_issue(3, "2026-10-02", "先月の号", "送り忘れた号です。")
    project.add_issue(12, "2026-11-20", "今週の号", "今週のコツです。")
    project.add_issue(13, "2026-11-27", "来週の号", "まだ公開前です。")
    subscribers, web = _subscribers(tmp_path), tmp_path / "www" / "dayori"
    options = ("--to", str(subscribers), "--deploy", str(web))
    with SmtpServer() as server:
        first = _publish(project, *options, smtp=server, webhook=webhook)
        assert first.returncode == 0, first.stdout + first.stderr
        second = _publish(project, *options, smtp=server, webhook=webhook)
        assert second.returncode == 0, second.stdout + second.stderr
        received = _vols_received(server)
    assert [address for address, _ in received] == READERS
    assert all("今週の号" in subject for _, subject in received)
    assert len(webhook.bodies) == 1 and "今週の号" in webhook.bodies[0].decode()
    assert (web / "newsletter" / "12" / "index.html").is_file()
    assert not (web / "newsletter" / "13").exists() and not (web / "subscribers.csv").exists()
    assert same_tree(project.site, web) and not previous_copy(web).exists()
    assert "第3号（2026-10-02）" in second.stdout and "古い号" in second.stdout
    assert "最新です" in second.stdout and "送りました" not in second.stdout and "投稿しました" not in second.stdout
    for result in (first, second):
        assert "staff01" not in result.stdout + result.stderr and "sig=" not in result.stdout + result.stderr

    earlier = (web / "index.html").read_bytes()
    with SmtpServer() as server:
        week_later = _publish(project, *options, smtp=server, webhook=webhook, today="2026-11-30")
        again = _publish(project, *options, smtp=server, webhook=webhook, today="2026-11-30")
        received = _vols_received(server)
    assert week_later.returncode == 0 and again.returncode == 0, week_later.stdout + week_later.stderr
    assert [address for address, _ in received] == READERS and all("来週の号" in s for _, s in received)
    assert len(webhook.bodies) == 2 and "来週の号" in webhook.bodies[1].decode()
    assert (web / "newsletter" / "13" / "index.html").is_file()
    assert (previous_copy(web) / "index.html").read_bytes() == earlier
    assert not (previous_copy(web) / "newsletter" / "13").exists()


def test_a_failed_mail_step_keeps_the_deployed_site_says_what_to_rerun_and_the_rerun_finishes(project, tmp_path,
                                                                                              webhook):
    project.add_issue(12, "2026-11-20", "今週の号", "今週のコツです。")
    subscribers, web = _subscribers(tmp_path), tmp_path / "www"
    options = ("--to", str(subscribers), "--deploy", str(web))
    with SmtpServer(Plan(down_after=0)) as down:
        failed = _publish(project, *options, smtp=down, webhook=webhook)
    assert failed.returncode == 1
    assert (web / "newsletter" / "12" / "index.html").is_file()
    assert "send --vol 12" in failed.stderr and "publish をもう一度" in failed.stderr
    assert webhook.bodies == []
    with SmtpServer() as server:
        rerun = _publish(project, *options, smtp=server, webhook=webhook)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(a for a, _ in _vols_received(server)) == READERS
    assert len(webhook.bodies) == 1


def test_a_build_that_fails_deploys_mails_and_posts_nothing(project, tmp_path, webhook):
    project.write("newsletter/2026/12.md", "---\nvol: 12\ndate: 2026-11-20\ntitel: 今週の号\nsummary: 要約\n"
                  "tags: [テスト]\n---\n\n本文\n")
    web = tmp_path / "www"
    with SmtpServer() as server:
        result = _publish(project, "--to", str(_subscribers(tmp_path)), "--deploy", str(web), smtp=server,
                          webhook=webhook)
        assert server.recorder.received == []
    assert result.returncode == 1
    assert "titel" in result.stdout + result.stderr and "サイトを作れませんでした" in result.stderr
    assert not web.exists() and webhook.bodies == []


def test_dry_run_prints_the_plan_and_does_nothing(project, tmp_path, webhook):
    project.add_issue(3, "2026-10-02", "先月の号")
    project.add_issue(12, "2026-11-20", "今週の号")
    web = tmp_path / "www"
    with SmtpServer() as server:
        shown = _publish(project, "--to", str(_subscribers(tmp_path)), "--deploy", str(web), "--dry-run",
                         smtp=server, webhook=webhook)
        assert server.recorder.received == []
    assert shown.returncode == 0, shown.stderr
    assert "第12号「今週の号」" in shown.stdout and "3 件に送る予定" in shown.stdout
    assert "第12号を投稿する" in shown.stdout and "第3号（2026-10-02）" in shown.stdout
    assert str(web) in shown.stdout
    assert not web.exists() and not project.site.exists() and webhook.bodies == []


def test_mail_is_never_sent_without_a_list_unless_asked_not_to_mail(project, tmp_path):
    result = _publish(project, "--deploy", str(tmp_path / "www"))
    assert result.returncode == 2 and "--to" in result.stderr and "--no-mail" in result.stderr
    inside = _publish(project, "--no-mail", "--deploy", str(project.site / "x"))
    assert inside.returncode == 2 and "site/" in inside.stderr


def test_rollback_puts_the_previous_site_back(project, tmp_path):
    project.add_issue(12, "2026-11-20", "今週の号")
    web = tmp_path / "www"
    assert _publish(project, "--no-mail", "--deploy", str(web)).returncode == 0
    project.add_issue(13, "2026-11-27", "来週の号")
    assert _publish(project, "--no-mail", "--deploy", str(web), today="2026-11-27").returncode == 0
    assert (web / "newsletter" / "13").is_dir()
    back = _publish(project, "--rollback", "--deploy", str(web))
    assert back.returncode == 0, back.stderr
    assert not (web / "newsletter" / "13").exists() and (web / "newsletter" / "12").is_dir()
    assert (previous_copy(web) / "newsletter" / "13").is_dir()


def test_deploy_swaps_whole_trees_and_keeps_exactly_one_previous(tmp_path):
    site, web = tmp_path / "site", tmp_path / "www"
    versions = [{"index.html": "一", "a/b.txt": "x"}, {"index.html": "二"}, {"index.html": "三", "c.txt": "y"}]
    for number, files in enumerate(versions):
        if site.exists():
            shutil.rmtree(site)
        for name, text in files.items():
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            (site / name).write_text(text, encoding="utf-8")
        assert deploy(site, web) is True
        assert deploy(site, web) is False
        assert same_tree(site, web)
        if number:
            previous = {str(p.relative_to(previous_copy(web))): p.read_text(encoding="utf-8")
                        for p in previous_copy(web).rglob("*") if p.is_file()}
            assert previous == versions[number - 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "www", "www.previous"]


@given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)), st.integers(1, 366))
def test_each_issue_is_in_the_window_on_exactly_its_first_days(issue_date, days):
    """Hourly runs can mail an issue only on `days` consecutive days from its date, across month and year ends."""
    window = [issue_date + dt.timedelta(days=n) for n in range(-3, days + 3)]
    assert [d for d in window if in_window(issue_date, d, days)] == [issue_date + dt.timedelta(days=n)
                                                                      for n in range(days)]


def test_a_run_while_another_holds_the_ledger_deploys_and_leaves_mail_and_teams_to_the_next_run(project, tmp_path,
                                                                                                 webhook):
    """An hourly run that starts while a long send is still going: nothing is sent twice, nothing is lost."""
    from dayori.delivery.ledger import Ledger

    project.add_issue(12, "2026-11-20", "今週の号")
    web, options = tmp_path / "www", ("--to", str(_subscribers(tmp_path)))
    (project.root / "state").mkdir()
    with SmtpServer() as server:
        with Ledger.open(project.root / "state" / "ledger.sqlite3"):
            overlapping = _publish(project, *options, "--deploy", str(web), smtp=server, webhook=webhook)
        assert server.recorder.received == [] and webhook.bodies == []
        assert overlapping.returncode == 0, overlapping.stderr
        assert "次の実行" in overlapping.stdout and (web / "newsletter" / "12" / "index.html").is_file()
        later = _publish(project, *options, "--deploy", str(web), smtp=server, webhook=webhook)
        assert later.returncode == 0, later.stderr
        assert sorted(a for a, _ in _vols_received(server)) == READERS and len(webhook.bodies) == 1


def test_no_mail_deploys_and_announces_and_mails_nobody(project, tmp_path, webhook):
    project.add_issue(12, "2026-11-20", "今週の号")
    with SmtpServer() as server:
        result = _publish(project, "--no-mail", "--deploy", str(tmp_path / "www"), smtp=server, webhook=webhook)
        assert server.recorder.received == []
    assert result.returncode == 0, result.stderr
    assert len(webhook.bodies) == 1 and (tmp_path / "www" / "newsletter" / "12" / "index.html").is_file()


def test_a_daily_cap_pauses_the_mailing_without_failing_the_run_and_teams_waits(project, tmp_path, webhook):
    """Exchange Online's daily cap: `send` pauses (exit 75). The hourly publish is not failed by it, says that a
    later run continues, sends nobody twice and tells Teams nothing until the mailing is finished."""
    project.add_issue(12, "2026-11-20", "今週の号", "今週のコツです。")
    options = ("--to", str(_subscribers(tmp_path)))
    capped = {"DAYORI_SMTP_DAILY_LIMIT": "2"}
    with SmtpServer() as server:
        runs = [_publish(project, *options, smtp=server, webhook=webhook, env_extra=capped) for _ in range(2)]
        received = _vols_received(server)
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "上限" in run.stdout and "続きを送ります" in run.stdout, run.stdout
    assert len(received) == 2 and len(set(received)) == 2
    assert webhook.bodies == []
