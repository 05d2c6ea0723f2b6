"""One issue as an email: the HTML part, the hosted copy, the plain-text part and the MIME message.

The Jinja environment and the CSS inliner are built once per process: a build renders hundreds of issues.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import css_inline
import jinja2
from markupsafe import Markup

from dayori import csp
from dayori.config import TOKYO, Settings
from dayori.email import mime, rules
from dayori.email.frame import Frame
from dayori.email.images import image_size, image_size_of
from dayori.email.inline import InlineImage, for_email, inline_image, inline_images, inline_part, quoted_values
from dayori.email.text import RULE, Footnotes, TextWriter, tidy
from dayori.email.transform import Notice, email_body
from dayori.formats import duration_label, japanese_date
from dayori.model import Content, EpisodeMedia, Issue, Output
from dayori.pictures import PICTURE_SUFFIXES, NotAPicture, publishable
from dayori.urls import relative

LAYOUT_WIDTH = 600
STILL_RATIO = 9 / 16
SEND_HOUR = dt.time(9, 0)
_BROWSER_LINK_START = "<!--dayori:browser-->"
_BROWSER_LINK_END = "<!--/dayori:browser-->"
_PREHEADER_FILLER = Markup("&#847;&zwnj;&nbsp;" * 40)


def hosted_dest(vol: int) -> str:
    """Where the hosted copy lives on the site; the email's 「ブラウザで表示」 link points here."""
    return f"email/{vol}/index.html"


def subject_of(issue: Issue, settings: Settings) -> str:
    return f"【{settings.site_name} 第{issue.vol}号】{issue.title}"


def site_host(settings: Settings) -> str:
    return _host(settings.site_url)


@lru_cache(maxsize=16)
def _host(url: str) -> str:
    return urlsplit(url).hostname or "localhost"


def message_id(vol: int, settings: Settings, recipient: str | None = None) -> str:
    """Deterministic, so a rebuilt .eml is identical and a resent message is recognisable as the same one."""
    local = f"dayori.vol{vol}"
    if recipient is not None:
        local += "." + hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:20]
    return f"<{local}@{site_host(settings)}>"


def send_date(issue: Issue) -> dt.datetime:
    """The issue's morning in Tokyo, not the build time, so that builds are reproducible."""
    return dt.datetime.combine(issue.date, SEND_HOUR, tzinfo=TOKYO)


