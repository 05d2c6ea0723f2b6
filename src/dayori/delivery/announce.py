"""`python -m dayori announce --vol N | --episode SLUG`: an Adaptive Card in a Teams channel, through the Workflows
webhook in DAYORI_TEAMS_WEBHOOK (Teams' old incoming-webhook connectors are retired).

Each post is claimed in the ledger file before it goes out, so a rerun, a second run at the same time or a run after
a crash never posts twice. The webhook URL is a secret (anyone holding it can post): it is never printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import errno
import http.client
import json
import os
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dayori.config import ConfigError, Settings, settings_from_file
from dayori.delivery import words
from dayori.delivery.commands import add_common, ledger_path
from dayori.delivery.ledger import Ledger, LedgerError
from dayori.errors import ContentError
from dayori.formats import japanese_date
from dayori.model import Content, Episode, Issue

CARD_VERSION = "1.5"
MAX_PAYLOAD_BYTES = 28 * 1024
"""Teams refuses messages over 28 KB."""
MAX_ATTEMPTS = 5
MAX_WAIT = 60.0
MAX_RETRY_AFTER = 300.0
"""The longest Retry-After waited for within one run; beyond it the run ends and says when to try again."""
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS announcements (
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('posting', 'posted')),
    detail TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, item)
)
"""
POSTING, POSTED = "posting", "posted"


class AnnounceError(Exception):
    """Nothing was posted (or the post may have happened and must not be repeated); the message says what to do."""


@dataclass(frozen=True)
class Announcement:
    kind: str
    item: str
    """The issue number or the episode slug: the ledger's key for this post."""
    label: str
    card: dict[str, Any]


def _text(text: str, **style: Any) -> dict[str, Any]:
    """Editor text as a TextRun: Adaptive Cards render TextBlock text as Markdown, TextRun text as it is."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def card(title: str, kicker: str, date: dt.date, summary: str, image_url: str | None, image_alt: str,
         page_url: str, button: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        _text(kicker, isSubtle=True, size="Small"),
        _text(title, weight="Bolder", size="Large"),
        _text(japanese_date(date), isSubtle=True),
    ]
    if image_url:
        body.append({"type": "Image", "url": image_url, "altText": image_alt, "size": "Stretch"})
    if summary:
        body.append(_text(summary))
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION, "body": body,
            "actions": [{"type": "Action.OpenUrl", "title": button, "url": page_url}],
            "msteams": {"width": "Full"}}


def payload(announcement: Announcement) -> bytes:
    """The message the Workflows trigger 'When a Teams webhook request is received' expects."""
    message = {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": announcement.card}]}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def issue_announcement(issue: Issue, settings: Settings, still_url: str | None) -> Announcement:
    image = next((a for a in issue.body.assets if a.dest.lower().endswith(_IMAGE_SUFFIXES)), None)
    image_url = settings.absolute(image.dest) if image is not None else still_url
    return Announcement("issue", str(issue.vol), f"第{issue.vol}号", card(
        issue.title, f"{settings.site_name} Vol.{issue.vol}", issue.date, issue.summary, image_url, issue.title,
        settings.absolute(issue.url), "サイトで読む"))


def episode_announcement(episode: Episode, settings: Settings, still_url: str | None) -> Announcement:
    return Announcement("episode", episode.slug, f"動画「{episode.slug}」", card(
        episode.title, "DX日記", episode.date, episode.summary, still_url, f"{episode.title}（動画の一場面）",
        settings.absolute(episode.url), "動画を見る"))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Record:
    """The announcements table in an open ledger: a committed claim before posting, `posted` after the 2xx answer.
    The ledger stays held while the post goes out, so no other run can post the same item meanwhile."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        with ledger.transaction() as db:
            db.execute(_SCHEMA)

    def claim(self, kind: str, item: str) -> tuple[str, str] | None:
        """Takes the post for this run, or returns the (state, time) of an earlier claim."""
        with self._ledger.transaction() as db:
            row = db.execute("SELECT state, updated_at FROM announcements WHERE kind = ? AND item = ?",
                             (kind, item)).fetchone()
            if row is None:
                db.execute("INSERT INTO announcements (kind, item, state, updated_at) VALUES (?, ?, ?, ?)",
                           (kind, item, POSTING, _now()))
        return None if row is None else (row[0], row[1])

    def posted(self, kind: str, item: str, detail: str) -> None:
        with self._ledger.transaction() as db:
            db.execute("UPDATE announcements SET state = ?, detail = ?, updated_at = ? WHERE kind = ? AND item = ?",
                       (POSTED, detail, _now(), kind, item))

    def release(self, kind: str, item: str) -> None:
        """Nothing reached Teams: the next run may try again."""
        with self._ledger.transaction() as db:
            db.execute("DELETE FROM announcements WHERE kind = ? AND item = ?", (kind, item))


