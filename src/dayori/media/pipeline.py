"""The media stage: episodes in, cached renditions, posters, stills and captions out.

Order of work, so that an editor hears about every mistake quickly and nothing half-made is ever published:
1. cheap checks per episode (clip exists, stays in its folder, size limit, captions parse);
2. hash and probe the clips in the pool (both skipped on a warm rebuild, see cache.py);
3. plan the outputs and run ffmpeg only for those missing from the cache, in the pool: one run for all
   missing renditions of a clip (one decode shared by every size) and one for its poster and still,
   the longest work first so that the cores stay busy until the end.
Without `keep_going`, step 3 does not start when steps 1–2 found problems, and a failed transcode cancels
the jobs not yet started; finished outputs of other episodes stay in the cache either way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from dayori.config import Settings
from dayori.errors import Problem
from dayori.formats import duration_words
from dayori.media.cache import MediaCache
from dayori.media.captions import captions_to_vtt
from dayori.media.commands import (
    RenditionPlan,
    images_command,
    plan_images,
    plan_renditions,
    renditions_command,
)
from dayori.media.probe import Probe, ProbeError, probe
from dayori.media.results import MediaReport
from dayori.media.runner import FfmpegFailed, ffmpeg_version, run_ffmpeg
from dayori.model import Episode, EpisodeMedia, Output, Rendition
from dayori.store import digest

_JIS_WARNING = ("字幕がありません。録画した動画には字幕を付けてください（JIS X 8341-3 達成基準 1.2.2）。"
                "index.md の captions: に .vtt か .srt のファイル名を書くと公開されます。")


class _Failed(Exception):
    """A job's cause in Japanese, ready for the editor."""


@dataclass(frozen=True)
class _Checked:
    episode: Episode
    captions: str | None


@dataclass(frozen=True)
class _Probed:
    checked: _Checked
    sha: str
    probe: Probe
    hashed: bool
    probed: bool


@dataclass(frozen=True)
class _Job:
    """One ffmpeg run writing `temps`; `finals` exist only when the run succeeded, so their presence means done.
    `work` estimates its cost (encoded pixels), so the pool can start the longest runs first."""

    key: str
    label: str
    finals: tuple[Path, ...]
    temps: tuple[Path, ...]
    command: tuple[str, ...]
    duration: float
    check_duration: bool
    remuxed: int
    work: float


@dataclass(frozen=True)
class _Planned:
    probed: _Probed
    key16: str
    renditions: tuple[tuple[RenditionPlan, Path], ...]
    poster: Path
    still: Path
    jobs: tuple[_Job, ...]

    def complete(self) -> bool:
        return all(path.is_file() for path in (*(final for _, final in self.renditions), self.poster, self.still))


def process_episodes(episodes: Sequence[Episode], settings: Settings, *, keep_going: bool = False,
                     progress: bool | None = None) -> MediaReport:
    """Problems come back in the report (the caller raises them together with other stages' problems);
    with `keep_going` (mkdocs serve) every episode also gets an EpisodeMedia, failed ones with `error`."""
    started = time.perf_counter()
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    cache = MediaCache(settings.cache_path / "media")
    cache.remove_stale_temporaries()
    problems: list[Problem] = []
    warnings: list[str] = []
    errors: dict[str, list[str]] = {}

    def fail(episode: Episode, key: str | None, message: str, path: Path | None = None,
             line: int | None = None) -> None:
        shown = _shown(path, settings) if path else episode.source
        problem = Problem(shown, line if path else (episode.line_of(key) if key else None), message)
        if problem not in problems:
            problems.append(problem)
            errors.setdefault(episode.slug, []).append(message)

    checked = [c for e in episodes if (c := _check(e, settings, fail, warnings)) is not None]
    workers = settings.media.jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dayori-media") as pool:
        probing = _submit_probes(pool, checked, cache)
        version = cache.ffmpeg_version(exe, ffmpeg_version) if checked else ""
        probed = _probed(probing, fail)
        planned = [p for item in probed if (p := _plan(item, settings, cache, exe, version, fail)) is not None]
        runs, remuxed = 0, 0
        if keep_going or not problems:
            runs, remuxed = _run_all(pool, planned, fail, keep_going, progress)
    cache.save()
    media = {p.probed.checked.episode.slug: _result(p, errors) for p in planned if p.complete()}
    if keep_going:
        for episode in episodes:
            if episode.slug not in media:
                media[episode.slug] = _failed(episode, errors)
    return MediaReport(media=media, ffmpeg_runs=runs, probes=sum(p.probed for p in probed), problems=problems,
                       warnings=warnings, hashed=sum(p.hashed for p in probed), remuxed=remuxed,
                       seconds=time.perf_counter() - started)


