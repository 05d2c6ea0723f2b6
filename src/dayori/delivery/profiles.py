"""Provider profiles (DAYORI_SMTP_PROFILE): where a provider's SMTP submission lives and how much it accepts.

The limits are the provider's published ones; a send paces itself below them (PACE_MARGIN) and stops for the day
before the daily cap, instead of learning them from refusals.

- exchange-online: Exchange Online client submission (SMTP AUTH) at smtp.office365.com:587 with STARTTLS, 30
  messages a minute and 10,000 recipients a day per mailbox. "Receiving and sending limits" in
  https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits-1
  and https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-limits ; beyond the daily
  limit Exchange answers "the sender's submission quota was exceeded":
  https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-for-submission-quota-exceeded-in-exchange-online
- exchange-hve: High Volume Email for Microsoft 365, for mail to recipients inside the organisation only, at
  smtp.hve.mx.microsoft:587 with STARTTLS (the older name smtp-hve.office365.com is being retired), logging in as
  the HVE account (Basic) or with OAuth: https://learn.microsoft.com/exchange/mail-flow-best-practices/high-volume-mails-m365
  and https://learn.microsoft.com/exchange/mail-flow-best-practices/oauth-high-volume-mails-m365 . HVE has no
  per-mailbox recipient rate limit; the tenant's administrator sets each HVE account's limits, which
  DAYORI_SMTP_DAILY_LIMIT and DAYORI_SMTP_PER_MINUTE repeat here.
- generic: any other server; nothing assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

PACE_MARGIN = 0.9
"""A send paces itself at this share of the per-minute limit: clocks differ, and the mailbox may send other mail."""
DEFAULT_PER_MINUTE = 300
"""Without a known limit: 5 a second, which shared servers tolerate."""


@dataclass(frozen=True)
class Profile:
    name: str
    label: str
    host: str = ""
    port: int | None = None
    security: str = "starttls"
    auth: str = "basic"
    per_minute: int | None = None
    """Messages a minute the provider accepts from one sender; None: unknown."""
    per_day: int | None = None
    """Recipients in any 24 hours; None: no cap known."""
    internal_only: bool = False


PROFILES = {
    "exchange-online": Profile("exchange-online", "Exchange Online", "smtp.office365.com", 587, "starttls", "oauth2",
                               per_minute=30, per_day=10_000),
    "exchange-hve": Profile("exchange-hve", "Exchange Online の High Volume Email", "smtp.hve.mx.microsoft", 587,
                            "starttls", "basic", internal_only=True),
    "generic": Profile("generic", "SMTP サーバー"),
}


def pace_per_minute(per_minute: int | None) -> float:
    """Messages a minute a send aims at: under the limit by PACE_MARGIN, at least one."""
    if per_minute is None:
        return float(DEFAULT_PER_MINUTE)
    return max(1.0, per_minute * PACE_MARGIN)
