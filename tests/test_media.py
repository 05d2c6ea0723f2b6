"""The media stage on real clips: what a viewer of the site would see, checked with PyAV and the file bytes."""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import m3u8
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dayori
import media_clips as mc
from conftest import Project
from dayori.config import Settings
from dayori.formats import file_size
from dayori.media import EpisodeMedia, MediaReport, process_episodes
from dayori.media.captions import captions_to_vtt
from dayori.media.commands import plan_renditions
from dayori.media.probe import Probe
from dayori.media.progress import Progress
from dayori.media.progress import _remaining as remaining_words
from dayori.model import Episode, Output, Rendition
from testsupport.helpers import make_episode, settings_for, wait_for


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Episode], MediaReport]:
    """One cold build of every playable case, shared by the tests that look at its outputs."""
    root = tmp_path_factory.mktemp("site")
    episodes = {
        "landscape": make_episode(root, "landscape", poster_at=1.0),
        "portrait": make_episode(root, "portrait"),
        "rotated": make_episode(root, "rotated"),
        "odd": make_episode(root, "odd"),
        "silent": make_episode(root, "silent"),
        "vfr": make_episode(root, "vfr"),
        "still": make_episode(root, "still"),
        "large": make_episode(root, "large"),
        "fast": make_episode(root, "fast"),
        "ladder": make_episode(root, "ladder"),
    }
    mc.clip(episodes["landscape"].clip)
    mc.clip(episodes["portrait"].clip, size="160x284")
    mc.rotated(episodes["rotated"].clip, mc.clip(episodes["rotated"].clip.with_name("raw.mp4")))
    mc.clip(episodes["odd"].clip, size="641x359", seconds=0.5, pix_fmt="yuv444p")
    mc.clip(episodes["silent"].clip, audio=False)
    mc.variable_rate(episodes["vfr"].clip)
    mc.still_with_audio(episodes["still"].clip)
    mc.clip(episodes["large"].clip, size="1280x720", seconds=1.0, rate=10)
    mc.clip(episodes["fast"].clip, size="640x360", seconds=1.0, rate=30)
    mc.clip(episodes["ladder"].clip, size="1280x720", seconds=5.0, rate=10)
    settings = settings_for(root)
    report = process_episodes(list(episodes.values()), settings, progress=False)
    assert report.problems == []
    return settings, episodes, report


def source_duration(path: Path) -> float:
    with av.open(str(path)) as container:
        assert container.duration is not None
        return container.duration / 1_000_000


def top_level_atoms(path: Path) -> list[str]:
    """Reads the MP4 box headers directly, as a browser's progressive download would meet them."""
    data = path.read_bytes()
    atoms, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8:offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        atoms.append(kind.decode("latin-1"))
        offset += size
    return atoms


def first_frame(path: Path) -> av.VideoFrame:
    with av.open(str(path)) as container:
        return next(container.decode(container.streams.video[0]))


def check_playable(path: Path, width: int, height: int, duration: float, audio: bool, channels: int = 2) -> None:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert video.profile == "High"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert container.duration is not None and abs(container.duration / 1_000_000 - duration) <= 0.1
        if audio:
            (sound,) = container.streams.audio
            assert sound.codec_context.name == "aac" and sound.profile == "LC"
            assert sound.codec_context.channels == channels
        else:
            assert not container.streams.audio
    frame = first_frame(path)
    assert (frame.width, frame.height) == (width, height)
    assert frame.rotation == 0
    # PyAV's side data yields the data when iterated, not the kinds
    assert not any("DISPLAYMATRIX" in str(kind) for kind in frame.side_data.keys())  # noqa: SIM118
    atoms = top_level_atoms(path)
    assert atoms.index("moov") < atoms.index("mdat")


@pytest.mark.parametrize("name, size, audio", [
    ("landscape", (320, 180), True),
    ("portrait", (160, 284), True),
    ("rotated", (180, 320), True),
    ("silent", (320, 180), False),
    ("vfr", (320, 180), True),
    ("still", (320, 180), True),
])
def test_small_clips_play_upright_at_their_own_size(site, name: str, size: tuple[int, int], audio: bool) -> None:
    """Below 240p every size collapses into one rung at the clip's own size, spending like the 240p rung."""
    _, episodes, report = site
    media = report.media[name]
    (rendition,) = media.renditions
    assert rendition.label == "240p" and (rendition.width, rendition.height) == size
    assert rendition.dest.startswith("media/video/") and rendition.dest.endswith("/240p.mp4")
    assert media.has_audio is audio
    check_playable(rendition.source, *size, source_duration(episodes[name].clip), audio, channels=1)
    assert (media.audio is not None) is audio


