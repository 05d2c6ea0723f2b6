"""Tiny clips made with ffmpeg's lavfi sources, one per case the media stage must handle."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def clip(path: Path, *, size: str = "320x180", seconds: float = 2.0, rate: int = 25, audio: bool = True,
         pix_fmt: str = "yuv420p", extra: tuple[str, ...] = ()) -> Path:
    """testsrc2 video (moving, so encoders have real work) with a sine tone."""
    inputs = ["-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d={seconds}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", pix_fmt]
    if audio:
        codecs += ["-c:a", "aac", "-b:a", "64k"]
    ffmpeg(*inputs, *codecs, *extra, "-movflags", "+faststart", str(path))
    return path


def rotated(path: Path, source: Path, degrees: int = 90) -> Path:
    """A phone-style clip: stored landscape, with a display matrix saying to show it turned."""
    ffmpeg("-display_rotation", str(degrees), "-i", str(source), "-c", "copy", str(path))
    return path


def variable_rate(path: Path, seconds: float = 2.0) -> Path:
    """30 fps for the first second, then 10 fps: what screen recorders write when nothing moves."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=320x180:r=30:d={seconds}",
           "-f", "lavfi", "-i", f"sine=duration={seconds}",
           "-vf", "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'", "-fps_mode", "vfr",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-video_track_timescale", "1000",
           "-c:a", "aac", "-t", str(seconds), str(path))
    return path


def still_with_audio(path: Path, seconds: float = 2.0) -> Path:
    """Cover art plus sound (an .m4a renamed .mp4): the video stream is one picture and its rate reads 0."""
    cover = path.with_suffix(".png")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=1", "-frames:v", "1", str(cover))
    ffmpeg("-f", "lavfi", "-i", f"sine=duration={seconds}", "-i", str(cover), "-map", "0", "-map", "1",
           "-c:a", "aac", "-c:v", "png", "-disposition:v", "attached_pic", "-f", "mp4", str(path))
    cover.unlink()
    return path


def truncated(path: Path, source: Path, keep: float = 0.5) -> Path:
    """A `+faststart` clip cut in half: the index still promises the full length."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def not_a_video(path: Path) -> Path:
    """A document renamed to .mp4, as happens when someone picks the wrong attachment."""
    path.write_bytes(b"%PDF-1.4\n% not a video\n" + bytes(range(256)) * 8)
    return path
