"""The engine's settings: the `extra.dayori` section of mkdocs.yml, the one place for configuration."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import yaml

TOKYO = ZoneInfo("Asia/Tokyo")


IMAGE_MODES = ("inline", "linked")


@dataclass(frozen=True)
class EmailSettings:
    sender: str = "業務合理化便り <dx-team@example.go.jp>"
    reply_to: str = ""
    unsubscribe_url: str = "mailto:dx-team@example.go.jp?subject=unsubscribe"
    footer: str = "デジタル推進室 DXチーム"
    max_bytes: int = 102_000
    """The HTML part only: Gmail clips HTML beyond 102 KB; inline images do not count."""
    unsubscribe_mailbox: str = ""
    """The team mailbox offered as `mailto:` in List-Unsubscribe; empty: reply_to, else the sender."""
    images: str = "inline"
    """inline: pictures travel in the message (cid:), shown by Outlook at once; linked: loaded from the site."""
    max_message_bytes: int = 10_000_000
    """The whole message, images included, as the mail server counts it (Exchange Online's default is larger)."""
    unsubscribe_endpoint: str = ""
    """An HTTPS address that takes RFC 8058 one-click POSTs; only then do messages offer one-click unsubscribe."""


@dataclass(frozen=True)
class MediaSettings:
    max_duration: float = 600.0
    max_bytes: int = 2_000_000_000
    renditions: tuple[int, ...] = (720, 360, 240)
    jobs: int = 0


DEFAULT_ATTACHMENTS = ("png", "jpg", "jpeg", "gif", "webp", "pdf", "docx", "pptx")
"""What a body may link or show besides other pages: pictures, and documents meant to be handed out. Not SVG
(a script in it runs on the site when opened) and no lists or spreadsheets."""
NEVER_PUBLISHED = frozenset({"csv", "tsv", "xlsx", "xlsm", "xlsb", "xls", "ods", "numbers", "db", "sqlite", "sqlite3",
                             "mdb", "accdb", "bak", "old", "vcf", "pst", "msg", "eml"})
"""Kinds that hold lists of people (a subscriber list, an address book, the send ledger and its backups):
never published, not even when listed in `attachments`."""


def never_published(suffix: str) -> bool:
    """`suffix` without its dot, any case; SQLite's `-wal`/`-shm`/`-journal` companions count as databases."""
    kind = suffix.lower().lstrip(".")
    return kind in NEVER_PUBLISHED or kind.endswith(("-wal", "-shm", "-journal"))


@dataclass(frozen=True)
class CheckSettings:
    """The proofreading check (`python -m dayori check`, and every build): which rules, how strict, which
    house style. `rules` maps a rule's name to オン/オフ/警告/エラー (see docs/guide.md)."""

    enabled: bool = True
    profile: str = "広報"
    max_sentence_chars: int = 100
    max_image_pixels: int = 2000
    dictionary: str = "docs/表記ルール.yml"
    rules: dict[str, str | bool] = field(default_factory=dict)
    okurigana: str = "本則"
    titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class LimitSettings:
    """Caps on what one editor's file may ask of a build, each checked before the heavy work it would cause
    (decoding a picture, rendering a body, making a page and feeds per tag): within them a build stays under
    200 MB and a few seconds per file; beyond them the editor gets a message instead of an exhausted machine."""

    picture_pixels: int = 16_000_000
    """Width × height of one picture (a 5K screenshot, a 16-megapixel photo): decoding takes 4 bytes a pixel,
    64 MB at the default."""
    markdown_bytes: int = 200_000
    """One issue's or episode's Markdown file: about 66,000 Japanese characters, a pasted report and more."""
    nesting: int = 20
    """Lists, quotations, HTML elements and brackets inside one another."""
    tags: int = 20
    """Tags of one issue or episode: each tag has its own page and feeds."""
    tag_chars: int = 30
    caption_bytes: int = 1_000_000
    """One captions file (.vtt or .srt); ten minutes of captions take about 20 KB."""


@dataclass(frozen=True)
class Settings:
    """Where content lives and how strictly it is checked. Paths are relative to mkdocs.yml's folder."""

    root: Path
    site_url: str
    site_name: str = "業務合理化便り"
    newsletter_dir: str = "newsletter"
    videos_dir: str = "videos"
    docs_dir: str = "docs"
    cache_dir: str = ".cache/dayori"
    strict: bool = False
    chars_per_minute: int = 500
    attachments: tuple[str, ...] = DEFAULT_ATTACHMENTS
    size_limits: dict[str, int] = field(default_factory=dict)
    """Bytes per kind of published file (image, document, …), over `dayori.gate.DEFAULT_LIMITS`."""
    email: EmailSettings = field(default_factory=EmailSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    check: CheckSettings = field(default_factory=CheckSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    markdown_extensions: tuple[Any, ...] = ()
    markdown_configs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def newsletter_path(self) -> Path:
        return self.root / self.newsletter_dir

    @property
    def videos_path(self) -> Path:
        return self.root / self.videos_dir

    @property
    def docs_path(self) -> Path:
        return self.root / self.docs_dir

    @property
    def content_paths(self) -> tuple[Path, ...]:
        """The only folders a body may link into: nothing else in the project is ever published from a link."""
        return self.newsletter_path, self.videos_path, self.docs_path

    @property
    def cache_path(self) -> Path:
        return self.root / self.cache_dir

    def absolute(self, url: str) -> str:
        """A site-relative URL made absolute against `site_url`, as feeds and email need."""
        return self.site_url.rstrip("/") + "/" + url.lstrip("/")


BUILTIN_EXTENSIONS = ("toc", "tables", "fenced_code")
"""Markdown extensions every MkDocs site has, listed or not; the engine renders with the same set."""


class ConfigError(ValueError):
    """mkdocs.yml cannot be used; the message names the setting and what to write, in Japanese."""


def settings_from_file(config_file: Path) -> Settings:
    """The engine's settings read from mkdocs.yml itself, without the site builder: `send` and `check` run
    where MkDocs is not installed, and the build reads them the same way."""
    import yaml  # here: the other processes of a build get their settings made, and need no YAML

    try:
        text = config_file.read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise ConfigError(f"{config_file} が見つかりません。プロジェクトのフォルダー（mkdocs.yml のある場所）で"
                          "実行するか、-f で mkdocs.yml の場所を指定してください。") from error
    try:
        data = yaml.load(text, Loader=_config_loader(config_file.parent))
    except yaml.YAMLError as error:
        raise ConfigError(f"{config_file}: YAML として読めません（{error}）。") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{config_file}: 「キー: 値」の並びで書いてください。")
    extensions, configs = markdown_extensions(data.get("markdown_extensions") or [], config_file)
    try:
        return settings_from_mapping(
            root=config_file.resolve().parent, site_url=str(data.get("site_url") or ""),
            site_name=str(data.get("site_name") or "業務合理化便り"),
            docs_dir=str(data.get("docs_dir") or "docs"),
            section=(data.get("extra") or {}).get("dayori"),
            markdown_extensions=extensions, markdown_configs=configs)
    except ConfigError as error:
        raise ConfigError(f"{config_file}: {error}") from error


def markdown_extensions(value: Any, config_file: Path) -> tuple[tuple[str, ...], dict[str, dict[str, Any]]]:
    """`markdown_extensions` as MkDocs reads it: names (its built-ins first, each once) and their options."""
    names: list[str] = list(BUILTIN_EXTENSIONS)
    configs: dict[str, dict[str, Any]] = {}
    items = list(value.items()) if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise ConfigError(f"{config_file}: markdown_extensions は一覧で書いてください。")
    for item in items:
        if isinstance(item, tuple):
            name, options = item
        elif isinstance(item, dict) and len(item) == 1:
            name, options = next(iter(item.items()))
        elif isinstance(item, str):
            name, options = item, None
        else:
            raise ConfigError(f"{config_file}: markdown_extensions の「{item}」を読めません。")
        if options:
            if not isinstance(options, dict):
                raise ConfigError(f"{config_file}: markdown_extensions の {name} の設定は「キー: 値」で書いてください。")
            configs[name] = options
        if name not in names:
            names.append(name)
    return tuple(names), configs


def _config_loader(folder: Path) -> type[yaml.SafeLoader]:
    """YAML as MkDocs reads mkdocs.yml: `!ENV`, `!relative` and the `!!python/name:` and
    `!!python/object/apply:` tags that name Markdown extensions' functions (a slugify, an emoji index)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def env(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        names = loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else [loader.construct_scalar(node)]  # type: ignore[arg-type]
        *variables, default = names if len(names) > 1 else [*names, None]
        return next((os.environ[str(v)] for v in variables if str(v) in os.environ), default)

    def relative(loader: yaml.SafeLoader, node: yaml.Node) -> str:
        return str(folder / str(loader.construct_scalar(node)))  # type: ignore[arg-type]

    def python_name(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        return _import(suffix)

    def python_apply(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.SequenceNode):
            args, kwds = loader.construct_sequence(node, deep=True), {}
        else:
            spec = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
            args, kwds = spec.get("args", []), spec.get("kwds", {})
        return _import(suffix)(*args, **kwds)

    Loader.add_constructor("!ENV", env)
    Loader.add_constructor("!relative", relative)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/name:", python_name)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", python_apply)
    return Loader


def _import(dotted: str) -> Any:
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


_FROM_ELSEWHERE = frozenset({"root", "site_url", "site_name", "docs_dir", "email", "media", "check", "limits",
                             "markdown_extensions",
                             "markdown_configs"})
"""Settings that come from mkdocs.yml's own keys or from sub-sections, not from `extra.dayori` directly."""
_TYPE_WORDS = {bool: "true か false", int: "整数", float: "数値", str: "文字列"}


def _checked(name: str, value: Any, kind: Any) -> Any:
    """`value` if it is of the setting's type (`strict: "no"` is a mistake, not true)."""
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        if not isinstance(value, list | tuple) or not value:
            raise ConfigError(f"{name} は一覧（例: [720, 360]）で書いてください。")
        return tuple(_checked(name, v, item) for v in value)
    if typing.get_origin(kind) is dict:
        return _checked_mapping(name, value, kind)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in _TYPE_WORDS and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise ConfigError(f"extra.dayori の {name} は{_TYPE_WORDS[kind]}で書いてください（今は「{value}」）。")
    return value


def _checked_mapping(name: str, value: Any, kind: Any) -> dict[str, Any]:
    """A per-name mapping (`check.rules`): names are text, values one of the declared types."""
    if not isinstance(value, dict):
        raise ConfigError(f"extra.dayori の {name} は「名前: 値」の並びで書いてください。")
    allowed = typing.get_args(typing.get_args(kind)[1]) or (typing.get_args(kind)[1],)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, allowed):
            raise ConfigError(f"extra.dayori の {name} の「{key}」の値「{item}」を読めません。")
    return dict(value)


def _section(cls: type, data: Any, prefix: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"extra.dayori{prefix} は「キー: 値」の並びで書いてください。")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.name not in _FROM_ELSEWHERE}
    unknown = sorted(set(data) - known)
    if unknown:
        guess = _close_match(unknown[0], known)
        hint = f"「{guess[0]}」の書き間違いではありませんか？" if guess else f"使える設定は {', '.join(sorted(known))} です。"
        raise ConfigError(f"extra.dayori{prefix} に不明な設定があります: {', '.join(unknown)}。{hint}")
    return {name: _checked(f"{prefix.lstrip('.')}.{name}".lstrip("."), value, hints[name]) for name, value in data.items()}


def settings_from_mapping(root: Path, site_url: str, site_name: str, section: dict[str, Any] | None,
                          markdown_extensions: tuple[Any, ...] = (),
                          markdown_configs: dict[str, dict[str, Any]] | None = None,
                          docs_dir: str = "docs") -> Settings:
    """Builds settings from the plain data of the config file, checking every value's type."""
    if section is not None and not isinstance(section, dict):
        raise ConfigError("extra.dayori は「キー: 値」の並びで書いてください。")
    data = dict(section or {})
    email = EmailSettings(**_section(EmailSettings, data.pop("email", None), ".email"))
    if email.images not in IMAGE_MODES:
        raise ConfigError(f"email.images は inline（画像をメールに含める）か linked（サイトから読み込む）にしてください"
                          f"（今は「{email.images}」）。")
    endpoint = email.unsubscribe_endpoint.strip()
    if endpoint and (not endpoint.startswith("https://") or any(c.isspace() for c in endpoint) or "#" in endpoint):
        raise ConfigError("email.unsubscribe_endpoint は、配信停止の POST を受け付ける https:// で始まる URL にしてください"
                          "（空白や # を含めずに。受け付けるサーバーがないときは書かないでください）。")
    media = MediaSettings(**_section(MediaSettings, data.pop("media", None), ".media"))
    check = CheckSettings(**_section(CheckSettings, data.pop("check", None), ".check"))
    limits = LimitSettings(**_section(LimitSettings, data.pop("limits", None), ".limits"))
    for limit in fields(LimitSettings):
        if getattr(limits, limit.name) < 1:
            raise ConfigError(f"extra.dayori.limits.{limit.name} は 1 以上の整数で書いてください"
                              f"（今は「{getattr(limits, limit.name)}」）。")
    values = _section(Settings, data, "")
    if "attachments" in values:
        values["attachments"] = _attachments(values["attachments"])
    if "size_limits" in values:
        values["size_limits"] = _size_limits(values["size_limits"])
    return Settings(root=root, site_url=site_url or "http://localhost:8000/", site_name=site_name,
                    docs_dir=docs_dir, **values, email=email, media=media, check=check, limits=limits,
                    markdown_extensions=tuple(markdown_extensions), markdown_configs=dict(markdown_configs or {}))


def _attachments(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """Extensions as editors write them (`PDF`, `.png`), compared case-insensitively; lists of people are
    refused here, so that no setting can publish a subscriber list."""
    normalised = tuple(dict.fromkeys(kind.strip().lower().lstrip(".") for kind in kinds))
    refused = [kind for kind in normalised if never_published(kind)]
    if refused:
        raise ConfigError(f"extra.dayori の attachments に {', '.join(refused)} は書けません。名簿や表、データベース、"
                          "バックアップのファイルは購読者の情報が漏れないよう公開しない決まりです。一覧から外してください。")
    from dayori.gate import REFUSED_EVERYWHERE, TYPES

    unknown = [kind for kind in normalised if kind != "md" and (kind not in TYPES or kind in REFUSED_EVERYWHERE)]
    if unknown:
        raise ConfigError(f"extra.dayori の attachments に {', '.join(unknown)} は書けません。公開の前に中身がその種類か"
                          f"確かめられる種類だけが使えます（{', '.join(sorted(set(TYPES) - {'md'}))}）。SVG や HTML は中で"
                          "プログラムが動くため使えません。")
    return normalised


def _size_limits(limits: dict[str, int]) -> dict[str, int]:
    """Per kind, in bytes; a misspelt kind would silently keep its default, so it is an error."""
    from dayori.gate import DEFAULT_LIMITS

    for kind, value in limits.items():
        if kind not in DEFAULT_LIMITS:
            guess = _close_match(kind, DEFAULT_LIMITS)
            hint = f"「{guess[0]}」の書き間違いではありませんか？" if guess else ""
            raise ConfigError(f"extra.dayori の size_limits に不明な種類「{kind}」があります。{hint}"
                              f"使える種類は {', '.join(DEFAULT_LIMITS)} です。")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"extra.dayori の size_limits の {kind} はバイト数（正の整数、例: 50000000）で書いてください"
                              f"（今は「{value}」）。")
    return dict(limits)


def today() -> dt.date:
    """Today in Tokyo; `DAYORI_TODAY=YYYY-MM-DD` pins it for previews of a scheduled issue and for tests."""
    pinned = os.environ.get("DAYORI_TODAY")
    if pinned:
        return dt.date.fromisoformat(pinned)
    return dt.datetime.now(TOKYO).date()


def _close_match(word: str, possibilities: Iterable[str]) -> list[str]:
    """The setting an editor probably meant (only a mistake needs difflib, so only a mistake imports it)."""
    import difflib

    return difflib.get_close_matches(word, possibilities, n=1)
