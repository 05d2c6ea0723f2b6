"""The media stage on real clips: what a viewer of the site would see, checked with PyAV and the file bytes."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import pytest

import dayori
import media_clips as mc
from dayori.config import MediaSettings, Settings
from dayori.errors import Problems
from dayori.frontmatter import read_document
from dayori.media import EpisodeMedia, MediaReport, process_episodes
from dayori.media.captions import captions_to_vtt
from dayori.model import Body, Episode


def make_episode(root: Path, slug: str, clip_name: str = "clip.mp4", *, captions: str | None = "captions.vtt",
                 poster_at: float | None = None) -> Episode:
    """Like the content loader makes them: files absolute, `source` relative to the project root."""
    folder = root / "videos" / f"2026-10-02-{slug}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", f"title: {slug}", "date: 2026-10-02", f"clip: {clip_name}"]
    if captions:
        lines.append(f"captions: {captions}")
        if not (folder / captions).exists():
            (folder / captions).write_text("WEBVTT\n\n00:00.000 --> 00:01.500\nこんにちは。\n", encoding="utf-8")
    if poster_at is not None:
        lines.append(f"poster_at: {poster_at}")
    index = folder / "index.md"
    index.write_text("\n".join([*lines, "---", "", "本文"]) + "\n", encoding="utf-8")
    document = read_document(index, index, Problems())
    assert document is not None
    return Episode(slug=slug, date=dt.date(2026, 10, 2), title=slug, summary="", tags=(), draft=False,
                   clip=folder / clip_name, captions=folder / captions if captions else None, poster_at=poster_at,
                   newsletter=None, source=folder.relative_to(root) / "index.md", body=Body(html="", text="", toc=()),
                   key_lines=tuple(document.key_lines.items()))


def settings_for(root: Path, **media: Any) -> Settings:
    return Settings(root=root, site_url="http://localhost:8000/", media=replace(MediaSettings(), **media))


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
        "fitting": make_episode(root, "fitting"),
    }
    mc.clip(episodes["landscape"].clip)
    mc.clip(episodes["portrait"].clip, size="160x284")
    mc.rotated(episodes["rotated"].clip, mc.clip(episodes["rotated"].clip.with_name("raw.mp4")))
    mc.clip(episodes["odd"].clip, size="641x359", seconds=0.5, pix_fmt="yuv444p")
    mc.clip(episodes["silent"].clip, audio=False)
    mc.variable_rate(episodes["vfr"].clip)
    mc.still_with_audio(episodes["still"].clip)
    mc.clip(episodes["large"].clip, size="1280x720", seconds=1.0, rate=10)
    mc.clip(episodes["fitting"].clip, size="640x360", extra=("-b:v", "200k", "-maxrate", "250k", "-bufsize", "500k"))
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


def check_playable(path: Path, width: int, height: int, duration: float, audio: bool) -> None:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert video.profile == "High"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert container.duration is not None and abs(container.duration / 1_000_000 - duration) <= 0.1
        if audio:
            (sound,) = container.streams.audio
            assert sound.codec_context.name == "aac" and sound.profile == "LC"
            assert sound.codec_context.channels == 2
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
    ("odd", (640, 358), True),
    ("silent", (320, 180), False),
    ("vfr", (320, 180), True),
    ("still", (320, 180), True),
])
def test_small_clips_play_upright_at_their_own_size(site, name: str, size: tuple[int, int], audio: bool) -> None:
    _, episodes, report = site
    media = report.media[name]
    (rendition,) = media.renditions
    assert rendition.label == "360p" and (rendition.width, rendition.height) == size
    assert rendition.dest.startswith("media/video/") and rendition.dest.endswith("/360p.mp4")
    assert media.has_audio is audio
    check_playable(rendition.source, *size, source_duration(episodes[name].clip), audio)


def test_large_clip_gets_both_renditions_largest_first(site) -> None:
    _, _, report = site
    media = report.media["large"]
    assert [(r.label, r.width, r.height) for r in media.renditions] == [("720p", 1280, 720), ("360p", 640, 360)]
    for rendition in media.renditions:
        check_playable(rendition.source, rendition.width, rendition.height, 1.0, True)
        assert rendition.bytes == rendition.source.stat().st_size
    assert (media.width, media.height) == (1280, 720)


def test_variable_frame_rate_becomes_constant(site) -> None:
    _, _, report = site
    with av.open(str(report.media["vfr"].renditions[0].source)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        times = [float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None]
    gaps = {round(b - a, 4) for a, b in zip(sorted(times), sorted(times)[1:], strict=False)}
    assert gaps == {round(1 / 30, 4)}


def test_loudness_is_normalised_to_minus_16_lufs(site) -> None:
    _, _, report = site
    output = report.media["landscape"].renditions[0].source
    measured = subprocess.run([mc.FFMPEG, "-hide_banner", "-nostats", "-i", str(output), "-map", "0:a",
                               "-af", "ebur128", "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", measured)[-1])
    assert abs(integrated - (-16)) <= 1.0


def test_fitting_source_is_remuxed_not_reencoded(site) -> None:
    _, episodes, report = site
    (rendition,) = report.media["fitting"].renditions
    assert rendition.remuxed and report.remuxed == 1
    def video_packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(container.streams.video[0]) if p.size]
    assert video_packets(rendition.source) == video_packets(episodes["fitting"].clip)
    atoms = top_level_atoms(rendition.source)
    assert atoms.index("moov") < atoms.index("mdat")


def test_fitting_720p_clip_keeps_its_video_and_still_gets_a_360p(tmp_path: Path) -> None:
    """Both sizes come from one ffmpeg run: the copied 720p and the encoded 360p from one read of the clip."""
    episode = make_episode(tmp_path, "fitting720")
    mc.clip(episode.clip, size="1280x720", seconds=1.0, rate=10,
            extra=("-b:v", "300k", "-maxrate", "300k", "-bufsize", "600k"))
    report = process_episodes([episode], settings_for(tmp_path), progress=False)
    assert report.problems == [] and report.ffmpeg_runs == 2 and report.remuxed == 1
    large, small = report.media["fitting720"].renditions
    assert (large.label, large.remuxed, small.label, small.remuxed) == ("720p", True, "360p", False)
    with av.open(str(large.source)) as made, av.open(str(episode.clip)) as source:
        assert [bytes(p) for p in made.demux(made.streams.video[0]) if p.size] == \
            [bytes(p) for p in source.demux(source.streams.video[0]) if p.size]
    check_playable(small.source, 640, 360, 1.0, True)


def test_an_added_size_makes_only_the_new_rendition(tmp_path: Path) -> None:
    episode = make_episode(tmp_path, "sizes")
    mc.clip(episode.clip, size="1280x720", seconds=1.0, rate=10)
    first = process_episodes([episode], settings_for(tmp_path), progress=False)
    made = {r.label: (r.source, r.source.stat().st_mtime_ns) for r in first.media["sizes"].renditions}
    second = process_episodes([episode], settings_for(tmp_path, renditions=(720, 360, 240)), progress=False)
    assert second.problems == [] and second.ffmpeg_runs == 1
    renditions = second.media["sizes"].renditions
    assert [(r.label, r.width, r.height) for r in renditions] == [("720p", 1280, 720), ("360p", 640, 360),
                                                                  ("240p", 426, 240)]
    assert {r.label: (r.source, r.source.stat().st_mtime_ns) for r in renditions[:2]} == made
    check_playable(renditions[2].source, 426, 240, 1.0, True)


def test_poster_and_email_still(site) -> None:
    _, _, report = site
    for name, poster_size in [("landscape", (320, 180)), ("portrait", (160, 284)), ("large", (1280, 720))]:
        media = report.media[name]
        assert media.poster.dest.endswith("/poster.jpg") and media.still.dest.endswith("/still.jpg")
        poster, still = first_frame(media.poster.source), first_frame(media.still.source)
        assert (poster.width, poster.height) == poster_size
        assert (still.width, still.height) == (1200, 675)
        assert media.poster.source.read_bytes()[:2] == b"\xff\xd8"


def test_outputs_list_every_file_once_under_one_folder(site) -> None:
    _, _, report = site
    outputs = report.media["landscape"].outputs()
    dests = [o.dest for o in outputs]
    assert len(set(dests)) == len(dests) == 4
    assert len({d.rsplit("/", 1)[0] for d in dests}) == 1
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
sys.path.insert(0, {tests!r})
from test_media import make_episode, settings_for
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
    script = MEDIA_RUN.format(tests=str(Path(__file__).parent))

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


def test_build_killed_mid_transcode_leaves_nothing_taken_as_finished(tmp_path: Path) -> None:
    episode = make_episode(tmp_path, "killed")
    mc.clip(episode.clip, size="640x360", seconds=6.0, rate=30)
    files = tmp_path / ".cache" / "dayori" / "media" / "files"
    script = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
              "from test_media import make_episode, settings_for\n"
              "from pathlib import Path\n"
              "from dayori.media import process_episodes\n"
              f"root = Path({str(tmp_path)!r})\n"
              "process_episodes([make_episode(root, 'killed')], settings_for(root, jobs=1), progress=False)\n")
    child = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(p.stat().st_size > 0 for p in files.glob(".tmp-*.mp4")):
        time.sleep(0.01)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert list(files.glob(".tmp-*.mp4")), "the build finished before it could be killed"
    assert not [p for p in files.glob("*.mp4") if not p.name.startswith(".tmp-")], "a half-made file looks finished"
    report = process_episodes([episode], settings_for(tmp_path), progress=False)
    assert report.problems == [] and report.ffmpeg_runs == 2
    for rendition in report.media["killed"].renditions:
        check_playable(rendition.source, rendition.width, rendition.height, 6.0, True)


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
