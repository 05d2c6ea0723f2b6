"""Makes the sample DX日記 clips (test patterns with a tone) beside each sample episode's index.md.

Run once with `.venv/bin/python scripts/make_sample_clips.py`; the clips are committed, so a fresh clone builds
without it. Each clip stays under 1 MB: small sizes, a low bitrate and a quiet tone.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

VIDEOS = Path(__file__).resolve().parent.parent / "videos"
LIMIT = 1_000_000


@dataclass(frozen=True)
class SampleClip:
    folder: str
    pattern: str
    size: str
    seconds: int
    tone: int


SAMPLES = (
    SampleClip("2026-10-02-teams-channel", "testsrc2", "360x640", 15, 440),
    SampleClip("2026-10-16-outlook-rules", "smptebars", "640x360", 18, 523),
    SampleClip("2026-11-06-shortcut-keys", "testsrc2", "640x360", 12, 659),
)


def make(sample: SampleClip, exe: str) -> Path:
    target = VIDEOS / sample.folder / "clip.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([
        exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"{sample.pattern}=s={sample.size}:r=25:d={sample.seconds}",
        "-f", "lavfi", "-i", f"sine=frequency={sample.tone}:sample_rate=48000:duration={sample.seconds}",
        "-af", "volume=0.3", "-c:v", "libx264", "-preset", "slow", "-pix_fmt", "yuv420p",
        "-b:v", "280k", "-maxrate", "350k", "-bufsize", "700k", "-c:a", "aac", "-b:a", "48k", "-ac", "1",
        "-map_metadata", "-1", "-movflags", "+faststart", "-shortest", str(target),
    ], check=True)
    size = target.stat().st_size
    if size >= LIMIT:
        sys.exit(f"{target} is {size} bytes; sample clips must stay under {LIMIT}")
    return target


def main() -> None:
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    for sample in SAMPLES:
        path = make(sample, exe)
        print(f"{path.relative_to(VIDEOS.parent)}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
