"""Names and payloads of background jobs the domain queues."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from domain.shared.ports import EmailMessage, JobQueue

SEND_EMAIL = "send_email"

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]
JobHandlers = Mapping[str, JobHandler]


async def queue_email(queue: JobQueue, message: EmailMessage) -> None:
    """Queue a message for the mailer; mail is never sent inside a request."""
    await queue.enqueue(SEND_EMAIL, {"to": message.to, "subject": message.subject, "body": message.body})


def email_from_payload(payload: dict[str, object]) -> EmailMessage:
    return EmailMessage(to=str(payload["to"]), subject=str(payload["subject"]), body=str(payload["body"]))