def test_a_clip_just_under_360p_keeps_its_size_and_gets_a_240p(site) -> None:
    _, episodes, report = site
    media = report.media["odd"]
    assert [(r.label, r.height) for r in media.renditions] == [("360p", 358), ("240p", 240)]
    assert media.renditions[0].width == 640 and abs(media.renditions[1].width - 641 * 240 / 359) <= 2
    check_playable(media.renditions[0].source, 640, 358, source_duration(episodes["odd"].clip), True)


def test_large_clip_gets_the_whole_ladder_largest_first(site) -> None:
    _, _, report = site
    media = report.media["large"]
    assert [(r.label, r.width, r.height) for r in media.renditions] == \
        [("720p", 1280, 720), ("360p", 640, 360), ("240p", 426, 240)]
    for rendition, channels in zip(media.renditions, (2, 2, 1), strict=True):
        check_playable(rendition.source, rendition.width, rendition.height, 1.0, True, channels)
        assert rendition.bytes == rendition.source.stat().st_size
    assert (media.width, media.height) == (1280, 720)
    assert media.audio is not None and media.audio.dest.endswith("/audio.m4a") and media.audio.mime == "audio/mp4"
    with av.open(str(media.audio.source)) as container:
        assert not container.streams.video
        (sound,) = container.streams.audio
        assert (sound.codec_context.name, sound.profile, sound.codec_context.channels) == ("aac", "LC", 1)
        assert sound.codec_context.bit_rate is not None and sound.codec_context.bit_rate <= 56_000
        assert container.duration is not None and abs(container.duration / 1_000_000 - 1.0) <= 0.1


def frame_rate(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        times = sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None)
    gaps = {round(b - a, 4) for a, b in itertools.pairwise(times)}
    assert len(gaps) == 1, gaps
    return 1 / gaps.pop()


def test_variable_frame_rate_becomes_constant(site) -> None:
    """The 30/10 fps recording plays at a steady 24 fps in the 240p rung (the rung's cap)."""
    _, _, report = site
    assert round(frame_rate(report.media["vfr"].renditions[0].source), 1) == 24.0


def test_only_the_240p_rung_drops_to_24_fps(site) -> None:
    _, _, report = site
    rates = [round(frame_rate(r.source), 1) for r in report.media["fast"].renditions]
    assert [r.label for r in report.media["fast"].renditions] == ["360p", "240p"] and rates == [30.0, 24.0]


def test_loudness_is_normalised_to_minus_16_lufs(site) -> None:
    _, _, report = site
    output = report.media["landscape"].renditions[0].source
    measured = subprocess.run([mc.FFMPEG, "-hide_banner", "-nostats", "-i", str(output), "-map", "0:a",
                               "-af", "ebur128", "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", measured)[-1])
    assert abs(integrated - (-16)) <= 1.0


def test_an_added_size_makes_only_the_new_rendition(tmp_path: Path) -> None:
    episode = make_episode(tmp_path, "sizes")
    mc.clip(episode.clip, size="1280x720", seconds=1.0, rate=10)
    first = process_episodes([episode], settings_for(tmp_path, renditions=(720, 360)), progress=False)
    made = {r.label: (r.source, r.source.stat().st_mtime_ns) for r in first.media["sizes"].renditions}
    second = process_episodes([episode], settings_for(tmp_path), progress=False)
    assert second.problems == [] and second.ffmpeg_runs == 1
    renditions = second.media["sizes"].renditions
    assert [(r.label, r.width, r.height) for r in renditions] == [("720p", 1280, 720), ("360p", 640, 360),
                                                                  ("240p", 426, 240)]
    assert {r.label: (r.source, r.source.stat().st_mtime_ns) for r in renditions[:2]} == made
    check_playable(renditions[2].source, 426, 240, 1.0, True, channels=1)


def jpeg_markers(data: bytes) -> list[int]:
    """The JPEG segment markers up to the first scan, read from the bytes (SOF0 baseline, SOF2 progressive)."""
    markers, offset = [], 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        offset += 2 + struct.unpack(">H", data[offset + 2:offset + 4])[0]
    return markers


def test_poster_is_a_small_progressive_jpeg_sized_for_the_page_and_the_still_is_fixed(site) -> None:
    _, _, report = site
    for name, poster_size in [("landscape", (320, 180)), ("portrait", (160, 284)), ("large", (640, 360))]:
        media = report.media[name]
        assert media.poster.dest.endswith("/poster.jpg") and media.still.dest.endswith("/still.jpg")
        poster, still = first_frame(media.poster.source), first_frame(media.still.source)
        assert (poster.width, poster.height) == poster_size
        assert (still.width, still.height) == (1200, 675)
        data = media.poster.source.read_bytes()
        assert data[:2] == b"\xff\xd8" and len(data) <= 25_000
        assert 0xC2 in jpeg_markers(data) and 0xC0 not in jpeg_markers(data), "not a progressive JPEG"


