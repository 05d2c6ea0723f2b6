"""What the media stage hands to the page, feed and e-mail stages: files to copy and the facts about them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dayori.errors import Problem
from dayori.model import Output


@dataclass(frozen=True)
class Rendition:
    """One MP4 of an episode; `source` is the finished file in the cache, `dest` its site path."""

    label: str
    dest: str
    source: Path
    width: int
    height: int
    bytes: int
    mime: str = "video/mp4"
    remuxed: bool = False

    def output(self) -> Output:
        return Output(dest=self.dest, source=self.source)


@dataclass(frozen=True)
class EpisodeMedia:
    """Everything published for one episode. With `keep_going`, a failed episode has `error` set (Japanese,
    for the preview page) and no renditions, poster or still."""

    slug: str
    renditions: tuple[Rendition, ...]
    poster: Output | None
    still: Output | None
    captions: Output | None
    duration: float
    width: int
    height: int
    has_audio: bool
    error: str | None = None

    def outputs(self) -> list[Output]:
        """Every file to copy into the site."""
        files = [r.output() for r in self.renditions]
        files += [o for o in (self.poster, self.still, self.captions) if o is not None]
        return files


@dataclass(frozen=True)
class MediaReport:
    """`ffmpeg_runs`, `probes` and `hashed` count work actually done, so a warm rebuild can be shown to do none."""

    media: dict[str, EpisodeMedia]
    ffmpeg_runs: int
    probes: int
    problems: list[Problem]
    warnings: list[str]
    hashed: int = 0
    remuxed: int = 0
    seconds: float = 0.0
