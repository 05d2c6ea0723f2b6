"""Pictures that show in Outlook without "download pictures": the mailed issue carries them (multipart/related,
cid:), at most 1200 px wide. Checked by parsing the built .eml with Python's `email` and reading the parts with
Pillow; `email.images: linked` keeps pictures on the site."""

from __future__ import annotations

import io
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from lxml import html as lxml_html
from PIL import Image

from conftest import Project, body_text
from dayori.config import ConfigError, settings_from_file
from dayori.email.inline import for_email
from testsupport.helpers import photo

BODY = """\
会議の写真です。

![会議室の様子](photo.jpg)

手順の図です。

![手順の図](steps.png)
"""


def diagram(width: int, height: int) -> bytes:
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    image.paste((0, 90, 200, 255), (10, 10, width // 2, height // 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _eml(project: Project, vol: int) -> EmailMessage:
    return message_from_bytes((project.site / "email" / str(vol) / "message.eml").read_bytes(), policy=policy.default)


def _set_email(project: Project, line: str) -> Path:
    """mkdocs.yml with one more `extra.dayori.email` setting, as an administrator would add it."""
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("      footer:", f"      {line}\n      footer:", 1),
                      encoding="utf-8")
    return config


def _images(message: EmailMessage) -> dict[str, tuple[str, Image.Image, bytes]]:
    found: dict[str, tuple[str, Image.Image, bytes]] = {}
    for part in message.walk():
        if part.get_content_maintype() == "image":
            data = part.get_content()
            found[str(part["Content-ID"]).strip("<>")] = (part.get_content_type(), Image.open(io.BytesIO(data)), data)
    return found


def test_the_mailed_issue_carries_its_pictures_resized_and_follows_a_changed_picture(project: Project):
    folder = project.root / "newsletter" / "2026"
    project.add_issue(3, "2026-11-20", "写真の号", BODY)
    (folder / "photo.jpg").write_bytes(photo(3000, 2000))
    (folder / "steps.png").write_bytes(diagram(800, 400))
    project.build()

    message = _eml(project, 3)
    assert message.get_content_type() == "multipart/alternative"
    related = next(part for part in message.walk() if part.get_content_type() == "multipart/related")
    html = body_text(message, "html")
    tree = lxml_html.fromstring(html)
    sources = tree.xpath("//img/@src")
    assert sources and all(src.startswith("cid:") for src in sources), sources
    assert not re.search(r"<img[^>]+src=[\"']?(https?:)?//", html)
    images = _images(related)
    assert {src.removeprefix("cid:") for src in sources} == set(images)
    kinds = {kind: picture.size for kind, picture, _ in images.values()}
    assert kinds == {"image/jpeg": (1200, 800), "image/png": (800, 400)}
    assert (folder / "steps.png").read_bytes() in [data for _, _, data in images.values()]
    assert all(part.get_content_disposition() == "inline" for part in related.iter_attachments())

    hosted = (project.site / "email" / "3" / "index.html").read_text(encoding="utf-8")
    assert "cid:" not in hosted and "media/files/" in hosted

    (folder / "photo.jpg").write_bytes(photo(1600, 1200, seed=20))
    project.build()
    changed = _images(_eml(project, 3))
    jpeg = next(picture for kind, picture, _ in changed.values() if kind == "image/jpeg")
    assert jpeg.size == (1200, 900)
    assert set(changed) != set(images)


def test_linked_pictures_stay_on_the_site(project: Project):
    _set_email(project, "images: linked")
    project.add_issue(3, "2026-11-20", "写真の号", BODY)
    (project.root / "newsletter" / "2026" / "photo.jpg").write_bytes(photo(300, 200))
    (project.root / "newsletter" / "2026" / "steps.png").write_bytes(diagram(100, 50))
    project.build()
    message = _eml(project, 3)
    assert not any(part.get_content_maintype() == "image" for part in message.walk())
    sources = lxml_html.fromstring(body_text(message, "html")).xpath("//img/@src")
    assert sources and all(src.startswith("https://dx.example.go.jp/dayori/media/files/") for src in sources)


def test_a_message_over_the_size_limit_is_reported_naming_the_issue(project: Project):
    _set_email(project, "max_message_bytes: 200000")
    project.add_issue(3, "2026-11-20", "写真の号", BODY)
    (project.root / "newsletter" / "2026" / "photo.jpg").write_bytes(photo(1200, 900))
    (project.root / "newsletter" / "2026" / "steps.png").write_bytes(diagram(100, 50))
    result = project.run_build()
    assert result.returncode == 0
    assert "第3号のメールは画像を含めて" in result.stderr and "email.max_message_bytes" in result.stderr
    assert "newsletter/2026/3.md" in result.stderr


def test_an_unknown_image_mode_is_a_japanese_configuration_error(project: Project):
    config = _set_email(project, "images: embed")
    with pytest.raises(ConfigError, match=r"email\.images は inline"):
        settings_from_file(config)


def test_a_sideways_phone_photo_is_turned_upright_for_email():
    image = Image.new("RGB", (400, 100), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    resized = for_email(out.getvalue())
    assert resized is not None
    data, subtype = resized
    assert subtype == "jpeg" and Image.open(io.BytesIO(data)).size == (100, 400)
    assert for_email(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
