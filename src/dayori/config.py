"""The engine's settings: the `extra.dayori` section of mkdocs.yml, the one place for configuration."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class EmailSettings:
    sender: str = "業務合理化便り <dx-team@example.go.jp>"
    reply_to: str = ""
    unsubscribe_url: str = "mailto:dx-team@example.go.jp?subject=unsubscribe"
    footer: str = "デジタル推進室 DXチーム"
    max_bytes: int = 102_000


@dataclass(frozen=True)
class MediaSettings:
    max_duration: float = 600.0
    max_bytes: int = 2_000_000_000
    renditions: tuple[int, ...] = (720, 360)
    jobs: int = 0


@dataclass(frozen=True)
class Settings:
    """Where content lives and how strictly it is checked. Paths are relative to mkdocs.yml's folder."""

    root: Path
    site_url: str
    site_name: str = "業務合理化便り"
    newsletter_dir: str = "newsletter"
    videos_dir: str = "videos"
    cache_dir: str = ".cache/dayori"
    strict: bool = False
    chars_per_minute: int = 500
    email: EmailSettings = field(default_factory=EmailSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    markdown_extensions: tuple[Any, ...] = ()
    markdown_configs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def newsletter_path(self) -> Path:
        return self.root / self.newsletter_dir

    @property
    def videos_path(self) -> Path:
        return self.root / self.videos_dir

    @property
    def cache_path(self) -> Path:
        return self.root / self.cache_dir

    def absolute(self, url: str) -> str:
        """A site-relative URL made absolute against `site_url`, as feeds and email need."""
        return self.site_url.rstrip("/") + "/" + url.lstrip("/")


def _section(cls: type, data: dict[str, Any] | None) -> Any:
    known = {f.name for f in fields(cls)}
    data = dict(data or {})
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"mkdocs.yml の extra.dayori に不明な設定があります: {', '.join(unknown)}")
    for f in fields(cls):
        if f.name in data and isinstance(data[f.name], list):
            data[f.name] = tuple(data[f.name])
    return cls(**data)


def settings_from_mapping(root: Path, site_url: str, site_name: str, section: dict[str, Any] | None,
                          markdown_extensions: tuple[Any, ...] = (),
                          markdown_configs: dict[str, dict[str, Any]] | None = None) -> Settings:
    """Builds settings from the plain data of the config file, so that any site builder can supply it."""
    data = dict(section or {})
    email = _section(EmailSettings, data.pop("email", None))
    media = _section(MediaSettings, data.pop("media", None))
    base = _section(Settings, {"root": root, "site_url": site_url or "http://localhost:8000/",
                               "site_name": site_name, **data})
    return Settings(**{**{f.name: getattr(base, f.name) for f in fields(Settings)},
                       "email": email, "media": media,
                       "markdown_extensions": tuple(markdown_extensions),
                       "markdown_configs": dict(markdown_configs or {})})


def today() -> dt.date:
    """Today in Tokyo; `DAYORI_TODAY=YYYY-MM-DD` pins it for previews of a scheduled issue and for tests."""
    pinned = os.environ.get("DAYORI_TODAY")
    if pinned:
        return dt.date.fromisoformat(pinned)
    return dt.datetime.now(TOKYO).date()