def unsubscribe_headers(settings: Settings) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe of the message as it is before it has a reader (the .eml for Outlook): the page and
    the team mailbox. Never RFC 8058 one-click, which needs an address that names the reader and accepts a POST;
    `send` gives each reader their own header (dayori.delivery.unsubscribe)."""
    url = settings.email.unsubscribe_url
    mailbox = unsubscribe_mailbox(settings)
    targets = [url]
    if not url.startswith("mailto:") and mailbox:
        targets.append(f"mailto:{mailbox}?subject=unsubscribe")
    return {"List-Unsubscribe": ", ".join(f"<{target}>" for target in targets)}


def unsubscribe_mailbox(settings: Settings) -> str:
    """The team mailbox that takes unsubscribe requests: its own setting, else Reply-To, else the sender."""
    email = settings.email
    for value in (email.unsubscribe_mailbox, email.reply_to, email.sender):
        address = _parsed_address(value)[1]
        if address:
            return address
    return ""


@dataclass(frozen=True)
class RenderedEmail:
    """Everything one issue's email consists of; `notices` are for the editor, with a text to find the line."""

    issue: Issue
    subject: str
    html: str
    hosted_html: str
    text: str
    notices: tuple[Notice, ...] = ()
    images: tuple[InlineImage, ...] = ()
    """Pictures carried in the message; `html` refers to them as cid: (the hosted copy keeps site URLs)."""


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("dayori", "templates/email"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    """`@media` rules cannot be inlined; keep_at_rules leaves exactly them in a `<style>` block."""
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@lru_cache(maxsize=1)
def _frame() -> Frame:
    return Frame(_environment().get_template("issue.html"), _inliner())


@dataclass
class EmailRenderer:
    """Renders issues; remembers image sizes so that an image shared by many issues is read once."""

    settings: Settings
    pictures: Mapping[Path, Path] = field(default_factory=dict)
    """Each body picture's published copy (`dayori.attachments`: vetted by the gate, without metadata); a
    picture missing here is read from the editor's file and stripped on the spot."""
    sizes: dict[Path, tuple[int, int] | None] = field(default_factory=dict)
    inlined: dict[Path, InlineImage | None] = field(default_factory=dict)
    fitted: dict[Path, tuple[bytes, str] | None] = field(default_factory=dict)
    """Each published copy made fit for a message (`for_email`), once: copies are named by their content,
    and one is often the copy of several editors' files (the same picture in many issues)."""
    _last_draft: tuple[object, tuple[bytes, bytes]] | None = field(default=None, init=False, repr=False, compare=False)

    def render(self, issue: Issue, content: Content, media: Mapping[str, EpisodeMedia] | None = None) -> RenderedEmail:
        settings = self.settings
        page_url = settings.absolute(issue.url)
        body = email_body(issue.body.html, page_url, self._asset_sizes(issue), self._asset_names(issue))
        videos = self._videos(issue, content, media)
        subject = subject_of(issue, settings)
        browser_url = settings.absolute(hosted_dest(issue.vol).removesuffix("index.html"))
        values = {
            "subject": subject, "site_name": settings.site_name, "vol": issue.vol,
            "date_label": japanese_date(issue.date), "title": issue.title, "summary": issue.summary,
            "preheader": issue.summary or issue.title, "filler": _PREHEADER_FILLER,
            "body_html": Markup(body.html), "videos": videos, "issue_url": page_url,
            "footer": settings.email.footer, "unsubscribe_url": settings.email.unsubscribe_url,
            "browser_url": browser_url,
        }
        html = _frame().inlined(values)
        hosted = _hosted_copy(html, settings, issue.vol)
        text = self._text(issue, body.root, videos, page_url, browser_url)
        notices = list(body.notices)
        notices += [(violation, None) for violation in rules.violations_in(body.root)]
        size = len(html.encode("utf-8"))
        if size > settings.email.max_bytes:
            notices.append((f"メールの HTML が {size / 1000:.0f} KB あります。{settings.email.max_bytes / 1000:.0f} KB を"
                            "超えると Gmail では途中で切れて「メッセージの一部が表示されていません」となります。"
                            "本文や表を短くしてください", None))
        images: tuple[InlineImage, ...] = ()
        if settings.email.images == "inline":
            html, images, missing = inline_images(html, self._image_sources(issue, content, media))
            names = self._asset_names(issue)
            notices += [(f"画像 {names.get(url, url.rsplit('/', 1)[-1])} はメールに含められない形式のため、サイトから"
                         "読み込みます（Outlook では「画像をダウンロード」を押すまで表示されません）。PNG か JPEG に"
                         "してください", names.get(url)) for url in missing]
        rendered = RenderedEmail(issue, subject, html, hosted, text, (), images)
        problem = oversize(self, rendered)
        if problem is not None:
            notices.append((problem, None))
        return RenderedEmail(issue, subject, html, hosted, text, tuple(dict.fromkeys(notices)), images)

    def _image_sources(self, issue: Issue, content: Content,
                       media: Mapping[str, Any] | None) -> dict[str, Callable[[], InlineImage | None]]:
        """Absolute image URL -> how to make its part, for the body's images and the videos' stills."""
        domain = site_host(self.settings)
        sources: dict[str, Callable[[], InlineImage | None]] = {}
        for asset in issue.body.assets:
            sources[self.settings.absolute(asset.dest)] = functools.partial(self._inline, asset.source, domain)
        for slug in issue.videos:
            still = getattr((media or {}).get(slug), "still", None)
            if still is None or content.episode(slug) is None:
                continue
            if getattr(still, "content", None):
                sources[self.settings.absolute(still.dest)] = functools.partial(inline_image, still.content,
                                                                                "still.jpg", domain)
            elif getattr(still, "source", None) is not None:
                sources[self.settings.absolute(still.dest)] = functools.partial(self._inline, still.source, domain)
        return sources

    def _inline(self, source: Path, domain: str) -> InlineImage | None:
        if source not in self.inlined:
            copy = self.pictures.get(source)
            if copy is not None:
                if copy not in self.fitted:
                    self.fitted[copy] = for_email(copy)
                self.inlined[source] = inline_part(self.fitted[copy], source.name, domain)
            else:
                try:
                    data = _stripped(source)
                except (OSError, NotAPicture):
                    self.inlined[source] = None
                else:
                    self.inlined[source] = inline_image(data, source.name, domain)
        return self.inlined[source]

    def message(self, rendered: RenderedEmail) -> EmailMessage:
        """The MIME message as a reader receives it, without a recipient (delivery adds To per address)."""
        return message_from_bytes(self.mime(rendered), policy=policy.default)

    def mime(self, rendered: RenderedEmail, extra: Mapping[str, str] | None = None) -> bytes:
        """The message's bytes as the standard library writes them (CRLF, base64 parts, RFC 2047 headers,
        RFC 2231 file names), with boundaries made from the content so that a rebuilt message is identical.

        They are the bytes of `mime_message`, put together here from headers the library folds and parts
        encoded in one go: its generator took most of the email stage's time. The message last written is
        kept, so that measuring it (`oversize`) and writing the draft cost one message, not two."""
        if extra and not _plain_extra(extra):
            return self.mime_message(rendered, extra).as_bytes(policy=mime.SMTP)
        before, after = self._draft(rendered)
        return before + b"".join(mime.shared_header(name, value) for name, value in (extra or {}).items()) + after

    def _draft(self, rendered: RenderedEmail) -> tuple[bytes, bytes]:
        """The message's bytes before and after the place of extra headers."""
        key = (self.settings, rendered.issue.vol, rendered.issue.date, rendered.subject, rendered.text, rendered.html,
               rendered.images)
        if self._last_draft is not None and self._last_draft[0] == key:
            return self._last_draft[1]
        settings = self.settings
        head = [mime.subject_header(rendered.subject), mime.shared_header("From", _address(settings.email.sender))]
        if settings.email.reply_to:
            head.append(mime.shared_header("Reply-To", _address(settings.email.reply_to)))
        head += [mime.date_header(send_date(rendered.issue)),
                 mime.message_id_header(message_id(rendered.issue.vol, settings)),
                 mime.shared_header("List-Id", f"<newsletter.{site_host(settings)}>"),
                 *(mime.shared_header(name, value) for name, value in unsubscribe_headers(settings).items())]
        boundary, related = _boundaries(rendered)
        html = mime.text_part_head("html") + b"\r\n" + mime.text_body(rendered.html)
        if rendered.images:
            images = [mime.image_part_head(image.subtype, f"<{image.cid}>", image.filename) + b"\r\n"
                      + mime.base64_body(image.data) for image in rendered.images]
            html = mime.multipart_head("related", related) + b"\r\n" + mime.multipart(related, [html, *images])
        text = mime.text_part_head("plain") + b"\r\n" + mime.text_body(rendered.text)
        tail = [mime.shared_header("MIME-Version", "1.0"), mime.multipart_head("alternative", boundary),
                mime.shared_header("Content-Language", "ja"), b"\r\n", mime.multipart(boundary, [text, html])]
        draft = b"".join(head), b"".join(tail)
        self._last_draft = key, draft
        return draft

    def mime_message(self, rendered: RenderedEmail, extra: Mapping[str, str] | None = None) -> EmailMessage:
        settings = self.settings
        message = EmailMessage(policy=mime.SMTP)
        message["Subject"] = rendered.subject
        message["From"] = _address(settings.email.sender)
        if settings.email.reply_to:
            message["Reply-To"] = _address(settings.email.reply_to)
        headers = {"Date": format_datetime(send_date(rendered.issue)),
                   "Message-ID": message_id(rendered.issue.vol, settings),
                   "Content-Language": "ja", "List-Id": f"<newsletter.{site_host(settings)}>",
                   **unsubscribe_headers(settings), **(extra or {})}
        for name, value in headers.items():
            if name != "Content-Language":  # set_content replaces every Content- header; set below
                message[name] = value
        message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="base64")
        message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="base64")
        message["Content-Language"] = headers["Content-Language"]
        boundary, related = _boundaries(rendered)
        message.set_boundary(boundary)
        if rendered.images:
            html_part = list(message.iter_parts())[1]
            for image in rendered.images:
                html_part.add_related(image.data, maintype="image", subtype=image.subtype, cid=f"<{image.cid}>",
                                      filename=image.filename, disposition="inline")
            html_part.set_boundary(related)
        for part in message.walk():
            if part is not message:
                del part["MIME-Version"]  # the library gives parts made by add_alternative their own
        return message

    def _asset_sizes(self, issue: Issue) -> dict[str, tuple[int, int]]:
        result = {}
        for asset in issue.body.assets:
            if asset.source not in self.sizes:  # the copy is upright: its size is the one shown
                self.sizes[asset.source] = image_size(self.pictures.get(asset.source, asset.source))
            size = self.sizes[asset.source]
            if size is not None:
                result[self.settings.absolute(asset.dest)] = size
        return result

    def _asset_names(self, issue: Issue) -> dict[str, str]:
        return {self.settings.absolute(asset.dest): asset.source.name for asset in issue.body.assets}

    def _videos(self, issue: Issue, content: Content, media: Mapping[str, EpisodeMedia] | None) -> list[dict[str, Any]]:
        cards = []
        for slug in issue.videos:
            episode = content.episode(slug)
            if episode is None:
                continue
            result = media.get(slug) if media is not None else None
            still = result.still if result is not None else None
            duration = result.duration if result is not None else None
            card: dict[str, Any] = {"title": episode.title, "summary": episode.summary,
                                    "url": self.settings.absolute(episode.url),
                                    "duration": duration_label(duration) if duration else "",
                                    "still_url": None, "still_width": LAYOUT_WIDTH, "still_height": 0}
            if still is not None:
                card["still_url"] = self.settings.absolute(still.dest)
                card["still_height"] = self._still_height(still)
            cards.append(card)
        return cards

    def _still_height(self, still: Output) -> int:
        size = None
        if still.content:
            size = image_size_of(still.content)
        elif still.source is not None:
            if still.source not in self.sizes:
                self.sizes[still.source] = image_size(still.source)
            size = self.sizes[still.source]
        if size is None:
            return round(LAYOUT_WIDTH * STILL_RATIO)
        return max(1, round(size[1] * LAYOUT_WIDTH / size[0]))

    def _text(self, issue: Issue, root: Any, videos: list[dict[str, Any]], page_url: str, browser_url: str) -> str:
        settings = self.settings
        footnotes = Footnotes()
        writer = TextWriter(page_url, footnotes)
        parts = [f"{settings.site_name} 第{issue.vol}号　{japanese_date(issue.date)}",
                 f"ブラウザで表示: {browser_url}", RULE, issue.title, ""]
        if issue.summary:
            parts += [issue.summary, ""]
        parts += [writer.body(root), ""]
        if videos:
            parts += ["■ DX日記の動画", ""]
            for video in videos:
                duration = f"（{video['duration']}）" if video["duration"] else ""
                parts.append(f"・{video['title']}{duration}[{footnotes.number(video['url'])}]")
            parts.append("")
        parts += [f"サイトで読む: {page_url}", "", RULE, settings.email.footer,
                  f"配信停止: {settings.email.unsubscribe_url}"]
        if footnotes.urls:
            parts += ["", "リンク", footnotes.render()]
        return tidy("\n".join(parts)) + "\n"


