"""Names and payloads of background jobs the domain queues."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID

from domain.shared.ports import EmailMessage, JobQueue

SEND_EMAIL = "send_email"

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]
JobHandlers = Mapping[str, JobHandler]


async def queue_email(queue: JobQueue, message: EmailMessage, *, unless_off: tuple[UUID, str] | None = None) -> None:
    """Queue a message for the mailer; mail is never sent inside a request. `unless_off` names
    the (user, notification type) whose email switch the job reads before sending (API §13):
    the request does not pay for that read. Security emails name none and always go."""
    payload: dict[str, Any] = {"to": message.to, "subject": message.subject, "body": message.body}
    if unless_off is not None:
        payload["unless_off"] = [str(unless_off[0]), unless_off[1]]
    await queue.enqueue(SEND_EMAIL, payload)


def email_from_payload(payload: dict[str, object]) -> EmailMessage:
    return EmailMessage(to=str(payload["to"]), subject=str(payload["subject"]), body=str(payload["body"]))


def email_switch(payload: dict[str, Any]) -> tuple[UUID, str] | None:
    """The (user, notification type) whose email switch decides whether the message goes."""
    named = payload.get("unless_off")
    return (UUID(named[0]), str(named[1])) if named else None
