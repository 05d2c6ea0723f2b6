"""Email-ready issues: what a subscriber sees in Outlook, Gmail or on a phone, checked with independent
parsers (Python's `email`, lxml) and against the caniemail support table."""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import zlib
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urljoin

import pytest
from lxml import html as lxml_html

from conftest import body_text
from dayori.config import Settings, settings_from_file
from dayori.email import build_emails, render_message, rules
from dayori.errors import ContentError
from dayori.model import Body, Content, Episode, EpisodeMedia, Issue, Output, Rendition
from dayori.render import Containment, Renderer

SITE = "https://dx.example.go.jp/dayori/"
ROOT = Path(__file__).resolve().parents[1]
CANIEMAIL = ROOT.parent / "shared" / "data" / "caniemail" / "features.json"
TITLE = "会議資料を一枚にまとめるコツ"

MARKDOWN = """\
## はじめに

今週は[資料のコツ](https://example.com/tips)と[古いリンク](http://example.com/old)と[空のリンク]()です。
詳しくは[動画](../../videos/2026-11-20-kaigi/index.md)もどうぞ。

![](diagram.png)

!!! warning "締め切り"
    金曜日までに提出してください。

??? tip "詳しく"
    開くと読めます。

=== "Windows"
    Ctrl を押します。

=== "Mac"
    Command を押します。

- [x] 済み
- [ ] 未着手

| 手順 | URL |
| --- | --- |
| 申請 | https://example.com/a/very/long/path/that/never/breaks/by/itself/anywhere/at/all/in/the/cell |

```python
print("こんにちは")
```
"""
"""Every construct the email stage rewrites, as an editor writes it; rendered by the project's own Markdown
settings (mkdocs.yml), so a changed extension or option reaches these tests."""

