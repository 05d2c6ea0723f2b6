"""The site's generated pages: issues, archive, tags, the DX日記 gallery and episodes, the home page's latest.

Builder-independent: each page is HTML for the theme's content area plus a title and table of contents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Any

import jinja2

from dayori import responsive
from dayori.attachments import Sizes
from dayori.config import Settings
from dayori.feeds import feed_links
from dayori.formats import duration_label, file_size, japanese_date, reading_minutes
from dayori.memo import Memo, through
from dayori.model import Content, Episode, EpisodeMedia, Heading, Issue, Page, is_published, newest_first, tag_slug
from dayori.reading import by_reading
from dayori.urls import relative

LATEST_COUNT = 6
FEEDS_URL = "feeds/"


@dataclass(frozen=True)
class Site:
    """The generated pages and the home page's fragment that goes where `<!-- dayori:latest -->` stands."""

    pages: tuple[Page, ...]
    latest_html: str


def tag_url(tag: str) -> str:
    return f"tags/{tag_slug(tag)}/"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """Compiled once per process: `mkdocs serve` rebuilds on every save."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("dayori", "templates/site"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["jdate"] = japanese_date
    env.filters["duration"] = duration_label
    env.filters["file_size"] = file_size
    env.filters["reading_minutes"] = reading_minutes
    return env


@dataclass(frozen=True)
class Listed:
    """What lists, cards and the pager show of an item: its front matter, never its body. Templates get this,
    not the item, so a list is made again when what it shows changes and only then (a list remade at every
    save of any issue would cost a third of a rebuild at 520 issues)."""

    url: str
    title: str
    date: dt.date
    summary: str
    draft: bool
    tags: tuple[str, ...]
    vol: int | None
    """None for a video episode."""
    slug: str | None
    """None for an issue."""


def listed(item: Issue | Episode) -> Listed:
    if isinstance(item, Issue):
        return Listed(item.url, item.title, item.date, item.summary, item.draft, item.tags, item.vol, None)
    return Listed(item.url, item.title, item.date, item.summary, item.draft, item.tags, None, item.slug)


@dataclass(frozen=True)
class _Shared:
    """What every page may show: the settings, the clips, whether this is a preview, the day, and the
    templates' modification times (a maintainer editing one under `make serve` sees it on the next save)."""

    settings: Settings
    media: Mapping[str, EpisodeMedia]
    preview: bool
    today: dt.date
    templates: tuple[tuple[str, int], ...]


class _Renderer:
    """Templates with a `url()` helper that makes every link relative to the page being rendered.

    With a `memo` (`make serve`), a page is rendered again only when something it shows changed: its key is
    everything its template is given (`dayori.memo.through`)."""

    def __init__(self, settings: Settings, content: Content, media: Mapping[str, EpisodeMedia],
                 memo: Memo | None, pictures: Mapping[str, Sizes]) -> None:
        self.pictures = pictures
        self.content = content
        self.media = media
        self.memo = memo
        self.shared = _Shared(settings, media, content.preview, content.today, _templates_version())
        self._listed: dict[int, Listed] = {}

    def page(self, url: str, title: str, template: str, *, description: str = "", toc: tuple[Heading, ...] = (),
             meta: dict[str, Any] | None = None, searchable: bool = True, listing: bool = False, section: str = "",
             **context: Any) -> Page:
        empty = Page(url=url, title=title, html="", description=description, toc=toc, meta=meta or {},
                     searchable=searchable, listing=listing, section=section)
        return through(self.memo, _page, self.shared, template, empty, context)

    def fragment(self, url: str, template: str, **context: Any) -> str:
        return through(self.memo, _fragment, self.shared, url, template, context)

    def listed(self, item: Issue | Episode) -> Listed:
        """One view per item and build, so that its fingerprint is made once."""
        known = self._listed.get(id(item))
        if known is None:
            known = self._listed[id(item)] = listed(item)
        return known

    def listed_all(self, items: Sequence[Issue | Episode]) -> list[Listed]:
        return [self.listed(item) for item in items]

    def body(self, item: Issue | Episode) -> str:
        """The item's body as its page shows it, its pictures with their sizes and phone-sized copies."""
        shown = {asset.dest: self.pictures[asset.dest] for asset in item.body.assets if asset.dest in self.pictures}
        return responsive.for_pages(item.body.html, item.url, shown)

    def item_title(self, item: Issue | Episode, title: str) -> str:
        """In preview, an unpublished item's title says so: it is what a search hit and a browser tab show."""
        if not self.content.preview or is_published(item, self.content.today):
            return title
        return f"【{'下書き' if item.draft else '公開前'}】{title}"


def _page(shared: _Shared, template: str, empty: Page, context: Mapping[str, Any]) -> Page:
    return replace(empty, html=_fragment(shared, empty.url, template, context))


def _fragment(shared: _Shared, url: str, template: str, context: Mapping[str, Any]) -> str:
    return _environment().get_template(template).render(
        url=lambda target: relative(target, url), tag_url=tag_url, media=shared.media, settings=shared.settings,
        preview=shared.preview, today=shared.today, **context)


