"""The identity emails (API §8.3): plain text, links and codes on lines of their own."""

from __future__ import annotations

from domain.shared.ports import EmailMessage


def _base(frontend_url: str) -> str:
    return frontend_url.rstrip("/")


def welcome(to: str, full_name: str) -> EmailMessage:
    body = (
        f"Hello {full_name},\n\n"
        "Welcome to LMS. Your account is ready: browse the catalog and enroll in your first course.\n\n"
        "The LMS team\n"
    )
    return EmailMessage(to=to, subject="Welcome to LMS", body=body)


def verify_email(to: str, full_name: str, frontend_url: str, token: str) -> EmailMessage:
    body = (
        f"Hello {full_name},\n\n"
        "Please confirm your email address by opening this link:\n\n"
        f"{_base(frontend_url)}/verify-email?token={token}\n\n"
        "The link expires in 24 hours. If you did not create an account, ignore this message.\n"
    )
    return EmailMessage(to=to, subject="Verify your email address", body=body)


def reset_password(to: str, full_name: str, frontend_url: str, token: str) -> EmailMessage:
    body = (
        f"Hello {full_name},\n\n"
        "Someone asked to reset the password of your LMS account. To choose a new one, open:\n\n"
        f"{_base(frontend_url)}/reset-password?token={token}\n\n"
        "The link expires in 30 minutes and works once. If you did not ask for it, ignore this message.\n"
    )
    return EmailMessage(to=to, subject="Reset your password", body=body)


def sign_in_code(to: str, code: str) -> EmailMessage:
    body = (
        "Your LMS sign-in code is:\n\n"
        f"{code}\n\n"
        "It expires in 10 minutes. If you did not try to sign in, change your password.\n"
    )
    return EmailMessage(to=to, subject="Your sign-in code", body=body)


def mfa_setup_code(to: str, code: str) -> EmailMessage:
    body = f"Your code to turn on two-step sign-in is:\n\n{code}\n\nIt expires in 10 minutes.\n"
    return EmailMessage(to=to, subject="Your MFA setup code", body=body)


def account_locked(to: str, full_name: str, frontend_url: str, token: str, minutes: int) -> EmailMessage:
    body = (
        f"Hello {full_name},\n\n"
        "Password sign-in to your LMS account was locked after several failed attempts. It opens "
        f"again by itself in {minutes} minutes. If it was you, you can unlock it now:\n\n"
        f"{_base(frontend_url)}/unlock-account?token={token}\n\n"
        "If it was not you, someone may be guessing your password: the lock protects it, and you "
        "may want to choose a stronger one.\n"
    )
    return EmailMessage(to=to, subject="Your account was locked", body=body)
