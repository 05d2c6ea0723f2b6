"""The media stage: episodes in, cached renditions, posters, stills and captions out.

Order of work, so that an editor hears about every mistake quickly and nothing half-made is ever published:
1. cheap checks per episode (clip exists, stays in its folder, size limit, captions parse);
2. hash and probe the clips in the pool (both skipped on a warm rebuild, see cache.py);
3. plan the outputs and run ffmpeg only for those missing from the cache, in the pool (as many at once as
   there are cores): one run for all missing rungs of a clip's ladder (one decode shared by every size, each
   size encoded once for both HLS and MP4) and one for its poster and still, the longest work first so that
   the cores stay busy until the end. Each run holds a lock on its clip in the cache: a second build at the
   same time waits for it and then uses its files instead of transcoding the clip again.
Without `keep_going`, step 3 does not start when steps 1–2 found problems, and a failed transcode cancels
the jobs not yet started; finished outputs of other episodes stay in the cache either way.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg

from dayori.config import Settings
from dayori.errors import Problem
from dayori.formats import duration_words
from dayori.media.cache import MediaCache
from dayori.media.captions import captions_to_vtt
from dayori.media.commands import (
    AudioPlan,
    RenditionPlan,
    images_command,
    ladder_command,
    plan_audio,
    plan_images,
    plan_renditions,
)
from dayori.media.hls import StreamError, StreamFacts, Variant, master_playlist, measure_stream, read_facts, write_facts
from dayori.media.posters import progressive_jpeg
from dayori.media.probe import Probe, ProbeError, probe
from dayori.media.progress import Progress
from dayori.media.results import MediaReport
from dayori.media.runner import FfmpegFailed, ffmpeg_version, run_ffmpeg
from dayori.model import Episode, EpisodeMedia, Output, Rendition
from dayori.store import digest, exclusive

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
    """One ffmpeg run in a `.tmp-…` folder of its own (`command` names its outputs relative to it). `moves` are
    what it made and where each goes in the cache, done only when the run succeeded and its results were checked,
    so the presence of the finals means done. `work` estimates its cost (encoded pixels), so the pool can start
    the longest runs first; `lock` is shared by every build transcoding the same clip."""

    key: str
    lock: str
    title: str
    command: tuple[str, ...]
    moves: tuple[tuple[str, Path], ...]
    duration: float
    work: float
    folders: tuple[str, ...] = ()
    whole: tuple[str, ...] = ()
    """Files whose length is checked against the clip's."""
    streams: tuple[tuple[str, bool, bool], ...] = ()
    """HLS folders to measure: (name, has video, has sound)."""
    poster: tuple[str, str] | None = None
    """(lossless frame, progressive JPEG) for the poster encoder."""
    reports: bool = False


_Rung = tuple[RenditionPlan | AudioPlan, str]
"""A rung of the ladder and its cache key."""


@dataclass(frozen=True)
class _Planned:
    probed: _Probed
    key16: str
    rungs: tuple[_Rung, ...]
    poster: Path
    still: Path
    jobs: tuple[_Job, ...]

    def complete(self, cache: MediaCache) -> bool:
        return all(_made(cache, plan, key) for plan, key in self.rungs) and self.poster.is_file() \
            and self.still.is_file()


def process_episodes(episodes: Sequence[Episode], settings: Settings, *, keep_going: bool = False,
                     progress: bool = True, progress_every: float | None = None) -> MediaReport:
    """Problems come back in the report (the caller raises them together with other stages' problems);
    with `keep_going` (mkdocs serve) every episode also gets an EpisodeMedia, failed ones with `error`.
    `progress` writes each transcode's progress to the `dayori.media` log, at most every `progress_every`
    seconds (see `progress.py`)."""
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
        runs = 0
        if keep_going or not problems:
            runs = _run_all(pool, planned, cache, fail, keep_going, _progress(planned, progress, progress_every))
    cache.save()
    media = {p.probed.checked.episode.slug: _result(p, cache, errors) for p in planned if p.complete(cache)}
    if keep_going:
        for episode in episodes:
            if episode.slug not in media:
                media[episode.slug] = _failed(episode, errors)
    return MediaReport(media=media, ffmpeg_runs=runs, probes=sum(p.probed for p in probed), problems=problems,
                       warnings=warnings, hashed=sum(p.hashed for p in probed),
                       seconds=time.perf_counter() - started)


