"""Pictures for phones on slow links: the built issue page gives every picture its real size, loads all but
the first only when the reader nears it, and offers phone-sized and WebP copies that a phone really takes.
Checked by reading the built page with lxml, the copies with Pillow, and in Chromium on a phone's screen at
300 kbit/s; the mailed issue keeps its plain inline pictures."""

from __future__ import annotations

import io
import re
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageStat
from PIL.PngImagePlugin import PngInfo

from browser import chromium, serve
from conftest import Project, copy_project
from dayori import sanitize
from dayori.attachments import Sizes, Variant
from dayori.build import prepare
from dayori.config import settings_from_file
from dayori.pictures import metadata_left, narrowed_size, narrower, narrower_copies
from dayori.responsive import for_pages

BODY = """\
会議の写真です。

![会議室の様子](photo.jpg)

{filler}

手順の画面です。

![手順の画面](steps.png)
"""
FILLER = "\n\n".join(f"段落{n}：業務の手順を説明します。" * 6 for n in range(40))


def photo(width: int, height: int) -> bytes:
    """A camera's JPEG: noise (as heavy as a photograph) with the camera's and the owner's EXIF."""
    image = Image.effect_noise((width, height), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"
    exif[0x013B] = "山田太郎"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def screenshot(width: int, height: int) -> bytes:
    """A PNG with flat colours and a text chunk naming the program, as screenshot tools write."""
    image = Image.new("RGB", (width, height), (250, 250, 250))
    for row in range(0, height, 40):
        image.paste((30, 90, 200), (20, row, width - 20, row + 12))
    info = PngInfo()
    info.add_text("Software", "Snipping Tool")
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = copy_project(tmp_path_factory.mktemp("phones") / "project", with_content=False)
    project.write("newsletter/2026/photo.jpg", photo(1600, 1200))
    project.write("newsletter/2026/steps.png", screenshot(1400, 900))
    project.add_issue(3, "2026-10-02", "写真の号", BODY.format(filler=FILLER))
    project.build()
    return project


def _page(project: Project) -> Any:
    return lxml.html.fromstring((project.site / "newsletter" / "3" / "index.html").read_bytes())


def _file(project: Project, page_dir: Path, url: str) -> Path:
    path = (page_dir / url).resolve()
    assert path.is_relative_to(project.site.resolve()) and path.is_file(), url
    return path


def _candidates(srcset: str) -> list[tuple[str, int]]:
    found = []
    for candidate in srcset.split(","):
        url, width = candidate.split()
        assert width.endswith("w")
        found.append((url, int(width[:-1])))
    return found


def test_each_picture_has_its_real_size_and_phone_sized_webp_copies_without_metadata(built: Project) -> None:
    page_dir = built.site / "newsletter" / "3"
    pictures = _page(built).xpath("//article//picture | //div[contains(@class,'md-content')]//picture")
    assert len(pictures) == 2
    for picture, kind, original in zip(pictures, ("JPEG", "PNG"), ((1600, 1200), (1400, 900)), strict=True):
        (source,) = picture.xpath(".//source")
        (img,) = picture.xpath(".//img")
        assert source.get("type") == "image/webp"
        published = Image.open(_file(built, page_dir, img.get("src")))
        assert published.size == original
        assert (int(img.get("width")), int(img.get("height"))) == published.size
        for srcset, expected in ((source.get("srcset"), "WEBP"), (img.get("srcset"), kind)):
            candidates = _candidates(srcset)
            assert {width for _, width in candidates} == {480, 960, original[0]}
            for url, width in candidates:
                data = _file(built, page_dir, url).read_bytes()
                with Image.open(io.BytesIO(data)) as variant:
                    assert variant.format == expected
                    assert variant.width == width
                    assert abs(variant.height - width * original[1] / original[0]) <= 1
                    assert not variant.getexif()
                assert metadata_left(data) == []
                assert b"ExampleCam" not in data and "山田太郎".encode() not in data and b"Snipping" not in data
        assert source.get("sizes") == img.get("sizes") and "100vw" in img.get("sizes")


def test_the_first_picture_loads_at_once_and_the_others_when_the_reader_scrolls_near(built: Project) -> None:
    first, second = _page(built).xpath("//picture//img")
    assert first.get("loading") is None and first.get("decoding") is None
    assert second.get("loading") == "lazy" and second.get("decoding") == "async"


def test_the_mailed_issue_keeps_plain_inline_pictures(built: Project) -> None:
    message = message_from_bytes((built.site / "email" / "3" / "message.eml").read_bytes(), policy=policy.default)
    pictures = [part for part in message.walk() if part.get_content_maintype() == "image"]
    assert pictures and all(Image.open(io.BytesIO(part.get_content())).width <= 1200 for part in pictures)
    html = message.get_body(("html",))
    assert html is not None
    text = str(html.get_content())
    assert "<picture" not in text and "srcset" not in text and 'loading="lazy"' not in text


def test_a_rebuild_encodes_nothing_and_a_changed_picture_is_encoded_again(built: Project) -> None:
    settings = settings_from_file(built.root / "mkdocs.yml")
    cached = {path: path.stat().st_mtime_ns for path in (built.root / ".cache").rglob("*.webp")}
    assert prepare(settings).picture_encodes == 0
    assert {path: path.stat().st_mtime_ns for path in (built.root / ".cache").rglob("*.webp")} == cached
    built.write("newsletter/2026/steps.png", screenshot(1000, 700))
    try:
        assert prepare(settings).picture_encodes == 5  # WebP at 480, 960 and 1000 px; PNG at 480 and 960 px
    finally:
        built.write("newsletter/2026/steps.png", screenshot(1400, 900))


_SIZES = Sizes(1600, 1200, (Variant("media/files/a.webp", Path("a"), 480, 360, "image/webp"),
                            Variant("media/files/b.webp", Path("b"), 1600, 1200, "image/webp")),
               (Variant("media/files/c.jpg", Path("c"), 480, 360, "image/jpeg"),
                Variant("media/files/d.jpg", Path("d"), 1600, 1200, "image/jpeg")))


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40), st.integers(1, 5))
def test_the_sanitiser_keeps_every_attribute_the_pages_give_pictures(alt: str, count: int) -> None:
    body = sanitize.clean("".join(f'<p><img alt="{_escaped(alt)}" src="../../media/files/d.jpg"></p>'
                                  for _ in range(count)))
    shown = for_pages(body, "newsletter/3/", {"media/files/d.jpg": _SIZES})
    assert _attributes(sanitize.clean(shown)) == _attributes(shown)
    images = lxml.html.fragment_fromstring(shown, create_parent="div").xpath("//img")
    written = lxml.html.fragment_fromstring(body, create_parent="div").xpath("//img")
    assert [image.get("alt") for image in images] == [image.get("alt") for image in written]
    assert [image.get("loading") for image in images] == [None, *["lazy"] * (count - 1)]


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _attributes(html: str) -> list[tuple[str, dict[str, str]]]:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return [(element.tag, dict(element.attrib)) for element in root.iter() if element.tag in ("picture", "source",
                                                                                              "img")]