def png(width: int, height: int) -> bytes:
    """A real PNG, written by hand: email needs its dimensions and the project has no Pillow."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x20\x40\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture
def project(tmp_path: Path) -> tuple[Content, Settings]:
    settings = replace(settings_from_file(ROOT / "mkdocs.yml"), root=tmp_path)
    assert settings.site_url == SITE
    source = tmp_path / "newsletter" / "2026" / "12.md"
    source.parent.mkdir(parents=True)
    source.write_text(MARKDOWN, encoding="utf-8")
    (source.parent / "diagram.png").write_bytes(png(1200, 800))
    video = tmp_path / "videos" / "2026-11-20-kaigi" / "index.md"
    video.parent.mkdir(parents=True)
    video.write_text("本文\n", encoding="utf-8")
    pages = {source.resolve(): "newsletter/12/", video.resolve(): "videos/kaigi/"}
    rendered = Renderer(settings.markdown_extensions, settings.markdown_configs, Containment.of(settings)).render(
        MARKDOWN, source=source, page_url="newsletter/12/", link_for_file=pages.get)
    assert rendered.broken_links == ()
    issue = Issue(vol=12, date=dt.date(2026, 11, 26), title=TITLE, summary="資料づくりの時間を半分にします。",
                  tags=("会議",), authors=("DXチーム",), draft=False, videos=("kaigi", "missing"), source=source,
                  body=rendered.body)
    episode = Episode(slug="kaigi", date=dt.date(2026, 11, 20), title="会議を30分にした話", summary="短い会議の工夫。",
                      tags=(), draft=False, clip=tmp_path / "clip.mp4", captions=None, poster_at=None, newsletter=12,
                      source=video, body=Body("", "", ()))
    return Content(issues=(issue,), episodes=(episode,), today=dt.date(2026, 11, 30)), settings


def image_url(content: Content) -> str:
    """Where the site publishes diagram.png: content-addressed by the renderer."""
    [asset] = content.issues[0].body.assets
    return SITE + asset.dest


MEDIA = {"kaigi": EpisodeMedia(
    slug="kaigi", renditions=(Rendition("720p", "media/video/kaigi/720p.mp4", Path("720p.mp4"), 1280, 720, 1000),),
    poster=None, still=Output("media/stills/kaigi-1200.jpg", content=png(1200, 675)), captions=None, duration=83.4,
    width=1280, height=720, has_audio=True)}
"""What the media stage reports for the issue's video; the email reads the still's bytes and the length."""


def _linked(project: tuple[Content, Settings]) -> tuple[Content, Settings]:
    """`email.images: linked`: pictures load from the site, as before inline images (tests/test_inline_images.py)."""
    content, settings = project
    return content, replace(settings, email=replace(settings.email, images="linked"))


def _outputs(content: Content, settings: Settings, media: dict[str, EpisodeMedia] | None = MEDIA) -> dict[str, bytes]:
    return {o.dest: o.data() for o in build_emails(content, settings, media).outputs}


def _eml(outputs: dict[str, bytes]):
    return message_from_bytes(outputs["email/12/message.eml"], policy=policy.default)


def test_outputs_for_each_issue_and_the_editors_list(project):
    outputs = _outputs(*project)
    assert set(outputs) == {"email/12/index.html", "email/12/message.txt", "email/12/message.eml", "email/index.html"}
    preview = lxml_html.fromstring(outputs["email/index.html"])
    assert preview.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert set(preview.xpath("//a/@href")) == {"12/index.html", "12/message.txt", "12/message.eml"}
    hosted = lxml_html.fromstring(outputs["email/12/index.html"])
    assert hosted.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert "ブラウザで表示" not in outputs["email/12/index.html"].decode()


def test_eml_parses_to_the_same_text_and_html(project):
    outputs = _outputs(*project)
    message = _eml(outputs)
    assert message["Subject"] == f"【業務合理化便り 第12号】{TITLE}"
    assert "=?utf-8?" in outputs["email/12/message.eml"].split(b"\r\n\r\n")[0].decode("ascii")
    assert message["X-Unsent"] == "1"
    assert message["From"].addresses[0].display_name == "業務合理化便り"
    assert message["From"].addresses[0].addr_spec == "dx-team@example.go.jp"
    assert message["Date"] == "Thu, 26 Nov 2026 09:00:00 +0900"
    assert message["Message-ID"] == "<dayori.vol12@dx.example.go.jp>"
    assert message["List-Unsubscribe-Post"] is None  # one-click needs an address naming the reader (RFC 8058)
    assert message["List-Unsubscribe"].startswith("<https://dx.example.go.jp/dayori/subscribe/#unsubscribe>")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # MIME's canonical text has CRLF line ends (RFC 2046 4.1.1); the .txt beside it has the editors' LF.
    assert text.replace("\r\n", "\n") == outputs["email/12/message.txt"].decode("utf-8")
    assert lxml_html.fromstring(html).xpath("//a[.='ブラウザで表示']/@href") == [f"{SITE}email/12/"]


def test_render_message_is_the_eml_without_the_draft_flag(project):
    content, settings = project
    message = render_message(content.issues[0], content, settings, MEDIA)
    eml = _eml(_outputs(content, settings))
    assert message["X-Unsent"] is None and message["To"] is None
    assert body_text(message, "html") == eml.get_body(("html",)).get_content()
    assert message["Subject"] == eml["Subject"]


def test_builds_are_reproducible(project):
    assert _outputs(*project) == _outputs(*project)


def test_html_layout_for_outlook_gmail_and_phones(project):
    html = _eml(_outputs(*project)).get_body(("html",)).get_content()
    tree = lxml_html.fromstring(html)
    assert tree.get("lang") == "ja"
    assert tree.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    assert "@media (prefers-color-scheme: dark)" in html and "max-width: 620px" in html
    assert "<!--[if mso]>" in html and "v:roundrect" in html and f'href="{SITE}newsletter/12/"' in html
    assert tree.xpath("//table[@class='container']/@style")[0].count("max-width: 600px") == 1
    assert '<table role="presentation" width="600"' in html
    layout_tables = [t for t in tree.iter("table") if "data" not in t.classes]
    assert layout_tables and all(t.get("role") == "presentation" for t in layout_tables)
    preheader = tree.xpath("//div[contains(@class,'preheader')]")[0]
    assert preheader.text_content().startswith("資料づくりの時間を半分にします。") and "display: none" in preheader.get("style")
    assert "2026年11月26日" in tree.text_content() and "第12号" in tree.text_content() and "Vol." not in tree.text_content()
    assert tree.xpath("//a[.='配信停止']/@href") == ["https://dx.example.go.jp/dayori/subscribe/#unsubscribe"]
    assert "デジタル推進室 DXチーム（内線 1234）" in tree.text_content()
    sizes = [int(px) for style in tree.xpath("//@style") for px in re.findall(r"font-size:\s*(\d+)px", style)]
    assert sizes and min(s for s in sizes if s > 1) >= 14
    fonts = tree.xpath("//td[contains(@class,'content')]/@style")[0]
    for family in ("Meiryo", "Yu Gothic", "Hiragino", "sans-serif"):
        assert family in fonts


def test_body_is_rewritten_for_email(project):
    html = _eml(_outputs(*_linked(project))).get_body(("html",)).get_content()
    tree = lxml_html.fromstring(html)
    content = tree.xpath("//td[contains(@class,'content')]")[0]
    [image] = content.xpath(".//img")
    assert (image.get("width"), image.get("height")) == ("552", "368")
    assert image.get("src") == image_url(project[0])
    titles = [td.text_content() for td in content.xpath(".//td[contains(@class,'box-title')]")]
    assert titles == ["締め切り", "詳しく", "Windows", "Mac"]
    assert "Command を押します。" in content.text_content()
    assert not content.xpath(".//*[contains(@class,'admonition') or contains(@class,'tabbed')]")
    assert not content.xpath(".//details|.//input|.//label") and not content.xpath(".//a[@class='headerlink']")
    assert "☑ 済み" in content.text_content() and "☐ 未着手" in content.text_content()
    [table] = content.xpath(".//table[contains(@class,'data')]")
    assert table.get("border") == "1" and "border: 1px solid" in table.xpath(".//td")[0].get("style")
    assert "overflow-x: auto" in table.getparent().get("style")
    assert "white-space: pre-wrap" in content.xpath(".//pre")[0].get("style")
    assert "word-break" in content.get("style")


def test_every_link_and_image_is_absolute(project):
    outputs = _outputs(*_linked(project))
    html = _eml(outputs).get_body(("html",)).get_content()
    urls = lxml_html.fromstring(html).xpath("//@href|//@src")
    assert urls and all(u.startswith(("https://", "http://example.com/old", "mailto:")) for u in urls), urls
    assert f'{SITE}videos/kaigi/' in lxml_html.fromstring(html).xpath("//a/@href")


def test_hosted_copy_loads_everything_from_the_host_that_serves_it(project):
    """Relative into the site, so a mirror on a closed network shows its images; resolved, the same URLs."""
    outputs = _outputs(*_linked(project))
    hosted = lxml_html.fromstring(outputs["email/12/index.html"]).xpath("//@src")
    assert hosted and not any(u.startswith(("http:", "https:", "//")) for u in hosted), hosted
    mailed = lxml_html.fromstring(_eml(outputs).get_body(("html",)).get_content()).xpath("//@src")
    assert [urljoin(f"{SITE}email/12/", u) for u in hosted] == mailed


def test_video_cards_with_stills_and_without(project):
    content, settings = _linked(project)
    html = _eml(_outputs(content, settings)).get_body(("html",)).get_content()
    tree = lxml_html.fromstring(html)
    [still] = tree.xpath("//img[contains(@class,'still')]")
    assert still.get("src") == f"{SITE}media/stills/kaigi-1200.jpg"
    assert (still.get("width"), still.get("height")) == ("600", "338") and still.get("alt")
    cards = tree.xpath("//table[contains(@class,'video-card')]")
    assert len(cards) == 1
    assert "▶ 再生 1:23" in cards[0].text_content() and "会議を30分にした話" in cards[0].text_content()
    assert not re.search(r"background(-image)?:\s*url", html)
    bare = lxml_html.fromstring(_eml(_outputs(content, settings, None)).get_body(("html",)).get_content())
    assert bare.xpath("//table[contains(@class,'video-card')]") and not bare.xpath("//img[contains(@class,'still')]")


def test_plain_text_reads_alone_with_numbered_links(project):
    text = _outputs(*project)["email/12/message.txt"].decode("utf-8")
    assert not re.search(r"<[a-zA-Z/!]", text)
    assert TITLE in text and "資料づくりの時間を半分にします。" in text and "2026年11月26日" in text
    assert "資料のコツ[1]" in text and "[1] https://example.com/tips" in text
    assert "動画[3]" in text and f"[3] {SITE}videos/kaigi/" in text
    assert "【締め切り】" in text and "☑ 済み" in text and "申請 | https://example.com/a/" in text
    assert f"ブラウザで表示: {SITE}email/12/" in text and f"サイトで読む: {SITE}newsletter/12/" in text
    assert "配信停止: https://dx.example.go.jp/dayori/subscribe/#unsubscribe" in text
    assert "会議を30分にした話（1:23）" in text


def test_editor_warnings_name_the_file_and_line(project):
    content, settings = project
    report = build_emails(content, settings, MEDIA)
    source = content.issues[0].source
    joined = "\n".join(report.warnings)
    assert all(w.startswith(str(source)) for w in report.warnings)
    assert f"{source}:6: メール: 画像 diagram.png に代替テキストがありません" in joined
    assert f"{source}:3: メール: http://example.com/old は http: です" in joined
    assert f"{source}:3: メール: リンク「空のリンク」の行き先が空です" in joined
    assert f"{source}:11: メール: 折りたたみ" in joined and f"{source}:14: メール: タブ" in joined
    # Boxes, ☑/☐, tables and code read as intended in mail: those five are all the editor has to look at.
    assert len(report.warnings) == 5, joined
    assert report.problems == []


def test_strict_turns_warnings_into_problems(project):
    content, settings = project
    report = build_emails(content, replace(settings, strict=True), MEDIA)
    assert report.warnings == [] and len(report.problems) >= 5
    with pytest.raises(ContentError) as raised:
        report.raise_if_any()
    assert "12.md" in raised.value.report()


def test_size_stays_under_gmail_clipping_and_large_issues_are_flagged(project):
    content, settings = project
    outputs = _outputs(content, settings)
    assert len(_eml(outputs).get_body(("html",)).get_content().encode("utf-8")) < 102_000
    issue = content.issues[0]
    long_body = replace(issue.body, html=issue.body.html + "<p>長い本文です。</p>" * 6000)
    big = replace(content, issues=(replace(issue, body=long_body),))
    warnings = build_emails(big, settings, MEDIA).warnings
    assert any("Gmail" in w and "KB" in w for w in warnings)


def _declarations(html: str) -> list[tuple[str, str]]:
    tree = lxml_html.fromstring(html)
    found = []
    for style in tree.iter("style"):
        found += rules.declarations(rules.outside_media(style.text or ""))
    for value in tree.xpath("//@style"):
        found += rules.declarations(value)
    return found


def _slugs(prop: str, value: str) -> list[str]:
    """caniemail feature slugs a declaration falls under."""
    base = re.sub(r"-(top|right|bottom|left|x|y)$", "", prop)
    slugs = [f"css-{prop}", f"css-{base}"]
    if prop == "display":
        slugs.append(f"css-display-{value.split()[0]}")
    return slugs


@pytest.fixture
def caniemail() -> dict:
    if not CANIEMAIL.exists():
        pytest.skip(f"caniemail table not present at {CANIEMAIL}")
    return json.loads(CANIEMAIL.read_text(encoding="utf-8"))


def _outlook(features: dict, slug: str) -> list[str]:
    windows = features[slug]["stats"].get("outlook", {}).get("windows", {})
    return [windows.get(version, "u") for version in rules.OUTLOOK_WINDOWS]


def test_rules_agree_with_caniemail(caniemail):
    for rule in rules.FORBIDDEN_CSS + rules.FORBIDDEN_ELEMENTS:
        if rule.slug is None:
            continue
        assert rule.slug in caniemail, rule
        assert all(v.startswith("n") for v in _outlook(caniemail, rule.slug)), rule
    for rule in rules.ENHANCEMENTS:
        assert not all(v.startswith("y") for v in _outlook(caniemail, rule.slug)), rule


def test_layout_uses_nothing_outlook_for_windows_cannot_render(project, caniemail):
    html = _eml(_outputs(*project)).get_body(("html",)).get_content()
    enhancements = {rule.property for rule in rules.ENHANCEMENTS}
    for prop, value in _declarations(html):
        unsupported = [slug for slug in _slugs(prop, value) if slug in caniemail
                       and any(v.startswith("n") for v in _outlook(caniemail, slug))]
        assert not unsupported or prop in enhancements, (prop, value, unsupported)
        assert not any(rule.matches(prop, value) for rule in rules.FORBIDDEN_CSS), (prop, value)
    tree = lxml_html.fromstring(html)
    for slug, tags in {"html-video": "video", "html-svg": "svg", "html-form": "form", "html-audio": "audio",
                       "html-picture": "picture", "html-object": "object", "html-semantics": "details"}.items():
        assert all(v.startswith("n") for v in _outlook(caniemail, slug))
        assert not tree.xpath(f"//{tags}")
    assert not tree.xpath("//script|//link[@rel='stylesheet']|//iframe|//*[@srcset]")
    assert rules.violations(html) == []


def test_editor_html_with_unsupported_markup_is_reported(project):
    content, settings = project
    issue = content.issues[0]
    body = replace(issue.body, html='<div style="display:flex"><p>横並び</p></div><video src="../../media/a.mp4"></video>')
    report = build_emails(replace(content, issues=(replace(issue, body=body),)), settings)
    joined = "\n".join(report.warnings)
    assert "display: flex" in joined.replace("display:flex", "display: flex") and "css-display-flex" in joined
    assert "<video> はメールで表示できない" in joined
    html = _outputs(replace(content, issues=(replace(issue, body=body),)), settings)["email/12/index.html"].decode()
    assert "<video" not in html and "サイトで再生する" in html
