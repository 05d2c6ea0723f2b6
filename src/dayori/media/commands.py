"""ffmpeg commands as values: what each published file is made of, decided from a probe, never from guesses.

Choices a reader of the site notices, and why:
- A ladder sized for slow links (`LADDER`): 720p (~1.8 Mbit/s), 360p (~600 kbit/s), 240p at 24 fps (~250 kbit/s
  with mono sound) and the sound alone (~48 kbit/s mono). A phone abroad at 300 kbit/s plays the 240p rung
  without stalling; the office gets 720p. Sizes are "up to N on the short side"; a clip is never enlarged, and
  sizes at or above the clip's own collapse into one rung at the clip's size.
- Every rung is made twice from one encode (ffmpeg's tee muxer): as HLS (2 s fMP4 segments, for browsers that
  switch rungs as the line allows) and as one MP4 with its index (moov) first (for browsers without HLS and for
  downloading). Keyframes fall every 2 s at the same instants in every rung (forced by time, not frame count, so a
  24 fps rung cuts where a 30 fps one does): a player can change rung at any segment boundary. x264's own
  keyframe interval is twice that, so that it never puts one a frame before a forced one.
- The peak rate is capped with a one-second buffer (`bufsize` = `maxrate`): a 2 s segment then never carries much
  more than the rung's nominal rate, which is what a player on a slow line plans with.
- A clip without sound stays without an audio track (no invented silence) and gets no sound-only version.
- Sound is normalised once for all rungs (EBU R128, -16 LUFS, so episodes play equally loud).
- Source metadata (phone GPS position, device names) is dropped from every output.
- ffmpeg reads a clip as the probe did: a local file in a listed container, never a playlist or an address.
- The poster is one frame fitted in 640x640 (the page's column), turned into a progressive JPEG of at most
  25 KB by `posters.py`. The e-mail/feed still is always 1200x675 (16:9): e-mail layouts can reserve the exact
  space, and portrait clips are pillarboxed on black rather than cropped. Small clips are enlarged for it with
  lanczos; that is the one place we enlarge, because e-mail needs the fixed width.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from dayori.media.probe import OPEN_OPTIONS, Probe
from dayori.store import code_version

MAX_FRAME_RATE = Fraction(30)
FALLBACK_FRAME_RATE = Fraction(30)
MIN_BITRATE = 64_000
CRF = 23
PRESET = "medium"
LOUDNESS = {"I": -16, "TP": -1.5, "LRA": 11}
AUDIO_RATE = 48_000
SEGMENT_SECONDS = 2
"""Keyframe interval and HLS segment length: short segments start playback sooner on a slow line."""
POSTER_BOX = (640, 640)
STILL_SIZE = (1200, 675)
JPEG_QUALITY = 3
THUMBNAIL_BATCH = 50


@dataclass(frozen=True)
class Rung:
    """What one size of the ladder may spend: video bits per second (peak), and its sound."""

    video_bitrate: int
    audio_bitrate: int
    channels: int
    max_frame_rate: Fraction


LADDER = {
    720: Rung(1_650_000, 128_000, 2, Fraction(30)),
    360: Rung(530_000, 64_000, 2, Fraction(30)),
    240: Rung(200_000, 48_000, 1, Fraction(24)),
}
"""The sizes `MediaSettings.renditions` names by default; another size gets `_rung`'s interpolation."""
AUDIO_ONLY = Rung(0, 48_000, 1, Fraction(0))
"""Speech stays clear at 48 kbit/s mono AAC-LC: a 3-minute episode is about 1 MB."""


@functools.lru_cache(maxsize=1)
def recipe_version() -> str:
    """The bytes of this module and of the poster encoder, and the versions of ffmpeg-python and Pillow, in every
    output's cache key: any change to how the outputs are made (a filter, an option) makes them again, with no
    number to bump by hand."""
    here = Path(__file__).parent
    return code_version([here / "commands.py", here / "posters.py", here / "hls.py"], ("ffmpeg-python", "pillow"))


