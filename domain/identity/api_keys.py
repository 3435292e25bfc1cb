"""API keys for integrations (API §10.4): created with scopes and shown once, listed, revoked; a
key acts as its owner with the owner's current role, within its scopes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain.identity.model import ApiKey, AuthMethod, Principal, Role, TokenClaims, TokenType, User
from domain.identity.parts import IdentityParts
from domain.identity.ports import ApiKeyLookup
from domain.shared.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams

SCOPES = (
    "courses:read",
    "courses:write",
    "enrollments:read",
    "enrollments:write",
    "grades:read",
    "grades:write",
    "analytics:read",
    "users:read",
    "users:write",
    "files:read",
    "files:write",
    "webhooks:read",
)
ADMIN_SCOPES = frozenset({"users:read", "users:write", "webhooks:read"})
KEY_INVALID = "API key is invalid or revoked"
KEY_NOT_FOUND = "API key not found"
NOT_WITH_A_KEY = "Not allowed with an API key"
INSUFFICIENT = "Insufficient permissions"
TOUCH_EVERY = timedelta(minutes=1)  # `last_used_at` is written at most this often per key
_KEY = re.compile(r"lms_([a-z0-9]{8})_([A-Za-z0-9_-]{43})")
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


def is_api_key(credential: str) -> bool:
    """Whether a credential has the form of a key (rather than an access token)."""
    return credential.startswith("lms_")


def hash_secret(secret: str) -> str:
    """A key's secret has 256 random bits, so a plain SHA-256 keeps it as well as a slow hash
    would, at a fraction of the cost of every request."""
    return hashlib.sha256(secret.encode()).hexdigest()


def lacks_scope(scope: str) -> str:
    return f"API key lacks scope: {scope}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewApiKey:
    name: str
    scopes: list[str]
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str  # the whole key, `lms_<prefix>_<secret>`: shown once


@dataclass(slots=True)
class ApiKeys:
    parts: IdentityParts
    lookup: ApiKeyLookup

    async def create(self, actor: User, data: NewApiKey) -> CreatedKey:
        if actor.role not in (Role.INSTRUCTOR, Role.ADMIN):
            raise Forbidden(INSUFFICIENT)
        for scope in data.scopes:
            if scope not in SCOPES:
                raise InvalidInput(f"Unknown scope: {scope}")
        for scope in data.scopes:
            if scope in ADMIN_SCOPES and not actor.is_admin:
                raise Forbidden(f"Scope not allowed for your role: {scope}")
        now = self.parts.clock.now()
        if data.expires_at is not None and data.expires_at <= now:
            raise InvalidInput("expires_at must be in the future")
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))
        secret = secrets.token_urlsafe(32)
        key = ApiKey(
            id=new_id(),
            owner_id=actor.id,
            name=data.name,
            prefix=prefix,
            secret_hash=hash_secret(secret),
            scopes=tuple(dict.fromkeys(data.scopes)),
            created_at=now,
            expires_at=data.expires_at,
        )
        async with self.parts.uow() as uow:
            await uow.api_keys.add(key)
            await uow.commit()
        return CreatedKey(key, f"lms_{prefix}_{secret}")

    async def list(self, actor: User, params: PageParams, *, every: bool = False) -> Page[ApiKey]:
        if every and not actor.is_admin:
            raise Forbidden(INSUFFICIENT)
        async with self.parts.uow() as uow:
            return await uow.api_keys.page(params, None if every else actor.id)

    async def revoke(self, actor: User, key_id: UUID) -> None:
        """The key stops working on the next request, in every process (it is read each time)."""
        async with self.parts.uow() as uow:
            key = await uow.api_keys.get(key_id)
            if key is None or (key.owner_id != actor.id and not actor.is_admin):
                raise NotFound(KEY_NOT_FOUND)
            await uow.api_keys.revoke(key_id, self.parts.clock.now())
            await uow.commit()
        self.parts.end_live(key.owner_id, jti=key_id)

    async def authenticate(self, credential: str) -> Principal:
        """A key to the principal it acts as: its owner now, within its scopes."""
        match = _KEY.fullmatch(credential)
        if match is None:
            raise Unauthenticated(KEY_INVALID, token_rejected=True)
        found = await self.lookup.find(match.group(1))
        now = self.parts.clock.now()
        if found is None:
            raise Unauthenticated(KEY_INVALID, token_rejected=True)
        key, user = found
        if not hmac.compare_digest(key.secret_hash, hash_secret(match.group(2))) or not key.is_live(now):
            raise Unauthenticated(KEY_INVALID, token_rejected=True)
        if not user.is_active:
            raise Unauthenticated("User account is disabled", token_rejected=True)
        if self.parts.policy.require_email_verification and user.email_verified_at is None:
            raise Unauthenticated("Email is not verified", token_rejected=True)
        if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
            await self.lookup.touch(key.id, now, unless_since=now - TOUCH_EVERY)
        claims = TokenClaims(
            sub=user.id,
            jti=key.id,
            typ=TokenType.ACCESS,
            iat=int(key.created_at.timestamp()),
            exp=int(key.expires_at.timestamp()) if key.expires_at is not None else 0,
        )
        return Principal(user=user, claims=claims, via=AuthMethod.API_KEY, scopes=frozenset(key.scopes))
