"""The .eml and the message `send` hands over are the bytes Python's own `email` generator writes for the
message (`EmailRenderer.mime_message`), although the build puts them together itself for speed: whatever the
subject, text, pictures, file names and settings, and in whatever order messages are asked for."""

from __future__ import annotations

import datetime as dt
import sys
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dayori.config import EmailSettings, Settings
from dayori.email import mime
from dayori.email.inline import InlineImage
from dayori.email.render import EmailRenderer, RenderedEmail, message_problem, oversize
from dayori.model import Body, Issue

SITE = "https://dx.example.go.jp/dayori/"
# Editors' text: Japanese, ASCII words, spaces, Word's and Excel's control characters, line ends of every kind.
WORDS = st.text(st.sampled_from(list("会議資料を一枚にまとめるコツ【】（）第号　 ExcelTeams-=?\"'\\;:,<>@.()_/\t\r\n"
                                     "\u2028\u0085\x0b\x0c😀é")), max_size=120)
LONG = st.tuples(WORDS, st.integers(1, 60)).map(lambda words: words[0] * words[1])
"""Bodies of many base64 lines (the line ends count: MIME writes them as CRLF)."""
NAMES = st.text(st.sampled_from(list("図表写真ab1 -_.\"'\\;=（）\t")), min_size=1, max_size=40)
PICTURES = st.builds(InlineImage, cid=st.from_regex(r"[0-9a-f]{20}@dx\.example\.go\.jp", fullmatch=True),
                     subtype=st.sampled_from(["png", "jpeg", "gif"]), filename=NAMES,
                     data=st.binary(max_size=600))
SENDERS = st.sampled_from(["業務合理化便り <dx-team@example.go.jp>", "dx-team@example.go.jp",
                           '"DX, チーム" <dx@example.go.jp>', "Team News <news@example.go.jp>"])


def _email(vol: int, day: dt.date, title: str, text: str, html: str,
           images: tuple[InlineImage, ...]) -> RenderedEmail:
    body = Body(html=html, text=text, toc=())
    issue = Issue(vol=vol, date=day, title=title, summary="", tags=(), authors=(), draft=False, videos=(),
                  source=Path(f"newsletter/2026/{vol}.md"), body=body)
    return RenderedEmail(issue, f"【業務合理化便り 第{vol}号】{title}", html, html, text, (), images)


EMAILS = st.builds(_email, vol=st.integers(1, 10**7), day=st.dates(dt.date(1990, 1, 1), dt.date(2200, 12, 31)),
                   title=WORDS, text=LONG, html=LONG,
                   images=st.lists(PICTURES, max_size=3, unique_by=lambda i: i.cid).map(tuple))


def _library(renderer: EmailRenderer, email: RenderedEmail, extra: dict[str, str] | None = None) -> bytes:
    return renderer.mime_message(email, extra).as_bytes(policy=mime.SMTP)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(emails=st.lists(EMAILS, min_size=1, max_size=3), sender=SENDERS,
       reply_to=st.sampled_from(["", "dx-team@example.go.jp", "返信 <reply@example.go.jp>"]),
       unsubscribe=st.sampled_from(["https://dx.example.go.jp/dayori/subscribe/#unsubscribe",
                                    "mailto:dx-team@example.go.jp?subject=unsubscribe"]),
       extras=st.lists(st.sampled_from([None, {"X-Unsent": "1"}, {"X-Mailer": "Dayori", "To": "a@example.go.jp"},
                                        {"Content-Language": "en"}, {"Subject": "上書き"}, {"x-a": "1", "X-A": "2"}]),
                       min_size=1, max_size=4))
def test_message_bytes_are_the_standard_librarys(emails: list[RenderedEmail], sender: str, reply_to: str,
                                                 unsubscribe: str, extras: list[dict[str, str] | None]) -> None:
    renderer = EmailRenderer(Settings(root=Path("/nonexistent"), site_url=SITE, email=EmailSettings(
        sender=sender, reply_to=reply_to, unsubscribe_url=unsubscribe)))
    for email in emails:
        for extra in [*extras, None]:  # a message is written again after others: the kept one is never stale
            _assert_same(renderer, email, extra)
    _assert_same(renderer, emails[0], None)


def _assert_same(renderer: EmailRenderer, email: RenderedEmail, extra: dict[str, str] | None) -> None:
    try:
        expected = _library(renderer, email, extra)
    except ValueError as error:  # a header the library refuses: a line break in it, a second Subject
        try:
            renderer.mime(email, extra)
        except ValueError as same:
            assert str(same) == str(error)
        else:
            raise AssertionError(f"accepted what the standard library refuses: {extra}") from error
        return
    assert renderer.mime(email, extra) == expected


@settings(max_examples=30, deadline=None)
@given(email=EMAILS.filter(lambda e: bool(e.images) and e.subject == "".join(e.subject.splitlines())),
       limit=st.integers(500, 3000))