def _templates_version() -> tuple[tuple[str, int], ...]:
    folder = Path(str(resources.files("dayori") / "templates" / "site"))
    return tuple((path.name, path.stat().st_mtime_ns) for path in sorted(folder.glob("*.html")))


def build_pages(content: Content, settings: Settings, media: Mapping[str, EpisodeMedia] | None = None,
                findings: Mapping[str, Sequence[Any]] | None = None, memo: Memo | None = None,
                pictures: Mapping[str, Sizes] | None = None) -> Site:
    """`findings` (the proofreading check's, by source file) are shown on their pages only in a preview;
    `pictures` (by site path) give the bodies' pictures their size and phone-sized copies."""
    render = _Renderer(settings, content, media or {}, memo, pictures or {})
    found = findings if content.preview and findings else {}
    pages = [*_issue_pages(content, render, found), *_episode_pages(content, render, found),
             _archive(content, render), *_tag_pages(content, settings, render), _gallery(content, render),
             _feeds(settings, render)]
    latest = render.fragment("", "latest.html", issue=render.listed(content.issues[0]) if content.issues else None,
                             episodes=render.listed_all(content.episodes[:3]),
                             latest_items=render.listed_all(_latest(content)))
    return Site(tuple(pages), latest)


def _issue_pages(content: Content, render: _Renderer, findings: Mapping[str, Sequence[Any]]) -> list[Page]:
    ordered = sorted(content.issues, key=lambda i: i.vol)
    return [_issue_page(issue, ordered[index - 1] if index > 0 else None,
                        ordered[index + 1] if index + 1 < len(ordered) else None, content, render,
                        findings.get(str(issue.source), ()))
            for index, issue in enumerate(ordered)]


def _issue_page(issue: Issue, previous: Issue | None, following: Issue | None, content: Content,
                render: _Renderer, findings: Sequence[Any]) -> Page:
    episodes = [e for e in (content.episode(slug) for slug in issue.videos) if e is not None]
    return render.page(
        issue.url, render.item_title(issue, f"第{issue.vol}号 {issue.title}"), "issue.html",
        description=issue.summary, toc=issue.body.toc, section="newsletter/",
        meta={"vol": issue.vol, "date": issue.date.isoformat(), "draft": issue.draft},
        issue=issue, body=render.body(issue), previous=previous and render.listed(previous),
        following=following and render.listed(following), episodes=render.listed_all(episodes), findings=findings)


def _episode_pages(content: Content, render: _Renderer, findings: Mapping[str, Sequence[Any]]) -> list[Page]:
    return [_episode_page(episode, content, render, findings.get(str(episode.source), ()))
            for episode in content.episodes]


def _episode_page(episode: Episode, content: Content, render: _Renderer, findings: Sequence[Any]) -> Page:
    issue = content.issue(episode.newsletter) if episode.newsletter else None
    clip = render.media.get(episode.slug)
    return render.page(
        episode.url, render.item_title(episode, episode.title), "episode.html",
        description=episode.summary, toc=episode.body.toc, section="videos/",
        meta={"date": episode.date.isoformat(), "draft": episode.draft},
        episode=episode, body=render.body(episode), issue=issue and render.listed(issue), clip=clip,
        findings=findings)


def _archive(content: Content, render: _Renderer) -> Page:
    years = [(year, render.listed_all(list(items))) for year, items in groupby(content.issues, key=lambda i: i.date.year)]
    return render.page("newsletter/", "業務合理化便り バックナンバー", "archive.html",
                       description="業務合理化便りの全号の一覧です。", searchable=False, listing=True,
                       section="newsletter/", years=years, count=len(content.issues))


def _tag_pages(content: Content, settings: Settings, render: _Renderer) -> list[Page]:
    groups = content.tags()
    order = {label: index for index, label in enumerate(by_reading([g.label for g in groups], settings.cache_path))}
    ordered = sorted(groups, key=lambda group: order[group.label])
    pages = [render.page("tags/", "タグ一覧", "tags.html", description="タグから記事と動画を探せます。", searchable=False, listing=True,
                         section="tags/",
                         groups=[replace(g, items=tuple(render.listed_all(g.items))) for g in ordered])]
    pages += [render.page(group.url, f"タグ: {group.label}", "tag.html",
                          description=f"「{group.label}」の記事と動画", searchable=False, listing=True,
                          section="tags/", tag=group.label, items=render.listed_all(group.items), feeds=f"feeds/tags/{group.slug}")
              for group in groups]
    return pages


def _gallery(content: Content, render: _Renderer) -> Page:
    return render.page("videos/", "DX日記", "gallery.html",
                       description="操作のコツを短い動画で紹介する DX日記です。", searchable=False, listing=True,
                       section="videos/", episodes=render.listed_all(content.episodes))


def _feeds(settings: Settings, render: _Renderer) -> Page:
    return render.page(FEEDS_URL, "フィードの一覧と登録方法", "feeds.html",
                       description="業務合理化便りと DX日記のフィード（RSS・Atom・JSON Feed）の一覧と、Outlook や"
                                   "フィードリーダーへの登録方法です。", feeds=feed_links(settings))


def _latest(content: Content) -> list[Issue | Episode]:
    return newest_first([*content.issues, *content.episodes])[:LATEST_COUNT]