def oversize(renderer: EmailRenderer, rendered: RenderedEmail) -> str | None:
    """Why the whole message (pictures included) is too big for `email.max_message_bytes`, naming the issue.

    Without pictures the message is text and is estimated instead of built, to keep the build fast."""
    limit = renderer.settings.email.max_message_bytes
    if rendered.images:
        size = len(renderer.mime(rendered))
    else:
        size = round(1.4 * len((rendered.text + rendered.html).encode("utf-8"))) + 2000
        if size > limit:
            size = len(renderer.mime(rendered))
    return _too_big(rendered.issue.vol, size, limit)


def message_problem(message: EmailMessage, vol: int, settings: Settings) -> str | None:
    """The same check on a finished message, before `send` hands it to the mail server."""
    return _too_big(vol, len(message.as_bytes(policy=policy.SMTP)), settings.email.max_message_bytes)


def _too_big(vol: int, size: int, limit: int) -> str | None:
    if size <= limit:
        return None
    return (f"第{vol}号のメールは画像を含めて {size / 1_000_000:.1f} MB あり、上限 {limit / 1_000_000:.1f} MB"
            "（email.max_message_bytes）を超えます。メールサーバーに断られることがあるため、画像の数を減らすか"
            "小さくしてください")


def _stripped(source: Path) -> bytes:
    """A picture read from the editor's folder, without its metadata (upright), as the site publishes it."""
    data = source.read_bytes()
    suffix = source.suffix.lower()
    return publishable(data, suffix) if suffix in PICTURE_SUFFIXES else data