def test_outputs_list_every_file_once_under_one_folder(site) -> None:
    _, _, report = site
    media = report.media["landscape"]
    outputs = media.outputs()
    dests = [o.dest for o in outputs]
    assert len(set(dests)) == len(dests)
    assert len({d.split("/")[2] for d in dests}) == 1 and all(d.startswith("media/video/") for d in dests)
    named = {d.split("/", 3)[3] for d in dests}
    assert {"240p.mp4", "audio.m4a", "index.m3u8", "poster.jpg", "still.jpg", "captions.vtt",
            "hls/240p/index.m3u8", "hls/240p/init.mp4", "hls/audio/index.m3u8", "hls/audio/init.mp4"} <= named
    assert {d.split("/")[1] for d in named if d.endswith(".m4s")} == {"240p", "audio"}
    captions = next(o for o in outputs if o.dest.endswith(".vtt"))
    assert captions.content.decode().startswith("WEBVTT")


def test_warm_rebuild_runs_nothing_even_after_the_site_folder_is_deleted(site, tmp_path: Path) -> None:
    settings, episodes, cold = site
    built = tmp_path / "site"
    for media in cold.media.values():
        for output in media.outputs():
            target = built / output.dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(output.data())
    shutil.rmtree(built)
    warm = process_episodes(list(episodes.values()), settings, progress=False)
    assert (warm.ffmpeg_runs, warm.probes, warm.hashed) == (0, 0, 0)
    assert {k: [o.dest for o in m.outputs()] for k, m in warm.media.items()} == \
        {k: [o.dest for o in m.outputs()] for k, m in cold.media.items()}


MEDIA_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from testsupport.helpers import make_episode, settings_for
from dayori.media import process_episodes
root = Path(sys.argv[1])
report = process_episodes([make_episode(root, "recipe")], settings_for(root), progress=False)
assert report.problems == [], report.problems
print(report.ffmpeg_runs)
"""


def test_a_change_to_how_commands_are_built_makes_the_outputs_again(tmp_path: Path) -> None:
    """The cache key covers the command-building code itself: a changed filter graph (here the audio sample
    rate) needs no version number bumped by hand. Each run imports its own copy of the package."""
    project = tmp_path / "project"
    mc.clip(make_episode(project, "recipe").clip, seconds=0.5)
    source = Path(dayori.__file__).parent
    script = MEDIA_RUN.format(root=str(Path(__file__).parents[1]))

    def runs(package: Path) -> int:
        env = {**os.environ, "PYTHONPATH": str(package.parent)}
        result = subprocess.run([sys.executable, "-c", script, str(project)], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return int(result.stdout.split()[-1])

    original = shutil.copytree(source, tmp_path / "original" / "dayori", ignore=shutil.ignore_patterns("__pycache__"))
    changed = shutil.copytree(source, tmp_path / "changed" / "dayori", ignore=shutil.ignore_patterns("__pycache__"))
    commands = changed / "media" / "commands.py"
    text = commands.read_text(encoding="utf-8")
    assert '.filter("aresample", AUDIO_RATE)' in text
    commands.write_text(text.replace('.filter("aresample", AUDIO_RATE)', '.filter("aresample", 44_100)'),
                        encoding="utf-8")
    assert runs(original) > 0
    assert runs(original) == 0  # warm: the same code finds its outputs
    assert runs(changed) > 0


def test_changed_clip_is_made_again_under_a_new_folder(tmp_path: Path) -> None:
    episode = make_episode(tmp_path, "changed")
    mc.clip(episode.clip, seconds=1.0)
    settings = settings_for(tmp_path)
    first = process_episodes([episode], settings, progress=False)
    mc.clip(episode.clip, seconds=1.0, size="320x240")
    second = process_episodes([episode], settings, progress=False)
    assert second.ffmpeg_runs == 2 and second.probes == 1
    assert first.media["changed"].renditions[0].dest != second.media["changed"].renditions[0].dest
    assert (second.media["changed"].width, second.media["changed"].height) == (320, 240)


def written_in_progress(files: Path) -> list[Path]:
    """Files ffmpeg has started writing in a transcode's own `.tmp-…` folder."""
    return [p for p in files.glob(".tmp-*/**/*") if p.is_file() and p.stat().st_size > 0]


