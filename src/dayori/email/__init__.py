"""Email-ready issues: hosted HTML, plain text and .eml drafts that render in Outlook, Gmail and on phones.

The renderer is imported when first used: a site build makes the emails in another process and reads back only
an `EmailReport` (`dayori.email.report`); the pictures' sizes (`dayori.email.images`) need nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dayori.email.report import EmailReport

if TYPE_CHECKING:
    from dayori.email.build import build_emails
    from dayori.email.render import EmailRenderer, RenderedEmail, message_id, render_message

__all__ = ["EmailRenderer", "EmailReport", "RenderedEmail", "build_emails", "message_id", "render_message"]
_WHERE = {"build_emails": "build", "EmailRenderer": "render", "RenderedEmail": "render", "message_id": "render",
          "render_message": "render"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f"dayori.email.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
