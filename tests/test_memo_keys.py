"""The preview's memo keys are derived from the inputs (`dayori.memo.through`), not written by hand: change any
one field of an issue, an episode, a body, a clip or the settings, and the preview rebuilt through a memo that
saw the old value equals a build from nothing, and what a reader sees changes where the field is shown.

Stages only (pages, the home page's list, feeds, emails) from a model built in memory: no MkDocs, no ffmpeg."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sample_files
from dayori.config import EmailSettings, Settings
from dayori.email.build import build_emails
from dayori.feeds import build_feeds
from dayori.memo import Memo
from dayori.model import Body, Content, Episode, EpisodeMedia, Heading, Issue, Output, Rendition
from dayori.pages import build_pages

SITE = "https://dx.example.go.jp/dayori/"
TODAY = dt.date(2026, 11, 26)
SLUG = "2026-11-18-teams-channel"


def _issue(root: Path) -> Issue:
    return Issue(vol=3, date=dt.date(2026, 11, 19), title="会議室の予約", summary="予約の手順です。", tags=("Teams",),
                 authors=("佐藤",), draft=False, videos=(SLUG,), source=root / "newsletter/2026/3.md",
                 body=Body(html="<p>予約は前日までに。</p>", text="予約は前日までに。",
                           toc=(Heading(2, "yoyaku", "予約"),)))


def _episode(root: Path) -> Episode:
    return Episode(slug=SLUG, date=dt.date(2026, 11, 18), title="チャネルの作り方", summary="チャネルを作ります。",
                   tags=("Teams",), draft=False, clip=root / f"videos/{SLUG}/clip.mp4", captions=None, poster_at=None,
                   newsletter=3, source=root / f"videos/{SLUG}/index.md",
                   body=Body(html="<p>右上のボタンから。</p>", text="右上のボタンから。", toc=()),
                   key_lines=(("title", 2),))


def _clip() -> EpisodeMedia:
    """What the media stage reports for a clip, every file present; its bytes are given, not transcoded."""
    def media(name: str, content: bytes = b"") -> Output:
        return Output(dest=f"media/video/{SLUG}-{name}", content=content)

    return EpisodeMedia(
        slug=SLUG, renditions=(Rendition("720p", f"media/video/{SLUG}-720.mp4", Path("720.mp4"), 1280, 720, 900_000),
                               Rendition("360p", f"media/video/{SLUG}-360.mp4", Path("360.mp4"), 640, 360, 300_000)),
        poster=media("poster.jpg", sample_files.png(32, 18)), still=media("still.png", sample_files.png(32, 18)),
        captions=media("ja.vtt", b"WEBVTT\n"), duration=42.5, width=1280, height=720, has_audio=True,
        audio=Rendition("audio", f"media/video/{SLUG}.m4a", Path("a.m4a"), 0, 0, 80_000, "audio/mp4"),
        playlist=media("master.m3u8", b"#EXTM3U\n"), streams=(media("360/index.m3u8", b"#EXTM3U\n"),))


@dataclasses.dataclass
class Inputs:
    issue: Issue
    episode: Episode
    clip: EpisodeMedia
    settings: Settings

    def content(self) -> Content:
        return Content(issues=(self.issue,), episodes=(self.episode,), today=TODAY, preview=True)


def seen(inputs: Inputs, memo: Memo | None, settings: Settings | None = None) -> dict[str, Any]:
    """Everything a reader sees of these stages: pages, the home page's list, feeds' and emails' bytes."""
    settings = settings or inputs.settings
    content, media = inputs.content(), {SLUG: inputs.clip}
    site = build_pages(content, settings, media, memo=memo)
    outputs: list[Output] = [*build_feeds(content, settings, media, memo=memo),
                             *build_emails(content, settings, media, memo=memo).outputs]
    if memo is not None:
        memo.finish(complete=True)
    return {"pages": {page.url: page for page in site.pages}, "latest": site.latest_html,
            "files": {output.dest: output.data() for output in outputs}}