def test_build_killed_mid_transcode_leaves_nothing_taken_as_finished(tmp_path: Path) -> None:
    episode = make_episode(tmp_path, "killed")
    mc.clip(episode.clip, size="640x360", seconds=6.0, rate=30)
    files = tmp_path / ".cache" / "dayori" / "media" / "files"
    script = (f"import sys; sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n"
              "from testsupport.helpers import make_episode, settings_for\n"
              "from pathlib import Path\n"
              "from dayori.media import process_episodes\n"
              f"root = Path({str(tmp_path)!r})\n"
              "process_episodes([make_episode(root, 'killed')], settings_for(root, jobs=1), progress=False)\n")
    child = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    wait_for(lambda: child.poll() is not None or any(p.suffix == ".m4s" for p in written_in_progress(files)),
             "the transcode writing its first segment")
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert written_in_progress(files), "the build finished before it could be killed"
    assert not [p for p in files.iterdir() if p.suffix in (".mp4", ".m4a", ".hls")], "a half-made file looks finished"
    report = process_episodes([episode], settings_for(tmp_path), progress=False)
    assert report.problems == [] and report.ffmpeg_runs == 2
    for rendition, channels in zip(report.media["killed"].renditions, (2, 1), strict=True):
        check_playable(rendition.source, rendition.width, rendition.height, 6.0, True, channels)


def test_broken_clips_are_editor_errors_naming_the_episode(tmp_path: Path) -> None:
    good = make_episode(tmp_path, "good")
    mc.clip(good.clip, seconds=1.0)
    settings = settings_for(tmp_path)
    assert process_episodes([good], settings, progress=False).problems == []
    cached = sorted((tmp_path / ".cache").rglob("*.mp4"))

    truncated = make_episode(tmp_path, "truncated")
    mc.truncated(truncated.clip, mc.clip(truncated.clip.with_name("whole.mp4"), seconds=3.0))
    document = make_episode(tmp_path, "document")
    mc.not_a_video(document.clip)
    missing = make_episode(tmp_path, "missing", clip_name="nothere.mp4")
    outside = make_episode(tmp_path, "outside", clip_name="../2026-10-02-good/clip.mp4")
    report = process_episodes([good, truncated, document, missing, outside], settings, progress=False)

    by_episode = {p.path.parent.name.removeprefix("2026-10-02-"): p for p in report.problems}
    assert set(by_episode) == {"document", "missing", "outside"}, "a transcode never starts while inputs are wrong"
    assert all(p.path.name == "index.md" and p.line == 4 for p in by_episode.values())
    assert "動画として読み取れません" in by_episode["document"].message
    assert "見つかりません" in by_episode["missing"].message and "nothere.mp4" in by_episode["missing"].message
    assert "フォルダーの外" in by_episode["outside"].message
    assert sorted((tmp_path / ".cache").rglob("*.mp4")) == cached
    assert "good" in report.media

    report = process_episodes([good, truncated], settings, progress=False)
    (problem,) = report.problems
    assert problem.path == truncated.source and problem.line == 4
    assert "切れているか壊れて" in problem.message and "ffmpeg:" in problem.message
    assert "truncated" not in report.media and "good" in report.media
    assert all(p.exists() for p in cached)


def test_keep_going_records_the_error_and_builds_the_rest(tmp_path: Path) -> None:
    good = make_episode(tmp_path, "good")
    mc.clip(good.clip, seconds=1.0)
    broken = make_episode(tmp_path, "broken")
    mc.not_a_video(broken.clip)
    report = process_episodes([broken, good], settings_for(tmp_path), keep_going=True, progress=False)
    assert isinstance(report.media["broken"], EpisodeMedia)
    assert report.media["broken"].error and "動画として読み取れません" in report.media["broken"].error
    assert report.media["broken"].outputs() == []
    assert report.media["good"].error is None and report.media["good"].renditions


def test_limits_are_checked(tmp_path: Path) -> None:
    episode = make_episode(tmp_path, "long", poster_at=9.0)
    mc.clip(episode.clip, seconds=2.0)
    (problem,) = process_episodes([episode], settings_for(tmp_path, max_duration=1.0), progress=False).problems
    assert "長すぎます" in problem.message and problem.line == 4
    (problem,) = process_episodes([episode], settings_for(tmp_path), progress=False).problems
    assert "poster_at" in problem.message and problem.line == 6
    (problem,) = process_episodes([episode], settings_for(tmp_path, max_bytes=1000), progress=False).problems
    assert "大きすぎます" in problem.message


def test_missing_captions_warn_and_fail_when_strict(tmp_path: Path) -> None:
    episode = make_episode(tmp_path, "nocaptions", captions=None)
    mc.clip(episode.clip, seconds=1.0)
    report = process_episodes([episode], settings_for(tmp_path), progress=False)
    assert report.problems == [] and report.media["nocaptions"].captions is None
    (warning,) = report.warnings
    assert "字幕がありません" in warning and "JIS X 8341-3" in warning and "index.md" in warning
    strict = replace(settings_for(tmp_path), strict=True)
    (problem,) = process_episodes([episode], strict, progress=False).problems
    assert "字幕がありません" in problem.message


