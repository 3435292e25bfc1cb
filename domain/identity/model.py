"""Identity entities and value objects."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID


class Role(enum.StrEnum):
    ADMIN = "admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"


class MfaMethod(enum.StrEnum):
    EMAIL = "email"
    TOTP = "totp"


class TokenType(enum.StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"
    MFA_CHALLENGE = "mfa_challenge"
    ACCOUNT_UNLOCK = "account_unlock"


@dataclass(slots=True, kw_only=True)
class User:
    id: UUID
    email: str
    full_name: str
    role: Role
    password_hash: str | None  # None: the account signs in only through its identity providers
    is_active: bool = True
    mfa_method: MfaMethod | None = None
    totp_secret: str | None = None
    totp_last_step: int | None = None
    email_verified_at: datetime | None = None
    tokens_valid_after: datetime | None = None
    # When the lock of password sign-in ends (API §10.1); a past value means not locked.
    locked_until: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_method is not None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def issued_before_cutoff(self, issued_at_us: int) -> bool:
        """True when a token issued at `issued_at_us` (Unix microseconds) predates the cutoff.

        Microseconds rather than the whole seconds of `iat`, so that a token minted in the same
        second as, but before, a password reset is still refused, and one minted after it is not.
        """
        if self.tokens_valid_after is None:
            return False
        return issued_at_us < int(self.tokens_valid_after.timestamp() * 1_000_000)


@dataclass(slots=True, kw_only=True)
class RefreshSession:
    """The server-side row of one refresh token."""

    jti: UUID
    user_id: UUID
    sid: UUID
    expires_at: datetime
    revoked_at: datetime | None = None
    created_at: datetime


@dataclass(slots=True, kw_only=True)
class RecoveryCode:
    id: UUID
    user_id: UUID
    code_hash: str
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenClaims:
    sub: UUID
    jti: UUID
    typ: TokenType
    iat: int
    exp: int
    iat_us: int | None = None  # issue time in microseconds, for the revocation cutoff
    role: str | None = None
    sid: UUID | None = None
    via: str | None = None  # "sso" on the tokens of a sign-in made through an identity provider


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    token_type: str = "bearer"


@dataclass(frozen=True, slots=True)
class AuthResult:
    user: User
    tokens: TokenPair


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    challenge_token: str
    mfa_method: MfaMethod
    expires_in_seconds: int


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    otpauth_uri: str


class AuthMethod(enum.StrEnum):
    """How a request proved who sent it (API §10.2 K5)."""

    BEARER = "bearer"
    COOKIE = "cookie"
    API_KEY = "api_key"
    SSO = "sso"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the user as stored now, and the access token they presented."""

    user: User
    claims: TokenClaims = field(repr=False)
    via: AuthMethod = AuthMethod.BEARER
    scopes: frozenset[str] | None = None  # an API key's; None: whatever the user's role allows


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkedIdentity:
    """A user's account at an identity provider (API §10.3), found by `(provider, subject)`."""

    id: UUID
    user_id: UUID
    provider: str
    subject: str
    email: str | None
    linked_at: datetime


@dataclass(slots=True, kw_only=True)
class ApiKey:
    """A key for integrations (API §10.4); only a hash of its secret is kept."""

    id: UUID
    owner_id: UUID
    name: str
    prefix: str
    secret_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
