"""`python -m dayori announce` against a real local HTTP server playing Teams' Workflows webhook: the card it gets,
retries on 429/5xx, never two posts for one item, and the webhook URL never printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import Project
from dayori.delivery.announce import AnnounceError, webhook_url
from media_clips import clip
from testsupport.helpers import add_episode, wait_for
from testsupport.webhook_server import Webhook


def _announce(project: Project, webhook: Webhook, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAYORI_TODAY": "2026-11-26", "DAYORI_TEAMS_WEBHOOK": webhook.url,
           "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return subprocess.run([sys.executable, "-m", "dayori", "announce", *options, "--backoff", "0"],
                          cwd=project.root, env=env, capture_output=True, text=True, timeout=120)


TITLE = "<b>会議</b>を **半分** に"


def test_announce_twice_posts_once_after_riding_out_429s(project, webhook):
    project.add_issue(3, "2026-11-20", TITLE, "本文です。", summary="[ここ](https://evil.example/) を読む")
    webhook.plan = [(429, {"Retry-After": "1"}), (429, {}), (202, {})]
    first = _announce(project, webhook, "--vol", "3")
    second = _announce(project, webhook, "--vol", "3")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0 and "投稿済み" in second.stdout
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2} に Teams へ投稿済み", second.stdout)
    assert len(webhook.bodies) == 3 and len(set(webhook.bodies)) == 1 and len(webhook.posted) == 1
    message = json.loads(webhook.bodies[-1])
    assert message["type"] == "message"
    assert message["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = message["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and float(card["version"]) <= 1.5
    assert len(webhook.bodies[-1]) <= 28 * 1024
    runs = [inline for block in card["body"] if block["type"] == "RichTextBlock" for inline in block["inlines"]]
    assert {"type": "TextRun", "text": TITLE, "weight": "Bolder", "size": "Large"} in runs
    assert any(run["text"] == "[ここ](https://evil.example/) を読む" for run in runs)
    assert any("2026年11月20日" in run["text"] for run in runs)
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "サイトで読む",
                                "url": "https://dx.example.go.jp/dayori/newsletter/3/"}]
    for result in (first, second):
        assert "sig=" not in result.stdout + result.stderr and "7c1e5d2a9b" not in result.stdout + result.stderr


def test_the_card_shows_the_first_picture_and_stays_under_28_kb(project, webhook):
    project.add_issue(3, "2026-11-20", "図の号", "手順の図です。\n\n![手順](steps.png)\n")
    project.write("newsletter/2026/steps.png", png_bytes())
    shown = _announce(project, webhook, "--vol", "3", "--dry-run")
    assert shown.returncode == 0, shown.stderr
    [image] = [b for b in json.loads(shown.stdout)["attachments"][0]["content"]["body"] if b["type"] == "Image"]
    assert re.fullmatch(r"https://dx\.example\.go\.jp/dayori/media/files/[0-9a-f]{16}\.png", image["url"])
    project.add_issue(4, "2026-11-20", "長い号", summary="とても長い要約です。" * 3000)
    long = _announce(project, webhook, "--vol", "4")
    assert long.returncode == 2 and "28 KB" in long.stderr and "要約" in long.stderr
    assert webhook.bodies == []


def png_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (64, 32), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


def test_drafts_and_future_items_are_refused_and_nothing_is_posted(project, webhook):
    project.add_issue(4, "2026-12-04", "来週の号")
    project.add_issue(5, "2026-11-20", "下書きの号", draft=True)
    for vol in ("4", "5", "99"):
        result = _announce(project, webhook, "--vol", vol)
        assert result.returncode == 2 and f"第{vol}号" in result.stderr and "公開" in result.stderr
    assert webhook.bodies == []


def test_a_refusal_is_explained_and_a_later_run_may_post(project, webhook):
    project.add_issue(3, "2026-11-20", "会議の号")
    webhook.plan = [(400, {})]
    refused = _announce(project, webhook, "--vol", "3")
    assert refused.returncode == 1 and "HTTP 400" in refused.stderr and "ワークフロー" in refused.stderr
    assert "sig=" not in refused.stderr
    assert _announce(project, webhook, "--vol", "3").returncode == 0
    assert len(webhook.bodies) == 2


@pytest.mark.parametrize("answer", ["drop", 502, 503])
def test_a_post_that_may_have_arrived_is_not_repeated_unless_asked(project, webhook, answer):
    """Teams' workflow processed the POST, then the gateway answered 5xx or the line dropped: the channel has the
    card. No automatic retry, no release of the claim: the channel keeps exactly one post."""
    project.add_issue(3, "2026-11-20", "会議の号")
    webhook.plan = [(answer, {})]
    dropped = _announce(project, webhook, "--vol", "3")
    assert len(webhook.posted) == 1 and "Traceback" not in dropped.stderr
    assert dropped.returncode == 1 and "分かりません" in dropped.stderr
    again = _announce(project, webhook, "--vol", "3")
    assert again.returncode == 1 and "--retry-uncertain" in again.stderr
    assert len(webhook.bodies) == 1
    assert len(webhook.posted) == 1 and len(webhook.bodies) == 1


def test_an_uncertain_post_that_never_arrived_is_posted_once_with_retry_uncertain(project, webhook):
    """The line dropped before Teams processed anything: the run cannot know, says so; the editor finds no post in
    the channel and reruns with --retry-uncertain; the channel ends with one post."""
    project.add_issue(3, "2026-11-20", "会議の号")
    webhook.plan = [("drop-unprocessed", {})]
    dropped = _announce(project, webhook, "--vol", "3")
    assert dropped.returncode == 1 and "分かりません" in dropped.stderr and webhook.posted == []
    assert _announce(project, webhook, "--vol", "3", "--retry-uncertain").returncode == 0
    assert "投稿済み" in _announce(project, webhook, "--vol", "3").stdout
    assert len(webhook.posted) == 1 and len(webhook.bodies) == 2


@pytest.mark.parametrize("url", ["https://prod-12.japaneast.logic.azure.com:443/workflows/7c1e 5d2a/triggers",
                                 "https://[::1", "https://prod-12.japaneast.logic.azure.com:99999/workflows",
                                 "https://ｐｒｏｄ.example.go.jp/workflows", "ftp://prod.example.go.jp/x", "https:///x",
                                 "https://prod.example.go.jp/work\nflows"])
def test_a_bad_webhook_url_is_refused_in_japanese(url):
    with pytest.raises(AnnounceError, match="DAYORI_TEAMS_WEBHOOK"):
        webhook_url(url)


def test_a_bad_webhook_url_is_refused_before_any_claim(project, webhook):
    """A URL that cannot be requested never leaves a claim behind (which would block every later post as 'may
    have been posted'); after the URL is fixed, the post goes out once."""
    project.add_issue(3, "2026-11-20", "会議の号")
    url = "https://prod-12.japaneast.logic.azure.com:443/workflows/7c1e 5d2a/triggers"
    env = {**os.environ, "DAYORI_TODAY": "2026-11-26", "DAYORI_TEAMS_WEBHOOK": url, "NO_PROXY": "127.0.0.1"}
    bad = subprocess.run([sys.executable, "-m", "dayori", "announce", "--vol", "3", "--backoff", "0"],
                         cwd=project.root, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "空白" in bad.stderr and "Traceback" not in bad.stderr
    assert _announce(project, webhook, "--vol", "3").returncode == 0
    assert len(webhook.posted) == 1


def test_a_long_retry_after_ends_the_run_without_a_claim(project, webhook):
    project.add_issue(3, "2026-11-20", "会議の号")
    webhook.plan = [(429, {"Retry-After": "3600"})]
    busy = _announce(project, webhook, "--vol", "3")
    assert busy.returncode == 1 and "混雑" in busy.stderr and "投稿はしていません" in busy.stderr
    assert _announce(project, webhook, "--vol", "3").returncode == 0
    assert len(webhook.posted) == 1


def test_dry_run_prints_the_card_of_an_episode_with_its_still(project, webhook):
    add_episode(project, "2026-11-19-teams-channel")
    clip(project.root / "videos" / "2026-11-19-teams-channel" / "clip.mp4", size="160x90", seconds=1.0,
         audio=False)
    result = _announce(project, webhook, "--episode", "2026-11-19-teams-channel", "--dry-run")
    assert result.returncode == 0, result.stderr
    message = json.loads(result.stdout)
    card = message["attachments"][0]["content"]
    image = next(block for block in card["body"] if block["type"] == "Image")
    assert image["url"].startswith("https://dx.example.go.jp/dayori/media/video/") and image["url"].endswith(".jpg")
    assert card["actions"][0]["url"] == "https://dx.example.go.jp/dayori/videos/2026-11-19-teams-channel/"
    assert webhook.bodies == []
    missing = _announce(project, webhook, "--episode", "2026-11-19-nothing")
    assert missing.returncode == 2 and "見つからない" in missing.stderr


def test_two_runs_at_once_post_once(project, webhook):
    """Two editors run announce at the same moment against a slow Teams: one posts, the other finds the ledger
    held and stops before posting."""
    project.add_issue(3, "2026-11-20", "会議の号")
    webhook.answering.clear()  # a slow Teams: the first run's post waits for an answer until the second has run
    env = {**os.environ, "DAYORI_TODAY": "2026-11-26", "DAYORI_TEAMS_WEBHOOK": webhook.url, "NO_PROXY": "127.0.0.1"}
    command = [sys.executable, "-m", "dayori", "announce", "--vol", "3", "--backoff", "0"]
    runs = [subprocess.Popen(command, cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    wait_for(lambda: webhook.bodies and any(run.poll() is not None for run in runs), "one run posting, the other ending")
    webhook.answering.set()
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert len(webhook.bodies) == 1
    assert sorted(code for code, _, _ in results) == [0, 2]
    loser = next(err for code, _, err in results if code == 2)
    assert "使っています" in loser and "もう一度実行" in loser
    assert "sig=" not in loser and "Traceback" not in loser
