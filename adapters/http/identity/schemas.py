"""Request and response bodies of /auth and /users (API §6.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from adapters.http.bodies import refuses_null
from adapters.http.validation import describe_pattern
from domain.identity import policy
from domain.identity.model import AuthMethod, MfaMethod, Role, User

EMAIL_PATTERN = describe_pattern(policy.EMAIL_PATTERN, "Must be a valid email address")

Email = Annotated[
    str, Meta(max_length=255, pattern=EMAIL_PATTERN, description="An email address", examples=["ada@example.com"])
]
FullName = Annotated[str, Meta(min_length=2, max_length=255, examples=["Ada Lovelace"])]
Password = Annotated[str, Meta(min_length=8, max_length=128, examples=["correct horse battery"])]
Code = Annotated[str, Meta(min_length=4, max_length=12, examples=["123456"])]


class UserCreate(msgspec.Struct, kw_only=True):
    email: Email
    full_name: FullName
    password: Password
    role: Role = Role.STUDENT


@refuses_null("full_name", "role", "password", "is_active")
class UserUpdate(msgspec.Struct, kw_only=True):
    full_name: FullName | UnsetType | None = UNSET
    role: Role | UnsetType | None = UNSET
    password: Password | UnsetType | None = UNSET
    is_active: bool | UnsetType | None = UNSET


@refuses_null("full_name")
class ProfileUpdate(msgspec.Struct, kw_only=True):
    full_name: FullName | UnsetType | None = UNSET


class PasswordChangeRequest(msgspec.Struct, kw_only=True):
    current_password: str
    new_password: Password


class LoginRequest(msgspec.Struct, kw_only=True):
    email: Email
    password: str


class TokenForm(msgspec.Struct, kw_only=True):
    username: str
    password: str
    grant_type: Literal["password"] | None = None


class MfaLoginRequest(msgspec.Struct, kw_only=True):
    challenge_token: str
    code: Code


class RefreshRequest(msgspec.Struct, kw_only=True):
    refresh_token: str


class EmailRequest(msgspec.Struct, kw_only=True):
    email: Email


class ResetPasswordRequest(msgspec.Struct, kw_only=True):
    token: str
    new_password: Password


class TokenRequest(msgspec.Struct, kw_only=True):
    token: str


class PasswordRequest(msgspec.Struct, kw_only=True):
    password: Password


class CodeRequest(msgspec.Struct, kw_only=True):
    code: Code


class UserResponse(msgspec.Struct, kw_only=True):
    id: UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    mfa_enabled: bool
    mfa_method: MfaMethod | None
    created_at: datetime
    email_verified_at: datetime | None
    locked_until: Annotated[
        datetime | None,
        msgspec.Meta(
            description="When the lock on password sign-in after repeated failures ends (API §10.1); "
            "a past time means the lock has ended. Cleared by a successful sign-in or an unlock."
        ),
    ]

    @classmethod
    def of(cls, user: User) -> UserResponse:
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=user.role,
            is_active=user.is_active,
            mfa_enabled=user.mfa_enabled,
            mfa_method=user.mfa_method,
            created_at=user.created_at,
            email_verified_at=user.email_verified_at,
            locked_until=user.locked_until,
        )


class TokenResponse(msgspec.Struct, kw_only=True):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"


class AuthResponse(msgspec.Struct, kw_only=True):
    user: UserResponse
    tokens: TokenResponse
    mfa_required: Literal[False] = False  # tells this answer of `login` from the MFA challenge


class MfaChallengeResponse(msgspec.Struct, kw_only=True):
    challenge_token: str
    expires_in_seconds: int
    mfa_method: MfaMethod
    mfa_required: Literal[True] = True
    message: str = "MFA verification required"


class MessageResponse(msgspec.Struct, kw_only=True):
    message: str


class TotpSetupResponse(msgspec.Struct, kw_only=True):
    secret: str
    otpauth_uri: str


class RecoveryCodesResponse(msgspec.Struct, kw_only=True):
    recovery_codes: list[str]


class SignedInResponse(msgspec.Struct, kw_only=True):
    """A browser sign-in (API §10.2): the tokens are in the cookies, not the body."""

    user: UserResponse
    mfa_required: Literal[False] = False


class TokenInfoResponse(msgspec.Struct, kw_only=True):
    user_id: UUID
    role: Role
    auth: AuthMethod
    expires_at: datetime | None
    session_id: UUID | None


ApiKeyName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ApiKeyCreate(msgspec.Struct, kw_only=True):
    name: ApiKeyName
    scopes: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=32)]],
        msgspec.Meta(
            min_length=1,
            max_length=12,
            description="Any of `courses:read`, `courses:write`, `enrollments:read`, `enrollments:write`, "
            "`grades:read`, `grades:write`, `analytics:read`, `users:read`, `users:write`, `files:read`, "
            "`files:write`, `webhooks:read` (`users:*` and `webhooks:read` for admins); another is "
            "`400 Unknown scope: <scope>`",
        ),
    ]
    expires_at: datetime | None = None


class ApiKeyResponse(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    owner_id: UUID


class ApiKeyCreated(ApiKeyResponse, kw_only=True):
    key: Annotated[str, msgspec.Meta(description="The key, `lms_<prefix>_<secret>`: shown only here")]


class SsoProviderResponse(msgspec.Struct, kw_only=True):
    name: str
    display_name: str


class SsoExchangeRequest(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class IdentityResponse(msgspec.Struct, kw_only=True):
    provider: str
    subject: str
    email: str | None
    linked_at: datetime