def _progress(planned: list[_Planned], enabled: bool, every: float | None) -> Progress:
    """Numbered among the ladders this build transcodes (posters take a moment and are not counted)."""
    ladders = {job.key for item in planned for job in item.jobs if job.reports}
    return Progress(len(ladders), enabled=enabled) if every is None else \
        Progress(len(ladders), enabled=enabled, every=every)


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
    """Jobs only for outputs missing from the cache; each rung keeps its own key, so a changed poster_at
    or an added size makes only what changed."""
    episode, clip = item.checked.episode, item.probe
    if clip.duration > settings.media.max_duration:
        fail(episode, "clip", f"動画が長すぎます（{duration_words(clip.duration)}、上限 "
                              f"{duration_words(settings.media.max_duration)}）。分けて別のエピソードにしてください。")
        return None
    if episode.poster_at is not None and not 0 <= episode.poster_at < clip.duration:
        fail(episode, "poster_at", f"poster_at: {episode.poster_at:g} が動画の範囲（0〜{clip.duration:.1f} 秒）の"
                                   "外です。表紙にしたい場面の秒数を書いてください。")
        return None
    videos = plan_renditions(clip, tuple(settings.media.renditions))
    audio = plan_audio(clip)
    plans: list[RenditionPlan | AudioPlan] = [*videos, *([audio] if audio else [])]
    rungs = tuple((plan, digest(item.sha, version, plan.recipe())) for plan in plans)
    jobs: list[_Job] = []
    missing = [(plan, key) for plan, key in rungs if not _made(cache, plan, key)]
    if missing:
        jobs.append(_ladder_job(exe, item, missing, cache))
    images = plan_images(clip, episode.poster_at, videos[0])
    image_key = digest(item.sha, version, images.recipe())
    poster, still = cache.file(f"{image_key}-poster", "jpg"), cache.file(f"{image_key}-still", "jpg")
    if not (poster.is_file() and still.is_file()):
        jobs.append(_Job(key=image_key, lock=digest(item.sha, "images"), title=episode.title,
                         command=tuple(images_command(exe, episode.clip, Path("poster.png"), Path("still.jpg"),
                                                      images)),
                         moves=(("poster.jpg", poster), ("still.jpg", still)),
                         duration=clip.duration - images.at, work=0.0, poster=("poster.png", "poster.jpg")))
    key16 = digest(item.sha, version, [key for _, key in rungs], image_key, item.checked.captions)[:16]
    return _Planned(item, key16, rungs, poster, still, tuple(jobs))


def _made(cache: MediaCache, plan: RenditionPlan | AudioPlan, key: str) -> bool:
    """The whole file and the HLS stream with its measurements; the stream's folder only ever appears complete."""
    return cache.file(key, _whole_suffix(plan)).is_file() and read_facts(cache.stream(key)) is not None


def _whole_suffix(plan: RenditionPlan | AudioPlan) -> str:
    return "m4a" if isinstance(plan, AudioPlan) else "mp4"


def _ladder_job(exe: str, item: _Probed, missing: list[_Rung], cache: MediaCache) -> _Job:
    """One run for every missing rung of a clip; its key names exactly those outputs, so two episodes
    sharing a clip share the run."""
    episode = item.checked.episode
    names = [(plan, key, f"r{index}") for index, (plan, key) in enumerate(missing)]
    moves: list[tuple[str, Path]] = []
    for plan, key, name in names:
        moves += [(f"{name}.{_whole_suffix(plan)}", cache.file(key, _whole_suffix(plan))), (name, cache.stream(key))]
    pixels = sum(plan.width * plan.height for plan, _, _ in names if isinstance(plan, RenditionPlan))
    return _Job(key="+".join(key for _, key in missing), lock=digest(item.sha, "ladder"), title=episode.title,
                command=tuple(ladder_command(exe, episode.clip, [(plan, name) for plan, _, name in names])),
                moves=tuple(moves), duration=item.probe.duration, work=item.probe.duration * max(pixels, 1),
                folders=tuple(name for _, _, name in names),
                whole=tuple(f"{name}.{_whole_suffix(plan)}" for plan, _, name in names),
                streams=tuple((name, isinstance(plan, RenditionPlan), isinstance(plan, AudioPlan) or plan.audio)
                              for plan, _, name in names),
                reports=True)


def _run_all(pool: ThreadPoolExecutor, planned: list[_Planned], cache: MediaCache, fail: Callable[..., None],
             keep_going: bool, progress: Progress) -> int:
    """Each distinct output once, even when two episodes share a clip. Longest runs first: short ones then
    fill the gaps at the end instead of one long run finishing alone on an otherwise idle machine."""
    owners: dict[str, list[Episode]] = {}
    unique: dict[str, _Job] = {}
    for item in planned:
        for job in item.jobs:
            owners.setdefault(job.key, []).append(item.probed.checked.episode)
            unique.setdefault(job.key, job)
    ordered = sorted(unique.values(), key=lambda job: job.work, reverse=True)
    futures: dict[Future[bool], _Job] = {pool.submit(_execute, job, cache, progress): job for job in ordered}
    runs, stopped = 0, False
    for future in as_completed(futures):
        job = futures[future]
        try:
            ran = future.result()
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
        runs += ran
    return runs