def test_the_size_check_measures_the_message_as_sent(email: RenderedEmail, limit: int) -> None:
    """`oversize` counts the bytes of the message a reader receives (pictures, base64 and headers included),
    the same count `send` makes on the finished message (`message_problem`)."""
    renderer = EmailRenderer(Settings(root=Path("/nonexistent"), site_url=SITE,
                                      email=EmailSettings(max_message_bytes=limit)))
    size = len(_library(renderer, email))
    assert (oversize(renderer, email) is None) == (size <= limit)
    sent = renderer.message(email)
    assert (message_problem(sent, email.issue.vol, renderer.settings) is None) == (size <= limit)
    assert len(renderer.mime(email, {"X-Unsent": "1"})) == size + len(b"X-Unsent: 1\r\n")


HOSTS = st.one_of(st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,4}", fullmatch=True),
                  st.text(st.sampled_from(list("aZ0-._@<>\"\\ 　例")), min_size=1, max_size=70))


@settings(max_examples=300, deadline=None)
@given(local=st.one_of(st.from_regex(r"dayori\.vol[0-9]{1,12}(\.[0-9a-f]{20})?", fullmatch=True),
                       st.text(st.sampled_from(list("ab.-_ 1\"")), min_size=1, max_size=30)), host=HOSTS)
def test_message_ids_are_folded_as_the_library_folds_them(local: str, host: str) -> None:
    value = f"<{local}@{host}>"
    try:
        expected = mime.header("Message-ID", value)
    except ValueError:
        return
    assert mime.message_id_header(value) == expected


@settings(max_examples=300, deadline=None)
@given(subtype=st.sampled_from(["alternative", "related", "mixed", "x-y", "ALT"]),
       boundary=st.one_of(st.from_regex(r"==dayori-[0-9]{1,20}-[0-9a-f]{32}==(-related==)?", fullmatch=True),
                          st.text(st.sampled_from(list("aZ09=-_ .\"")), min_size=1, max_size=90)))
def test_multipart_content_types_are_folded_as_the_library_folds_them(subtype: str, boundary: str) -> None:
    assert mime.multipart_head(subtype, boundary) == mime.header(
        "Content-Type", f'multipart/{subtype}; boundary="{boundary}"')


@pytest.mark.parametrize("length", range(1, 95))
def test_every_boundary_length_is_folded_as_the_library_folds_it(length: int) -> None:
    """Where the line is full: a boundary that just fits, one character more, a parameter too long for a line."""
    for subtype in ("alternative", "related"):
        boundary = ("==dayori-7-" + "0123456789abcdef" * 6)[:length]
        assert mime.multipart_head(subtype, boundary) == mime.header(
            "Content-Type", f'multipart/{subtype}; boundary="{boundary}"')


@pytest.mark.parametrize("length", range(1, 75))
def test_every_message_id_length_is_folded_as_the_library_folds_it(length: int) -> None:
    value = f"<dayori.vol1@{('d.' + 'example-' * 10)[:length].strip('.-') or 'x'}>"
    assert mime.message_id_header(value) == mime.header("Message-ID", value)


@settings(max_examples=300, deadline=None)
@given(when=st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31),
                         timezones=st.sampled_from([dt.timezone(dt.timedelta(minutes=m)) for m in (540, 0, -300, 345,
                                                                                                   -59, 1439)])))
def test_dates_are_folded_as_the_library_folds_them(when: dt.datetime) -> None:
    assert mime.date_header(when) == mime.header("Date", format_datetime(when))