def _check(episode: Episode, settings: Settings, fail: Callable[..., None], warnings: list[str]) -> _Checked | None:
    folder = _index_file(episode, settings).parent
    clip = episode.clip
    shown = os.path.relpath(clip, folder)
    usable = True
    if not _inside(clip, folder):
        fail(episode, "clip", f"clip: {shown} はエピソードのフォルダーの外を指しています。"
                              "動画ファイルは index.md と同じフォルダーに置き、ファイル名だけを書いてください。")
        usable = False
    elif not clip.is_file():
        fail(episode, "clip", f"動画ファイル {shown} が見つかりません。clip: に書いた名前と、"
                              "フォルダー内のファイル名（大文字・小文字や拡張子も）が同じか確かめてください。")
        usable = False
    elif clip.stat().st_size > settings.media.max_bytes:
        fail(episode, "clip", f"動画ファイル {shown} が大きすぎます（{_megabytes(clip.stat().st_size)}、"
                              f"上限 {_megabytes(settings.media.max_bytes)}）。短く編集するか、"
                              "画質を下げて書き出してください。")
        usable = False
    captions = _captions(episode, settings, fail, warnings)
    return _Checked(episode, captions) if usable else None


def _captions(episode: Episode, settings: Settings, fail: Callable[..., None], warnings: list[str]) -> str | None:
    if episode.captions is None:
        if settings.strict:
            fail(episode, None, _JIS_WARNING)
        else:
            warnings.append(f"{episode.source}: {_JIS_WARNING}")
        return None
    folder = _index_file(episode, settings).parent
    if not _inside(episode.captions, folder):
        fail(episode, "captions", f"captions: {os.path.relpath(episode.captions, folder)} はエピソードの"
                                  "フォルダーの外を指しています。字幕ファイルは index.md と同じフォルダーに置いてください。")
        return None
    vtt, found = captions_to_vtt(episode.captions)
    for problem in found:
        fail(episode, None, problem.message, path=problem.path, line=problem.line)
    return vtt


def _submit_probes(pool: ThreadPoolExecutor, checked: list[_Checked],
                   cache: MediaCache) -> list[tuple[_Checked, Future[_Probed]]]:
    """Submitted before `ffmpeg -version` is read on a cold cache, so that process start overlaps them."""
    def work(item: _Checked) -> _Probed:
        sha, hashed = cache.source_hash(item.episode.clip)
        result, probed = cache.probe(sha, item.episode.clip, probe)
        return _Probed(item, sha, result, hashed, probed)

    return [(item, pool.submit(work, item)) for item in checked]


def _probed(futures: list[tuple[_Checked, Future[_Probed]]], fail: Callable[..., None]) -> list[_Probed]:
    done: list[_Probed] = []
    for item, future in futures:
        try:
            done.append(future.result())
        except ProbeError as error:
            fail(item.episode, "clip", f"{item.episode.clip.name} は公開できません: {error}。"
                                       "元の動画ファイルを置き直してください。")
        except OSError as error:
            fail(item.episode, "clip", f"{item.episode.clip.name} を読めません（{error.strerror or error}）。")
    return done