def _execute(job: _Job, cache: MediaCache, progress: Progress) -> bool:
    """Whether ffmpeg ran: not when another build made the same files while this one waited for the lock."""
    with exclusive(cache.locks / f"{job.lock}.lock", on_wait=lambda: progress.waiting(job.title)):
        if all(final.exists() for _, final in job.moves):
            return False
        work = cache.temporary(cache.files / job.key[:16])
        work.mkdir()
        try:
            for folder in job.folders:
                (work / folder).mkdir()
            started = time.perf_counter()
            report = progress.start(job.title, job.duration) if job.reports else None
            _transcode(job, work, report)
            if job.reports:
                progress.finished(job.title, time.perf_counter() - started)
            for name, final in job.moves:
                _place(work / name, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return True


def _transcode(job: _Job, work: Path, report: Callable[[float], None] | None) -> None:
    """Runs the job's ffmpeg in `work` and checks and completes what it wrote."""
    try:
        run_ffmpeg(list(job.command), cwd=work, on_progress=report)
    except FfmpegFailed as error:
        raise _Failed(f"ffmpeg が途中で止まりました。動画が途中で切れているか壊れている可能性があります"
                      f"（ffmpeg: {error.last_line}）") from error
    if job.poster is not None:
        frame, poster = job.poster
        if not (work / frame).is_file():
            raise _Failed("表紙の画像を取り出せませんでした。動画の中身が壊れている可能性があります")
        progressive_jpeg(work / frame, work / poster)
    for name, _ in job.moves:
        made = work / name
        if not made.exists() or (made.is_file() and made.stat().st_size == 0):
            raise _Failed("出力が空になりました。動画の中身が壊れている可能性があります")
    for name in job.whole:
        _check_length(work / name, job.duration)
    for name, video, sound in job.streams:
        try:
            write_facts(work / name, measure_stream(work / name, video, sound))
        except (OSError, ValueError, StreamError) as error:
            raise _Failed(f"配信用のファイル（HLS）を確かめられませんでした（{error}）") from error


def _place(made: Path, final: Path) -> None:
    """An output gets its final name in one step. A stream folder already there is kept when complete (the same
    content under the same key) and replaced when its measurements are unreadable (a damaged cache)."""
    if made.is_dir() and final.is_dir():
        if read_facts(final) is not None:
            return
        shutil.rmtree(final)
    os.replace(made, final)


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


def _result(item: _Planned, cache: MediaCache, errors: dict[str, list[str]]) -> EpisodeMedia:
    episode, clip = item.probed.checked.episode, item.probed.probe
    base = f"media/video/{item.key16}"
    renditions: list[Rendition] = []
    audio: Rendition | None = None
    streams: list[Output] = []
    variants: list[Variant] = []
    for plan, key in item.rungs:
        whole = cache.file(key, _whole_suffix(plan))
        facts = _facts(cache, key)
        folder = f"hls/{plan.label}"
        streams += [Output(dest=f"{base}/{folder}/{name}", source=cache.stream(key) / name) for name in facts.files]
        if isinstance(plan, AudioPlan):
            audio = Rendition(label="音声のみ", dest=f"{base}/audio.m4a", source=whole, width=0, height=0,
                              bytes=whole.stat().st_size, mime="audio/mp4")
            variants.append(Variant(f"{folder}/index.m3u8", facts))
            continue
        renditions.append(Rendition(label=plan.label, dest=f"{base}/{plan.label}.mp4", source=whole,
                                    width=plan.width, height=plan.height, bytes=whole.stat().st_size))
        variants.append(Variant(f"{folder}/index.m3u8", facts, plan.width, plan.height, float(Fraction(plan.frame_rate))))
    captions = item.probed.checked.captions
    largest = renditions[0]
    return EpisodeMedia(
        slug=episode.slug,
        renditions=tuple(renditions),
        poster=Output(dest=f"{base}/poster.jpg", source=item.poster),
        still=Output(dest=f"{base}/still.jpg", source=item.still),
        captions=Output(dest=f"{base}/captions.vtt", content=captions.encode()) if captions else None,
        duration=clip.duration,
        width=largest.width,
        height=largest.height,
        has_audio=clip.has_audio,
        error="\n".join(errors[episode.slug]) if episode.slug in errors else None,
        audio=audio,
        playlist=Output(dest=f"{base}/index.m3u8", content=master_playlist(variants).encode()),
        streams=tuple(streams),
    )


def _facts(cache: MediaCache, key: str) -> StreamFacts:
    """Read when the plan found the stream complete, or just after it was made."""
    facts = read_facts(cache.stream(key))
    if facts is None:
        raise RuntimeError(f"the HLS stream {cache.stream(key)} lost its {key} measurements during the build")
    return facts


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
