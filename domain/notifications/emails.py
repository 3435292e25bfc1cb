"""The notification emails: plain text, sent through the job queue."""

from __future__ import annotations

from domain.notifications.ports import DueAssignment
from domain.shared.clock import iso
from domain.shared.ports import EmailMessage


def due_soon(to: str, full_name: str, due: DueAssignment, frontend_url: str) -> EmailMessage:
    body = (
        f"Hello {full_name},\n\n"
        f"“{due.title}” in {due.course_title} is due {iso(due.due_at)} and you have not handed anything in yet:\n\n"
        f"{frontend_url.rstrip('/')}/courses/{due.course_id}/assignments/{due.id}\n\n"
        "The LMS team\n"
    )
    return EmailMessage(to=to, subject=f"Due soon: {due.title}", body=body)
