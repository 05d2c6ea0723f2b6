"""The feed stage, checked the way subscribers' readers and browsers see the files: feedparser, lxml and json."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin

import feedparser
import lxml.html
import pytest
from lxml import etree

from conftest import Project
from dayori.config import Settings
from dayori.feeds import (
    FEED_LIMIT,
    build_feeds,
    feed_links,
)
from dayori.model import Body, Content, Episode, EpisodeMedia, Issue, Output, Rendition, tag_slug
from dayori.sanitize import for_feed

SITE = "https://dx.example.go.jp/dayori/"
TODAY = dt.date(2026, 3, 2)
HOSTILE = '<script>alert(1)</script> & "引用" 🎉'
NS = {"atom": "http://www.w3.org/2005/Atom", "media": "http://search.yahoo.com/mrss/",
      "content": "http://purl.org/rss/1.0/modules/content/"}


def body(html: str) -> Body:
    text = re.sub(r"<[^>]+>", "", html)
    return Body(html=html, text=text, toc=())


def issue(vol: int, date: dt.date, title: str | None = None, tags: tuple[str, ...] = ("業務改善",),
          draft: bool = False, html: str | None = None) -> Issue:
    html = html or (f'<p>第{vol}号の本文です。<a href="../{vol - 1}/">前号</a>と'
                    f'<img src="../../media/img/{vol}.png" alt="図">と<a href="#s1">見出し</a></p>')
    return Issue(vol=vol, date=date, title=title or f"業務合理化便り 第{vol}号", summary=f"第{vol}号のまとめ",
                 tags=tags, authors=("山田 花子",), draft=draft, videos=(), source=Path(f"newsletter/2026/{vol}.md"),
                 body=body(html))


def episode(slug: str, date: dt.date, title: str | None = None, tags: tuple[str, ...] = ("動画", "業務改善"),
            draft: bool = False) -> Episode:
    return Episode(slug=slug, date=date, title=title or f"DX日記 {slug}", summary=f"{slug} の動画", tags=tags,
                   draft=draft, clip=Path(f"videos/{date}-{slug}/clip.mp4"), captions=None, poster_at=None,
                   newsletter=None, source=Path(f"videos/{date}-{slug}/index.md"),
                   body=body('<p>動画の説明。<a href="../../newsletter/3/">関連号</a></p>'))


def media_for(slug: str, size: int = 1_234_567) -> EpisodeMedia:
    """What the media stage reports for a clip; the files themselves are not read by the feed stage."""
    return EpisodeMedia(
        slug=slug,
        renditions=(Rendition("720p", f"media/video/{slug}-720.mp4", Path("720.mp4"), 1280, 720, size),
                    Rendition("360p", f"media/video/{slug}-360.mp4", Path("360.mp4"), 640, 360, size // 3)),
        poster=Output(dest=f"media/video/{slug}-poster.jpg", content=b"jpg"),
        still=Output(dest=f"media/video/{slug}-still.jpg", content=b"jpg"),
        captions=None, duration=2.5, width=1280, height=720, has_audio=True)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(root=tmp_path, site_url=SITE)


def sample_content(**changes: Any) -> Content:
    issues = (issue(3, dt.date(2026, 2, 23), title=HOSTILE, tags=("業務改善", "AI")),
              issue(2, dt.date(2026, 2, 16), tags=("ＡＩ",)),
              issue(1, dt.date(2026, 2, 9)))
    episodes = (episode("kickoff", dt.date(2026, 2, 20)), episode("teams-tips", dt.date(2026, 2, 10)))
    return dataclasses.replace(Content(issues=issues, episodes=episodes, today=TODAY), **changes)


def sample_media() -> dict[str, EpisodeMedia]:
    return {"kickoff": media_for("kickoff", 987_654), "teams-tips": media_for("teams-tips", 555_555)}


def build(settings: Settings, content: Content | None = None, **kwargs: Any) -> dict[str, bytes]:
    outputs = build_feeds(content or sample_content(), settings, sample_media(), **kwargs)
    assert len({o.dest for o in outputs}) == len(outputs), "two outputs share a destination"
    assert all(o.content is not None and o.source is None for o in outputs)
    return {o.dest: o.data() for o in outputs}


def xml_feeds(files: dict[str, bytes]) -> dict[str, bytes]:
    return {dest: data for dest, data in files.items() if dest.endswith((".xml", ".atom"))}


def entry_ids(data: bytes) -> list[str]:
    return [e.id for e in feedparser.parse(data).entries]


def test_main_and_tag_feeds_exist_in_three_formats(settings: Settings) -> None:
    files = build(settings)
    for stem in ("newsletter", "videos", "all", f"tags/{tag_slug('業務改善')}", "tags/ai", "tags/動画"):
        for ext in ("xml", "atom", "json"):
            assert f"feeds/{stem}.{ext}" in files
    assert tag_slug("ＡＩ") == tag_slug("AI") == "ai"
    assert tag_slug("Power Automate") == "power-automate"
    assert tag_slug("業務改善") == "業務改善"
    assert re.fullmatch(r"tag-[0-9a-f]{8}", tag_slug("../"))


def test_every_feed_parses_without_bozo_and_has_required_elements(settings: Settings) -> None:
    for dest, data in xml_feeds(build(settings)).items():
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (dest, parsed.get("bozo_exception"))
        assert parsed.version == ("rss20" if dest.endswith(".xml") else "atom10"), dest
        assert parsed.feed.title and parsed.feed.link and parsed.feed.get("language", "ja") == "ja"
        assert parsed.entries, dest
        for entry in parsed.entries:
            assert entry.title and entry.link and entry.id and entry.published and entry.summary
            assert entry.content[0].value
        root = etree.fromstring(data)
        home = {"newsletter": "newsletter/", "videos": "videos/"}.get(dest.split("/")[1].split(".")[0], "")
        assert parsed.feed.link == SITE + home, dest
        if dest.endswith(".xml"):
            channel = root.find("channel")
            assert channel.find("atom:link[@rel='self']", namespaces=NS).get("href") == SITE + quote(dest)
            for name in ("title", "link", "description", "language", "lastBuildDate"):
                assert channel.findtext(name), (dest, name)
            for item in channel.iter("item"):
                assert item.find("guid").get("isPermaLink") == "false"
                assert item.findtext("pubDate") and item.findtext(f"{{{NS['content']}}}encoded")
        else:
            for name in ("id", "title", "updated", "author/atom:name"):
                assert root.findtext(f"atom:{name}", namespaces=NS), (dest, name)
            assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ja"


def test_entries_are_newest_first_and_per_feed(settings: Settings) -> None:
    files = build(settings)
    newsletter = feedparser.parse(files["feeds/newsletter.atom"]).entries
    assert [e.link for e in newsletter] == [SITE + f"newsletter/{v}/" for v in (3, 2, 1)]
    videos = feedparser.parse(files["feeds/videos.xml"]).entries
    assert [e.link for e in videos] == [SITE + "videos/kickoff/", SITE + "videos/teams-tips/"]
    combined = [e.link for e in feedparser.parse(files["feeds/all.xml"]).entries]
    assert combined == [SITE + u for u in ("newsletter/3/", "videos/kickoff/", "newsletter/2/",
                                           "videos/teams-tips/", "newsletter/1/")]
    ai = [e.link for e in feedparser.parse(files["feeds/tags/ai.atom"]).entries]
    assert ai == [SITE + "newsletter/3/", SITE + "newsletter/2/"], "AI and ＡＩ share one feed"


def urls_in(data: bytes) -> list[str]:
    """Every URL a reader would follow: feed-level and entry links, enclosures, media, and links in content."""
    root = etree.fromstring(data)
    urls = [v for el in root.iter() if isinstance(el.tag, str)
            for k, v in el.attrib.items() if k in ("href", "url", "src")]
    urls += [el.text for el in root.iter("link", "docs") if el.text]
    for el in root.iter(f"{{{NS['content']}}}encoded", f"{{{NS['atom']}}}content"):
        fragment = lxml.html.fragment_fromstring(el.text, create_parent="div")
        urls += [v for node in fragment.iter() for k, v in node.attrib.items() if k in ("href", "src", "poster")]
    return urls


def test_every_url_is_absolute(settings: Settings) -> None:
    files = build(settings)
    for dest, data in xml_feeds(files).items():
        urls = urls_in(data)
        assert urls
        for url in urls:
            assert url.startswith(SITE) or url == "http://www.rssboard.org/rss-specification", (dest, url)
    feed = json.loads(files["feeds/all.json"])
    for item in feed["items"]:
        assert item["url"].startswith(SITE) and item.get("image", SITE).startswith(SITE)
        for attachment in item.get("attachments", []):
            assert attachment["url"].startswith(SITE)
        fragment = lxml.html.fragment_fromstring(item["content_html"], create_parent="div")
        assert all(v.startswith(SITE) for n in fragment.iter() for k, v in n.attrib.items() if k in ("href", "src"))
    first = feedparser.parse(files["feeds/newsletter.xml"]).entries[0]
    content = first.content[0].value
    assert f'href="{SITE}newsletter/2/"' in content
    assert f'src="{SITE}media/img/3.png"' in content
    assert f'href="{SITE}newsletter/3/#s1"' in content


def test_builds_are_byte_identical(settings: Settings) -> None:
    assert build(settings) == build(settings)


def test_ids_are_unique_and_survive_title_and_date_edits(settings: Settings) -> None:
    before = build(settings)
    ids = entry_ids(before["feeds/all.atom"])
    assert len(ids) == len(set(ids)) == 5
    assert all(i.startswith("tag:dx.example.go.jp,2026:dayori/") for i in ids)
    assert "tag:dx.example.go.jp,2026:dayori/newsletter/3" in ids
    assert entry_ids(before["feeds/all.xml"]) == ids
    assert [i["id"] for i in json.loads(before["feeds/all.json"])["items"]] == ids

    content = sample_content()
    edited = dataclasses.replace(
        content,
        issues=(dataclasses.replace(content.issues[0], title="改題しました", date=dt.date(2026, 2, 24)),
                *content.issues[1:]),
        episodes=(dataclasses.replace(content.episodes[0], title="新しい題", date=dt.date(2026, 2, 21)),
                  *content.episodes[1:]))
    after = build(settings, edited)
    assert sorted(entry_ids(after["feeds/all.atom"])) == sorted(ids)
    assert entry_ids(after["feeds/newsletter.xml"]) == entry_ids(before["feeds/newsletter.xml"])


def test_hostile_title_and_body_stay_text_and_no_script_reaches_a_feed(settings: Settings) -> None:
    nasty = ('<p onclick="steal()">本文 &amp; <b>太字</b>\x00\x08\x1b</p>'
             '<script>alert(1)</script><SCRIPT src="x.js"></SCRIPT><style>p{color:red}</style>'
             '<iframe src="https://evil.example/"></iframe><a href="javascript:alert(2)">危険</a>'
             '<a href=" JaVa\tScript:alert(3)">危険2</a><img src="x.png" onerror="alert(4)">'
             '<svg><script>alert(5)</script></svg><object data="x"></object><!-- コメント -->残る文')
    content = sample_content()
    hostile = dataclasses.replace(content.issues[0], body=body(nasty), summary=HOSTILE + "\x0b",
                                  tags=("業務改善", '<b>"タグ"</b>'))
    files = build(settings, dataclasses.replace(content, issues=(hostile, *content.issues[1:])))
    for dest, data in files.items():
        if dest.endswith(".xsl"):
            continue
        assert b"<script" not in data.lower(), dest
        assert b"\x00" not in data and b"\x1b" not in data, dest
    for dest in ("feeds/newsletter.xml", "feeds/newsletter.atom", "feeds/all.xml", "feeds/tags/業務改善.atom"):
        parsed = feedparser.parse(files[dest])
        assert not parsed.bozo, dest
        first = parsed.entries[0]
        assert first.title == HOSTILE
        root = etree.fromstring(files[dest])
        html = (root.findtext(".//content:encoded", namespaces=NS) or root.findtext(".//atom:content", namespaces=NS))
        lowered = html.lower()
        for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "<svg", "<object",
                    "alert(", "コメント"):
            assert bad not in lowered, (dest, bad)
        assert "<b>太字</b>" in html and "残る文" in html and "危険" in html
    item = json.loads(files["feeds/newsletter.json"])["items"][0]
    assert item["title"] == HOSTILE and item["summary"] == HOSTILE
    assert '<b>"タグ"</b>' in item["tags"]


def test_json_feed_has_the_required_fields(settings: Settings) -> None:
    files = build(settings)
    for dest in [d for d in files if d.endswith(".json")]:
        feed = json.loads(files[dest])
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert feed["title"] and unquote(feed["feed_url"]) == SITE + dest and feed["language"] == "ja"
        assert isinstance(feed["items"], list) and feed["items"]
        for item in feed["items"]:
            assert item["id"] and (item.get("content_html") or item.get("content_text"))
            assert dt.datetime.fromisoformat(item["date_published"]).utcoffset() == dt.timedelta(hours=9)
    videos = json.loads(files["feeds/videos.json"])["items"]
    assert videos[0]["attachments"][0] == {"url": SITE + "media/video/kickoff-720.mp4", "mime_type": "video/mp4",
                                           "title": "DX日記 kickoff", "size_in_bytes": 987_654,
                                           "duration_in_seconds": 2.5}
    # JSON Feed 1.1: attachments sharing a title are alternate renditions of one clip, not separate files
    assert [a["title"] for a in videos[0]["attachments"]] == ["DX日記 kickoff"] * 2
    assert videos[0]["image"] == SITE + "media/video/kickoff-poster.jpg"


def test_video_entries_carry_the_720p_enclosure_and_media_rss(settings: Settings) -> None:
    files = build(settings)
    for dest in ("feeds/videos.xml", "feeds/videos.atom", "feeds/all.xml", "feeds/tags/動画.atom"):
        parsed = feedparser.parse(files[dest])
        kickoff = next(e for e in parsed.entries if e.link == SITE + "videos/kickoff/")
        assert [(x.href, int(x.length), x.type) for x in kickoff.enclosures] == [
            (SITE + "media/video/kickoff-720.mp4", 987_654, "video/mp4")], dest
        assert kickoff.media_thumbnail[0]["url"] == SITE + "media/video/kickoff-poster.jpg"
        root = etree.fromstring(files[dest])
        contents = root.findall(".//media:content", namespaces=NS)
        main = next(c for c in contents if c.get("url") == SITE + "media/video/kickoff-720.mp4")
        assert main.get("fileSize") == "987654" and main.get("duration") == "2"
        assert main.get("isDefault") == "true" and main.get("height") == "720"
    rss = etree.fromstring(files["feeds/videos.xml"])
    lengths = {e.get("url"): e.get("length") for e in rss.iter("enclosure")}
    assert lengths == {SITE + "media/video/kickoff-720.mp4": "987654",
                       SITE + "media/video/teams-tips-720.mp4": "555555"}


@pytest.mark.parametrize("count", [1, 2])
def test_media_group_only_wraps_several_renditions_of_a_clip(settings: Settings, count: int) -> None:
    """Media RSS reserves media:group for alternatives of one clip; a lone rendition must stand in the item."""
    media = {slug: dataclasses.replace(m, renditions=m.renditions[:count]) for slug, m in sample_media().items()}
    files = {o.dest: o.content for o in build_feeds(sample_content(), settings, media)}
    for dest, entry_path in (("feeds/videos.xml", "channel/item"), ("feeds/videos.atom", "atom:entry")):
        entries = etree.fromstring(files[dest]).findall(entry_path, namespaces=NS)
        assert len(entries) == 2
        for entry in entries:
            groups = entry.findall("media:group", namespaces=NS)
            holder = groups[0] if count > 1 else entry
            assert len(groups) == (1 if count > 1 else 0), dest
            assert len(holder.findall("media:content", namespaces=NS)) == count
            assert len(holder.findall("media:thumbnail", namespaces=NS)) == 1
        kickoff = feedparser.parse(files[dest]).entries[0]
        assert kickoff.media_content[0]["url"] == SITE + "media/video/kickoff-720.mp4"
        assert kickoff.media_thumbnail[0]["url"] == SITE + "media/video/kickoff-poster.jpg"


def test_episode_without_media_still_has_an_entry(settings: Settings) -> None:
    outputs = build_feeds(sample_content(), settings, None)
    parsed = feedparser.parse(next(o.content for o in outputs if o.dest == "feeds/videos.xml"))
    assert not parsed.bozo and len(parsed.entries) == 2 and not parsed.entries[0].enclosures


def test_an_episode_whose_clip_failed_has_an_entry_without_video(settings: Settings) -> None:
    failed = EpisodeMedia(slug="kickoff", renditions=(), poster=None, still=None, captions=None, duration=0.0,
                          width=0, height=0, has_audio=False, error="動画を変換できませんでした")
    outputs = build_feeds(sample_content(), settings, {**sample_media(), "kickoff": failed})
    files = {o.dest: o.data() for o in outputs}
    for dest in ("feeds/videos.xml", "feeds/videos.atom"):
        parsed = feedparser.parse(files[dest])
        assert not parsed.bozo
        assert not parsed.entries[0].enclosures and "media_thumbnail" not in parsed.entries[0]
        assert parsed.entries[1].enclosures
    item = json.loads(files["feeds/videos.json"])["items"][0]
    assert "attachments" not in item and "image" not in item


def test_dates_are_tokyo_time_and_feed_dates_come_from_the_newest_item(settings: Settings) -> None:
    files = build(settings)
    atom = etree.fromstring(files["feeds/all.atom"])
    assert atom.findtext("atom:updated", namespaces=NS) == "2026-02-23T09:00:00+09:00"
    for el in atom.iterfind(".//atom:entry/atom:published", namespaces=NS):
        assert el.text.endswith("T09:00:00+09:00")
    rss = etree.fromstring(files["feeds/newsletter.xml"]).find("channel")
    assert rss.findtext("lastBuildDate") == "Mon, 23 Feb 2026 09:00:00 +0900"
    assert [i.findtext("pubDate") for i in rss.iter("item")][-1] == "Mon, 09 Feb 2026 09:00:00 +0900"
    videos = etree.fromstring(files["feeds/videos.atom"])
    assert videos.findtext("atom:updated", namespaces=NS) == "2026-02-20T09:00:00+09:00"


def test_preview_builds_keep_drafts_and_future_items_out_of_feeds(settings: Settings) -> None:
    content = sample_content()
    preview = dataclasses.replace(
        content, preview=True,
        issues=(issue(5, dt.date(2026, 3, 9), title="来週の号", tags=("未来",)),
                issue(4, dt.date(2026, 2, 27), title="下書きの号", draft=True, tags=("下書き",)),
                *content.issues),
        episodes=(episode("secret", dt.date(2026, 2, 28), title="下書きの動画", draft=True),
                  episode("later", dt.date(2026, 4, 1), title="未来の動画"), *content.episodes))
    files = build(settings, preview)
    for dest, data in files.items():
        text = data.decode()
        for title in ("来週の号", "下書きの号", "下書きの動画", "未来の動画", "secret", "later"):
            assert title not in text, (dest, title)
    assert not any(d.startswith(("feeds/tags/未来.", "feeds/tags/下書き.")) for d in files)
    assert files == build(settings)


def test_feeds_are_capped_at_the_limit(settings: Settings) -> None:
    issues = tuple(issue(v, dt.date(2025, 1, 1) + dt.timedelta(days=7 * v)) for v in range(60, 0, -1))
    content = Content(issues=issues, episodes=(), today=TODAY)
    capped = build(settings, content)
    assert len(feedparser.parse(capped["feeds/newsletter.atom"]).entries) == FEED_LIMIT
    assert len(json.loads(capped["feeds/all.json"])["items"]) == FEED_LIMIT
    everything = build(settings, content, limit=None)
    assert len(feedparser.parse(everything["feeds/newsletter.xml"]).entries) == 60


def test_tag_feeds_have_their_own_cap(settings: Settings) -> None:
    issues = tuple(issue(v, dt.date(2025, 1, 1) + dt.timedelta(days=7 * v)) for v in range(30, 0, -1))
    files = build(settings, Content(issues=issues, episodes=(), today=TODAY), tag_limit=5)
    assert len(feedparser.parse(files["feeds/tags/業務改善.xml"]).entries) == 5
    assert len(feedparser.parse(files["feeds/newsletter.xml"]).entries) == 30


def test_an_empty_site_still_has_valid_feeds(settings: Settings) -> None:
    first = build_feeds(Content(issues=(), episodes=(), today=TODAY), settings)
    files = {o.dest: o.data() for o in first}
    assert sorted(files) == sorted([f"feeds/{s}.{e}" for s in ("newsletter", "videos", "all")
                                    for e in ("xml", "atom", "json")])
    for dest, data in xml_feeds(files).items():
        assert not feedparser.parse(data).bozo, dest
    assert first == build_feeds(Content(issues=(), episodes=(), today=TODAY + dt.timedelta(days=30)), settings)


@pytest.mark.parametrize("link", ["../2/", "../../media/img/a.png", "./x.html", "x/../y", "../../../../../z",
                                  "../", "..", ".", "?q=1&r=2", "#top", "/root/", "//cdn.example/a",
                                  "https://other.example/p", "mailto:dx@example.go.jp", "画像/図1.png",
                                  "a%20b.png", "a:b", ""])
def test_body_links_resolve_like_urljoin(link: str) -> None:
    page = SITE + "newsletter/3/"
    html = for_feed(f'<a href="{link}">x</a>', page)
    href = lxml.html.fragment_fromstring(html).get("href")
    expected = urljoin(page, link)
    if expected.startswith("a:"):
        assert href is None
    else:
        assert unquote(href) == unquote(expected) and href.isascii()


def test_control_characters_are_removed_from_every_field(settings: Settings) -> None:
    content = sample_content()
    dirty = dataclasses.replace(content.issues[1], title="第\x002号\x1f", summary="要約\x0c", tags=("AI\x08",),
                                authors=("\x07山田",))
    files = build(settings, dataclasses.replace(content, issues=(content.issues[0], dirty, content.issues[2])))
    for dest, data in files.items():
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", data), dest
    entry = feedparser.parse(files["feeds/newsletter.atom"]).entries[1]
    assert (entry.title, entry.summary, entry.tags[0].term, entry.author) == ("第2号", "要約", "AI", "山田")


def test_feed_links_point_at_built_feeds(settings: Settings) -> None:
    files = build(settings)
    links = feed_links(settings)
    assert [link["path"] for link in links[:3]] == ["feeds/newsletter.xml", "feeds/newsletter.atom",
                                                   "feeds/newsletter.json"]
    assert {link["type"] for link in links} == {"application/rss+xml", "application/atom+xml",
                                                "application/feed+json"}
    for link in links:
        assert link["url"] == SITE + link["path"]
        assert unquote(link["path"]) in files
        assert re.search("[ぁ-んァ-ン一-龥]", link["title"]), link["title"]
        assert link["url"].isascii()


def test_feeds_need_no_xslt_and_parse_as_utf8_feeds(settings: Settings) -> None:
    """Chromium is removing XSLT: a feed must not ask a browser for a stylesheet; the human page is feeds/."""
    files = build(settings)
    assert not any(dest.endswith(".xsl") for dest in files)
    for dest, data in xml_feeds(files).items():
        assert b"<?xml-stylesheet" not in data, dest
        assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>"), dest
        parsed = feedparser.parse(data)
        assert not parsed.bozo and parsed.encoding.lower() == "utf-8", dest
    titles = [e.title for e in feedparser.parse(files["feeds/newsletter.atom"]).entries]
    assert titles and all(re.search("[ぁ-んァ-ン一-龥]", title) for title in titles)


def test_each_tag_page_links_its_feeds_and_they_list_its_items(project: Project) -> None:
    """Built like `make site`: from a tag page a reader follows RSS, Atom and JSON Feed to files that exist
    and list that tag's issues (feedparser for RSS and Atom, json for JSON Feed)."""
    project.add_issue(1, "2026-02-09", "Teams の使い分け", tags=["Teams", "テレワーク"])
    project.add_issue(2, "2026-02-16", "在宅勤務の準備", tags=["テレワーク"])
    project.build()
    for tag, titles in {"テレワーク": {"在宅勤務の準備", "Teams の使い分け"}, "Teams": {"Teams の使い分け"}}.items():
        page_url = f"tags/{tag_slug(tag)}/"
        page = lxml.html.fromstring((project.site / page_url / "index.html").read_bytes())
        links = page.xpath("//*[contains(@class, 'dayori-subscribe')]//a[@type]")
        assert sorted(link.get("type") for link in links) == ["application/atom+xml", "application/feed+json",
                                                             "application/rss+xml"], tag
        for link in links:
            target = project.site / unquote(posixpath.normpath(posixpath.join(page_url, link.get("href"))))
            assert target.is_file(), (tag, link.get("href"))
            if link.get("type") == "application/feed+json":  # feedparser reads XML feeds only
                feed = json.loads(target.read_bytes())
                assert feed["version"] == "https://jsonfeed.org/version/1.1"
                assert {item["title"] for item in feed["items"]} == titles, tag
                continue
            parsed = feedparser.parse(target.read_bytes())
            assert not parsed.bozo, (tag, link.get("href"), parsed.get("bozo_exception"))
            assert {entry.title for entry in parsed.entries} == titles, (tag, link.get("href"))
