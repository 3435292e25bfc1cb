"""The learning emails: plain text, sent through the job queue."""

from __future__ import annotations

from domain.shared.ports import EmailMessage


def enrolled(to: str, full_name: str, course_title: str, frontend_url: str, course_id: str) -> EmailMessage:
    body = (
        f"Hello {full_name},\n\n"
        f"You are enrolled in {course_title}. Start learning whenever you are ready:\n\n"
        f"{frontend_url.rstrip('/')}/courses/{course_id}\n\n"
        "The LMS team\n"
    )
    return EmailMessage(to=to, subject=f"You are enrolled in {course_title}", body=body)


def completed(to: str, full_name: str, course_title: str) -> EmailMessage:
    body = f"Hello {full_name},\n\nCongratulations: you completed {course_title}, every lesson of it.\n\nThe LMS team\n"
    return EmailMessage(to=to, subject=f"You completed {course_title}", body=body)


def invited(to: str, full_name: str, course_title: str, frontend_url: str, token: str) -> EmailMessage:
    """To someone a course's manager enrolled (roster import) who had no account: one is made, and
    this link lets them choose its password (valid for 7 days)."""
    body = (
        f"Hello {full_name},\n\n"
        f"You have been enrolled in {course_title}. An account was made for you; choose its "
        "password here (the link is valid for 7 days):\n\n"
        f"{frontend_url.rstrip('/')}/reset-password?token={token}\n\n"
        "The LMS team\n"
    )
    return EmailMessage(to=to, subject=f"You have been enrolled in {course_title}", body=body)