@dataclass(frozen=True)
class RenditionPlan:
    """One rung of the ladder: an HLS stream and an MP4 of the same encode."""

    label: str
    width: int
    height: int
    frame_rate: str
    max_bitrate: int
    audio_bitrate: int
    audio_channels: int
    audio: bool
    still: bool
    duration: float

    def recipe(self) -> dict[str, Any]:
        """Everything that decides the output bytes, for the cache key."""
        return {"kind": "rung", "version": recipe_version(), "crf": CRF, "preset": PRESET, "loudness": LOUDNESS,
                "segment": SEGMENT_SECONDS, **asdict(self)}


@dataclass(frozen=True)
class AudioPlan:
    """The sound alone (音声のみ): an HLS stream listed in the master playlist and an .m4a to download."""

    bitrate: int
    channels: int
    duration: float

    label = "audio"

    def recipe(self) -> dict[str, Any]:
        return {"kind": "audio", "version": recipe_version(), "loudness": LOUDNESS, "segment": SEGMENT_SECONDS,
                **asdict(self)}


@dataclass(frozen=True)
class ImagePlan:
    """The poster (fitted in `POSTER_BOX`) and the fixed-size e-mail still, both from one frame."""

    at: float
    representative: bool
    width: int
    height: int
    poster_width: int
    poster_height: int
    fit_width: int
    fit_height: int

    def recipe(self) -> dict[str, Any]:
        return {"kind": "images", "version": recipe_version(), "still": STILL_SIZE, "q": JPEG_QUALITY,
                "batch": THUMBNAIL_BATCH, **asdict(self)}


Output = tuple[RenditionPlan | AudioPlan, str]
"""A plan and the name its files get in the folder ffmpeg runs in: `name.mp4` (`name.m4a` for the sound) and
the HLS folder `name/` (`index.m3u8`, `init.mp4`, `000.m4s`…)."""


def plan_renditions(probe: Probe, targets: tuple[int, ...]) -> tuple[RenditionPlan, ...]:
    """Largest first. Targets at or above the clip's own short side collapse into one, named after the
    smallest of them, at the clip's own (even) size."""
    short = min(probe.width, probe.height)
    sizes: list[tuple[int, int, int]] = []
    fitting = [t for t in targets if t >= short]
    if fitting:
        sizes.append((min(fitting), _even_down(probe.width), _even_down(probe.height)))
    for target in sorted((t for t in targets if t < short), reverse=True):
        scale = target / short
        sizes.append((target, _even(probe.width * scale), _even(probe.height * scale)))
    return tuple(_plan(probe, target, width, height) for target, width, height in sizes)


def plan_audio(probe: Probe) -> AudioPlan | None:
    return AudioPlan(AUDIO_ONLY.audio_bitrate, AUDIO_ONLY.channels, round(probe.duration, 3)) if probe.has_audio \
        else None


def plan_images(probe: Probe, poster_at: float | None, largest: RenditionPlan) -> ImagePlan:
    """Without `poster_at`, ffmpeg's thumbnail filter picks the most typical frame from a third of the way
    in (titles and fade-ins are usually before that)."""
    still_width, still_height = STILL_SIZE
    scale = min(still_width / largest.width, still_height / largest.height)
    fit_width = min(still_width, _even(largest.width * scale))
    fit_height = min(still_height, _even(largest.height * scale))
    shrink = min(1.0, POSTER_BOX[0] / largest.width, POSTER_BOX[1] / largest.height)
    poster = (_even(largest.width * shrink), _even(largest.height * shrink))
    sizes = (largest.width, largest.height, *poster, fit_width, fit_height)
    if probe.is_still:
        return ImagePlan(0.0, False, *sizes)
    if poster_at is not None:
        return ImagePlan(round(poster_at, 3), False, *sizes)
    return ImagePlan(round(probe.duration / 3, 3), True, *sizes)


