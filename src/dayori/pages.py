"""The site's generated pages: issues, archive, tags, the DX日記 gallery and episodes, the home page's latest.

Builder-independent: each page is HTML for the theme's content area plus a title and table of contents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
from dayori.memo import Memo, recall
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


class _Renderer:
    """Templates with a `url()` helper that makes every link relative to the page being rendered.

    With a `memo` (`make serve`), a page is rendered again only when something it shows changed: each page's
    key names the items it shows (by fingerprint) and what every page shows (settings, clips, the day)."""

    def __init__(self, settings: Settings, content: Content, media: Mapping[str, EpisodeMedia],
                 memo: Memo | None, pictures: Mapping[str, Sizes]) -> None:
        self.env = _environment()
        self.pictures = pictures
        self.settings = settings
        self.content = content
        self.media = media
        self.memo = memo
        self._shared: tuple[object, ...] | None = None

    def page(self, key: Callable[[Memo], tuple[object, ...]], url: str, title: str, template: str, *,
             description: str = "", toc: tuple[Heading, ...] = (), meta: dict[str, Any] | None = None,
             searchable: bool = True, listing: bool = False, section: str = "", **context: Any) -> Page:
        """`key` names what the page's `context` shows (the items, by fingerprint or as listed)."""
        def render() -> Page:
            return Page(url=url, title=title, html=self.fragment(url, template, **context), description=description,
                        toc=toc, meta=meta or {}, searchable=searchable, listing=listing, section=section)
        return recall(self.memo, lambda memo: (template, url, title, description, repr((toc, meta)), searchable,
                                               listing, section, self.shared(memo), *key(memo)), render)

    def fragment(self, url: str, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(
            url=lambda target: relative(target, url), tag_url=tag_url, media=self.media, settings=self.settings,
            preview=self.content.preview, today=self.content.today, **context)

    def shared(self, memo: Memo) -> tuple[object, ...]:
        """What every page may show: the settings, the clips, whether this is a preview, the day, and the
        templates."""
        if self._shared is None:
            self._shared = (memo.fingerprint(self.settings), memo.fingerprint(self.media), self.content.preview,
                            self.content.today, _templates_version())
        return self._shared

    def body(self, item: Issue | Episode) -> tuple[str, Callable[[Memo], str]]:
        """The item's body as its page shows it, and a key for the pictures it shows."""
        shown = {asset.dest: self.pictures[asset.dest] for asset in item.body.assets if asset.dest in self.pictures}
        return responsive.for_pages(item.body.html, item.url, shown), lambda memo: memo.fingerprint(shown)

    def item_title(self, item: Issue | Episode, title: str) -> str:
        """In preview, an unpublished item's title says so: it is what a search hit and a browser tab show."""
        if not self.content.preview or is_published(item, self.content.today):
            return title
        return f"【{'下書き' if item.draft else '公開前'}】{title}"


def _templates_version() -> tuple[tuple[str, int], ...]:
    """The templates' modification times: a maintainer editing one under `make serve` sees it on the next
    save without restarting."""
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
    shown = (content.issues[:1], content.episodes[:3], tuple(_latest(content)))
    latest = recall(memo, lambda memo: ("latest", render.shared(memo), *(_listed(items)(memo) for items in shown)),
                    lambda: render.fragment("", "latest.html", content=content, latest_items=shown[2]))
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
    body, pictures = render.body(issue)
    return render.page(
        lambda memo: (memo.fingerprint(issue), *map(memo.fingerprint, episodes), memo.fingerprint(findings),
                      _as_listed(previous), _as_listed(following), pictures(memo)),
        issue.url, render.item_title(issue, f"第{issue.vol}号 {issue.title}"), "issue.html",
        description=issue.summary, toc=issue.body.toc, section="newsletter/",
        meta={"vol": issue.vol, "date": issue.date.isoformat(), "draft": issue.draft},
        issue=issue, body=body, previous=previous, following=following, episodes=episodes, findings=findings)


def _episode_pages(content: Content, render: _Renderer, findings: Mapping[str, Sequence[Any]]) -> list[Page]:
    return [_episode_page(episode, content, render, findings.get(str(episode.source), ()))
            for episode in content.episodes]


def _episode_page(episode: Episode, content: Content, render: _Renderer, findings: Sequence[Any]) -> Page:
    issue = content.issue(episode.newsletter) if episode.newsletter else None
    clip = render.media.get(episode.slug)
    body, pictures = render.body(episode)
    return render.page(
        lambda memo: (memo.fingerprint(episode), memo.fingerprint(clip), memo.fingerprint(findings),
                      _as_listed(issue), pictures(memo)),
        episode.url, render.item_title(episode, episode.title), "episode.html",
        description=episode.summary, toc=episode.body.toc, section="videos/",
        meta={"date": episode.date.isoformat(), "draft": episode.draft},
        episode=episode, body=body, issue=issue, clip=clip, findings=findings)


def _listed(items: Sequence[Issue | Episode]) -> Callable[[Memo], tuple[object, ...]]:
    return lambda memo: tuple(map(_as_listed, items))


def _as_listed(item: Issue | Episode | None) -> object:
    """What lists, cards and the pager show of an item: its front matter, never its body (a list remade
    at every save of any issue would cost a third of a rebuild at 520 issues)."""
    if item is None:
        return None
    return type(item).__name__, item.url, getattr(item, "vol", None), item.title, item.date, item.summary, \
        item.draft, item.tags


def _archive(content: Content, render: _Renderer) -> Page:
    years = [(year, list(items)) for year, items in groupby(content.issues, key=lambda i: i.date.year)]
    return render.page(_listed(content.issues), "newsletter/", "業務合理化便り バックナンバー", "archive.html",
                       description="業務合理化便りの全号の一覧です。", searchable=False, listing=True,
                       section="newsletter/", years=years, count=len(content.issues))


def _tag_pages(content: Content, settings: Settings, render: _Renderer) -> list[Page]:
    groups = content.tags()
    order = {label: index for index, label in enumerate(by_reading([g.label for g in groups], settings.cache_path))}
    ordered = sorted(groups, key=lambda group: order[group.label])
    pages = [render.page(lambda memo: tuple((g.url, g.label, len(g.items)) for g in ordered), "tags/", "タグ一覧",
                         "tags.html", description="タグから記事と動画を探せます。", searchable=False, listing=True,
                         section="tags/", groups=ordered)]
    pages += [render.page(_listed(group.items), group.url, f"タグ: {group.label}", "tag.html",
                          description=f"「{group.label}」の記事と動画", searchable=False, listing=True,
                          section="tags/", tag=group.label, items=group.items, feeds=f"feeds/tags/{group.slug}")
              for group in groups]
    return pages


def _gallery(content: Content, render: _Renderer) -> Page:
    return render.page(_listed(content.episodes), "videos/", "DX日記", "gallery.html",
                       description="操作のコツを短い動画で紹介する DX日記です。", searchable=False, listing=True,
                       section="videos/", episodes=content.episodes)


def _feeds(settings: Settings, render: _Renderer) -> Page:
    return render.page(lambda memo: (), FEEDS_URL, "フィードの一覧と登録方法", "feeds.html",
                       description="業務合理化便りと DX日記のフィード（RSS・Atom・JSON Feed）の一覧と、Outlook や"
                                   "フィードリーダーへの登録方法です。", feeds=feed_links(settings))


def _latest(content: Content) -> list[Issue | Episode]:
    return newest_first([*content.issues, *content.episodes])[:LATEST_COUNT]