def test_srt_becomes_webvtt(tmp_path: Path) -> None:
    srt = tmp_path / "captions.srt"
    srt.write_bytes("\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<font color=\"red\">こんにちは。</font>\r\n\r\n"
                    "2\r\n00:00:03,000 --> 00:01:04,250\r\n二行目の\r\n字幕です。\r\n".encode())
    vtt, problems = captions_to_vtt(srt)
    assert problems == []
    assert vtt == ("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nこんにちは。\n\n"
                   "00:00:03.000 --> 00:01:04.250\n二行目の\n字幕です。\n")


@pytest.mark.parametrize("name, text, line, words", [
    ("bad.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nはい\n\n00:02,000 --> 00:03.000\nいいえ\n", 6, "「.」"),
    ("bad.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nはい\n\n00:03.000 --> 00:02.000\nいいえ\n", 6, "終了時刻"),
    ("bad.vtt", "WEBVTT\n\n00:05.000 --> 00:06.000\nはい\n\n00:01.000 --> 00:02.000\nいいえ\n", 6, "順に"),
    ("bad.vtt", "字幕\n\n00:00.000 --> 00:01.000\nはい\n", 1, "WEBVTT"),
    ("bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nはい\n\n2\n00:00:03 --> 00:00:04,000\nいいえ\n", 6, "書き方"),
    ("bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nはい\n\n2\nいいえ\n", 5, "時刻の行"),
    ("bad.srt", "1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:03,000 --> 00:00:04,000\nいいえ\n", 2, "空です"),
])
def test_broken_captions_name_their_line(tmp_path: Path, name: str, text: str, line: int, words: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    vtt, problems = captions_to_vtt(path)
    assert vtt is None
    assert [(p.path, p.line) for p in problems][:1] == [(path, line)]
    assert words in problems[0].message


def test_shift_jis_captions_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "sjis.vtt"
    path.write_bytes("WEBVTT\n\n00:00.000 --> 00:01.000\nこんにちは\n".encode("shift_jis"))
    _, (problem,) = captions_to_vtt(path)
    assert problem.line == 4 and "UTF-8" in problem.message


def test_broken_caption_file_stops_the_episode_with_its_line(tmp_path: Path) -> None:
    episode = make_episode(tmp_path, "badcaptions", captions="captions.vtt")
    assert episode.captions is not None
    episode.captions.write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nはい\n\n00:02.000 -> 00:03.000\nいいえ\n",
                                encoding="utf-8")
    mc.clip(episode.clip, seconds=1.0)
    (problem,) = process_episodes([episode], settings_for(tmp_path), progress=False).problems
    assert problem.path == episode.captions.relative_to(tmp_path) and problem.line == 6


def published(media: EpisodeMedia) -> dict[str, Output]:
    return {output.dest: output for output in media.outputs()}


def beside(dest: str, uri: str) -> str:
    """A playlist's relative URI as the site path a browser would request."""
    return f"{dest.rsplit('/', 1)[0]}/{uri}"


def variants(media: EpisodeMedia) -> list[Any]:
    assert media.playlist is not None and media.playlist.content is not None
    master = m3u8.loads(media.playlist.content.decode())
    assert master.is_variant
    return list(master.playlists)


def stream_of(media: EpisodeMedia, variant: Any) -> tuple[str, Any]:
    """(the variant playlist's site path, the playlist read back with m3u8)."""
    assert media.playlist is not None
    dest = beside(media.playlist.dest, variant.uri)
    return dest, m3u8.loads(published(media)[dest].data().decode())


def segment_files(media: EpisodeMedia, variant: Any) -> tuple[bytes, list[tuple[bytes, float]]]:
    """The init segment and each media segment with its declared length, as a player fetches them."""
    dest, playlist = stream_of(media, variant)
    files = published(media)
    (init,) = {segment.init_section.uri for segment in playlist.segments}
    return files[beside(dest, init)].data(), [(files[beside(dest, s.uri)].data(), s.duration)
                                             for s in playlist.segments]


