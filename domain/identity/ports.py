"""What identity needs from outside: storage, hashing, token signing, TOTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.identity.model import ApiKey, LinkedIdentity, RecoveryCode, RefreshSession, User
from domain.integrations.ports import AuditLog, Outbox
from domain.shared.pagination import Page, PageParams
from domain.shared.unit_of_work import UnitOfWork


class UserRepository(Protocol):
    async def get(self, user_id: UUID) -> User | None: ...
    async def add(self, user: User) -> None:
        """Insert; raises Conflict("Email is already registered") on a duplicate email, after which
        the unit of work must be left without further use."""
        ...

    async def save(self, user: User) -> None: ...
    async def by_emails(self, emails: Sequence[str]) -> list[User]:
        """The users with these (normalized) emails, in one read."""
        ...

    async def add_absent(self, users: Sequence[User]) -> None:
        """Insert each whose email is not taken (racing inserts included), as one batch; read them
        back with `by_emails` to learn which won."""
        ...

    async def page(self, params: PageParams) -> Page[User]:
        """Users ordered by created_at descending."""
        ...

    async def lock_active_admins(self) -> list[UUID]:
        """The active admins' ids, their rows locked until the unit of work ends (PostgreSQL; SQLite
        has one writer at a time)."""
        ...

    async def claim_totp_step(self, user_id: UUID, step: int) -> bool:
        """Atomically record `step` as the last accepted TOTP step if it is newer; False otherwise."""
        ...


class UserLookup(Protocol):
    """Single-user reads outside any unit of work (one round trip): every authenticated request,
    and the read-only steps of sign-in, token and mail flows."""

    async def get(self, user_id: UUID) -> User | None: ...
    async def get_by_email(self, email: str) -> User | None: ...


class RefreshSessionRepository(Protocol):
    async def add(self, session: RefreshSession) -> None: ...
    async def get(self, jti: UUID) -> RefreshSession | None: ...
    async def revoke(self, jti: UUID, now: datetime) -> bool:
        """Atomically revoke a live (unrevoked, unexpired) row; False when it was not live."""
        ...

    async def revoke_all(self, user_id: UUID, now: datetime, *, except_sid: UUID | None = None) -> int: ...
    async def revoke_sign_in(self, sid: UUID, now: datetime) -> int: ...


class ConsumedTokenRepository(Protocol):
    async def consume(self, jti: UUID, expires_at: datetime, now: datetime) -> bool:
        """Record a single-use token as used; False when it already was (end the unit of work then)."""
        ...


class RecoveryCodeRepository(Protocol):
    async def replace(self, user_id: UUID, codes: Sequence[RecoveryCode]) -> None: ...
    async def unused(self, user_id: UUID) -> list[RecoveryCode]: ...
    async def mark_used(self, code_id: UUID, now: datetime) -> bool:
        """Atomically mark an unused code used; False when another request used it first."""
        ...

    async def delete_all(self, user_id: UUID) -> None: ...


class LinkedIdentityRepository(Protocol):
    async def find(self, provider: str, subject: str) -> LinkedIdentity | None: ...
    async def add(self, identity: LinkedIdentity) -> bool:
        """Link; False when `(provider, subject)` is already linked (a racing sign-in won)."""
        ...

    async def page(self, user_id: UUID, params: PageParams) -> Page[LinkedIdentity]:
        """The user's identities, oldest link first."""
        ...

    async def count(self, user_id: UUID) -> int: ...
    async def remove(self, user_id: UUID, provider: str) -> bool: ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def get(self, key_id: UUID) -> ApiKey | None: ...
    async def page(self, params: PageParams, owner_id: UUID | None) -> Page[ApiKey]:
        """Newest first; every key when `owner_id` is None."""
        ...

    async def revoke(self, key_id: UUID, now: datetime) -> bool:
        """Revoke a live key; False when it already was."""
        ...


class ApiKeyLookup(Protocol):
    """The per-request key read, outside any unit of work: the key and its owner in one round trip."""

    async def find(self, prefix: str) -> tuple[ApiKey, User] | None: ...
    async def touch(self, key_id: UUID, now: datetime, unless_since: datetime) -> None:
        """Set `last_used_at` to `now` unless it is already at or after `unless_since`."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalIdentity:
    """Who an identity provider says signed in (API §10.3), from a verified ID token."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class SignInFailed(Exception):
    """The provider's answer cannot be trusted or used; `reason` goes back to the front end."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityProvider(Protocol):
    """One OpenID Provider: where a sign-in starts, and what its authorization code proves."""

    name: str
    display_name: str

    async def authorization_url(self, redirect_uri: str, *, state: str, nonce: str, code_challenge: str) -> str: ...
    async def redeem(self, code: str, redirect_uri: str, *, code_verifier: str, nonce: str) -> ExternalIdentity:
        """Exchange the code (with the PKCE verifier) and verify the ID token: signature from the
        provider's keys, `iss`, `aud`, `exp`, `iat`, `nonce`. Raises SignInFailed."""
        ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    """One transaction over the identity repositories; leaving without commit rolls back."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def refresh_sessions(self) -> RefreshSessionRepository: ...
    @property
    def consumed_tokens(self) -> ConsumedTokenRepository: ...
    @property
    def recovery_codes(self) -> RecoveryCodeRepository: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def identities(self) -> LinkedIdentityRepository: ...
    @property
    def outbox(self) -> Outbox: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> IdentityUnitOfWork: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool: ...


class TokenExpired(Exception):
    """The token is correctly signed but past its `exp`."""


class TokenInvalid(Exception):
    """The token is unreadable, forged, or fails issuer/audience checks."""


class TokenCodec(Protocol):
    def encode(self, claims: Mapping[str, Any]) -> str: ...
    def decode(self, token: str, *, verify_exp: bool = True) -> dict[str, Any]:
        """Verify signature, issuer and audience (and expiry unless told not to)."""
        ...


class TotpProvider(Protocol):
    def new_secret(self) -> str: ...
    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str: ...
    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        """The time step (within ±1 of `at`) whose code equals `code`, or None."""
        ...


class CommonPasswords(Protocol):
    """The passwords people choose most often, which an attacker tries first."""

    def is_common(self, password: str) -> bool: ...