class _Uncertain(AnnounceError):
    """The request went out and no answer came back: Teams may have posted it."""


def post(url: str, data: bytes, *, backoff: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> int:
    """POSTs `data` and returns the 2xx status. Only answers that prove nothing was posted are retried: a 429
    (Teams throttles before it processes anything; after Retry-After) and a connection that could not be made.
    A 5xx or a connection dropped after the request went out may come after Teams posted the card: _Uncertain,
    never retried. Raises AnnounceError when Teams refuses."""
    last = ""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        wait = min(MAX_WAIT, backoff * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                raise _Uncertain(f"Teams が投稿の後にエラーを返しました（HTTP {error.code}）") from error
            if error.code != 429:
                raise AnnounceError(f"Teams が投稿を受け付けませんでした（HTTP {error.code}）。DAYORI_TEAMS_WEBHOOK の URL が"
                                    "ワークフローの「Teams Webhook 要求を受信したとき」のものか、ワークフローがオンかを"
                                    "確かめてください") from error
            last = "HTTP 429（混雑）"
            retry_after = _retry_after(error.headers.get("Retry-After"))
            if retry_after > MAX_RETRY_AFTER:
                raise AnnounceError(f"Teams が混雑していて、{words.wait(retry_after)}後まで受け付けないと答えました"
                                    "（HTTP 429）。投稿はしていません。そのころに同じコマンドをもう一度実行してください"
                                    ) from error
            wait = max(wait, retry_after)
        except urllib.error.URLError as error:
            if not _not_sent(error.reason):
                raise _Uncertain(f"送信の途中で接続が切れました（{type(error.reason).__name__}）") from error
            last = f"接続できません（{type(error.reason).__name__}）"
        except (http.client.HTTPException, OSError) as error:
            raise _Uncertain(f"送信直後に接続が切れました（{type(error).__name__}）") from error
        if attempt < MAX_ATTEMPTS:
            sleep(min(MAX_RETRY_AFTER, wait))
    raise AnnounceError(f"Teams に投稿できませんでした（{MAX_ATTEMPTS} 回試して最後は {last}）。投稿はしていません。"
                        "しばらくしてからもう一度実行してください")


def _not_sent(reason: object) -> bool:
    """A failure to connect (refused, no route, name not found, certificate refused): nothing reached Teams."""
    return isinstance(reason, ConnectionRefusedError | socket.gaierror | ssl.SSLError | TimeoutError) or (
        isinstance(reason, OSError) and reason.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH))


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds or as an HTTP date; 0 when absent or unreadable."""
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def webhook_from_env() -> str:
    """The webhook URL, checked before any claim is made: a URL that cannot be requested must not leave a claim
    that says "may have been posted"."""
    return webhook_url(os.environ.get("DAYORI_TEAMS_WEBHOOK", ""))


def webhook_url(value: str) -> str:
    url = value.strip()
    if not url:
        raise AnnounceError("環境変数 DAYORI_TEAMS_WEBHOOK に、Teams のワークフロー「Teams Webhook 要求を受信したとき」の"
                            "URL を設定してください")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise AnnounceError("DAYORI_TEAMS_WEBHOOK の URL の途中に空白や改行があります。ワークフローの画面から URL を"
                            "もう一度コピーして、そのまま設定してください（何も投稿していません）")
    if not url.isascii():
        raise AnnounceError("DAYORI_TEAMS_WEBHOOK の URL に全角文字があります。ワークフローの画面から URL をもう一度コピー"
                            "してください（何も投稿していません）")
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as error:
        raise AnnounceError("DAYORI_TEAMS_WEBHOOK を URL として読めません（途中で切れているようです）。ワークフローの"
                            "画面から URL をもう一度コピーしてください（何も投稿していません）") from error
    loopback = host in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise AnnounceError("DAYORI_TEAMS_WEBHOOK は https:// で始まる URL にしてください")
    if not host:
        raise AnnounceError("DAYORI_TEAMS_WEBHOOK の URL にサーバー名がありません。ワークフローの画面から URL をもう一度"
                            "コピーしてください（何も投稿していません）")
    return url


def announce(announcement: Announcement, record: Record, url: str, *, retry_uncertain: bool = False,
             backoff: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> str:
    """Posts once per item and ledger; returns what happened, in Japanese, for the editor."""
    data = payload(announcement)
    earlier = record.claim(announcement.kind, announcement.item)
    if earlier is not None:
        state, when = earlier
        if state == POSTED:
            return f"{announcement.label}は {words.japan_time(when)} に Teams へ投稿済みです。二重に投稿しないよう、今回は送っていません。"
        if not retry_uncertain:
            raise AnnounceError(f"{announcement.label}の投稿は {words.japan_time(when)} に始まったまま、届いたか分かりません（前回の実行が"
                                "途中で止まったか、接続が切れました）。チャネルに投稿がないと確かめたら --retry-uncertain を付けて実行してください")
    try:
        status = post(url, data, backoff=backoff, sleep=sleep)
    except _Uncertain as error:
        raise AnnounceError(f"{error}。Teams に投稿されたか分かりません。チャネルを確かめ、投稿がなければ "
                            "--retry-uncertain を付けて実行してください") from error
    except AnnounceError:
        record.release(announcement.kind, announcement.item)
        raise
    record.posted(announcement.kind, announcement.item, f"HTTP {status}")
    return f"{announcement.label}を Teams に投稿しました。"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--vol", type=int, help="お知らせする号の番号")
    which.add_argument("--episode", metavar="SLUG", help="お知らせする動画（videos/ のフォルダー名）")
    parser.add_argument("--dry-run", action="store_true", help="投稿せず、カードの JSON を表示します")
    parser.add_argument("--retry-uncertain", action="store_true",
                        help="前回の投稿が届いたか分からないときに、もう一度投稿します（二重になることがあります）")
    parser.add_argument("--backoff", type=float, default=2.0, help=argparse.SUPPRESS)
    add_common(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dayori.content import load_content

    try:
        settings = settings_from_file(args.config_file)
        content = load_content(settings)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 2
    except ContentError as error:
        print(error.report(), file=sys.stderr)
        return 2
    return announce_item(settings, content, vol=args.vol, episode=args.episode, ledger=args.ledger,
                         dry_run=args.dry_run, retry_uncertain=args.retry_uncertain, backoff=args.backoff)


def announce_item(settings: Settings, content: Content, *, vol: int | None = None, episode: str | None = None,
                  ledger: Path | None = None, dry_run: bool = False, retry_uncertain: bool = False,
                  url: str | None = None, backoff: float = 2.0) -> int:
    """`announce` for issue `vol` or episode `episode` of `content` (already loaded): posts its card once per
    ledger, printing what the editor reads. `url` stands for DAYORI_TEAMS_WEBHOOK. Returns the exit code: 0 posted
    (or posted before), 1 not posted or uncertain (the message says what to do), 2 nothing attempted."""
    from dayori.check.gate import release_block

    try:
        built = _announcement(argparse.Namespace(vol=vol, episode=episode), content, settings)
    except AnnounceError as error:
        print(str(error), file=sys.stderr)
        return 2
    except ContentError as error:
        print(error.report(), file=sys.stderr)
        return 2
    blocked = release_block(settings, content, "お知らせ", vol=vol, episode=episode)
    if blocked is not None:
        print(blocked, file=sys.stderr)
        return 2
    data = payload(built)
    if len(data) > MAX_PAYLOAD_BYTES:
        print(f"{built.label}のカードが {len(data) / 1024:.0f} KB あり、Teams の上限 28 KB を超えます。"
              "要約（summary）を短くしてください", file=sys.stderr)
        return 2
    if dry_run:
        print(json.dumps(json.loads(data), ensure_ascii=False, indent=2))
        return 0
    try:
        webhook = webhook_url(url) if url is not None else webhook_from_env()
        held = Ledger.open(ledger_path(argparse.Namespace(ledger=ledger), settings))
    except (AnnounceError, LedgerError, ConfigError) as error:
        print(str(error), file=sys.stderr)
        return 2
    with held:
        try:
            print(announce(built, Record(held), webhook, retry_uncertain=retry_uncertain, backoff=backoff))
        except AnnounceError as error:
            print(str(error), file=sys.stderr)
            return 1
    return 0


def _announcement(args: argparse.Namespace, content: Content, settings: Settings) -> Announcement:
    """Only what is published: drafts and items dated after today are not in `content` at all."""
    if args.vol is not None:
        issue = content.issue(args.vol)
        if issue is None:
            raise AnnounceError(f"第{args.vol}号は見つからないか、まだ公開されていません（下書きや公開日前の号は"
                                "お知らせできません）。")
        still = _still_url([e for e in content.episodes if e.slug in issue.videos][:1], settings)
        return issue_announcement(issue, settings, still)
    episode = content.episode(args.episode)
    if episode is None:
        raise AnnounceError(f"動画「{args.episode}」は見つからないか、まだ公開されていません（下書きや公開日前の動画は"
                            "お知らせできません）。")
    return episode_announcement(episode, settings, _still_url([episode], settings))


def _still_url(episodes: list[Episode], settings: Settings) -> str | None:
    """The still's address on the site, from the media cache (`make site` has made it; otherwise it is made now)."""
    if not episodes:
        return None
    from dayori.media import process_episodes

    report = process_episodes(episodes, settings)
    if report.problems:
        raise ContentError(report.problems)
    media = report.media.get(episodes[0].slug)
    still = getattr(media, "still", None)
    return settings.absolute(still.dest) if still is not None else None
