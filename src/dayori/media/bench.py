"""How much the media stage costs on top of ffmpeg itself, what the pool gains, and what a warm rebuild does.

The baseline runs the stage's own commands with plain `subprocess.run`, deliberately outside the runner, so
that the ratio shows the stage's overhead (hashing, probing, progress parsing, checks, atomic renames).
"One at a time" is the stage itself with one job, so it runs exactly the pool's commands; x264 already
spreads one encode over the cores, which is why `*_cores_used` (CPU seconds per wall second, ffmpeg's and
ours) is reported next to the speed-up: the pool can only win the cores one-at-a-time leaves idle.
Each comparison is repeated with the order alternated and the medians kept: this machine is shared and
noisy, and whatever runs first otherwise pays for warming caches.
"""

from __future__ import annotations

import datetime as dt
import os
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
    images_command,
    plan_images,
    plan_renditions,
    renditions_command,
)
from dayori.media.pipeline import process_episodes
from dayori.media.probe import probe
from dayori.media.runner import run_ffmpeg
from dayori.model import Body, Episode

CLIPS = 4
SECONDS = 4.0
SINGLE_ROUNDS = 5
POOL_ROUNDS = 2


def bench_media(tmpdir: Path, *, clips: int = CLIPS, seconds: float = SECONDS) -> dict[str, Any]:
    """Numbers for `make bench`; every timing is wall-clock seconds on this machine."""
    tmpdir = Path(tmpdir)
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    episodes = [_episode(tmpdir, index, exe, seconds) for index in range(clips)]
    cores = os.cpu_count() or 1

    def stage(name: str, count: int, jobs: int) -> Callable[[int], _Measured]:
        """A cold build of the first `count` clips, in a cache of its own each round."""
        return lambda round_: _measured(lambda: process_episodes(
            episodes[:count], _settings(tmpdir, f"{name}{round_}", jobs=jobs), progress=False))

    def direct(round_: int) -> _Measured:
        return _measured(lambda: _direct(exe, episodes[0], tmpdir / f"direct{round_}"))

    pipeline_single, direct_single = _alternating(stage("single", 1, 1), direct, SINGLE_ROUNDS)
    serial, pool = _alternating(stage("serial", clips, 1), stage("pooled", clips, cores), POOL_ROUNDS)
    pooled = _settings(tmpdir, f"pooled{POOL_ROUNDS - 1}", jobs=cores)
    cold = pool.result
    warm_started = time.perf_counter()
    warm = process_episodes(episodes, pooled, progress=False)
    warm_seconds = time.perf_counter() - warm_started
    return {
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
    }


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
    commands = [renditions_command(exe, episode.clip, [(plan, folder / f"{plan.label}.mp4") for plan in plans])]
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