def ladder_command(exe: str, source: Path, outputs: Sequence[Output]) -> list[str]:
    """Every missing rung of one clip from one ffmpeg run, started in the folder that receives the files (their
    names are ours, so the tee muxer's option syntax needs no escaping). The clip is decoded and its sound
    normalised once, then shared through `split`/`asplit`; each rung is encoded once and written twice by the tee
    muxer. Each encoder gets exactly the frames and samples it would get in a run of its own, so the files are
    the same as one run per rung (same cache keys). The HLS folders must exist before the run."""
    videos = [plan for plan, _ in outputs if isinstance(plan, RenditionPlan)]
    first = videos[0] if videos else None
    still = first.still if first else False
    clip = ffmpeg.input(str(source), **OPEN_OPTIONS, **({"r": first.frame_rate} if first and still else {}))
    pictures = iter(_shared(clip["v:0"], "split", len(videos)))
    with_sound = [plan for plan, _ in outputs if isinstance(plan, AudioPlan) or plan.audio]
    sound = clip["a:0"].filter("loudnorm", **LOUDNESS).filter("aresample", AUDIO_RATE) if with_sound else None
    sounds = iter(_shared(sound, "asplit", len(with_sound)) if sound is not None else ())
    made = []
    for plan, name in outputs:
        if isinstance(plan, AudioPlan):
            made.append(ffmpeg.output(next(sounds), _tee(name, "m4a"), **_audio_options(plan)))
            continue
        streams = [_video_chain(next(pictures), plan)]
        if plan.audio:
            streams.append(next(sounds))
        made.append(ffmpeg.output(*streams, _tee(name, "mp4"), **_rendition_options(plan)))
    return list(ffmpeg.merge_outputs(*made).global_args(*BASE_ARGS).overwrite_output().compile(cmd=exe))