def _plan(item: _Probed, settings: Settings, cache: MediaCache, exe: str, version: str,
          fail: Callable[..., None]) -> _Planned | None:
    """Jobs only for outputs missing from the cache; each output keeps its own key, so a changed poster_at
    or an added rendition size makes only what changed."""
    episode, clip = item.checked.episode, item.probe
    if clip.duration > settings.media.max_duration:
        fail(episode, "clip", f"動画が長すぎます（{duration_words(clip.duration)}、上限 "
                              f"{duration_words(settings.media.max_duration)}）。分けて別のエピソードにしてください。")
        return None
    if episode.poster_at is not None and not 0 <= episode.poster_at < clip.duration:
        fail(episode, "poster_at", f"poster_at: {episode.poster_at:g} が動画の範囲（0〜{clip.duration:.1f} 秒）の"
                                   "外です。表紙にしたい場面の秒数を書いてください。")
        return None
    renditions = plan_renditions(clip, tuple(settings.media.renditions))
    images = plan_images(clip, episode.poster_at, renditions[0])
    keys = [digest(item.sha, version, plan.recipe()) for plan in renditions]
    finals = tuple((plan, cache.file(key, "mp4")) for plan, key in zip(renditions, keys, strict=True))
    jobs: list[_Job] = []
    missing = [(key, plan, final) for key, (plan, final) in zip(keys, finals, strict=True) if not final.is_file()]
    if missing:
        jobs.append(_renditions_job(exe, episode, clip.duration, missing, cache))
    image_key = digest(item.sha, version, images.recipe())
    poster, still = cache.file(f"{image_key}-poster", "jpg"), cache.file(f"{image_key}-still", "jpg")
    if not (poster.is_file() and still.is_file()):
        temps = (cache.temporary(poster), cache.temporary(still))
        jobs.append(_Job(key=image_key, label=f"{episode.slug} poster", finals=(poster, still), temps=temps,
                         command=tuple(images_command(exe, episode.clip, *temps, images)),
                         duration=clip.duration - images.at, check_duration=False, remuxed=0, work=0.0))
    key16 = digest(item.sha, version, [*keys, image_key], item.checked.captions)[:16]
    return _Planned(item, key16, finals, poster, still, tuple(jobs))


def _renditions_job(exe: str, episode: Episode, duration: float,
                    missing: list[tuple[str, RenditionPlan, Path]], cache: MediaCache) -> _Job:
    """One run for every missing rendition of a clip; its key names exactly those outputs, so two episodes
    sharing a clip share the run."""
    temps = tuple(cache.temporary(final) for _, _, final in missing)
    plans = [plan for _, plan, _ in missing]
    return _Job(key="+".join(key for key, _, _ in missing),
                label=" ".join([episode.slug, *(plan.label for plan in plans)]),
                finals=tuple(final for _, _, final in missing),
                temps=temps,
                command=tuple(renditions_command(exe, episode.clip, list(zip(plans, temps, strict=True)))),
                duration=duration,
                check_duration=True,
                remuxed=sum(plan.remux for plan in plans),
                work=duration * sum(plan.width * plan.height for plan in plans if not plan.remux))


def _run_all(pool: ThreadPoolExecutor, planned: list[_Planned], fail: Callable[..., None],
             keep_going: bool, progress: bool | None) -> tuple[int, int]:
    """Each distinct output once, even when two episodes share a clip. Longest runs first: short ones then
    fill the gaps at the end instead of one long run finishing alone on an otherwise idle machine."""
    owners: dict[str, list[Episode]] = {}
    unique: dict[str, _Job] = {}
    for item in planned:
        for job in item.jobs:
            owners.setdefault(job.key, []).append(item.probed.checked.episode)
            unique.setdefault(job.key, job)
    ordered = sorted(unique.values(), key=lambda job: job.work, reverse=True)
    futures: dict[Future[int], _Job] = {pool.submit(_execute, job, progress): job for job in ordered}
    runs, remuxed, stopped = 0, 0, False
    for future in as_completed(futures):
        job = futures[future]
        try:
            copied = future.result()
        except CancelledError:
            continue
        except _Failed as error:
            runs += 1
            for episode in owners[job.key]:
                fail(episode, "clip", f"{episode.clip.name} を変換できませんでした: {error}")
            if not keep_going and not stopped:
                stopped = True
                for pending in futures:
                    pending.cancel()
            continue
        runs += 1
        remuxed += copied
    return runs, remuxed


