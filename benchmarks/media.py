"""How much the media stage costs on top of ffmpeg itself, what the pool gains, what a warm rebuild does, and what a
reader on a slow line gets (`make bench ONLY=media`, or `python -m benchmarks --only media`).

- Overhead: the stage against the same commands run with plain `subprocess.run`, deliberately outside the runner,
  so that the ratio shows the stage's own cost (hashing, probing, progress parsing, HLS measurements, the poster
  encoder, checks, atomic renames). Measured on short clips (fixed costs weigh most) and per minute of a 720p
  clip (the ladder's real cost; the issue asks for at most 1.05).
- Pool: "one at a time" is the stage itself with one job, so it runs exactly the pool's commands; x264 already
  spreads one encode over the cores, which is why `*_cores_used` (CPU seconds per wall second, ffmpeg's and ours)
  is reported next to the speed-up.
- Playback: Chromium (the tests' /usr/bin/chromium) on a 390x844 phone viewport with the network held by the
  DevTools protocol at 300 kbit/s and 1 Mbit/s (150 ms latency): seconds from pressing play to 1 s played, for
  the page as it was before the ladder (720p MP4 first, `preload="metadata"`, the old 720p recipe) and as it is.
- Bytes: what a reader downloads to watch a 3-minute episode on each rung, scaled from the clip's own segments.
  The clip is ffmpeg's testsrc2, which changes every pixel every frame: each rung runs at its cap, the worst case
  (screen recordings, most of DX日記, cost far less).
Each comparison is repeated with the order alternated and the medians kept: this machine is shared and noisy, and
whatever runs first otherwise pays for warming caches.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ffmpeg
import imageio_ffmpeg

from dayori.config import MediaSettings, Settings
from dayori.media.commands import (
    AudioPlan,
    RenditionPlan,
    images_command,
    ladder_command,
    plan_audio,
    plan_images,
    plan_renditions,
)
from dayori.media.pipeline import process_episodes
from dayori.media.probe import probe
from dayori.media.runner import run_ffmpeg
from dayori.model import Body, Content, Episode, EpisodeMedia
from testsupport.statichost import serve_folder

CLIPS = 4
SECONDS = 4.0
SINGLE_ROUNDS = 5
POOL_ROUNDS = 2
LADDER_SECONDS = 60.0
LADDER_ROUNDS = 2
EPISODE_SECONDS = 180
NETWORKS_KBPS = (300, 1000)
LATENCY_MS = 150
PLAY_ROUNDS = 3
PLAYED_SECONDS = 1.0
CHROMIUM = Path("/usr/bin/chromium")


def bench_media(tmpdir: Path, *, clips: int = CLIPS, seconds: float = SECONDS,
                ladder_seconds: float = LADDER_SECONDS) -> dict[str, Any]:
    """Numbers for `make bench`; every timing is wall-clock seconds on this machine."""
    tmpdir = Path(tmpdir)
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    episodes = [_episode(tmpdir, f"bench{index}", index, exe, seconds, "960x540") for index in range(clips)]
    cores = os.cpu_count() or 1

    def stage(name: str, chosen: list[Episode], jobs: int) -> Callable[[int], _Measured]:
        """A cold build of `chosen`, in a cache of its own each round."""
        return lambda round_: _measured(lambda: process_episodes(
            chosen, _settings(tmpdir, f"{name}{round_}", jobs=jobs), progress=False))

    def direct(episode: Episode, name: str) -> Callable[[int], _Measured]:
        return lambda round_: _measured(lambda: _direct(exe, episode, tmpdir / f"{name}{round_}"))

    pipeline_single, direct_single = _alternating(stage("single", episodes[:1], 1), direct(episodes[0], "direct"),
                                                  SINGLE_ROUNDS)
    serial, pool = _alternating(stage("serial", episodes, 1), stage("pooled", episodes, cores), POOL_ROUNDS)
    pooled = _settings(tmpdir, f"pooled{POOL_ROUNDS - 1}", jobs=cores)
    cold = pool.result
    warm_started = time.perf_counter()
    warm = process_episodes(episodes, pooled, progress=False)
    warm_seconds = time.perf_counter() - warm_started

    minute = _episode(tmpdir, "ladder", 0, exe, ladder_seconds, "1280x720")
    ladder, ladder_direct = _alternating(stage("ladder", [minute], cores), direct(minute, "ladder-direct"),
                                         LADDER_ROUNDS)
    per_minute = 60 / ladder_seconds
    media = ladder.result.media[minute.slug]
    results: dict[str, Any] = {
        "clips": clips,
        "clip_seconds": seconds,
        "jobs": cores,
        "single_clip_pipeline_s": round(pipeline_single.seconds, 3),
        "single_clip_direct_ffmpeg_s": round(direct_single.seconds, 3),
        "single_clip_overhead_ratio": round(pipeline_single.seconds / direct_single.seconds, 3),
        "serial_s": round(serial.seconds, 3),
        "pool_s": round(pool.seconds, 3),
        "pool_speedup": round(serial.seconds / pool.seconds, 3),
        "pool_vs_serial": round(pool.seconds / serial.seconds, 3),
        "serial_cores_used": round(serial.cpu / serial.seconds, 2),
        "pool_cores_used": round(pool.cpu / pool.seconds, 2),
        "cold_ffmpeg_runs": cold.ffmpeg_runs,
        "cold_probes": cold.probes,
        "warm_ffmpeg_runs": warm.ffmpeg_runs,
        "warm_probes": warm.probes,
        "warm_hashed": warm.hashed,
        "warm_s": round(warm_seconds, 4),
        "warm_vs_cold_ratio": round(warm_seconds / pool.seconds, 4),
        "ladder_clip": f"{ladder_seconds:g} s 1280x720 30 fps",
        "ladder_s_per_minute": round(ladder.seconds * per_minute, 2),
        "ladder_raw_ffmpeg_s_per_minute": round(ladder_direct.seconds * per_minute, 2),
        "ladder_over_raw_ffmpeg": round(ladder.seconds / ladder_direct.seconds, 3),
        **_episode_bytes(media, ladder_seconds),
    }
    previous = _previous_recipe(exe, minute.clip, ladder_seconds, tmpdir / "previous")
    results |= {f"previous_{name}_{EPISODE_SECONDS // 60}min_mb": round(path.stat().st_size / ladder_seconds
                                                                           * EPISODE_SECONDS / 1e6, 2)
                for name, path in previous.items() if name != "poster"}
    results |= {"previous_poster_kb": round(previous["poster"].stat().st_size / 1000, 1),
                "poster_kb": round(_size(media.poster.source) / 1000, 1) if media.poster else None}
    results |= bench_playback(tmpdir / "playback", minute, media, previous)
    return results


def _size(path: Path | None) -> int:
    return path.stat().st_size if path is not None else 0


def _episode_bytes(media: EpisodeMedia, seconds: float) -> dict[str, float]:
    """Megabytes a reader downloads to watch an `EPISODE_SECONDS` episode: over HLS, the master and media
    playlists, the init segment and the segments (scaled from this clip's); as a whole file, the MP4 or m4a."""
    scale = EPISODE_SECONDS / seconds
    minutes = EPISODE_SECONDS // 60
    found: dict[str, float] = {}
    folders: dict[str, int] = {}
    fixed: dict[str, int] = {}
    for output in media.streams:
        rung = output.dest.split("/hls/", 1)[1].split("/", 1)[0]
        size = _size(output.source)
        if output.dest.endswith(".m4s"):
            folders[rung] = folders.get(rung, 0) + size
        else:
            fixed[rung] = fixed.get(rung, 0) + size
    master = len(media.playlist.content or b"") if media.playlist else 0
    for rung, segments in folders.items():
        found[f"hls_{rung}_{minutes}min_mb"] = round((segments * scale + fixed[rung] + master) / 1e6, 2)
    for rendition in [*media.renditions, *([media.audio] if media.audio else [])]:
        name = "audio" if rendition.mime.startswith("audio/") else rendition.label
        found[f"download_{name}_{minutes}min_mb"] = round(rendition.bytes * scale / 1e6, 2)
    return found


@dataclass(frozen=True)
class _Measured:
    seconds: float
    cpu: float
    result: Any = None


def _measured(action: Callable[[], Any]) -> _Measured:
    """Wall time, and CPU time of this process and the ffmpeg runs it waited for."""
    started, before = time.perf_counter(), os.times()
    result = action()
    seconds, after = time.perf_counter() - started, os.times()
    cpu = sum(getattr(after, name) - getattr(before, name)
              for name in ("user", "system", "children_user", "children_system"))
    return _Measured(seconds, cpu, result)


def _alternating(first: Callable[[int], _Measured], second: Callable[[int], _Measured],
                 rounds: int) -> tuple[_Measured, _Measured]:
    """Medians over `rounds`, swapping which runs first each round; `result` is from the last round."""
    runs: tuple[list[_Measured], list[_Measured]] = ([], [])
    for round_ in range(rounds):
        order = ((0, first), (1, second)) if round_ % 2 == 0 else ((1, second), (0, first))
        for index, action in order:
            runs[index].append(action(round_))
    return _median(runs[0]), _median(runs[1])


def _median(runs: list[_Measured]) -> _Measured:
    return _Measured(statistics.median(r.seconds for r in runs), statistics.median(r.cpu for r in runs),
                     runs[-1].result)


def _settings(tmpdir: Path, name: str, *, jobs: int) -> Settings:
    return Settings(root=tmpdir, site_url="http://localhost:8000/", cache_dir=f".cache/{name}",
                    media=replace(MediaSettings(), jobs=jobs))


def _direct(exe: str, episode: Episode, folder: Path) -> None:
    """The same commands the stage runs for one clip, one after another, with nothing around them."""
    folder.mkdir(parents=True, exist_ok=True)
    clip = probe(episode.clip)
    plans = plan_renditions(clip, MediaSettings().renditions)
    audio = plan_audio(clip)
    rungs: list[RenditionPlan | AudioPlan] = [*plans, *([audio] if audio else [])]
    outputs = [(plan, f"r{index}") for index, plan in enumerate(rungs)]
    for _, name in outputs:
        (folder / name).mkdir(exist_ok=True)
    commands = [ladder_command(exe, episode.clip, outputs),
                images_command(exe, episode.clip, Path("poster.png"), Path("still.jpg"),
                               plan_images(clip, None, plans[0]))]
    for command in commands:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)


