"""What every feed format shows: the feeds there are, their entries as plain values, and the URLs and ids
that must never change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from dayori.config import TOKYO, Settings
from dayori.model import Episode, Issue, newest_first, tag_groups
from dayori.sanitize import clean_text

FEED_LIMIT = 50
"""Entries per main feed: subscribers need the recent ones, the archive is on the site."""

TAG_FEED_LIMIT = 20
"""Entries per tag feed: a site has many tags, and each tag feed repeats full bodies of the main feeds."""

TAG_DATE = "2026"
"""The date part of entry ids (RFC 4151 tag URIs); fixed forever so ids never change."""

PUBLISH_TIME = dt.time(9, 0)
"""Items are announced at 09:00 Tokyo time on their date."""

_EMPTY_FEED_DATE = dt.datetime(int(TAG_DATE), 1, 1, 9, tzinfo=TOKYO)
"""The date of a feed with no entries yet: any fixed date keeps builds reproducible."""

NEWSLETTER_TITLE = "業務合理化便り"
VIDEOS_TITLE = "DX日記"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

_FORMATS = (("rss", "xml", "application/rss+xml", "RSS"),
            ("atom", "atom", "application/atom+xml", "Atom"),
            ("json", "json", "application/feed+json", "JSON Feed"))


@dataclass(frozen=True)
class Enclosure:
    url: str
    length: int
    mime: str
    width: int
    height: int


@dataclass(frozen=True)
class FeedItem:
    """One entry as every feed format shows it, computed once per build however many feeds list it."""

    id: str
    url: str
    title: str
    published: dt.datetime
    summary: str
    html: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    enclosures: tuple[Enclosure, ...] = ()
    image: str | None = None
    duration: float | None = None


@dataclass(frozen=True)
class FeedSpec:
    """One feed, written in all three formats."""

    stem: str
    title: str
    description: str
    home: str
    items: tuple[Issue | Episode, ...]


def _newest_first(items: Iterable[Issue | Episode]) -> tuple[Any, ...]:
    return tuple(newest_first(items))


def _tag_specs(settings: Settings, items: Sequence[Issue | Episode]) -> list[FeedSpec]:
    """One feed per tag page (`model.tag_groups`): spellings that fold alike share it."""
    specs = []
    for group in sorted(tag_groups(items), key=lambda g: g.slug):
        label = clean_text(group.label).strip()
        specs.append(FeedSpec(f"tags/{group.slug}", f"{settings.site_name}：{label}",
                              f"タグ「{label}」の付いた{NEWSLETTER_TITLE}と{VIDEOS_TITLE}", "", group.items))
    return specs


def _links(settings: Settings, stem: str, title: str) -> list[dict[str, str]]:
    return [{"title": f"{title}（{label}）", "url": settings.absolute(f"{stem}.{ext}"), "path": f"{stem}.{ext}",
             "type": mime, "format": fmt} for fmt, ext, mime, label in _FORMATS]


def _tag_uri(settings: Settings, path: str) -> str:
    """An RFC 4151 id from the site's host and an item path that depends only on vol or slug."""
    parts = urlsplit(settings.site_url)
    prefix = parts.path.strip("/")
    specific = f"{prefix}/{path}" if prefix else path
    return f"tag:{parts.hostname or 'localhost'},{TAG_DATE}:{quote(specific, safe='/')}"


def _uri(url: str) -> str:
    """A URL safe for attributes that must be URIs: non-ASCII percent-encoded, existing escapes kept."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def _published(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, PUBLISH_TIME, tzinfo=TOKYO)
