"""HLS for the ladder: what each stream ffmpeg wrote holds (read once, right after the run), and the master
playlist that lists them for the browser.

The master playlist states for each rung what a player plans with: `BANDWIDTH` is the peak segment rate
(bytes of the worst 2 s segment, as the HLS specification defines it), `AVERAGE-BANDWIDTH` the whole
stream's rate, `CODECS` the H.264 profile and level read from the stream's own initialisation segment, and
`RESOLUTION`. Rungs are listed lowest first: Safari starts with the first variant, which on a slow line is the
one that plays. The sound-only stream comes last, listed as an audio-only variant (no `RESOLUTION`): players
that show video skip it while a video variant plays, and a player may fall back on it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PLAYLIST = "index.m3u8"
INIT = "init.mp4"
FACTS = "facts.json"
"""Kept beside the stream in the cache, never published: the master playlist is made from it on every build."""
AAC_LC = "mp4a.40.2"
SHORTEST = 1.0


@dataclass(frozen=True)
class StreamFacts:
    """One HLS stream in the cache: the files to publish (playlist, init segment, segments) and its rates."""

    files: tuple[str, ...]
    bandwidth: int
    average_bandwidth: int
    codecs: str
    segments: int
    longest_segment: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StreamFacts:
        return cls(files=tuple(data["files"]), bandwidth=int(data["bandwidth"]),
                   average_bandwidth=int(data["average_bandwidth"]), codecs=str(data["codecs"]),
                   segments=int(data["segments"]), longest_segment=float(data["longest_segment"]))


class StreamError(Exception):
    """ffmpeg wrote a stream that is not what the page promises (no segments, an unreadable init segment)."""


def read_facts(folder: Path) -> StreamFacts | None:
    """None when absent or unreadable; the stream is then made again."""
    try:
        return StreamFacts.from_json(json.loads((folder / FACTS).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def measure_stream(folder: Path, has_video: bool, has_audio: bool) -> StreamFacts:
    """Reads the media playlist ffmpeg wrote in `folder` and the sizes of the segments it names."""
    segments = _segments((folder / PLAYLIST).read_text(encoding="utf-8"))
    if not segments:
        raise StreamError("HLS の再生リストに区切り（セグメント）がありません")
    sizes = [(folder / name).stat().st_size for name, _ in segments]
    total_bytes, total_seconds = sum(sizes), sum(seconds for _, seconds in segments)
    rates = [size * 8 / seconds for size, seconds in _windows(sizes, [seconds for _, seconds in segments])]
    codecs = []
    if has_video:
        codecs.append(_avc_codec((folder / INIT).read_bytes()))
    if has_audio:
        codecs.append(AAC_LC)
    return StreamFacts(files=(PLAYLIST, INIT, *(name for name, _ in segments)), bandwidth=math.ceil(max(rates)),
                       average_bandwidth=math.ceil(total_bytes * 8 / max(total_seconds, 0.001)),
                       codecs=",".join(codecs), segments=len(segments),
                       longest_segment=max(seconds for _, seconds in segments))


def write_facts(folder: Path, facts: StreamFacts) -> None:
    (folder / FACTS).write_text(json.dumps(facts.to_json(), sort_keys=True), encoding="utf-8")


@dataclass(frozen=True)
class Variant:
    """One line pair of the master playlist: `uri` is relative to the master playlist."""

    uri: str
    facts: StreamFacts
    width: int = 0
    height: int = 0
    frame_rate: float = 0.0


def master_playlist(variants: list[Variant]) -> str:
    """Video variants lowest first, then the sound-only ones."""
    ordered = sorted(variants, key=lambda v: (v.width == 0, v.facts.bandwidth))
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for variant in ordered:
        attributes = [f"BANDWIDTH={variant.facts.bandwidth}", f"AVERAGE-BANDWIDTH={variant.facts.average_bandwidth}",
                      f'CODECS="{variant.facts.codecs}"']
        if variant.width:
            attributes += [f"RESOLUTION={variant.width}x{variant.height}", f"FRAME-RATE={variant.frame_rate:.3f}"]
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), variant.uri]
    return "\n".join(lines) + "\n"


def _windows(sizes: list[int], durations: list[float]) -> list[tuple[int, float]]:
    """Segments as a player measures them: a segment shorter than `SHORTEST` seconds (the last few audio frames
    of a clip, which AAC pads past the video's end) counts together with the one before it; over a hundredth
    of a second any size is a meaningless rate."""
    windows: list[tuple[int, float]] = []
    for size, seconds in zip(sizes, durations, strict=True):
        if windows and seconds < SHORTEST:
            previous_size, previous_seconds = windows[-1]
            windows[-1] = (previous_size + size, previous_seconds + seconds)
        else:
            windows.append((size, max(seconds, 0.001)))
    return windows


def _segments(playlist: str) -> list[tuple[str, float]]:
    """(file name, seconds) for each `#EXTINF`; ffmpeg writes one URI line after each."""
    found: list[tuple[str, float]] = []
    seconds: float | None = None
    for line in (raw.strip() for raw in playlist.splitlines()):
        if line.startswith("#EXTINF:"):
            seconds = float(line.removeprefix("#EXTINF:").split(",", 1)[0])
        elif line and not line.startswith("#") and seconds is not None:
            if "/" in line or "\\" in line or line.startswith("."):
                raise StreamError(f"HLS の再生リストが別の場所のファイル（{line}）を指しています")
            found.append((line, seconds))
            seconds = None
    return found


def _avc_codec(init: bytes) -> str:
    """`avc1.PPCCLL` from the avcC box (profile, constraint flags, level), as RFC 6381 spells it."""
    at = init.find(b"avcC")
    if at < 0 or len(init) < at + 8:
        raise StreamError("HLS の初期化セグメントに H.264 の設定（avcC）がありません")
    profile, constraints, level = init[at + 5], init[at + 6], init[at + 7]
    return f"avc1.{profile:02x}{constraints:02x}{level:02x}"
