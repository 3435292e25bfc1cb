"""What every identity use case shares: the operator's settings, the answers' wording, and the
small rules for emails, codes and secrets."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from domain.identity.model import Role, User
from domain.shared.errors import Forbidden

CODE_TTL = timedelta(minutes=10)
MAX_MFA_FAILURES = 5
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

INVALID_PASSWORD = "Invalid password"
INVALID_EMAIL_OR_PASSWORD = "Invalid email or password"
ADMIN_ONLY = "Not authorized to perform this action"
EMAIL_TAKEN = "Email is already registered"
TOO_COMMON = "This password is one of the most common ones; choose another"
USER = "user"  # the audit log's subject type
SSO = "sso"  # the tokens' mark of a sign-in through an identity provider (API §10.2 K5)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityPolicy:
    """The operator's identity settings, as plain values."""

    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    reset_ttl: timedelta = timedelta(minutes=30)
    verification_ttl: timedelta = timedelta(hours=24)
    challenge_ttl: timedelta = CODE_TTL
    allow_public_role_registration: bool = False
    require_email_verification: bool = False
    refresh_reuse_revokes_session: bool = False
    frontend_url: str = "http://localhost:3000"
    totp_issuer: str = "LMS"
    login_max_failures: int = 5
    login_lockout: timedelta = timedelta(seconds=900)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUser:
    email: str
    full_name: str
    password: str
    role: Role = Role.STUDENT


def normalize_email(email: str) -> str:
    return email.strip().lower()


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# What an email address may be here: a dot-atom local part at a host name of two labels or more.
EMAIL_PATTERN = rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$"
EMAIL_MAX = 255
_EMAIL = re.compile(EMAIL_PATTERN)


def is_email(text: str) -> bool:
    return len(text) <= EMAIL_MAX and _EMAIL.match(text) is not None


def new_numeric_code() -> str:
    """Six decimal digits from a CSPRNG, leading zeros allowed."""
    return f"{secrets.randbelow(1_000_000):06d}"


def new_recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def normalize_recovery_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(ADMIN_ONLY)
