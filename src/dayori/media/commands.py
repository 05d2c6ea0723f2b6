"""ffmpeg commands as values: what each published file is made of, decided from a probe, never from guesses.

Choices a reader of the site notices, and why:
- H.264 High + AAC-LC stereo in MP4 with the index (moov) first, so every browser on a government PC starts
  playing before the download ends.
- Sizes are "up to 720p / 360p on the short side"; a clip is never enlarged, and renditions that would come out
  the same size are made once (a 640x360 clip gets one "360p" file, not two copies).
- A clip without sound stays without an audio track (no invented silence): the page can then say 音声なし,
  and screen-reader users are not offered a silent track.
- A source that already fits a rendition (H.264 yuv420p, upright, constant rate, within size and bit budget)
  keeps its video bytes (`-c:v copy` + faststart); its sound is still re-encoded, because loudness
  normalisation (EBU R128, -16 LUFS, so episodes play equally loud) needs decoding and AAC costs little.
- Source metadata (phone GPS position, device names) is dropped from every output.
- ffmpeg reads a clip as the probe did: a local file in a listed container, never a playlist or an address.
- The e-mail/feed still is always 1200x675 (16:9): e-mail layouts can reserve the exact space, and portrait clips
  are pillarboxed on black rather than cropped, so nothing the presenter shows is cut away. Small clips are
  enlarged for it with lanczos; that is the one place we enlarge, because e-mail needs the fixed width.
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
BITS_PER_PIXEL = 0.1
MIN_BITRATE = 64_000
CRF = 23
PRESET = "medium"
LOUDNESS = {"I": -16, "TP": -1.5, "LRA": 11}
AUDIO_RATE = 48_000
STILL_SIZE = (1200, 675)
JPEG_QUALITY = 3
THUMBNAIL_BATCH = 50
H264_REMUXABLE = {"Baseline", "Constrained Baseline", "Main", "High"}
BASE_ARGS = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-xerror", "-progress", "pipe:1")


@functools.lru_cache(maxsize=1)
def recipe_version() -> str:
    """This module's bytes and ffmpeg-python's version, in every output's cache key: any change to how the
    commands are built (a filter, an option) makes the outputs again, with no number to bump by hand."""
    return code_version([Path(__file__)], ("ffmpeg-python",))


@dataclass(frozen=True)
class RenditionPlan:
    """One MP4 to publish; `remux` means the source's video is copied as is (it already fits)."""

    label: str
    width: int
    height: int
    frame_rate: str
    max_bitrate: int
    audio_bitrate: int
    audio: bool
    still: bool
    remux: bool
    duration: float

    def recipe(self) -> dict[str, Any]:
        """Everything that decides the output bytes, for the cache key."""
        return {"kind": "rendition", "version": recipe_version(), "crf": CRF, "preset": PRESET,
                "loudness": LOUDNESS, "bpp": BITS_PER_PIXEL, **asdict(self)}


@dataclass(frozen=True)
class ImagePlan:
    """The poster (rendition-sized) and the fixed-size e-mail still, both from one frame."""

    at: float
    representative: bool
    width: int
    height: int
    fit_width: int
    fit_height: int

    def recipe(self) -> dict[str, Any]:
        return {"kind": "images", "version": recipe_version(), "still": STILL_SIZE, "q": JPEG_QUALITY,
                "batch": THUMBNAIL_BATCH, **asdict(self)}


def plan_renditions(probe: Probe, targets: tuple[int, ...]) -> tuple[RenditionPlan, ...]:
    """Largest first. Targets at or above the clip's own short side collapse into one, named after the
    smallest of them, at the clip's own (even) size."""
    short = min(probe.width, probe.height)
    sizes: list[tuple[str, int, int]] = []
    fitting = [t for t in targets if t >= short]
    if fitting:
        sizes.append((f"{min(fitting)}p", _even_down(probe.width), _even_down(probe.height)))
    for target in sorted((t for t in targets if t < short), reverse=True):
        scale = target / short
        sizes.append((f"{target}p", _even(probe.width * scale), _even(probe.height * scale)))
    return tuple(_plan(probe, label, width, height) for label, width, height in sizes)


def plan_images(probe: Probe, poster_at: float | None, largest: RenditionPlan) -> ImagePlan:
    """Without `poster_at`, ffmpeg's thumbnail filter picks the most typical frame from a third of the way
    in (titles and fade-ins are usually before that)."""
    still_width, still_height = STILL_SIZE
    scale = min(still_width / largest.width, still_height / largest.height)
    fit_width = min(still_width, _even(largest.width * scale))
    fit_height = min(still_height, _even(largest.height * scale))
    if probe.is_still:
        return ImagePlan(0.0, False, largest.width, largest.height, fit_width, fit_height)
    if poster_at is not None:
        return ImagePlan(round(poster_at, 3), False, largest.width, largest.height, fit_width, fit_height)
    return ImagePlan(round(probe.duration / 3, 3), True, largest.width, largest.height, fit_width, fit_height)


