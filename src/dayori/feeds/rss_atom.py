"""RSS 2.0 and Atom 1.0 with feedgen, and Media RSS for the video renditions. No XSLT stylesheet: browsers are
dropping XSLT, and the human page about the feeds is `feeds/` on the site."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.ext.media import MediaEntryExtension, MediaExtension
from feedgen.feed import FeedGenerator

from dayori.config import Settings
from dayori.feeds.items import _EMPTY_FEED_DATE, _FORMATS, Enclosure, FeedItem, FeedSpec, _tag_uri, _uri
from dayori.feeds.json_feed import _json_feed
from dayori.model import Output
from dayori.sanitize import clean_text


class _FeedEntry(FeedEntry):  # type: ignore[misc]  # feedgen ships no types
    """feedgen 1.0's Atom entries drop rel/type/length from their links (a shadowed loop variable), which turns
    the video enclosure into a second alternate link; this puts them back."""

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        for element, data in zip(entry.findall("link"), self.link() or [], strict=False):
            for name in ("rel", "type", "hreflang", "title", "length"):
                if data.get(name):
                    element.set(name, data[name])
        return entry


def _feed_entry(item: FeedItem) -> FeedEntry:
    entry = _FeedEntry()
    entry.register_extension("media", MediaEntryExtension)
    entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    entry.title(item.title)
    entry.guid(item.id, permalink=False)
    entry.link(href=item.url, rel="alternate", type="text/html")
    entry.published(item.published)
    entry.updated(item.published)
    # RSS descriptions are HTML: as type="html" the summary's text reaches readers of both formats as text.
    entry.summary(html.escape(item.summary, quote=False), type="html")
    if item.html:
        entry.content(item.html, type="html")
    for author in item.authors:
        entry.author(name=author)
    if item.authors:
        entry.dc.dc_creator(list(item.authors))
    if item.tags:
        entry.category([{"term": tag} for tag in item.tags])
    group = _media_group(item)
    if item.enclosures:
        main = item.enclosures[0]
        entry.enclosure(main.url, str(main.length), main.mime)
        duration = str(max(1, round(item.duration))) if item.duration is not None else None
        entry.media.content([_media_content(e, duration, e is main) for e in item.enclosures], group=group)
    if item.image:
        entry.media.thumbnail(url=item.image, group=group)
    return entry


def _media_group(item: FeedItem) -> str | None:
    """Media RSS allows `media:group` only around several renditions of one clip (the W3C validator's
    MediaGroupWithoutAlternatives error otherwise); feedgen puts media with no group directly in the item."""
    return "renditions" if len(item.enclosures) > 1 else None


def _media_content(enclosure: Enclosure, duration: str | None, default: bool) -> dict[str, str]:
    data = {"url": enclosure.url, "fileSize": str(enclosure.length), "type": enclosure.mime, "medium": "video",
            "isDefault": "true" if default else "false", "expression": "full",
            "width": str(enclosure.width), "height": str(enclosure.height)}
    if duration:
        data["duration"] = duration
    return data


def _render(spec: FeedSpec, items: Sequence[FeedItem], entries: Sequence[FeedEntry],
            settings: Settings) -> list[Output]:
    newest = items[0].published if items else _EMPTY_FEED_DATE
    home = _uri(settings.absolute(spec.home))
    dest = f"feeds/{spec.stem}"
    generator = FeedGenerator()
    generator.register_extension("media", MediaExtension, MediaEntryExtension)
    generator.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    generator.id(_tag_uri(settings, dest))
    generator.title(clean_text(spec.title))
    generator.subtitle(clean_text(spec.description))
    generator.author(name=clean_text(settings.site_name))
    generator.language("ja")
    generator.generator("Dayori")
    generator.updated(newest)
    generator.lastBuildDate(newest)
    for entry in entries:
        generator.add_entry(entry, order="append")
    outputs = []
    for fmt, ext, mime, _label in _FORMATS[:2]:
        # feedgen takes RSS's channel link from the last link given, so the home page goes last
        generator.link([{"href": _uri(settings.absolute(f"{dest}.{ext}")), "rel": "self", "type": mime},
                        {"href": home, "rel": "alternate", "type": "text/html"}], replace=True)
        xml = generator.rss_str() if fmt == "rss" else generator.atom_str()
        outputs.append(Output(dest=f"{dest}.{ext}", content=xml))
    outputs.append(Output(dest=f"{dest}.json",
                          content=_json_feed(spec, items, home, _uri(settings.absolute(f"{dest}.json")),
                                             settings)))
    return outputs