@pytest.mark.browser
def test_a_phone_on_a_slow_link_downloads_the_small_copies_not_the_originals(built: Project) -> None:
    page_dir = built.site / "newsletter" / "3"
    pictures = _page(built).xpath("//picture")
    small = {_file(built, page_dir, url).name for picture in pictures
             for url, width in _candidates(picture.xpath(".//source")[0].get("srcset")) if width == 480}
    large = {_file(built, page_dir, url).name for picture in pictures
             for element in picture.xpath(".//source | .//img")
             for url, width in _candidates(element.get("srcset")) if width > 480}
    with serve(built.site) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        rate = 300 * 1000 / 8
        session.send("Network.emulateNetworkConditions", {"offline": False, "latency": 200,
                                                          "downloadThroughput": rate, "uploadThroughput": rate})
        page.goto(url + "newsletter/3/")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_function("() => [...document.querySelectorAll('picture img')]"
                               ".every(i => i.complete && i.naturalWidth > 0)", timeout=60000)
        shown = page.evaluate("() => [...document.querySelectorAll('picture img')].map(i => i.currentSrc)")
        context.close()
    fetched = {re.sub(r"[?#].*", "", request).rsplit("/", 1)[1] for request in requests if "/media/files/" in request}
    assert fetched == small, (fetched, small)
    assert not fetched & large
    assert {address.rsplit('/', 1)[1] for address in shown} == small


