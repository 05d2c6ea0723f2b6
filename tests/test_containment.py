"""Nothing private or outside the content folders reaches site/: each test attacks a real build as a careless or
hostile editor would, and checks what a reader could download and what the editor is told."""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

import media_clips as mc
import sample_files
from conftest import Project
from dayori.config import ConfigError, settings_from_file
from dayori.media.commands import (
    images_command,
    ladder_command,
    plan_images,
    plan_renditions,
)
from dayori.media.probe import probe

SECRET = "kanri.taro@example.go.jp-0123456789"


def published_bytes(project: Project) -> bytes:
    """Every byte a reader could download, whatever the file type (the text scan misses images and media)."""
    return b"".join(path.read_bytes() for path in sorted(project.site.rglob("*")) if path.is_file())


def assert_secret_nowhere(project: Project) -> None:
    assert SECRET not in project.site_text()
    assert SECRET.encode() not in published_bytes(project)


def good_site(project: Project) -> bytes:
    """A site built before the bad input arrives; a failing build must leave it as it was."""
    project.add_issue(1, "2026-11-13", "前の号", "前の号の本文です。")
    result = project.run_build()
    assert result.returncode == 0, result.stderr
    return (project.site / "newsletter" / "1" / "index.html").read_bytes()


def body_line(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_links_out_of_the_content_folders_are_refused_and_nothing_leaks(project: Project, tmp_path: Path) -> None:
    before = good_site(project)
    project.write(".git/config", f"[remote]\n  token = {SECRET}\n")
    project.write(".env", f"SMTP_PASSWORD={SECRET}\n")
    project.write("state/ledger.sqlite3-wal", f"INSERT {SECRET}".encode())
    project.write(".cache/dayori/leak.png", f"\x89PNG {SECRET}".encode())
    project.write("newsletter/2026/.private/hidden.png", f"\x89PNG {SECRET}".encode())
    outside = tmp_path / "outside" / "secret.png"
    outside.parent.mkdir()
    outside.write_bytes(f"\x89PNG {SECRET}".encode())
    (project.root / "newsletter/2026/img").mkdir(parents=True)
    os.symlink(outside, project.root / "newsletter/2026/img/linked.png")
    os.symlink(project.root / ".git", project.root / "newsletter/2026/git")
    attacks = {
        "../../.git/config": "の外を指しています",
        "%2E%2E/%2E%2E/.git/config": "の外を指しています",
        "/etc/passwd": "絶対パス",
        "file:///etc/passwd": "絶対パス",
        "img/linked.png": "の外を指しています",
        "git/config": "の外を指しています",
        "../../state/ledger.sqlite3-wal": "の外を指しています",
        "../../.cache/dayori/leak.png": "の外を指しています",
        "../../.env": "の外を指しています",
        ".private/hidden.png": "「.」で始まる",
    }
    body = "\n\n".join(f"- [資料{n}]({url})" if n % 2 else f"![図{n}]({url})" for n, url in enumerate(attacks))
    issue = project.add_issue(2, "2026-11-20", "攻撃の号", body + '\n\n<img src="../../.git/config" alt="生の HTML">')
    result = project.run_build()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for url, words in attacks.items():
        line = body_line(issue, f"({url})")
        assert re.search(rf"newsletter/2026/2\.md:{line}: 「{re.escape(url)}」[^\n]*{words}", output), (url, output)
    raw = body_line(issue, "<img")
    assert f"newsletter/2026/2.md:{raw}: " in output and "Markdown" in output
    assert "Traceback" not in output
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before
    assert_secret_nowhere(project)


def test_a_symlink_turned_outside_after_a_build_is_refused_by_the_next(project: Project, tmp_path: Path) -> None:
    """Bodies are rendered once and reused: the reuse must notice that a link now leads somewhere else."""
    inside = project.write("newsletter/2026/img/real.png", sample_files.png())
    link = project.root / "newsletter/2026/img/pic.png"
    os.symlink(inside, link)
    project.add_issue(1, "2026-11-20", "画像の号", "![図](img/pic.png)")
    project.build()
    outside = tmp_path / "secret.png"
    outside.write_bytes(f"\x89PNG {SECRET}".encode())
    link.unlink()
    os.symlink(outside, link)
    result = project.run_build()
    assert result.returncode != 0 and "「img/pic.png」は公開用のフォルダー" in result.stderr
    assert_secret_nowhere(project)


def test_files_inside_the_content_folders_are_published_whatever_their_case(project: Project) -> None:
    """The allowlist must not refuse what editors really use: upper-case extensions from cameras and scanners,
    a symlink that stays inside the content folders, a picture kept in docs/."""
    png = project.write("newsletter/2026/img/IMG_0001.PNG", sample_files.png(colour=(1, 2, 3)))
    pdf = project.write("newsletter/2026/files/Report.PDF", sample_files.PDF + b"% scanned report\n")
    shared = project.write("docs/img/shared.png", sample_files.png(colour=(4, 5, 6)))
    os.symlink(shared, project.root / "newsletter/2026/img/shared.png")
    project.add_issue(1, "2026-11-20", "添付の号", "![写真](img/IMG_0001.PNG)\n\n[報告書](files/Report.PDF)\n\n"
                                                 "![共有](img/shared.png)\n\n![資料](../../docs/img/shared.png)")
    project.build()
    files = {path.read_bytes() for path in (project.site / "media" / "files").iterdir()
             if path.suffix != ".webp"}  # the pictures' WebP twins for phones (see test_pictures_for_phones)
    assert files == {png.read_bytes(), pdf.read_bytes(), shared.read_bytes()}
    page = (project.site / "newsletter" / "1" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'href="\.\./\.\./media/files/[0-9a-f]{16}\.pdf"', page)


def test_unlisted_and_table_types_are_refused_with_their_line(project: Project) -> None:
    before = good_site(project)
    for name in ("Subscribers.CSV", "名簿.XLSX", "list.ods", "old.bak", "tool.exe", "ledger.sqlite3-wal"):
        project.write(f"newsletter/2026/files/{name}", f"{SECRET}\n")
    project.write("docs/Subscribers.CSV", f"address\n{SECRET}\n")
    names = ["files/Subscribers.CSV", "files/名簿.XLSX", "files/list.ods", "files/old.bak", "files/tool.exe",
             "files/ledger.sqlite3-wal", "../../docs/Subscribers.CSV"]
    issue = project.add_issue(2, "2026-11-20", "表の号", "\n\n".join(f"[添付{n}]({name})" for n, name in enumerate(names)))
    result = project.run_build()
    assert result.returncode != 0
    for name in names:
        line = body_line(issue, f"({name})")
        assert re.search(rf"newsletter/2026/2\.md:{line}: 「{re.escape(name)}」は[^\n]*公開できません", result.stderr), \
            (name, result.stderr)
    assert "attachments" in result.stderr
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before
    assert_secret_nowhere(project)


@pytest.mark.parametrize("name", ["Subscribers.CSV", "名簿.XLSX", "list.ods", "subscribers.csv.bak", "Backup.BAK",
                                  "data.Sqlite3", "old.xls", "notes.TSV"])
def test_table_files_in_docs_never_reach_the_site_whatever_their_case(project: Project, name: str) -> None:
    project.write(f"docs/{name}", f"address,name\n{SECRET},管理 太郎\n")
    project.write(f"docs/lists/{name}", f"address\n{SECRET}\n")
    project.add_issue(1, "2026-11-20", "ふつうの号")
    result = project.run_build()
    assert result.returncode == 0, result.stderr
    assert_secret_nowhere(project)
    assert not [p for p in project.site.rglob("*") if p.name.casefold() == name.casefold()]
    assert name in result.stderr and "公開しません" in result.stderr


def test_a_symlink_in_docs_pointing_outside_is_refused(project: Project, tmp_path: Path) -> None:
    """MkDocs follows symlinks in docs/: a page or a folder linked there from elsewhere would be published.
    The gate refuses them, naming each file, and the build stops (docs/ is content like the issues)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.md").write_text(f"# メモ\n\n{SECRET}\n", encoding="utf-8")
    os.symlink(outside / "notes.md", project.root / "docs" / "notes.md")
    os.symlink(project.root / ".git", project.root / "docs" / "repo")
    project.write(".git/logo.png", f"\x89PNG {SECRET}".encode())
    project.add_issue(1, "2026-11-20", "ふつうの号")
    result = project.run_build()
    assert result.returncode != 0
    assert_secret_nowhere(project)
    assert re.search(r"docs/notes\.md: [^\n]*公開用のフォルダー", result.stderr), result.stderr
    assert re.search(r"docs/repo/logo\.png: [^\n]*公開用のフォルダー", result.stderr), result.stderr


def test_attachments_setting_is_an_allowlist_that_never_admits_tables(project: Project) -> None:
    config = project.root / "mkdocs.yml"
    text = re.sub(r"(?m)^    attachments: .*$", "    attachments: KINDS", config.read_text(encoding="utf-8"))
    config.write_text(text.replace("KINDS", "[PNG, .pdf]"), encoding="utf-8")
    assert settings_from_file(config).attachments == ("png", "pdf")
    config.write_text(text.replace("KINDS", "[png, CSV]"), encoding="utf-8")
    with pytest.raises(ConfigError, match="csv"):
        settings_from_file(config)


def add_episode(project: Project, slug: str, clip_name: str) -> Path:
    folder = project.root / "videos" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "captions.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nこんにちは。\n", encoding="utf-8")
    index = folder / "index.md"
    index.write_text(textwrap.dedent(f"""\
        ---
        title: 再生リストの回
        date: {slug[:10]}
        clip: {clip_name}
        captions: captions.vtt
        summary: 外の動画を取り込もうとする回です。
        tags: [テスト]
        ---

        本文です。
        """), encoding="utf-8")
    return folder


@pytest.mark.xdist_group("media")
def test_a_playlist_clip_cannot_pull_a_video_from_outside(project: Project, tmp_path: Path) -> None:
    before = good_site(project)
    outside = tmp_path / "outside"
    outside.mkdir()
    segment = outside / "secret.ts"
    mc.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=10:d=1", "-c:v", "libx264", "-preset", "ultrafast",
              "-pix_fmt", "yuv420p", "-metadata", f"title={SECRET}", "-f", "mpegts", str(segment))
    folder = add_episode(project, "2026-11-19-playlist", "clip.m3u8")
    (folder / "clip.m3u8").write_text(
        f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{segment}\n#EXT-X-ENDLIST\n",
        encoding="utf-8")
    result = project.run_build()
    assert result.returncode != 0
    assert re.search(r"videos/2026-11-19-playlist/index\.md:4: [^\n]*clip\.m3u8[^\n]*再生リスト", result.stderr), \
        result.stderr
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before
    assert not list(project.site.rglob("*.mp4"))
    assert not (project.root / ".cache" / "dayori" / "media" / "files").exists() or \
        not list((project.root / ".cache" / "dayori" / "media").rglob("*.mp4"))


@pytest.mark.xdist_group("media")
def test_ffmpeg_itself_refuses_a_playlist(tmp_path: Path) -> None:
    """Behind the probe, the transcode reads only what the probe accepts: were a playlist to slip past it
    (a cached probe, a swapped file), ffmpeg still would not follow it."""
    real = mc.clip(tmp_path / "real.mp4", size="160x90", seconds=1.0)
    segment = tmp_path / "outside.ts"
    mc.ffmpeg("-i", str(real), "-c", "copy", "-f", "mpegts", str(segment))
    playlist = tmp_path / "clip.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{segment}\n#EXT-X-ENDLIST\n", encoding="utf-8")
    renditions = plan_renditions(probe(real), (360,))
    images = plan_images(probe(real), None, renditions[0])
    outputs = tmp_path / "out"
    (outputs / "360p").mkdir(parents=True)
    commands = [ladder_command(mc.FFMPEG, playlist, [(renditions[0], "360p")]),
                images_command(mc.FFMPEG, playlist, outputs / "poster.png", outputs / "still.jpg", images)]
    for command in commands:
        assert subprocess.run(command, capture_output=True, check=False, cwd=outputs).returncode != 0
    assert not [p for p in outputs.rglob("*") if p.is_file() and p.stat().st_size]
    same_for_a_real_clip = ladder_command(mc.FFMPEG, real, [(renditions[0], "360p")])
    assert subprocess.run(same_for_a_real_clip, capture_output=True, check=False, cwd=outputs).returncode == 0


@pytest.mark.xdist_group("media")
def test_a_real_clip_in_another_container_still_plays(project: Project) -> None:
    """The container allowlist keeps formats that cameras and PCs write, not only MP4."""
    folder = add_episode(project, "2026-11-19-webm", "clip.mkv")
    mc.clip(folder / "clip.mkv", size="160x90", seconds=1.0)
    project.add_issue(1, "2026-11-20", "ふつうの号")
    result = project.run_build()
    assert result.returncode == 0, result.stderr
    assert list((project.site / "media" / "video").rglob("*.mp4"))


def test_a_published_issue_may_not_link_a_draft_or_a_future_issue(project: Project) -> None:
    before = good_site(project)
    project.add_issue(2, "2026-11-20", "書きかけ", "下書きです。", draft=True)
    project.add_issue(3, "2026-12-04", "来週の号", "予約です。")
    issue = project.add_issue(4, "2026-11-25", "今週の号", "本文です。\n\n[下書き](2.md)\n\n[来週](3.md)")
    result = project.run_build()
    assert result.returncode != 0
    draft_line, future_line = body_line(issue, "(2.md)"), body_line(issue, "(3.md)")
    assert re.search(rf"newsletter/2026/4\.md:{draft_line}: [^\n]*「2\.md」[^\n]*下書き", result.stderr), result.stderr
    assert re.search(rf"newsletter/2026/4\.md:{future_line}: [^\n]*「3\.md」[^\n]*2026年12月4日", result.stderr), result.stderr
    assert (project.site / "newsletter" / "1" / "index.html").read_bytes() == before

    project.build(command="serve")
    page = (project.site / "newsletter" / "4" / "index.html").read_text(encoding="utf-8")
    assert 'href="../2/"' in page and 'href="../3/"' in page

    project.add_issue(2, "2026-11-20", "書きかけ", "公開しました。")
    assert project.run_build(today="2026-12-04").returncode == 0
    page = (project.site / "newsletter" / "4" / "index.html").read_text(encoding="utf-8")
    assert 'href="../2/"' in page and 'href="../3/"' in page