def _hosted_copy(html: str, settings: Settings, vol: int) -> str:
    """The email as a web page: without the link to itself, and kept out of search engines (the issue's
    page on the site is the one to find). Cut from the inlined email instead of rendered twice, for speed.

    Its links into the site are relative, so the copy loads its images from whichever host serves it (a
    mirror on a closed network, a preview) rather than from the public site. Like every page of the site it
    carries the Content-Security-Policy (`dayori.csp`); its `<style>` block is allowed by its hash."""
    start, end = html.index(_BROWSER_LINK_START), html.index(_BROWSER_LINK_END) + len(_BROWSER_LINK_END)
    head = html[:start].replace("<title>", '<meta name="robots" content="noindex"><title>', 1)
    hosted = _relative_links(head + html[end:], settings.absolute(""), hosted_dest(vol).removesuffix("index.html"))
    return csp.with_policy(hosted, styles=csp.head_styles(hosted))


def _relative_links(html: str, site: str, page: str) -> str:
    """`html` with each `src` and `href` into the `site` relative to `page`."""
    if '"' in site:
        return re.sub(f'(\\s(?:src|href)=")({re.escape(site)})([^"]*)"',
                      lambda m: f'{m.group(1)}{relative(m.group(3) or "./", page)}"', html)
    pieces: list[str] = []
    done = 0
    for end, close in quoted_values(html, '="' + site, ("href", "src")):
        pieces += [html[done:end - len(site)], relative(html[end:close] or "./", page)]
        done = close
    return "".join([*pieces, html[done:]])


