"""In-memory fakes of the identity ports, for fast use-case tests."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from domain.identity.model import RecoveryCode, RefreshSession, Role, User
from domain.identity.policy import EMAIL_TAKEN
from domain.integrations.model import AuditEntry, DomainEvent
from domain.shared.errors import Conflict
from domain.shared.pagination import Page, PageParams


@dataclass
class Store:
    users: dict[UUID, User] = field(default_factory=dict)
    sessions: dict[UUID, RefreshSession] = field(default_factory=dict)
    consumed: set[UUID] = field(default_factory=set)
    codes: dict[UUID, RecoveryCode] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


class FakeOutbox:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def add(self, event: DomainEvent) -> None:
        self.s.events.append(event)


class FakeAuditLog:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def add(self, entry: AuditEntry) -> None:
        self.s.audit.append(entry)


class FakeUsers:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def get(self, user_id: UUID) -> User | None:
        user = self.s.users.get(user_id)
        return copy.deepcopy(user) if user else None

    async def get_by_email(self, email: str) -> User | None:
        return next((copy.deepcopy(u) for u in self.s.users.values() if u.email == email), None)

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self.s.users.values()):
            raise Conflict(EMAIL_TAKEN)
        self.s.users[user.id] = copy.deepcopy(user)

    async def save(self, user: User) -> None:
        self.s.users[user.id] = copy.deepcopy(user)

    async def page(self, params: PageParams) -> Page[User]:
        users = sorted(self.s.users.values(), key=lambda u: (u.created_at, u.id), reverse=True)
        items = users[params.offset : params.offset + params.page_size]
        return Page(items=items, total=len(users), page=params.page, page_size=params.page_size)

    async def lock_active_admins(self) -> list[UUID]:
        return [u.id for u in self.s.users.values() if u.role is Role.ADMIN and u.is_active]

    async def claim_totp_step(self, user_id: UUID, step: int) -> bool:
        user = self.s.users[user_id]
        if user.totp_last_step is not None and user.totp_last_step >= step:
            return False
        user.totp_last_step = step
        return True


class FakeSessions:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def add(self, session: RefreshSession) -> None:
        self.s.sessions[session.jti] = session

    async def get(self, jti: UUID) -> RefreshSession | None:
        return self.s.sessions.get(jti)

    async def revoke(self, jti: UUID, now: datetime) -> bool:
        row = self.s.sessions.get(jti)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return False
        row.revoked_at = now
        return True

    async def revoke_all(self, user_id: UUID, now: datetime, *, except_sid: UUID | None = None) -> int:
        n = 0
        for row in self.s.sessions.values():
            if row.user_id == user_id and row.revoked_at is None and row.sid != except_sid:
                row.revoked_at = now
                n += 1
        return n

    async def revoke_sign_in(self, sid: UUID, now: datetime) -> int:
        n = 0
        for row in self.s.sessions.values():
            if row.sid == sid and row.revoked_at is None:
                row.revoked_at = now
                n += 1
        return n


class FakeConsumed:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def consume(self, jti: UUID, expires_at: datetime, now: datetime) -> bool:
        if jti in self.s.consumed:
            return False
        self.s.consumed.add(jti)
        return True


class FakeCodes:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def replace(self, user_id: UUID, codes: Sequence[RecoveryCode]) -> None:
        await self.delete_all(user_id)
        for code in codes:
            self.s.codes[code.id] = code

    async def unused(self, user_id: UUID) -> list[RecoveryCode]:
        return [c for c in self.s.codes.values() if c.user_id == user_id and c.used_at is None]

    async def mark_used(self, code_id: UUID, now: datetime) -> bool:
        code = self.s.codes.get(code_id)
        if code is None or code.used_at is not None:
            return False
        code.used_at = now
        return True

    async def delete_all(self, user_id: UUID) -> None:
        for key in [k for k, c in self.s.codes.items() if c.user_id == user_id]:
            del self.s.codes[key]


class FakeUnitOfWork:
    """Writes go straight to the shared store (commit is a no-op): enough for rule tests."""

    def __init__(self, store: Store) -> None:
        self.users = FakeUsers(store)
        self.refresh_sessions = FakeSessions(store)
        self.consumed_tokens = FakeConsumed(store)
        self.recovery_codes = FakeCodes(store)
        self.audit = FakeAuditLog(store)
        self.outbox = FakeOutbox(store)
        self.commits = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        self.commits += 1


class NoApiKeys:
    """No key exists: the identity rule tests do not use keys (their HTTP tests do)."""

    async def find(self, prefix: str) -> None:
        return None

    async def touch(self, key_id: object, now: object, unless_since: object) -> None:
        return None


class FakeHasher:
    """Reversible and instant; the real argon2 hasher has its own contract test."""

    async def hash(self, password: str) -> str:
        return f"fake${password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"fake${password}"


class FakeClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class RecordingQueue:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    async def enqueue(self, name: str, payload: dict[str, Any]) -> None:
        self.jobs.append((name, payload))

    async def ping(self) -> None:
        return None

    def mails(self, to: str, subject: str) -> list[dict[str, Any]]:
        return [p for n, p in self.jobs if n == "send_email" and p["to"] == to and p["subject"] == subject]
