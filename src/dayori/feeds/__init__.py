"""The feed stage: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for 業務合理化便り, DX日記, both together and each tag.

Feeds are read by programs we do not control, so everything that goes in is made safe and absolute here:
bodies are narrowed by `dayori.sanitize.for_feed` with absolute http(s) URLs, strings lose characters XML forbids,
and nothing depends on the clock, so two builds of the same content give the same bytes.

Tag feeds live at `feeds/tags/<slug>.<ext>`, one per tag page (`model.tag_groups`, `model.tag_slug`): tags
with other letters (Japanese) keep their letters, so the file name is Unicode and its URL the percent-encoded
UTF-8 form; the tag's page links them. Tags that fold alike (`AI`, `ａｉ`, `Excel`, `EXCEL`) share one feed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from feedgen.entry import FeedEntry

from dayori.config import Settings
from dayori.feeds.items import (
    FEED_LIMIT,
    NEWSLETTER_TITLE,
    TAG_FEED_LIMIT,
    VIDEOS_TITLE,
    Enclosure,
    FeedItem,
    FeedSpec,
    _links,
    _newest_first,
    _published,
    _tag_specs,
    _tag_uri,
    _uri,
)
from dayori.feeds.rss_atom import _feed_entry, _render
from dayori.memo import Derived, Memo, through
from dayori.model import Content, Episode, EpisodeMedia, Issue, Output, is_published
from dayori.sanitize import clean_text, for_feed

__all__ = ["FEED_LIMIT", "TAG_FEED_LIMIT", "build_feeds", "feed_links"]

T = TypeVar("T")


def build_feeds(content: Content, settings: Settings, media: Mapping[str, EpisodeMedia] | None = None, *,
                limit: int | None = FEED_LIMIT, tag_limit: int | None = TAG_FEED_LIMIT,
                memo: Memo | None = None) -> list[Output]:
    """All feeds; `limit` and `tag_limit` cap entries per main and tag feed (None: all). With a `memo`
    (`make serve`), only the feeds that list a changed item are made again."""
    issues = _newest_first(i for i in content.issues if is_published(i, content.today))
    episodes = _newest_first(e for e in content.episodes if is_published(e, content.today))
    main = [
        FeedSpec("newsletter", NEWSLETTER_TITLE, f"{NEWSLETTER_TITLE}の最新号", "newsletter/", issues),
        FeedSpec("videos", VIDEOS_TITLE, f"{VIDEOS_TITLE}の新着動画", "videos/", episodes),
        FeedSpec("all", f"{settings.site_name}（すべての新着）", f"{NEWSLETTER_TITLE}と{VIDEOS_TITLE}の新着",
                 "", _newest_first([*issues, *episodes])),
    ]
    specs = [(spec, limit) for spec in main] + [(spec, tag_limit)
                                                for spec in _tag_specs(settings, [*issues, *episodes])]
    entries = _EntryCache(settings, media or {})
    outputs: list[Output] = []
    for spec, cap in specs:
        shown = spec.items if cap is None else spec.items[:cap]
        outputs += through(memo, _feed_files, replace(spec, items=shown), entries, settings)
    return outputs


def _feed_files(spec: FeedSpec, entries: _EntryCache, settings: Settings) -> list[Output]:
    """One feed's three files, from the items it shows."""
    return _render(spec, [entries.item(i) for i in spec.items], [entries.feed_entry(i) for i in spec.items], settings)


def feed_links(settings: Settings) -> list[dict[str, str]]:
    """The main feeds for `<link rel="alternate">` and the visible subscribe links, newsletter first."""
    names = (("newsletter", NEWSLETTER_TITLE), ("videos", VIDEOS_TITLE),
             ("all", f"{settings.site_name}（すべての新着）"))
    return [link for stem, title in names for link in _links(settings, f"feeds/{stem}", title)]



class _EntryCache(Derived):
    """Each item's sanitized entry and feedgen entry, made once per build and shared by every feed: made from
    the settings and the clips (and the items asked for)."""

    def __init__(self, settings: Settings, media: Mapping[str, EpisodeMedia]) -> None:
        self._settings = settings
        self._media = media
        self._items: dict[str, FeedItem] = {}
        self._entries: dict[str, FeedEntry] = {}

    def memo_inputs(self) -> tuple[object, ...]:
        return self._settings, self._media

    def item(self, source: Issue | Episode) -> FeedItem:
        return self._once(self._items, source, self._make_item)

    def feed_entry(self, source: Issue | Episode) -> FeedEntry:
        return self._once(self._entries, source, lambda s: _feed_entry(self.item(s)))

    @staticmethod
    def _once(cache: dict[str, T], source: Issue | Episode, make: Callable[[Issue | Episode], T]) -> T:
        if source.key not in cache:
            cache[source.key] = make(source)
        return cache[source.key]

    def _make_item(self, source: Issue | Episode) -> FeedItem:
        settings = self._settings
        page = _uri(settings.absolute(source.url))
        summary = clean_text(source.summary).strip() or _excerpt(clean_text(source.body.text))
        item = FeedItem(
            id=_tag_uri(settings, source.url.strip("/")),
            url=page,
            title=clean_text(source.title).strip() or source.url,
            published=_published(source.date),
            summary=summary,
            html=for_feed(source.body.html, page),
            tags=tuple(dict.fromkeys(t for t in (clean_text(t).strip() for t in source.tags) if t)),
            authors=(),
        )
        if isinstance(source, Issue):
            return replace(item, authors=tuple(a for a in (clean_text(a).strip() for a in source.authors) if a))
        result = self._media.get(source.slug)
        if result is None:
            return item
        poster = result.poster
        return replace(item, enclosures=tuple(_enclosures(result, settings)),
                       image=_uri(settings.absolute(poster.dest)) if poster is not None else None,
                       duration=float(result.duration) if result.renditions else None)


def _enclosures(result: EpisodeMedia, settings: Settings) -> list[Enclosure]:
    """All renditions, the 720p MP4 first (the one RSS's single enclosure carries), then largest first."""
    renditions = [Enclosure(_uri(settings.absolute(r.dest)), int(r.bytes), r.mime, int(r.width), int(r.height))
                  for r in result.renditions]
    main = next((r for r in renditions if r.mime == "video/mp4" and min(r.width, r.height) == 720),
                next((r for r in renditions if r.mime == "video/mp4"), renditions[0] if renditions else None))
    return [] if main is None else [main, *(r for r in renditions if r is not main)]


def _excerpt(text: str, length: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[:length].rstrip() + "…"