def _previous_recipe(exe: str, clip: Path, seconds: float, folder: Path) -> dict[str, Path]:
    """The outputs as the stage made them before the ladder: a 720p and a 360p MP4 at 0.1 bit per pixel per
    frame (CRF 23, a two-second buffer), 128 and 96 kbit/s stereo sound, and a full-size poster."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {"720p": folder / "720p.mp4", "360p": folder / "360p.mp4", "poster": folder / "poster.jpg"}
    source = ffmpeg.input(str(clip))
    pictures = source["v:0"].split()
    sounds = source["a:0"].filter("loudnorm", I=-16, TP=-1.5, LRA=11).filter("aresample", 48_000).asplit()
    outputs = []
    for index, (label, (width, height), audio) in enumerate([("720p", (1280, 720), 128_000),
                                                             ("360p", (640, 360), 96_000)]):
        budget = int(0.1 * width * height * 30)
        outputs.append(ffmpeg.output(pictures[index].filter("scale", width, height), sounds[index], str(made[label]),
                                     **{"c:v": "libx264", "profile:v": "high", "preset": "medium", "crf": 23,
                                        "maxrate": budget, "bufsize": 2 * budget, "pix_fmt": "yuv420p", "g": 60,
                                        "c:a": "aac", "b:a": audio, "ac": 2, "movflags": "+faststart"}))
    subprocess.run(ffmpeg.merge_outputs(*outputs).global_args("-hide_banner", "-nostdin", "-loglevel", "error")
                   .overwrite_output().compile(cmd=exe), check=True)
    subprocess.run([exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{seconds / 3:.3f}", "-i", str(clip),
                    "-frames:v", "1", "-q:v", "3", str(made["poster"])], check=True)
    return made


BEFORE_PAGE = """<video controls preload="metadata" playsinline width="1280" height="720" poster="poster.jpg">
<source src="720p.mp4" type="video/mp4">
<source src="360p.mp4" type="video/mp4" media="(max-width: 640px)">
</video>"""
"""The episode page's player before the ladder (the template of that time, with its file names)."""