def renditions_command(exe: str, source: Path, outputs: Sequence[tuple[RenditionPlan, Path]]) -> list[str]:
    """All renditions of one clip from one ffmpeg run: the clip is decoded and its loudness normalised once,
    then shared through `split`/`asplit`. Each encoder gets exactly the frames and samples it would get in a
    run of its own, so the files are the same as one run per rendition (same cache keys), made with one
    decode instead of one per rendition. The plans of one clip agree on `still`, `frame_rate` and `audio`.
    `dest`s are temporary names; the format is given explicitly because their suffix is not `.mp4`."""
    plans = [plan for plan, _ in outputs]
    first = plans[0]
    clip = ffmpeg.input(str(source), **OPEN_OPTIONS, **({"r": first.frame_rate} if first.still else {}))
    pictures = iter(_shared(clip["v:0"], "split", sum(not plan.remux for plan in plans)))
    sound = clip["a:0"].filter("loudnorm", **LOUDNESS).filter("aresample", AUDIO_RATE) if first.audio else None
    sounds = iter(_shared(sound, "asplit", len(plans)) if sound is not None else ())
    made = []
    for plan, dest in outputs:
        streams = [clip["v:0"] if plan.remux else _video_chain(next(pictures), plan)]
        if plan.audio:
            streams.append(next(sounds))
        made.append(ffmpeg.output(*streams, str(dest), **_rendition_options(plan)))
    return ffmpeg.merge_outputs(*made).global_args(*BASE_ARGS).overwrite_output().compile(cmd=exe)


def images_command(exe: str, source: Path, poster: Path, still: Path, plan: ImagePlan) -> list[str]:
    """One decode for both pictures; the still is the poster fitted into 16:9 on black."""
    clip = ffmpeg.input(str(source), **OPEN_OPTIONS, ss=f"{plan.at:.3f}")
    frame = clip["v:0"]
    if plan.representative:
        frame = frame.filter("thumbnail", n=THUMBNAIL_BATCH)
    frame = frame.filter("scale", plan.width, plan.height).filter("setsar", 1)
    split = frame.split()
    for_poster, for_still = split[0], split[1]
    still_width, still_height = STILL_SIZE
    boxed = (for_still.filter("format", "yuv444p")
             .filter("scale", plan.fit_width, plan.fit_height, flags="lanczos")
             .filter("pad", still_width, still_height, (still_width - plan.fit_width) // 2,
                     (still_height - plan.fit_height) // 2, color="black")
             .filter("setsar", 1))
    jpeg = {"frames:v": 1, "c:v": "mjpeg", "q:v": JPEG_QUALITY, "f": "image2", "update": 1, "map_metadata": -1}
    return (ffmpeg.merge_outputs(ffmpeg.output(for_poster, str(poster), **jpeg),
                                 ffmpeg.output(boxed, str(still), **jpeg))
            .global_args(*BASE_ARGS).overwrite_output().compile(cmd=exe))


def _shared(stream: Any, splitter: str, count: int) -> list[Any]:
    """`count` uses of one filtered stream; a single use needs no split."""
    if count <= 1:
        return [stream] * count
    node = stream.filter_multi_output(splitter)
    return [node[index] for index in range(count)]


def _rendition_options(plan: RenditionPlan) -> dict[str, Any]:
    options: dict[str, Any] = {"map_metadata": -1, "map_chapters": -1}
    if plan.remux:
        options |= {"c:v": "copy", "tag:v": "avc1"}
    else:
        rate = Fraction(plan.frame_rate)
        options |= {"c:v": "libx264", "profile:v": "high", "preset": PRESET, "crf": CRF,
                    "maxrate": plan.max_bitrate, "bufsize": 2 * plan.max_bitrate, "pix_fmt": "yuv420p",
                    "g": max(1, round(2 * rate)), "t": f"{plan.duration:.3f}"}
    if plan.audio:
        options |= {"c:a": "aac", "profile:a": "aac_low", "b:a": plan.audio_bitrate, "ac": 2, "ar": AUDIO_RATE}
    return options | {"movflags": "+faststart", "f": "mp4"}


def _video_chain(video: Any, plan: RenditionPlan) -> Any:
    """ffmpeg turns the picture upright before our filters (autorotate) and writes no display matrix
    for filtered video, so the output plays upright everywhere without a rotation flag. A still is held
    for the whole sound; its input is read at the output rate (`-r`), else tpad would clone at the
    container's nominal rate (90000 for cover art) and take minutes."""
    if plan.still:
        video = video.filter("tpad", stop_mode="clone", stop_duration=f"{plan.duration:.3f}")
    return (video.filter("scale", plan.width, plan.height).filter("setsar", 1)
            .filter("fps", fps=plan.frame_rate).filter("format", "yuv420p"))


def _plan(probe: Probe, label: str, width: int, height: int) -> RenditionPlan:
    rate = _frame_rate(probe)
    budget = max(MIN_BITRATE, int(BITS_PER_PIXEL * width * height * float(rate)))
    source_rate = probe.video_bit_rate or probe.bit_rate
    cap = min(budget, source_rate) if source_rate and not probe.is_still else budget
    remux = (probe.video_codec == "h264" and probe.pix_fmt == "yuv420p" and probe.profile in H264_REMUXABLE
             and probe.rotation == 0 and probe.square_pixels and not probe.is_still
             and not probe.variable_frame_rate and 0 < probe.frame_rate <= MAX_FRAME_RATE
             and (width, height) == (probe.width, probe.height)
             and 0 < probe.video_bit_rate <= budget)
    return RenditionPlan(label=label, width=width, height=height, frame_rate=str(rate),
                         max_bitrate=max(MIN_BITRATE, cap),
                         audio_bitrate=128_000 if min(width, height) > 360 else 96_000,
                         audio=probe.has_audio, still=probe.is_still, remux=remux,
                         duration=round(probe.duration, 3))


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