def test_the_master_playlist_lists_every_rung_lowest_first_and_the_sound_alone_last(site) -> None:
    _, _, report = site
    media = report.media["ladder"]
    listed = variants(media)
    videos = [v for v in listed if v.stream_info.resolution]
    assert [v.stream_info.resolution for v in videos] == [(426, 240), (640, 360), (1280, 720)]
    assert [v.uri for v in videos] == ["hls/240p/index.m3u8", "hls/360p/index.m3u8", "hls/720p/index.m3u8"]
    assert [v.stream_info.frame_rate for v in videos] == [10.0, 10.0, 10.0]
    (sound,) = [v for v in listed if not v.stream_info.resolution]
    assert listed[-1] is sound and sound.stream_info.codecs == "mp4a.40.2"
    bandwidths = [v.stream_info.bandwidth for v in videos]
    assert bandwidths == sorted(bandwidths) and sound.stream_info.bandwidth < bandwidths[0]
    for variant in videos:
        assert variant.stream_info.codecs.split(",")[1] == "mp4a.40.2"
        assert variant.stream_info.average_bandwidth <= variant.stream_info.bandwidth
    uris = [v.uri for v in listed]
    for variant in listed:
        _, playlist = stream_of(media, variant)
        uris += [playlist.segment_map[0].uri, *(segment.uri for segment in playlist.segments)]
    assert all(":" not in uri and not uri.startswith(("/", ".")) and "\\" not in uri for uri in uris), \
        "a playlist names only files beside it, never another host or folder"


@pytest.mark.parametrize("label, budget", [("240p", 200_000 + 48_000), ("360p", 530_000 + 64_000),
                                           ("720p", 1_650_000 + 128_000), ("audio", 48_000)])
def test_each_rung_stays_near_its_rate_and_declares_its_true_peak(site, label: str, budget: int) -> None:
    """BANDWIDTH is what a player plans with: it must cover the largest segment, and the rung must stay within
    its budget (plus a one-second buffer and the container's overhead) on a clip that fills every frame."""
    _, _, report = site
    media = report.media["ladder"]
    variant = next(v for v in variants(media) if v.uri == f"hls/{label}/index.m3u8")
    _, segments = segment_files(media, variant)
    peak = max(len(data) * 8 / seconds for data, seconds in segments if seconds >= 1.0)
    assert peak <= variant.stream_info.bandwidth <= 1.6 * budget + 16_000
    total = sum(len(data) for data, _ in segments) * 8 / sum(seconds for _, seconds in segments)
    assert total <= variant.stream_info.average_bandwidth * 1.01


def test_every_stream_is_a_vod_playlist_of_2_s_segments_that_decode_to_the_whole_clip(site, tmp_path: Path) -> None:
    _, episodes, report = site
    media = report.media["ladder"]
    length = source_duration(episodes["ladder"].clip)
    for variant in variants(media):
        _, playlist = stream_of(media, variant)
        assert playlist.playlist_type == "vod" and playlist.is_endlist and playlist.version >= 6
        assert 2 <= playlist.target_duration <= 4
        durations = [segment.duration for segment in playlist.segments]
        assert all(1.9 <= d <= playlist.target_duration + 0.5 for d in durations[:-1]), durations
        assert abs(sum(durations) - length) <= 0.1
        init, segments = segment_files(media, variant)
        joined = tmp_path / f"{variant.uri.replace('/', '-')}.mp4"
        joined.write_bytes(init + b"".join(data for data, _ in segments))
        with av.open(str(joined)) as container:
            if variant.stream_info.resolution:
                stream = container.streams.video[0]
                frames = list(container.decode(stream))
                assert (frames[0].width, frames[0].height) == variant.stream_info.resolution
                assert abs(len(frames) / 10 - length) <= 0.15
                extradata = stream.codec_context.extradata
                assert extradata is not None
                level = extradata[1:4].hex()
                assert variant.stream_info.codecs.split(",")[0] == f"avc1.{level}"
                assert stream.profile == "High"
            else:
                assert not container.streams.video
                sound = container.streams.audio[0]
                samples = sum(frame.samples for frame in container.decode(sound))
                assert abs(samples / sound.codec_context.sample_rate - length) <= 0.1


def keyframe_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        return sorted(float(p.pts * stream.time_base) for p in container.demux(stream)
                      if p.is_keyframe and p.size and p.pts is not None)


def test_keyframes_fall_every_2_s_at_the_same_instants_in_every_rung(site) -> None:
    """A player may switch rung at any segment boundary only if every rung starts a picture there."""
    _, _, report = site
    media = report.media["ladder"]
    keyframes = [[round(t, 1) for t in keyframe_times(rendition.source)] for rendition in media.renditions]
    assert keyframes == [[0.0, 2.0, 4.0]] * 3
    for variant in variants(media):
        if not variant.stream_info.resolution:
            continue
        init, segments = segment_files(media, variant)
        for index, (data, _) in enumerate(segments):
            with av.open(io.BytesIO(init + data), mode="r") as container:
                first = next(p for p in container.demux(container.streams.video[0]) if p.size)
                assert first.is_keyframe, (variant.uri, index)


def test_a_silent_clip_has_no_sound_alone_and_no_audio_codec(site) -> None:
    _, _, report = site
    media = report.media["silent"]
    assert media.audio is None
    (only,) = variants(media)
    assert only.stream_info.codecs.startswith("avc1.") and "mp4a" not in only.stream_info.codecs
    assert [r.label for r in media.downloads()] == ["240p"]