def _execute(job: _Job, progress: bool | None) -> int:
    """The number of renditions it made by copying the source's video."""
    temps = job.temps
    try:
        try:
            run_ffmpeg(list(job.command), label=job.label, duration=job.duration, progress=progress)
        except FfmpegFailed as error:
            raise _Failed(f"ffmpeg が途中で止まりました。動画が途中で切れているか壊れている可能性があります"
                          f"（ffmpeg: {error.last_line}）") from error
        for temp in temps:
            if not temp.is_file() or temp.stat().st_size == 0:
                raise _Failed("出力が空になりました。動画の中身が壊れている可能性があります")
        if job.check_duration:
            for temp in temps:
                _check_length(temp, job.duration)
        for temp, final in zip(temps, job.finals, strict=True):
            os.replace(temp, final)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    return job.remuxed


def _check_length(path: Path, expected: float) -> None:
    """ffmpeg exits 0 on a clip cut short after its index (common with interrupted copies of `+faststart`
    files) and writes a shorter video; comparing lengths is how that is caught."""
    import av  # only after a transcode; see probe()

    try:
        with av.open(str(path)) as container:
            actual = container.duration / 1_000_000 if container.duration else 0.0
    except av.error.FFmpegError as error:
        raise _Failed(f"出力を読み返せません（{error}）") from error
    if actual < expected - max(0.3, 0.02 * expected):
        raise _Failed(f"途中で切れているか壊れています（{expected:.1f} 秒のうち {actual:.1f} 秒分しか"
                      "読み取れませんでした）。元のファイルをコピーし直してください")


def _result(item: _Planned, errors: dict[str, list[str]]) -> EpisodeMedia:
    episode, clip = item.probed.checked.episode, item.probed.probe
    base = f"media/video/{item.key16}"
    renditions = tuple(Rendition(label=plan.label, dest=f"{base}/{plan.label}.mp4", source=path, width=plan.width,
                                 height=plan.height, bytes=path.stat().st_size, remuxed=plan.remux)
                       for plan, path in item.renditions)
    captions = item.probed.checked.captions
    largest = renditions[0]
    return EpisodeMedia(
        slug=episode.slug,
        renditions=renditions,
        poster=Output(dest=f"{base}/poster.jpg", source=item.poster),
        still=Output(dest=f"{base}/still.jpg", source=item.still),
        captions=Output(dest=f"{base}/captions.vtt", content=captions.encode()) if captions else None,
        duration=clip.duration,
        width=largest.width,
        height=largest.height,
        has_audio=clip.has_audio,
        error="\n".join(errors[episode.slug]) if episode.slug in errors else None,
    )


def _failed(episode: Episode, errors: dict[str, list[str]]) -> EpisodeMedia:
    message = "\n".join(errors.get(episode.slug, ["動画を用意できませんでした。"]))
    return EpisodeMedia(slug=episode.slug, renditions=(), poster=None, still=None, captions=None, duration=0.0,
                        width=0, height=0, has_audio=False, error=message)


def _index_file(episode: Episode, settings: Settings) -> Path:
    """`episode.source` is shown to editors relative to the project root; files are found from the root."""
    return episode.source if episode.source.is_absolute() else settings.root / episode.source


def _shown(path: Path, settings: Settings) -> Path:
    try:
        return path.resolve().relative_to(settings.root.resolve())
    except ValueError:
        return path


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _megabytes(size: int) -> str:
    if size < 10_000_000:
        return f"{size / 1_000_000:.2f} MB"
    return f"{size / 1_000_000:,.0f} MB"
