"""DX日記 media: transcodes each episode's clip into web renditions, a poster and an e-mail still, and its
captions into WebVTT, all through a content-addressed cache (see `pipeline` for the order of work)."""

from dayori.media.pipeline import process_episodes
from dayori.media.results import EpisodeMedia, MediaReport, Rendition

__all__ = ["EpisodeMedia", "MediaReport", "Rendition", "process_episodes"]
