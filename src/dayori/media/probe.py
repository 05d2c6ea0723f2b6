"""What a clip is, read once with PyAV: everything the planner needs to choose between remux and re-encode."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

# Bumped when the meaning of a field changes, so that cached probes of an older layout are not trusted
# (3: clips must be in a listed container; a playlist probed before that must be refused now).
PROBE_VERSION = 3

CONTAINERS = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpegts", "asf")
"""Files that hold their own pictures and sound: what phones, cameras, screen recorders and PCs write.
Playlists (HLS `.m3u8`), ffconcat lists and other demuxers that open further files or addresses are not
among them: a clip must never pull in a video from outside its episode folder or from another host."""
OPEN_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": ",".join(CONTAINERS)}
"""For FFmpeg whenever it reads a clip (this probe and the transcode): local files, listed containers only."""
_PLAYLIST_STARTS = (b"#EXTM3U", b"ffconcat", b"[playlist]", b"<ASX", b"<asx", b"http://", b"https://")

_ATTACHED_PIC = 0x400


class ProbeError(Exception):
    """The file is not a clip we can publish; the message is Japanese and says why, for an editor."""


@dataclass(frozen=True)
class Probe:
    """A clip as a viewer sees it: width and height are after rotation (and non-square pixels)."""

    duration: float
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    frame_rate: float
    nominal_frame_rate: float
    variable_frame_rate: bool
    has_audio: bool
    audio_codec: str
    audio_channels: int
    video_codec: str
    profile: str
    pix_fmt: str
    bit_rate: int
    video_bit_rate: int
    is_still: bool
    square_pixels: bool

    def to_json(self) -> dict[str, Any]:
        return {"version": PROBE_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Probe | None:
        """None for a probe written by another layout, so that the caller probes again."""
        names = {f.name for f in fields(cls)}
        if data.get("version") != PROBE_VERSION or not names <= set(data):
            return None
        return cls(**{name: data[name] for name in names})


def probe(path: Path) -> Probe:
    """Opens the clip once; decodes only its first frame (rotation lives in frame side data in PyAV)."""
    import av  # PyAV takes a tenth of a second to import; a build whose clips are all cached never needs it

    try:
        container = av.open(str(path), options=dict(OPEN_OPTIONS))
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        if _is_playlist(path):
            raise ProbeError("動画そのものではなく、ほかのファイルやアドレスの動画を指す再生リスト（.m3u8 など）です。"
                             "MP4 などの動画ファイルに書き出して置いてください") from error
        raise ProbeError(f"動画として読み取れません（中身が動画ではないか、壊れています: {_reason(error)}）") from error
    with container:
        if not set(container.format.name.split(",")) & set(CONTAINERS):
            raise ProbeError(f"この形式（{container.format.name}）の動画は使えません。MP4 などの動画ファイルに"
                             "書き出して置いてください")
        if not container.streams.video:
            raise ProbeError("映像が入っていません（音声だけのファイルか、動画ではありません）")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        first, packets = _first_frame(container, video)
        rotation = _rotation(first)
        coded_width, coded_height = video.codec_context.width, video.codec_context.height
        sar = video.sample_aspect_ratio
        square = not sar or sar == 1
        shown_width = coded_width if not sar or square else round(coded_width * sar)
        width, height = (coded_height, shown_width) if rotation in (90, 270) else (shown_width, coded_height)
        attached = bool(video.disposition & _ATTACHED_PIC)
        still = attached or video.frames == 1 or packets <= 1
        rate = _rate(video.average_rate) or _rate(video.guessed_rate)
        nominal = _rate(video.base_rate) or rate
        if still or rate > 1000:
            rate = nominal = 0.0
        return Probe(
            duration=_duration(container),
            width=width,
            height=height,
            coded_width=coded_width,
            coded_height=coded_height,
            rotation=rotation,
            frame_rate=rate,
            nominal_frame_rate=nominal if nominal <= 1000 else rate,
            variable_frame_rate=_variable(video.average_rate, video.base_rate),
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio else "",
            audio_channels=audio.codec_context.channels if audio else 0,
            video_codec=video.codec_context.name,
            profile=video.profile or "",
            pix_fmt=video.codec_context.pix_fmt or "",
            bit_rate=container.bit_rate or 0,
            video_bit_rate=video.codec_context.bit_rate or 0,
            is_still=still,
            square_pixels=square,
        )


def _is_playlist(path: Path) -> bool:
    """A text file naming other media, which FFmpeg would follow: told apart to give the editor a useful reason."""
    try:
        with path.open("rb") as file:
            start = file.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return path.suffix.lower() in {".m3u8", ".m3u", ".pls", ".asx", ".ffconcat"} or start.startswith(_PLAYLIST_STARTS)


def _first_frame(container: Any, video: Any) -> tuple[Any, int]:
    """Decodes up to the first picture and counts (at most two) packets, which tells a still from a video
    even when the container does not say how many frames it has."""
    import av

    first = None
    packets = 0
    try:
        for packet in container.demux(video):
            if packet.size:
                packets += 1
            if first is None:
                frames = packet.decode()
                first = frames[0] if frames else None
            if first is not None and packets >= 2:
                break
    except av.error.FFmpegError as error:
        raise ProbeError(f"映像を読み取れません（壊れている可能性があります: {_reason(error)}）") from error
    if first is None:
        raise ProbeError("映像のコマを 1 枚も読み取れません（壊れているか、空のファイルです）")
    return first, packets


def _rotation(frame: Any) -> int:
    """The display matrix's angle snapped to a quarter turn; phones only ever write those."""
    angle = float(getattr(frame, "rotation", 0) or 0)
    return round(angle / 90.0) * 90 % 360


def _rate(value: Fraction | None) -> float:
    return float(value) if value else 0.0


def _variable(average: Fraction | None, base: Fraction | None) -> bool:
    if not average or not base:
        return False
    return abs(float(average) - float(base)) > 0.01 * float(base)


def _duration(container: Any) -> float:
    if container.duration:
        return float(container.duration) / 1_000_000
    durations = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
    if not durations:
        raise ProbeError("動画の長さを読み取れません（壊れている可能性があります）")
    return max(durations)


def _reason(error: Exception) -> str:
    """FFmpeg's own words without the errno and the full path, which only clutter an editor's message."""
    return getattr(error, "strerror", None) or type(error).__name__
