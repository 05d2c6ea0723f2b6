"""Mail saved from Outlook, as staff save it: `.msg` (Outlook for Windows drags a message out as one) or `.eml`
(new Outlook, webmail). Only what an unsubscribe request needs is read: who sent it and its subject.

A `.msg` is an OLE compound file (MS-CFB) holding MAPI properties (MS-OXMSG), read with olefile. Mail from inside
the organisation names its sender with an Exchange (X.500) address; the SMTP address is in PR_SENDER_SMTP_ADDRESS,
else in the transport headers kept with received mail.
"""

from __future__ import annotations

import email
import io
from dataclasses import dataclass
from email import policy
from email.utils import getaddresses, parseaddr
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SUBJECT = 0x0037
TRANSPORT_HEADERS = 0x007D
SENDER_ADDRTYPE, SENDER_EMAIL = 0x0C1E, 0x0C1F
SENDER_SMTP, SENT_REPRESENTING_SMTP = 0x5D01, 0x5D02
SENT_REPRESENTING_ADDRTYPE, SENT_REPRESENTING_EMAIL = 0x0064, 0x0065
MESSAGE_CLASS = 0x001A


class MailFileError(Exception):
    """The file cannot be read as a saved mail; the message names it."""


@dataclass(frozen=True)
class SavedMail:
    sender: str
    """The sender's SMTP address, or '' when the file has none."""
    subject: str
    report: bool = False
    """A delivery status notification (a bounce), not a person's mail."""


def read_mail(path: Path) -> SavedMail:
    try:
        data = path.read_bytes()
    except IsADirectoryError as error:
        raise MailFileError(f"{path}: フォルダーです。.eml か .msg のファイルを指定してください") from error
    except OSError as error:
        raise MailFileError(f"{path}: 読めません（{error.strerror or type(error).__name__}）") from error
    if data.startswith(OLE_MAGIC):
        return _read_msg(path, data)
    return _read_eml(data)


def _read_eml(data: bytes) -> SavedMail:
    message = email.message_from_bytes(data, policy=policy.default)
    sender = parseaddr(str(message.get("From", "")))[1]
    report = message.get_content_type() == "multipart/report"
    return SavedMail(sender, str(message.get("Subject", "")), report)


def _read_msg(path: Path, data: bytes) -> SavedMail:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, ValueError) as error:
        raise MailFileError(f"{path}: Outlook のメール（.msg）として読めません（壊れているようです）。Outlook でメールを"
                            "開き直して保存し直してください") from error
    try:
        def text(prop: int) -> str:
            for kind, encoding in (("001F", "utf-16-le"), ("001E", "cp932")):
                name = f"__substg1.0_{prop:04X}{kind}"
                if ole.exists(name):
                    return str(ole.openstream(name).read().decode(encoding, "replace").rstrip("\x00").strip())
            return ""

        if not text(MESSAGE_CLASS) and not text(SUBJECT):
            raise MailFileError(f"{path}: Outlook のメール（.msg）ではないようです（件名も種類もありません）")
        sender = _smtp(text(SENDER_SMTP), text(SENDER_ADDRTYPE), text(SENDER_EMAIL)) or _smtp(
            text(SENT_REPRESENTING_SMTP), text(SENT_REPRESENTING_ADDRTYPE), text(SENT_REPRESENTING_EMAIL))
        if not sender:
            headers = email.message_from_string(text(TRANSPORT_HEADERS), policy=policy.compat32)
            found = getaddresses([str(headers.get("From", ""))])
            sender = found[0][1] if found else ""
        report = text(MESSAGE_CLASS).upper().startswith("REPORT.")
        return SavedMail(sender, text(SUBJECT), report)
    finally:
        ole.close()


def _smtp(smtp: str, addrtype: str, address: str) -> str:
    """The SMTP address among MAPI's: PR_*_SMTP_ADDRESS, else the e-mail address when its type is SMTP."""
    if smtp and "@" in smtp:
        return smtp
    if addrtype.upper() == "SMTP" and "@" in address:
        return address
    return ""