def bench_playback(folder: Path, episode: Episode, media: EpisodeMedia,
                   previous: dict[str, Path]) -> dict[str, Any]:
    """Seconds from pressing play to `PLAYED_SECONDS` played, and the bytes fetched by then, for the page before
    and after, on a phone at each of `NETWORKS_KBPS`."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return {"playback_skipped": f"{CHROMIUM} is missing (apt-get install chromium)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"playback_skipped": "Playwright is not installed (pip install -r requirements.lock)"}
    site = folder / "site"
    pages = {"before": _before_page(site, previous), "after": _after_page(site, episode, media)}
    found: dict[str, Any] = {"playback_network": f"{LATENCY_MS} ms latency, 390x844 viewport"}
    with serve_folder(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--autoplay-policy="
                                                   "no-user-gesture-required"])
        try:
            for kbps in NETWORKS_KBPS:
                runs: dict[str, list[tuple[float, int, str]]] = {"before": [], "after": []}
                for round_ in range(PLAY_ROUNDS):
                    order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
                    for name in order:
                        runs[name].append(_time_to_play(browser, url + pages[name], kbps))
                for name, measured in runs.items():
                    found[f"{name}_{kbps}kbps_s_to_1s_played"] = round(statistics.median(m[0] for m in measured), 2)
                    found[f"{name}_{kbps}kbps_kb_fetched_by_then"] = round(statistics.median(m[1] for m in measured)
                                                                           / 1000, 1)
                    found[f"{name}_{kbps}kbps_first_media"] = measured[-1][2]
        finally:
            browser.close()
    return found


def _before_page(site: Path, previous: dict[str, Path]) -> str:
    folder = site / "before"
    folder.mkdir(parents=True, exist_ok=True)
    for path in previous.values():
        shutil.copyfile(path, folder / path.name)
    (folder / "index.html").write_text(_document(BEFORE_PAGE), encoding="utf-8")
    return "before/"


def _after_page(site: Path, episode: Episode, media: EpisodeMedia) -> str:
    """The real episode page of the engine (its template and the stage's files), in a bare document."""
    from dayori.pages import build_pages

    for output in media.outputs():
        target = site / output.dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output.data())
    content = Content(issues=(), episodes=(episode,), today=episode.date)
    settings = Settings(root=site, site_url="http://localhost:8000/")
    built = build_pages(content, settings, {episode.slug: media})
    page = next(page for page in built.pages if page.url == episode.url)
    target = site / episode.url / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_document(page.html), encoding="utf-8")
    return episode.url