def images_command(exe: str, source: Path, poster_frame: Path, still: Path, plan: ImagePlan) -> list[str]:
    """One decode for both pictures. The poster frame is written losslessly (PNG) for `posters.py` to compress;
    the still is the frame fitted into 16:9 on black."""
    clip = ffmpeg.input(str(source), **OPEN_OPTIONS, ss=f"{plan.at:.3f}")
    frame = clip["v:0"]
    if plan.representative:
        frame = frame.filter("thumbnail", n=THUMBNAIL_BATCH)
    frame = frame.filter("scale", plan.width, plan.height).filter("setsar", 1)
    split = frame.split()
    for_poster, for_still = split[0], split[1]
    poster = for_poster.filter("scale", plan.poster_width, plan.poster_height, flags="lanczos")
    still_width, still_height = STILL_SIZE
    boxed = (for_still.filter("format", "yuv444p")
             .filter("scale", plan.fit_width, plan.fit_height, flags="lanczos")
             .filter("pad", still_width, still_height, (still_width - plan.fit_width) // 2,
                     (still_height - plan.fit_height) // 2, color="black")
             .filter("setsar", 1))
    picture = {"frames:v": 1, "f": "image2", "update": 1, "map_metadata": -1}
    return list(ffmpeg.merge_outputs(ffmpeg.output(poster, str(poster_frame), **picture, **{"c:v": "png"}),
                                 ffmpeg.output(boxed, str(still), **picture, **{"c:v": "mjpeg",
                                                                                "q:v": JPEG_QUALITY}))
                .global_args(*BASE_ARGS).overwrite_output().compile(cmd=exe))


BASE_ARGS = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-xerror", "-progress", "pipe:1")


def _tee(name: str, progressive: str) -> str:
    """The HLS stream in `name/` and the whole file `name.<progressive>`, from the same packets."""
    hls = ":".join([
        "f=hls", f"hls_time={SEGMENT_SECONDS}", "hls_playlist_type=vod", "hls_segment_type=fmp4",
        "hls_fmp4_init_filename=init.mp4", f"hls_segment_filename={name}/%03d.m4s", "hls_flags=independent_segments",
    ])
    whole = "f=ipod" if progressive == "m4a" else "f=mp4"
    return f"[{hls}]{name}/index.m3u8|[{whole}:movflags=+faststart]{name}.{progressive}"


def _shared(stream: Any, splitter: str, count: int) -> list[Any]:
    """`count` uses of one filtered stream; a single use needs no split."""
    if count <= 1:
        return [stream] * count
    node = stream.filter_multi_output(splitter)
    return [node[index] for index in range(count)]


def _rendition_options(plan: RenditionPlan) -> dict[str, Any]:
    rate = Fraction(plan.frame_rate)
    options: dict[str, Any] = {
        "map_metadata": -1, "map_chapters": -1,
        "c:v": "libx264", "profile:v": "high", "preset": PRESET, "crf": CRF, "maxrate": plan.max_bitrate,
        "bufsize": plan.max_bitrate, "pix_fmt": "yuv420p", "g": max(2, round(2 * SEGMENT_SECONDS * rate)),
        "force_key_frames": f"expr:gte(t,n_forced*{SEGMENT_SECONDS})", "t": f"{plan.duration:.3f}",
    }
    if plan.audio:
        options |= {"c:a": "aac", "profile:a": "aac_low", "b:a": plan.audio_bitrate, "ac": plan.audio_channels,
                    "ar": AUDIO_RATE}
    return options | {"f": "tee"}


def _audio_options(plan: AudioPlan) -> dict[str, Any]:
    return {"map_metadata": -1, "map_chapters": -1, "c:a": "aac", "profile:a": "aac_low", "b:a": plan.bitrate,
            "ac": plan.channels, "ar": AUDIO_RATE, "t": f"{plan.duration:.3f}", "f": "tee"}


def _video_chain(video: Any, plan: RenditionPlan) -> Any:
    """ffmpeg turns the picture upright before our filters (autorotate) and writes no display matrix
    for filtered video, so the output plays upright everywhere without a rotation flag. A still is held
    for the whole sound; its input is read at the output rate (`-r`), else tpad would clone at the
    container's nominal rate (90000 for cover art) and take minutes."""
    if plan.still:
        video = video.filter("tpad", stop_mode="clone", stop_duration=f"{plan.duration:.3f}")
    return (video.filter("scale", plan.width, plan.height).filter("setsar", 1)
            .filter("fps", fps=plan.frame_rate).filter("format", "yuv420p"))


def _plan(probe: Probe, target: int, width: int, height: int) -> RenditionPlan:
    """The rung's budget, but never more bits than the clip itself had: re-encoding cannot add detail."""
    rung = _rung(target)
    rate = min(_frame_rate(probe), rung.max_frame_rate)
    source_rate = probe.video_bit_rate or probe.bit_rate
    cap = min(rung.video_bitrate, source_rate) if source_rate and not probe.is_still else rung.video_bitrate
    return RenditionPlan(label=f"{target}p", width=width, height=height, frame_rate=str(rate),
                         max_bitrate=max(MIN_BITRATE, cap), audio_bitrate=rung.audio_bitrate,
                         audio_channels=rung.channels, audio=probe.has_audio, still=probe.is_still,
                         duration=round(probe.duration, 3))


def _rung(target: int) -> Rung:
    """A size outside `LADDER` (a project may list 480 or 1080) spends like its neighbours per pixel."""
    if target in LADDER:
        return LADDER[target]
    video = max(MIN_BITRATE, round(LADDER[720].video_bitrate * (target / 720) ** 2, -3))
    near = LADDER[720] if target > 360 else LADDER[360] if target > 240 else LADDER[240]
    return Rung(int(video), near.audio_bitrate, near.channels, near.max_frame_rate)


def _frame_rate(probe: Probe) -> Fraction:
    """A constant rate near the source's: 60 becomes 30 and 50 becomes 25 (whole divisions keep motion even);
    variable-rate screen recordings get their nominal (highest) rate so quick moves stay smooth; a rate that
    reads as 0 (stills, some phone files) gets the fallback."""
    source = probe.nominal_frame_rate if probe.variable_frame_rate else probe.frame_rate
    if source <= 0:
        return FALLBACK_FRAME_RATE
    rate = Fraction(source).limit_denominator(1001)
    divisor = 1
    while rate / divisor > MAX_FRAME_RATE:
        divisor += 1
    return rate / divisor


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _even_down(value: int) -> int:
    return max(2, value - value % 2)
