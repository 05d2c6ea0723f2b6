"""DX日記 on the site: what a staff member sees of an episode, built by real MkDocs with real ffmpeg."""

from __future__ import annotations

import re
import shutil

import av
import pytest

from conftest import Project
from dayori.build import prepare
from dayori.config import settings_from_file
from media_clips import clip, not_a_video
from testsupport.helpers import add_episode


@pytest.fixture
def with_episode(project: Project) -> Project:
    project.add_issue(2, "2026-11-20", "Teams のチャネル", "本文です。", videos=["2026-11-19-teams-channel"])
    add_episode(project, "2026-11-19-teams-channel", newsletter=2)
    clip(project.root / "videos" / "2026-11-19-teams-channel" / "clip.mp4", size="320x180", seconds=2.0)
    return project


def test_episode_page_offers_hls_first_then_mp4_and_loads_nothing_before_play(with_episode: Project) -> None:
    with_episode.build()
    page = (with_episode.site / "videos" / "2026-11-19-teams-channel" / "index.html").read_text(encoding="utf-8")
    tag = re.search(r"<video[^>]*>", page)
    assert tag is not None
    video = tag.group(0)
    assert 'controls' in video and 'preload="none"' in video and "poster=" in video
    kinds = re.findall(r'<source src="([^"]+)" type="([^"]+)"', page)
    assert [kind for _, kind in kinds] == ["application/vnd.apple.mpegurl", "video/mp4"], page
    assert kinds[0][0].endswith("/index.m3u8") and kinds[1][0].endswith("/240p.mp4")
    track = re.search(r'<track kind="captions" src="([^"]+)" srclang="ja" label="日本語" default>', page)
    assert track
    base = with_episode.site / "videos" / "2026-11-19-teams-channel"
    with av.open(str((base / kinds[1][0]).resolve())) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert container.duration is not None and abs(float(container.duration / av.time_base) - 2.0) < 0.15
    assert (base / kinds[0][0]).resolve().read_text(encoding="utf-8").startswith("#EXTM3U")
    assert (base / track.group(1)).resolve().read_text(encoding="utf-8").startswith("WEBVTT")
    assert "画面右上の「…」からチャネルを追加します。" in page
    assert "第2号 Teams のチャネル" in page
    downloads = re.findall(r'<a href="([^"]+)" download>([^<]+)</a>', page)
    sizes = {text: (base / href).resolve().stat().st_size for href, text in downloads if "字幕" not in text}
    assert [text.split("（")[0] for text in sizes] == ["動画 240p", "音声のみ"]
    for text, size in sizes.items():
        shown = re.search(r"(\d+(?:\.\d)?) (KB|MB)）", text)
        assert shown is not None, text
        assert abs(float(shown[1]) * (1024 if shown[2] == "KB" else 1024 * 1024) - size) <= 1024, (text, size)
    assert "再生時間 0:02" in page


def test_the_build_log_tells_how_far_each_transcode_is(with_episode: Project) -> None:
    result = with_episode.run_build()
    assert result.returncode == 0, result.stderr
    assert re.search(r"INFO +- +動画 1/1「チャネルの作り方」変換中 0 %（長さ 2 秒）", result.stderr), result.stderr
    assert "動画「チャネルの作り方」の変換が終わりました" in result.stderr
    again = with_episode.run_build()
    assert "変換中" not in again.stderr, "a warm build transcodes nothing and says nothing about it"


def test_gallery_issue_and_home_show_the_episode(with_episode: Project) -> None:
    with_episode.build()
    gallery = (with_episode.site / "videos" / "index.html").read_text(encoding="utf-8")
    assert "チャネルの作り方" in gallery and "0:02" in gallery
    issue = (with_episode.site / "newsletter" / "2" / "index.html").read_text(encoding="utf-8")
    assert "この号の動画（DX日記）" in issue and "../../videos/2026-11-19-teams-channel/" in issue
    assert "最新の DX日記" in (with_episode.site / "index.html").read_text(encoding="utf-8")


def test_rebuild_after_removing_the_site_runs_no_ffmpeg(with_episode: Project) -> None:
    with_episode.build()
    shutil.rmtree(with_episode.site)
    episode = with_episode.root / "videos" / "2026-11-19-teams-channel" / "index.md"
    episode.write_text(episode.read_text(encoding="utf-8").replace("チャネルを追加", "チャネルを作成"), encoding="utf-8")
    build = prepare(settings_from_file(with_episode.root / "mkdocs.yml"))
    assert (build.ffmpeg_runs, build.probes) == (0, 0)


def test_a_broken_clip_stops_the_build_with_its_episode_named(project: Project) -> None:
    add_episode(project, "2026-11-19-broken", clip_name="clip.mp4")
    not_a_video(project.root / "videos" / "2026-11-19-broken" / "clip.mp4")
    result = project.run_build()
    assert result.returncode != 0
    assert "videos/2026-11-19-broken/index.md" in result.stderr


def test_preview_shows_a_broken_clip_on_its_page_instead_of_stopping(project: Project) -> None:
    add_episode(project, "2026-11-19-broken", clip_name="clip.mp4")
    not_a_video(project.root / "videos" / "2026-11-19-broken" / "clip.mp4")
    project.build(command="serve")
    page = (project.site / "videos" / "2026-11-19-broken" / "index.html").read_text(encoding="utf-8")
    assert "動画を変換できませんでした" in page and "<video" not in page


def test_draft_episode_is_not_published(with_episode: Project) -> None:
    add_episode(with_episode, "2026-11-18-secret-draft", draft=True)
    clip(with_episode.root / "videos" / "2026-11-18-secret-draft" / "clip.mp4", seconds=1.0)
    with_episode.build()
    assert "secret-draft" not in with_episode.site_text()
    assert not (with_episode.site / "videos" / "2026-11-18-secret-draft").exists()