def _document(body: str) -> str:
    """A phone-width page with the player at the column's width, as the site's stylesheet has it."""
    return ('<!doctype html><html lang="ja"><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><style>body{margin:16px}video{width:100%;height:auto;'
            f'max-height:80vh}}</style><body>{body}</body></html>')


def _time_to_play(browser: Any, address: str, kbps: int) -> tuple[float, int, str]:
    """(seconds, bytes fetched, first media file) from `play()` until `PLAYED_SECONDS` have played."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": LATENCY_MS, "downloadThroughput": kbps * 1000 / 8,
            "uploadThroughput": kbps * 1000 / 8})
        fetched: list[int] = []
        media: list[str] = []
        session.on("Network.dataReceived", lambda event: fetched.append(int(event["dataLength"])))
        page.on("request", lambda request: media.append(request.url.rsplit("/", 2)[-2] + "/" +
                                                         request.url.rsplit("/", 1)[-1])
                if request.url.endswith((".mp4", ".m4s", ".m4a")) else None)
        page.goto(address, wait_until="load", timeout=300_000)
        before = sum(fetched)
        seconds = page.evaluate("""played => new Promise(done => {
            const video = document.querySelector("video"), started = performance.now()
            video.muted = true
            const check = () => video.currentTime >= played ? done((performance.now() - started) / 1000)
                                                            : setTimeout(check, 20)
            video.play().then(check, check)
        })""", PLAYED_SECONDS)
        return float(seconds), sum(fetched) - before, media[0] if media else ""
    finally:
        context.close()


def _episode(tmpdir: Path, slug: str, index: int, exe: str, seconds: float, size: str) -> Episode:
    folder = tmpdir / "videos" / f"2026-10-0{index + 1}-{slug}"
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / "clip.mp4"
    if not clip.exists():
        video = ffmpeg.input(f"testsrc2=s={size}:r=30:d={seconds}", f="lavfi")
        sound = ffmpeg.input(f"sine=frequency={440 + 110 * index}:duration={seconds}", f="lavfi")
        command = (ffmpeg.output(video, sound, str(clip), **{"c:v": "libx264", "preset": "ultrafast",
                                                            "pix_fmt": "yuv420p", "c:a": "aac"})
                   .global_args("-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1")
                   .overwrite_output().compile(cmd=exe))
        run_ffmpeg(command)
    source = folder / "index.md"
    source.write_text(f"---\ntitle: {slug}\nclip: clip.mp4\n---\n", encoding="utf-8")
    return Episode(slug=slug, date=dt.date(2026, 10, index + 1), title=slug, summary="", tags=(), draft=False,
                   clip=clip, captions=None, poster_at=None, newsletter=None, source=source,
                   body=Body(html="", text="", toc=()))