def _drawing(width: int, height: int, mode: str) -> Image.Image:
    """Gradients, lines and a disc: edges and smooth areas, where a poor reduction shows. A palette picture is
    drawn in colour first: a grey gradient can fill all 256 entries and leave none for the lines."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB" if mode == "P" else mode)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 23):
        draw.line((x, 0, width - x, height), fill="#c03020" if mode != "L" else 90, width=2)
    draw.ellipse((width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill="#2080d0" if mode != "L" else 200)
    return image.convert("P") if mode == "P" else image


def _encoded(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **({"quality": 90} if kind == "JPEG" else {}))
    return out.getvalue()


@given(width=st.integers(1, 2600), height=st.integers(1, 1300), kind=st.sampled_from(["JPEG", "PNG"]),
       mode=st.sampled_from(["RGB", "L", "RGBA", "P"]), widths=st.lists(st.integers(1, 3000), min_size=1, max_size=4))
def test_copies_made_together_are_the_bytes_made_alone_at_the_sizes_the_page_states(
        width: int, height: int, kind: str, mode: str, widths: list[int]) -> None:
    """A picture's copies are made in one go when the cache lacks them: each must be the bytes that making it
    alone gives (what a cache that kept the others would hold), at the size written in the page."""
    if kind == "JPEG" and mode in ("RGBA", "P"):
        mode = "RGB"
    data = _encoded(_drawing(width, height, mode), kind)
    wanted = [(target, copy_kind) for target in widths for copy_kind in ("WEBP", kind)]
    for (target, copy_kind), (encoded, shape) in zip(wanted, narrower_copies(data, wanted), strict=True):
        assert (encoded, shape) == narrower(data, target, copy_kind)
        assert shape == narrowed_size(width, height, min(target, width))
        with Image.open(io.BytesIO(encoded)) as copy:
            assert copy.format == copy_kind and copy.size == shape


@pytest.mark.parametrize("target", [480, 960])
def test_a_large_photo_decoded_at_a_reduced_scale_looks_as_if_reduced_from_all_its_pixels(target: int) -> None:
    source = _drawing(4032, 3024, "RGB")
    data = _encoded(source, "JPEG")
    encoded, shape = narrower(data, target, "PNG")  # lossless: only the reduction differs
    with Image.open(io.BytesIO(data)) as full:
        reference = full.convert("RGB").resize(shape, Image.Resampling.LANCZOS)
    with Image.open(io.BytesIO(encoded)) as made:
        difference = ImageStat.Stat(ImageChops.difference(made.convert("RGB"), reference))
    assert max(difference.mean) < 1.5, difference.mean


def test_copies_left_to_another_process_are_those_made_here(built: Project, tmp_path: Path) -> None:
    """A first site build leaves the missing copies to another process (`encode=False`, then `encode_missing`
    there) while it renders with their sizes: the pages get the same sizes, the cache the same files."""
    from dayori.attachments import encode_missing, picture_variants

    published = [("media/files/a.jpg", built.root / "newsletter/2026/photo.jpg"),
                 ("media/files/b.png", built.root / "newsletter/2026/steps.png")]
    here = picture_variants(published, tmp_path / "here", "media/files/")
    there = picture_variants(published, tmp_path / "there", "media/files/", encode=False)

    def shown(sizes: Sizes) -> list[tuple[str, str, int, int, str]]:
        return [(variant.dest, variant.path.name, variant.width, variant.height, variant.mime)
                for variant in (*sizes.webp, *sizes.fallback)]

    assert here.sizes.keys() == there.sizes.keys()
    assert all(shown(here.sizes[dest]) == shown(there.sizes[dest]) for dest in here.sizes)
    assert not list((tmp_path / "there").rglob("*.*")) and here.missing == []
    assert encode_missing(there.missing) == there.encoded == here.encoded == 10

    def files(cache: Path) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in cache.rglob("*.*")}

    assert files(tmp_path / "there") == files(tmp_path / "here")
