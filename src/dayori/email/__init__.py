"""Email-ready issues: hosted HTML, plain text and .eml drafts that render in Outlook, Gmail and on phones."""

from dayori.email.build import EmailReport, build_emails
from dayori.email.render import EmailRenderer, RenderedEmail, message_id, render_message

__all__ = ["EmailRenderer", "EmailReport", "RenderedEmail", "build_emails", "message_id", "render_message"]
