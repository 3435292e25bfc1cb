"""The assignment emails: plain text, sent through the job queue."""

from __future__ import annotations

from domain.shared.ports import EmailMessage

GRADED_SUBJECT = "Your submission was graded"


def graded(to: str, full_name: str, assignment_title: str, final_percentage: str, link: str) -> EmailMessage:
    body = (
        f"Hello {full_name},\n\n"
        f"Your submission to {assignment_title} was graded: {final_percentage}%.\n"
        f"Read the feedback here:\n\n{link}\n\n"
        "The LMS team\n"
    )
    return EmailMessage(to=to, subject=GRADED_SUBJECT, body=body)
