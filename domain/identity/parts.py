"""The ports and the steps that several identity use-case families share: starting a sign-in,
hashing a chosen password, checking a current one, reading the user a mailed token speaks for."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.identity.blacklist import TokenBlacklist
from domain.identity.model import RefreshSession, Role, TokenClaims, TokenPair, TokenType, User
from domain.identity.policy import EMAIL_TAKEN, TOO_COMMON, IdentityPolicy, NewUser, normalize_email
from domain.identity.ports import CommonPasswords, PasswordHasher, TotpProvider, UnitOfWorkFactory, UserLookup
from domain.identity.tokens import INVALID_CREDENTIALS, Tokens, issued_at_us
from domain.shared.clock import Clock
from domain.shared.errors import VALIDATION_FAILED, Conflict, FieldError, FieldsInvalid, Unauthenticated
from domain.shared.ids import new_id
from domain.shared.live import revocation, user_channel
from domain.shared.ports import JobQueue, KeyValueStore, LiveFeed, NoLiveFeed


@dataclass(slots=True, kw_only=True)
class IdentityParts:
    uow: UnitOfWorkFactory
    users: UserLookup
    hasher: PasswordHasher
    tokens: Tokens
    totp: TotpProvider
    kv: KeyValueStore
    blacklist: TokenBlacklist
    queue: JobQueue
    clock: Clock
    common_passwords: CommonPasswords
    policy: IdentityPolicy = field(default_factory=IdentityPolicy)
    live: LiveFeed = field(default_factory=NoLiveFeed)
    _dummy_hash: str | None = field(default=None, init=False, repr=False)

    def end_live(
        self, user_id: UUID, *, sid: UUID | None = None, jti: UUID | None = None, keep_sid: UUID | None = None
    ) -> None:
        """Close the user's live connections (API §13) opened with a sign-in or credential just
        revoked; with neither named, all of them but `keep_sid`'s."""
        self.live.publish(user_channel(user_id), revocation(sid=sid, jti=jti, keep_sid=keep_sid))

    # ----------------------------------------------------------------- passwords

    def refuse_common(self, password: str, field_name: str) -> None:
        """A password someone chooses may not be one of the most common ones: a 422 on
        `field_name`, as a validation failure."""
        if self.common_passwords.is_common(password):
            raise FieldsInvalid(VALIDATION_FAILED, [FieldError(field_name, TOO_COMMON)])

    async def new_password_hash(self, password: str, field_name: str) -> str:
        self.refuse_common(password, field_name)
        return await self.hasher.hash(password)

    async def password_matches(self, user: User | None, password: str) -> bool:
        """Whether `password` is the user's; without a user (or a user who has no password, signing
        in only through an identity provider) a hash is still checked, so the answer takes as long
        either way."""
        if user is None or user.password_hash is None:
            await self.hasher.verify(await self._dummy(), password)
            return False
        return await self.hasher.verify(user.password_hash, password)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # ----------------------------------------------------------------- accounts

    async def add_user(self, data: NewUser, *, verified: bool) -> User:
        """A new active user; `verified` marks the email as confirmed at once."""
        self.refuse_common(data.password, "body.password")
        email = normalize_email(data.email)
        if await self.users.get_by_email(email) is not None:  # fast path; the unique index decides races
            raise Conflict(EMAIL_TAKEN)
        password_hash = await self.hasher.hash(data.password)
        return await self.insert_user(
            email=email, full_name=data.full_name, role=data.role, password_hash=password_hash, verified=verified
        )

    async def insert_user(
        self, *, email: str, full_name: str, role: Role, password_hash: str | None, verified: bool
    ) -> User:
        """Store a new active user (Conflict when the email is taken); `verified` marks the email as
        confirmed at once, and no password hash means sign-in through identity providers only."""
        now = self.clock.now()
        user = User(
            id=new_id(),
            email=email,
            full_name=full_name,
            role=role,
            password_hash=password_hash,
            email_verified_at=now if verified else None,
            created_at=now,
            updated_at=now,
        )
        async with self.uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    # ----------------------------------------------------------------- sign-ins

    def issue_pair(
        self, user: User, sid: UUID, now: datetime, via: str | None = None
    ) -> tuple[TokenPair, RefreshSession]:
        """An access/refresh pair of sign-in `sid` (made `via` an identity provider or not), and
        the refresh token's server-side row."""
        access, _ = self.tokens.mint(user, TokenType.ACCESS, self.policy.access_ttl, now, sid=sid, via=via)
        refresh, claims = self.tokens.mint(user, TokenType.REFRESH, self.policy.refresh_ttl, now, sid=sid, via=via)
        row = RefreshSession(
            jti=claims.jti, user_id=user.id, sid=sid, expires_at=now + self.policy.refresh_ttl, created_at=now
        )
        return TokenPair(access_token=access, refresh_token=refresh), row

    async def start_sign_in(self, user: User, via: str | None = None) -> TokenPair:
        """A new sign-in: a fresh `sid` and its first token pair."""
        pair, row = self.issue_pair(user, new_id(), self.clock.now(), via)
        async with self.uow() as uow:
            await uow.refresh_sessions.add(row)
            await uow.commit()
        return pair

    async def token_user(self, claims: TokenClaims) -> User:
        """The active user a refresh token or a mailed one (reset, verification) speaks for."""
        user = await self.users.get(claims.sub)
        if user is None:
            raise Unauthenticated(INVALID_CREDENTIALS)
        if not user.is_active:
            raise Unauthenticated("User is inactive")
        if user.issued_before_cutoff(issued_at_us(claims)):
            raise Unauthenticated("Token has been revoked")
        return user