def changed(value: Any) -> Any:
    """Another valid value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, str):
        return value + "改"
    if isinstance(value, dt.date):
        return value - dt.timedelta(days=1)
    if isinstance(value, Path):
        return value.with_name("other" + value.suffix)
    if isinstance(value, tuple):
        return value[:-1] if value else ("追加",)
    if isinstance(value, Output | Rendition):
        return dataclasses.replace(value, dest=value.dest.replace(SLUG, f"{SLUG}-v2"))
    raise AssertionError(f"no change for {value!r}")


FIELD_VALUES: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("issue", "videos"): lambda value: (),
    ("issue", "tags"): lambda value: (*value, "Excel"),
    ("issue", "authors"): lambda value: (*value, "鈴木"),
    ("issue", "body"): lambda body: dataclasses.replace(body, html="<p>予約は当日でも。</p>", text="予約は当日でも。" * 800),
    ("episode", "slug"): lambda value: "2026-11-18-teams-chat",
    ("episode", "tags"): lambda value: (*value, "会議"),
    ("episode", "captions"): lambda value: Path("captions.vtt"),
    ("episode", "newsletter"): lambda value: None,
    ("episode", "body"): lambda body: dataclasses.replace(body, html="<p>左上のボタンから。</p>"),
    ("episode", "key_lines"): lambda value: (("title", 3),),
    ("episode", "poster_at"): lambda value: 1.5,
    ("clip", "error"): lambda value: "動画の形式が対応していません。",
}

NOT_SHOWN = {("issue", "source"), ("episode", "clip"), ("episode", "captions"), ("episode", "poster_at"),
             ("episode", "source"), ("episode", "key_lines"), ("clip", "slug"), ("clip", "has_audio"),
             ("clip", "streams")}
"""Fields no page, feed or email shows: the media stage reads them (the clip's files, the poster's time), or
messages do (where a key is), or the playlist does (its streams)."""

SETTINGS_CHANGES: dict[str, Callable[[Settings], Settings]] = {
    "site_name": lambda s: dataclasses.replace(s, site_name="業務効率化便り"),
    "site_url": lambda s: dataclasses.replace(s, site_url="https://dx.example.go.jp/tayori/"),
    "chars_per_minute": lambda s: dataclasses.replace(s, chars_per_minute=5),
    "email.footer": lambda s: dataclasses.replace(s, email=dataclasses.replace(s.email, footer="配信元：DX推進室")),
    "email.unsubscribe_url": lambda s: dataclasses.replace(
        s, email=dataclasses.replace(s.email, unsubscribe_url="https://dx.example.go.jp/dayori/stop/")),
}


def _fields() -> list[tuple[str, str]]:
    return [(part, f.name) for part, kind in (("issue", Issue), ("episode", Episode), ("clip", EpisodeMedia))
            for f in dataclasses.fields(kind)]


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    settings = Settings(root=tmp_path, site_url=SITE, email=EmailSettings(footer="配信元：DX推進課"))
    return Inputs(_issue(tmp_path), _episode(tmp_path), _clip(), settings)


@pytest.mark.parametrize(("part", "name"), _fields(), ids=[f"{p}.{n}" for p, n in _fields()])
def test_a_changed_field_is_never_shown_stale(inputs: Inputs, part: str, name: str, tmp_path: Path) -> None:
    memo = Memo()
    before = seen(inputs, memo)
    old = getattr(inputs, part)
    change = FIELD_VALUES.get((part, name), changed)
    setattr(inputs, part, dataclasses.replace(old, **{name: change(getattr(old, name))}))
    after = seen(inputs, memo)
    assert after == seen(inputs, None, dataclasses.replace(inputs.settings, cache_dir=".cache/fresh")), \
        f"{part}.{name}: the preview kept something made from the old value"
    if (part, name) in NOT_SHOWN:
        assert after == before
    else:
        assert after != before, f"{part}.{name} is shown nowhere: list it in NOT_SHOWN"


@pytest.mark.parametrize("change", SETTINGS_CHANGES.values(), ids=SETTINGS_CHANGES.keys())
def test_a_changed_setting_is_never_shown_stale(inputs: Inputs, change: Callable[[Settings], Settings]) -> None:
    memo = Memo()
    before = seen(inputs, memo)
    inputs.settings = change(inputs.settings)
    after = seen(inputs, memo)
    assert after == seen(inputs, None, dataclasses.replace(inputs.settings, cache_dir=".cache/fresh"))
    assert after != before


def test_nothing_changed_reuses_every_page(inputs: Inputs) -> None:
    memo = Memo()
    first = seen(inputs, memo)
    second = seen(inputs, memo)
    assert all(second["pages"][url] is page for url, page in first["pages"].items())
