"""How much the media stage costs on top of ffmpeg itself, what the pool gains, and what a warm rebuild does.

The baseline runs the stage's own commands with plain `subprocess.run`, deliberately outside the runner, so
that the ratio shows the stage's overhead (hashing, probing, progress parsing, checks, atomic renames).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import ffmpeg
import imageio_ffmpeg

from dayori.config import MediaSettings, Settings
from dayori.media.commands import (
    images_command,
    plan_images,
    plan_renditions,
    rendition_command,
)
from dayori.media.pipeline import process_episodes
from dayori.media.probe import probe
from dayori.media.runner import run_ffmpeg
from dayori.model import Body, Episode

CLIPS = 4
SECONDS = 4.0


def bench_media(tmpdir: Path, *, clips: int = CLIPS, seconds: float = SECONDS) -> dict[str, Any]:
    """Numbers for `make bench`; every timing is wall-clock seconds on this machine."""
    tmpdir = Path(tmpdir)
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    episodes = [_episode(tmpdir, index, exe, seconds) for index in range(clips)]
    cores = os.cpu_count() or 1

    single = _settings(tmpdir, "single", jobs=1)
    pipeline_single = _timed(lambda: process_episodes(episodes[:1], single, progress=False))
    direct_single = _timed(lambda: _direct(exe, episodes[0], tmpdir / "direct"))

    serial = _settings(tmpdir, "serial", jobs=1)
    serial_seconds = _timed(lambda: process_episodes(episodes, serial, progress=False))
    pooled = _settings(tmpdir, "pooled", jobs=cores)
    cold_started = time.perf_counter()
    cold = process_episodes(episodes, pooled, progress=False)
    cold_seconds = time.perf_counter() - cold_started
    warm_started = time.perf_counter()
    warm = process_episodes(episodes, pooled, progress=False)
    warm_seconds = time.perf_counter() - warm_started
    return {
        "clips": clips,
        "clip_seconds": seconds,
        "jobs": cores,
        "single_clip_pipeline_s": round(pipeline_single, 3),
        "single_clip_direct_ffmpeg_s": round(direct_single, 3),
        "single_clip_overhead_ratio": round(pipeline_single / direct_single, 3),
        "serial_s": round(serial_seconds, 3),
        "pool_s": round(cold_seconds, 3),
        "pool_speedup": round(serial_seconds / cold_seconds, 3),
        "cold_ffmpeg_runs": cold.ffmpeg_runs,
        "cold_probes": cold.probes,
        "warm_ffmpeg_runs": warm.ffmpeg_runs,
        "warm_probes": warm.probes,
        "warm_hashed": warm.hashed,
        "warm_s": round(warm_seconds, 4),
        "warm_vs_cold_ratio": round(warm_seconds / cold_seconds, 4),
    }


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _settings(tmpdir: Path, name: str, *, jobs: int) -> Settings:
    return Settings(root=tmpdir, site_url="http://localhost:8000/", cache_dir=f".cache/{name}",
                    media=replace(MediaSettings(), jobs=jobs))


def _direct(exe: str, episode: Episode, folder: Path) -> None:
    """The same commands the stage runs for one clip, one after another, with nothing around them."""
    folder.mkdir(parents=True, exist_ok=True)
    clip = probe(episode.clip)
    plans = plan_renditions(clip, MediaSettings().renditions)
    commands = [rendition_command(exe, episode.clip, folder / f"{plan.label}.mp4", plan) for plan in plans]
    commands.append(images_command(exe, episode.clip, folder / "poster.jpg", folder / "still.jpg",
                                   plan_images(clip, None, plans[0])))
    for command in commands:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _episode(tmpdir: Path, index: int, exe: str, seconds: float) -> Episode:
    folder = tmpdir / "videos" / f"2026-10-0{index + 1}-bench{index}"
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / "clip.mp4"
    if not clip.exists():
        video = ffmpeg.input(f"testsrc2=s=960x540:r=30:d={seconds}", f="lavfi")
        sound = ffmpeg.input(f"sine=frequency={440 + 110 * index}:duration={seconds}", f="lavfi")
        command = (ffmpeg.output(video, sound, str(clip), **{"c:v": "libx264", "preset": "ultrafast",
                                                            "pix_fmt": "yuv420p", "c:a": "aac"})
                   .global_args("-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1")
                   .overwrite_output().compile(cmd=exe))
        run_ffmpeg(command, label=f"bench clip {index}", duration=seconds, progress=False)
    source = folder / "index.md"
    source.write_text(f"---\ntitle: bench {index}\nclip: clip.mp4\n---\n", encoding="utf-8")
    return Episode(slug=f"bench{index}", date=dt.date(2026, 10, index + 1), title=f"bench {index}", summary="",
                   tags=(), draft=False, clip=clip, captions=None, poster_at=None, newsletter=None,
                   source=source, body=Body(html="", text="", toc=()))


if __name__ == "__main__":
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        print(json.dumps(bench_media(Path(scratch)), indent=2, ensure_ascii=False))