@pytest.mark.parametrize("year", [1, 68, 69, 99, 100, 999, 1000, 2026, 9999])
def test_every_kind_of_year_is_folded_as_the_library_folds_it(year: int) -> None:
    when = dt.datetime(year, 11, 26, 9, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert mime.date_header(when) == mime.header("Date", format_datetime(when))


@settings(max_examples=300, deadline=None)
@given(subtype=st.sampled_from(["png", "jpeg", "gif"]), name=NAMES,
       cid=st.one_of(st.from_regex(r"<[0-9a-f]{20}@dx\.example\.go\.jp>", fullmatch=True),
                     st.text(st.sampled_from(list("<>@.a-1 \"日")), min_size=1, max_size=90)))
def test_picture_part_headers_are_the_librarys(subtype: str, name: str, cid: str) -> None:
    part = EmailMessage(policy=mime.SMTP)
    try:
        part.set_content(b"", maintype="image", subtype=subtype, cid=cid, filename=name, disposition="inline")
    except ValueError:
        return
    del part["MIME-Version"]
    assert mime.image_part_head(subtype, cid, name) == b"".join(mime.SMTP.fold_binary(n, v) for n, v in part.raw_items())


@pytest.mark.parametrize("length", range(1, 75))
def test_every_content_id_length_is_folded_as_the_library_folds_it(length: int) -> None:
    cid = f"<0123456789abcdef0123@{('d.' + 'example-' * 10)[:length].strip('.-') or 'x'}>"
    part = EmailMessage(policy=mime.SMTP)
    part.set_content(b"", maintype="image", subtype="png", cid=cid, filename="図.png", disposition="inline")
    del part["MIME-Version"]
    assert mime.image_part_head("png", cid, "図.png") == b"".join(mime.SMTP.fold_binary(n, v)
                                                                 for n, v in part.raw_items())


PLAIN_TITLES = st.text(st.sampled_from(list("会議資料を一枚にまとめるコツ【】（）第号　 ExcelTeams-=?\"'\\;:,<>@._/!*+😀é\u00a0")),
                       max_size=160)
"""Titles as editors write them, where a line of the folded subject ends: Japanese (three bytes a character)
and ASCII words of every length, spaces of every kind, characters Q encodes in one byte or three."""
TITLES = st.one_of(PLAIN_TITLES, st.text(st.sampled_from(list("日本 a=?\t\r\n\u2028\x85\x00\ud800")), max_size=40))
"""And the titles left to the library: line breaks, control characters, encoded words, unpaired surrogates."""


@settings(max_examples=1500, deadline=None)
@given(site=st.sampled_from(["業務合理化便り", "DX News", "A" * 70, "総務課 DX 推進室だより", ""]),
       vol=st.integers(1, 10**9), title=TITLES,
       ascii_words=st.lists(st.text(st.sampled_from(list("ab=?-_ ")), min_size=1, max_size=90), max_size=3))
def test_subjects_are_folded_as_the_library_folds_them(site: str, vol: int, title: str,
                                                        ascii_words: list[str]) -> None:
    for value in (f"【{site} 第{vol}号】{title}", f"{title}{' '.join(ascii_words)}日", " ".join([*ascii_words, title])):
        try:
            expected = mime.header("Subject", value)
        except ValueError:  # a line break: refused the same way
            with pytest.raises(ValueError):
                mime.subject_header(value)
            continue
        assert mime.subject_header(value) == expected


@pytest.mark.parametrize("length", range(1, 120))
def test_every_subject_length_is_folded_as_the_library_folds_it(length: int) -> None:
    """Where each line is full, for subjects of Japanese, of mixed text, of long ASCII words, and of ASCII
    with a little Japanese, which Q encodes (or base64, when it is five characters shorter)."""
    for filler in ("会議資料を一枚にまとめるコツ", "Excel と Teams の 便利な使い方 ", "a" * 75 + " 日本 ", "日 ", "日a b", "aé"):
        for tail in ("", "日" * 20):
            for value in (f"【業務合理化便り 第{length}号】{(filler * 80)[:length]}{tail}",
                          f"日{(filler * 80)[:length]}{tail}"):
                assert mime.subject_header(value) == mime.header("Subject", value)


def test_the_copy_of_the_librarys_folding_is_used_where_it_is_the_librarys() -> None:
    """Python 3.11's folding (and 3.12.1's) is the one copied; the tests above then check the copy."""
    if sys.version_info[:2] == (3, 11):
        assert mime._ported()


def test_a_python_that_folds_otherwise_gets_the_librarys_folding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A folding that is not the one copied (as Python 3.13's is not) is never replaced by the copy."""
    value = "【業務合理化便り 第12号】" + "会議資料を一枚にまとめるコツ" * 5
    monkeypatch.setattr(mime, "_PORTED_DIGEST", "0" * 64)
    mime._ported.cache_clear()
    try:
        assert not mime._ported()
        assert mime.subject_header(value) == mime.header("Subject", value)
    finally:
        monkeypatch.undo()
        mime._ported.cache_clear()


@pytest.mark.parametrize("length", range(1, 80))
def test_every_plain_file_name_length_is_folded_as_the_library_folds_it(length: int) -> None:
    """A picture's part named in plain ASCII (`figure-12.png`): where its Content-Disposition line is full."""
    for stem in ("figure-12", "a.b_c-d", "-", ".", "X"):
        name = (stem * 80)[:length]
        for subtype in ("png", "jpeg", "gif"):
            part = EmailMessage(policy=mime.SMTP)
            part.set_content(b"", maintype="image", subtype=subtype, cid="<0123456789abcdef0123@example.go.jp>",
                             filename=name, disposition="inline")
            del part["MIME-Version"]
            assert mime.image_part_head(subtype, "<0123456789abcdef0123@example.go.jp>", name) == b"".join(
                mime.SMTP.fold_binary(n, v) for n, v in part.raw_items())


def _library_payload(text: str) -> bytes:
    part = EmailMessage(policy=mime.SMTP)
    part.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    return part.as_bytes(policy=mime.SMTP).split(b"\r\n\r\n", 1)[1]


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.sampled_from(["", "\n", "a", "a\n", "a\n\n", "\n\na", "本文\n", "a\r\n", "a\r", "\r"]),
                      st.text(st.sampled_from(list("a本\n\r\u2028\x85\x0b\x0c")), max_size=200)))
def test_text_parts_are_the_librarys(text: str) -> None:
    """With and without CR, ending with a line end or not: a build's texts all end with LF and have no CR."""
    assert mime.text_body(text) == _library_payload(text)
