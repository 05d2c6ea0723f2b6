"""Email-ready issues: hosted HTML, plain text and .eml drafts that render in Outlook, Gmail and on phones."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dayori.email.build import EmailReport, build_emails
    from dayori.email.render import EmailRenderer, RenderedEmail, message_id, render_message

__all__ = ["EmailRenderer", "EmailReport", "RenderedEmail", "build_emails", "message_id", "render_message"]

_MODULES = {"EmailReport": "build", "build_emails": "build", "EmailRenderer": "render", "RenderedEmail": "render",
            "message_id": "render", "render_message": "render"}


def __getattr__(name: str) -> Any:
    """The renderer (lxml, css_inline, Pillow) is imported when one of its names is first asked for: a process
    that only measures a picture (`dayori.email.images`, which `dayori.limits` uses) — a site build's main and
    proofreading processes — never loads it."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