def test_downloads_are_360p_and_up_then_the_sound_and_fallbacks_go_smallest_first(site) -> None:
    _, _, report = site
    media = report.media["ladder"]
    assert [r.label for r in media.downloads()] == ["360p", "720p", "音声のみ"]
    assert [(r.label, query) for r, query in media.fallbacks()] == [
        ("240p", "(max-width: 426px), (max-height: 300px)"),
        ("360p", "(max-width: 640px), (max-height: 450px)"),
        ("720p", None)]


def probe_of(width: int, height: int, rate: float, audio: bool = True, bit_rate: int = 0) -> Probe:
    return Probe(duration=10.0, width=width, height=height, coded_width=width, coded_height=height, rotation=0,
                 frame_rate=rate, nominal_frame_rate=rate, variable_frame_rate=False, has_audio=audio,
                 audio_codec="aac" if audio else "", audio_channels=2 if audio else 0, video_codec="h264",
                 profile="High", pix_fmt="yuv420p", bit_rate=bit_rate, video_bit_rate=bit_rate, is_still=False,
                 square_pixels=True)


@given(width=st.integers(2, 4096), height=st.integers(2, 4096), rate=st.floats(1, 120),
       bit_rate=st.integers(0, 50_000_000), targets=st.sets(st.sampled_from([1080, 720, 480, 360, 240, 144]),
                                                             min_size=1).map(tuple))
def test_the_ladder_never_enlarges_and_every_rung_is_smaller_and_cheaper_than_the_last(
        width: int, height: int, rate: float, bit_rate: int, targets: tuple[int, ...]) -> None:
    plans = plan_renditions(probe_of(width, height, rate, bit_rate=bit_rate), targets)
    assert plans, "a clip always gets at least one rung"
    labels = [plan.label for plan in plans]
    assert len(set(labels)) == len(labels)
    for plan in plans:
        assert plan.width <= max(2, width) + 1 and plan.height <= max(2, height) + 1
        assert plan.width % 2 == 0 and plan.height % 2 == 0
        assert min(plan.width, plan.height) <= int(plan.label[:-1]) + 1
        assert 0 < Fraction(plan.frame_rate) <= (24 if int(plan.label[:-1]) <= 240 else 30)
        assert plan.max_bitrate >= 64_000
    for larger, smaller in itertools.pairwise(plans):
        assert smaller.width * smaller.height < larger.width * larger.height
        assert smaller.max_bitrate <= larger.max_bitrate


@given(sizes=st.lists(st.tuples(st.integers(16, 4000), st.integers(16, 4000)), min_size=1, max_size=5,
                      unique_by=lambda size: size[0] * size[1]))
def test_fallbacks_go_smallest_first_and_only_the_largest_has_no_condition(sizes: list[tuple[int, int]]) -> None:
    renditions = tuple(Rendition(f"{i}p", f"media/{i}.mp4", Path(f"{i}.mp4"), w, h, 1) for i, (w, h) in enumerate(sizes))
    media = EpisodeMedia(slug="x", renditions=renditions, poster=None, still=None, captions=None, duration=1.0,
                         width=0, height=0, has_audio=False)
    chosen = media.fallbacks()
    areas = [r.width * r.height for r, _ in chosen]
    assert areas == sorted(areas) and len(chosen) == len(sizes)
    assert [query is None for _, query in chosen] == [False] * (len(sizes) - 1) + [True]
    for rendition, query in chosen[:-1]:
        assert query == f"(max-width: {rendition.width}px), (max-height: {round(rendition.height / 0.8)}px)"


CONCURRENT_BUILD = """
import logging
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from testsupport.helpers import make_episode, settings_for
from dayori.media import process_episodes
logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
root = Path(sys.argv[1])
report = process_episodes([make_episode(root, "shared")], settings_for(root, jobs=1), progress_every=3600)
assert report.problems == [], report.problems
print(report.ffmpeg_runs, " ".join(o.dest for o in report.media["shared"].outputs()), flush=True)
"""


