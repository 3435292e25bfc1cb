"""RFC 5322 rendering shared by every mailer: UTF-8 text, 8bit, no folded lines."""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage as MimeMessage

from domain.shared.ports import EmailMessage

# No line folding, so links and codes appear verbatim in the raw message.
POLICY = email.policy.SMTP.clone(max_line_length=None)


def to_mime(message: EmailMessage, sender: str) -> MimeMessage:
    mime = MimeMessage(policy=POLICY)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    mime["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or "lms.local")
    mime.set_content(message.body, subtype="plain", charset="utf-8", cte="8bit")
    return mime


def render(message: EmailMessage, sender: str) -> bytes:
    return to_mime(message, sender).as_bytes(policy=POLICY)
