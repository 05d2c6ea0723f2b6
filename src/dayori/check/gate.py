"""The check as a gate before anything leaves the building: `send` and `announce` stop when the issue or
episode has a finding of severity エラー that the editor has not silenced (`<!-- 校正: 無視 規則名 -->`)."""

from __future__ import annotations

from dayori.check.archive import SettingsError, check_files, content_files
from dayori.config import Settings
from dayori.model import Content


def release_block(settings: Settings, content: Content, action: str, *, vol: int | None = None,
                  episode: str | None = None) -> str | None:
    """Why the issue `vol` (or the episode `episode`) may not be sent or announced yet, or None. The message
    lists every error finding, in the form `make check` prints."""
    item = content.issue(vol) if vol is not None else content.episode(episode or "")
    if item is None or not settings.check.enabled:
        return None
    label = f"第{vol}号" if vol is not None else f"動画「{episode}」"
    try:
        report = check_files(settings, content_files(settings), [settings.root / item.source])
    except SettingsError as error:
        return str(error)
    errors = [finding for finding in report.findings if finding.is_error]
    if not errors:
        return None
    listing = "\n".join(f"  {finding}" for finding in errors)
    return (f"{label}には校正のエラーが {len(errors)} 件あるため、{action}を止めました（まだ何も送っていません）。"
            f"直してから、もう一度実行してください。わざとそう書いた箇所は、その行の前の行に "
            f"<!-- 校正: 無視 規則名 --> と書くと止まりません。\n{listing}")
