"""The job handlers, keyed by the job names the domain queues."""

from __future__ import annotations

from typing import Any

from domain.shared.jobs import SEND_EMAIL, JobHandlers, email_from_payload
from domain.shared.ports import Mailer


def job_handlers(mailer: Mailer) -> JobHandlers:
    async def send_email(payload: dict[str, Any]) -> None:
        await mailer.send(email_from_payload(payload))

    return {SEND_EMAIL: send_email}
