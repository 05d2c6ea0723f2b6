"""JSON Feed 1.1: the same entries as the XML feeds, with renditions as alternate attachments."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dayori.config import Settings
from dayori.feeds.items import JSON_FEED_VERSION, Enclosure, FeedItem, FeedSpec
from dayori.sanitize import clean_text


def _json_feed(spec: FeedSpec, items: Sequence[FeedItem], home: str, feed_url: str, settings: Settings) -> bytes:
    feed = {
        "version": JSON_FEED_VERSION,
        "title": clean_text(spec.title),
        "home_page_url": home,
        "feed_url": feed_url,
        "description": clean_text(spec.description),
        "language": "ja",
        "authors": [{"name": clean_text(settings.site_name)}],
        "items": [_json_item(item) for item in items],
    }
    text = json.dumps(feed, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _JSON_HTML_ESCAPES:
        text = text.replace(char, escape)
    return (text + "\n").encode()


_JSON_HTML_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"))
"""Escapes for characters that only occur inside JSON strings, so no `<script` text reaches the file even when a
title quotes one, in case something serves or sniffs the file as HTML."""


def _json_item(item: FeedItem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "summary": item.summary,
        **({"content_html": item.html} if item.html else {"content_text": item.summary}),
        "date_published": item.published.isoformat(),
        "date_modified": item.published.isoformat(),
        "language": "ja",
    }
    if item.image:
        data["image"] = item.image
    if item.authors:
        data["authors"] = [{"name": a} for a in item.authors]
    if item.tags:
        data["tags"] = list(item.tags)
    if item.enclosures:
        data["attachments"] = [_json_attachment(e, item.title, item.duration) for e in item.enclosures]
    return data


def _json_attachment(enclosure: Enclosure, title: str, duration: float | None) -> dict[str, Any]:
    """One rendition; every rendition of a clip carries the same title, which is how JSON Feed 1.1 marks
    attachments as alternates of one thing rather than separate files."""
    data: dict[str, Any] = {"url": enclosure.url, "mime_type": enclosure.mime, "title": title,
                            "size_in_bytes": enclosure.length}
    if duration is not None:
        data["duration_in_seconds"] = round(duration, 3)
    return data
