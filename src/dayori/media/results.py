"""What the media stage reports of a run; the per-episode results it hands the other stages live in the model."""

from __future__ import annotations

from dataclasses import dataclass

from dayori.errors import Problem
from dayori.model import EpisodeMedia, Rendition

__all__ = ["EpisodeMedia", "MediaReport", "Rendition"]


@dataclass(frozen=True)
class MediaReport:
    """`ffmpeg_runs`, `probes` and `hashed` count work actually done, so a warm rebuild can be shown to do none."""

    media: dict[str, EpisodeMedia]
    ffmpeg_runs: int
    probes: int
    problems: list[Problem]
    warnings: list[str]
    hashed: int = 0
    seconds: float = 0.0