def _boundaries(rendered: RenderedEmail) -> tuple[str, str]:
    """The message's boundary and its pictures' (multipart/related), from its content."""
    digest = hashlib.sha256((rendered.text + rendered.html).encode()).hexdigest()[:32]
    return f"==dayori-{rendered.issue.vol}-{digest}==", f"==dayori-{rendered.issue.vol}-{digest}-related=="


_ENVELOPE = frozenset({"subject", "from", "reply-to", "date", "message-id", "list-id", "list-unsubscribe",
                       "mime-version"})


def _plain_extra(extra: Mapping[str, str]) -> bool:
    """Extra headers that go between the envelope and MIME-Version unchanged: none replaces a header of the
    message or is a Content- header (which `set_content` would drop)."""
    names = [name.lower() for name in extra]
    return len(set(names)) == len(names) and not any(name in _ENVELOPE or name.startswith("content-")
                                                     for name in names)


@lru_cache(maxsize=64)
def _parsed_address(value: str) -> tuple[str, str]:
    """(display name, address): settings every message of a build carries, parsed once."""
    return parseaddr(value)


@lru_cache(maxsize=64)
def _address(value: str) -> str:
    name, addr = _parsed_address(value)
    return formataddr((name, addr), charset="utf-8") if name else addr


def render_message(issue: Issue, content: Content, settings: Settings,
                   media: Mapping[str, EpisodeMedia] | None = None,
                   pictures: Mapping[Path, Path] | None = None) -> EmailMessage:
    """The issue's email, for the .eml file and for delivery; `pictures` as `EmailRenderer.pictures`."""
    renderer = EmailRenderer(settings, pictures or {})
    return renderer.message(renderer.render(issue, content, media))


def sender_address(settings: Settings) -> str:
    """The envelope sender: the bare address of the From header."""
    return Address(addr_spec=parseaddr(settings.email.sender)[1]).addr_spec