def test_a_second_build_at_the_same_time_waits_for_the_transcode_and_uses_it(tmp_path: Path) -> None:
    """The first build is frozen (SIGSTOP) mid-transcode, holding the clip's lock; the second must wait, say so,
    and, once the first has finished, publish the first one's files without transcoding the clip again."""
    episode = make_episode(tmp_path, "shared")
    mc.clip(episode.clip, size="640x360", seconds=4.0, rate=30)
    files = tmp_path / ".cache" / "dayori" / "media" / "files"
    script = CONCURRENT_BUILD.format(root=str(Path(__file__).parents[1]))
    command = [sys.executable, "-c", script, str(tmp_path)]
    first = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    second = None
    try:
        wait_for(lambda: any(p.suffix == ".m4s" for p in written_in_progress(files)) or first.poll() is not None,
                 "the first build starting to transcode")
        assert first.poll() is None, "the first build finished before it could be stopped"
        os.killpg(first.pid, signal.SIGSTOP)
        second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        waited = ""
        deadline = time.monotonic() + 60
        assert second.stderr is not None
        while "ほかのビルドが変換中" not in waited:
            assert time.monotonic() < deadline and second.poll() is None, waited
            waited += second.stderr.readline()
        assert "「shared」" in waited
        os.killpg(first.pid, signal.SIGCONT)
        first_out, first_err = first.communicate(timeout=120)
        second_out, second_err = second.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGCONT)
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
    assert first.returncode == 0 and second.returncode == 0, first_err + second_err
    first_runs, first_files = first_out.split(" ", 1)
    second_runs, second_files = second_out.split(" ", 1)
    # One build alone runs ffmpeg twice (the ladder, then the poster and still). The frozen first build holds the
    # ladder; once it resumes, either build may take the pictures' lock first: no job runs twice, and the
    # second never transcodes (its only progress line is the wait).
    assert int(first_runs) >= 1 and int(first_runs) + int(second_runs) == 2
    assert first_files == second_files
    assert "変換中 0 %" in first_err and "変換中" not in second_err.replace("ほかのビルドが変換中", "")


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_after_a_build_a_progress_line_reaches_mkdocs_and_the_root_logger_once(project: Project) -> None:
    """A build sends the engine's lines through MkDocs' logger (what `mkdocs build` shows); a program that logs at
    its root, as a test runner does, got each of them twice: once from the engine, once through MkDocs."""
    project.build()
    shown, root = _Kept(), _Kept()
    logging.getLogger("mkdocs").addHandler(shown)
    logging.getLogger().addHandler(root)
    try:
        logging.getLogger("dayori.media").warning("動画「テスト」の変換が終わりました")
    finally:
        logging.getLogger("mkdocs").removeHandler(shown)
        logging.getLogger().removeHandler(root)
    assert shown.messages == ["動画「テスト」の変換が終わりました"]
    assert root.messages == ["動画「テスト」の変換が終わりました"]


def test_progress_lines_count_the_transcodes_and_estimate_what_is_left(caplog: pytest.LogCaptureFixture) -> None:
    """ffmpeg's own reports, as seconds of output written, at most every `every` seconds of the clock."""
    now = [0.0]
    progress = Progress(3, every=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="dayori.media"):
        report = progress.start("Teams の使い方", 300.0)
        for second in range(1, 121):
            now[0] = float(second)
            report(second * 1.25)  # 1.25 s of video per second: 240 s left of 300, at that pace 192 s
        progress.finished("Teams の使い方", 120.0)
        progress.start("次の動画", 60.0)
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "動画 1/3「Teams の使い方」変換中 0 %（長さ 5 分 0 秒）"
    assert lines[1] == "動画 1/3「Teams の使い方」変換中 4 %・残り約 4 分"
    assert lines[-3] == "動画 1/3「Teams の使い方」変換中 50 %・残り約 2 分"
    assert len(lines) == 2 + 12 + 1
    assert lines[-2] == "動画「Teams の使い方」の変換が終わりました（2 分 0 秒）"
    assert lines[-1].startswith("動画 2/3「次の動画」変換中 0 %")


@given(elapsed=st.floats(0, 10_000), fraction=st.floats(0, 1))
def test_the_remaining_time_reads_as_a_rounded_japanese_estimate(elapsed: float, fraction: float) -> None:
    words = remaining_words(elapsed, fraction)
    if not 0.02 <= fraction < 1:
        assert words == ""
        return
    match = re.fullmatch(r"・残り約 (\d+) (秒|分)", words)
    assert match is not None, words
    left = elapsed * (1 - fraction) / fraction
    shown = int(match[1]) * (60 if match[2] == "分" else 1)
    assert shown >= 10 and (match[2] == "分" or shown % 10 == 0)
    assert abs(shown - left) <= max(30, 0.5 * 60 if match[2] == "分" else 10)


@given(size=st.integers(0, 10**11))
def test_download_sizes_read_as_windows_shows_them(size: int) -> None:
    shown = file_size(size)
    match = re.fullmatch(r"(\d+(?:\.\d)?) (KB|MB)", shown)
    assert match is not None, shown
    value = float(match[1]) * (1024 if match[2] == "KB" else 1024 * 1024)
    assert abs(value - size) <= (1024 if match[2] == "KB" else 0.05 * 1024 * 1024) + 1
