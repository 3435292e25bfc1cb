"""The identity repositories on one AsyncSession."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Select, Table, delete, func, insert, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from adapters.sql.mappers import (
    api_key_from_row,
    identity_from_row,
    recovery_from_row,
    session_from_row,
    user_from_row,
    user_values,
)
from adapters.sql.models import (
    ROW_COUNTS,
    ApiKeyRow,
    ConsumedTokenRow,
    RecoveryCodeRow,
    RefreshSessionRow,
    UserIdentityRow,
    UserRow,
)
from adapters.sql.paging import kept_count, page_in
from adapters.sql.prepared import PreparedReads
from adapters.sql.statements import bound, dialect_of, insert_ignoring_conflicts
from domain.identity.model import ApiKey, LinkedIdentity, RecoveryCode, RefreshSession, Role, User
from domain.identity.policy import EMAIL_TAKEN
from domain.shared.errors import Conflict
from domain.shared.pagination import Page, PageParams


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


USERS = cast(Table, UserRow.__table__)
# Built once: building and keying a statement per call costs more than running it.
_USER_BY_ID = select(USERS).where(USERS.c.id == bound(USERS.c.id, "key"))
_USER_BY_EMAIL = select(USERS).where(USERS.c.email == bound(USERS.c.email, "key"))


class SqlUserLookup:
    """The per-request user read: a prepared read on its own, one round trip (no BEGIN/ROLLBACK,
    no ORM identity map: a third of a session `get`, and a prepared read a third of that again)."""

    def __init__(self, reads: PreparedReads) -> None:
        self._reads = reads

    async def get(self, user_id: UUID) -> User | None:
        return await self._one(_USER_BY_ID, user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(_USER_BY_EMAIL, email)

    async def _one(self, query: Select[Any], key: object) -> User | None:
        # Every authenticated request starts here: after a database restart the first read on a
        # dead pooled connection is repeated on a fresh one instead of failing the request.
        row = await self._reads.first(query, {"key": key})
        return user_from_row(row) if row else None


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, user_id: UUID) -> User | None:
        row = await self._s.get(UserRow, user_id)
        return user_from_row(row) if row else None

    async def add(self, user: User) -> None:
        # No savepoint: a conflict ends the unit of work, which then rolls back.
        try:
            await self._s.execute(insert(UserRow).values(**user_values(user)))
        except IntegrityError:
            raise Conflict(EMAIL_TAKEN) from None

    async def by_emails(self, emails: Sequence[str]) -> list[User]:
        if not emails:
            return []
        rows = await self._s.execute(select(USERS).where(USERS.c.email.in_(list(emails))))
        return [user_from_row(row) for row in rows]

    async def add_absent(self, users: Sequence[User]) -> None:
        if users:
            statement = insert_ignoring_conflicts(self._s, USERS, on=["email"])
            await self._s.execute(statement, [user_values(user) for user in users])

    async def save(self, user: User) -> None:
        values = user_values(user)
        del values["id"], values["created_at"]
        await self._s.execute(update(UserRow).where(UserRow.id == user.id).values(**values))

    async def page(self, params: PageParams) -> Page[User]:
        query = select(USERS).order_by(USERS.c.created_at.desc(), USERS.c.id.desc())
        return await page_in(self._s, query, params, user_from_row, total=kept_count(ROW_COUNTS, "users"))

    async def lock_active_admins(self) -> list[UUID]:
        query = select(UserRow.id).where(UserRow.role == Role.ADMIN.value, UserRow.is_active.is_(True))
        if dialect_of(self._s) == "postgresql":
            query = query.order_by(UserRow.id).with_for_update()  # in one order: no deadlock between two
        return list((await self._s.execute(query)).scalars())

    async def claim_totp_step(self, user_id: UUID, step: int) -> bool:
        result = await self._s.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .where(or_(UserRow.totp_last_step.is_(None), UserRow.totp_last_step < step))
            .values(totp_last_step=step)
        )
        return _rowcount(result) == 1


class SqlRefreshSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, session: RefreshSession) -> None:
        await self._s.execute(
            insert(RefreshSessionRow).values(
                id=session.jti,
                user_id=session.user_id,
                sid=session.sid,
                expires_at=session.expires_at,
                revoked_at=session.revoked_at,
                created_at=session.created_at,
                updated_at=session.created_at,
            )
        )

    async def get(self, jti: UUID) -> RefreshSession | None:
        row = await self._s.get(RefreshSessionRow, jti)
        return session_from_row(row) if row else None

    async def revoke(self, jti: UUID, now: datetime) -> bool:
        result = await self._s.execute(
            update(RefreshSessionRow)
            .where(RefreshSessionRow.id == jti)
            .where(RefreshSessionRow.revoked_at.is_(None))
            .where(RefreshSessionRow.expires_at > now)
            .values(revoked_at=now, updated_at=now)
        )
        return _rowcount(result) == 1

    async def revoke_all(self, user_id: UUID, now: datetime, *, except_sid: UUID | None = None) -> int:
        stmt = (
            update(RefreshSessionRow)
            .where(RefreshSessionRow.user_id == user_id)
            .where(RefreshSessionRow.revoked_at.is_(None))
        )
        if except_sid is not None:
            stmt = stmt.where(RefreshSessionRow.sid != except_sid)
        return _rowcount(await self._s.execute(stmt.values(revoked_at=now, updated_at=now)))

    async def revoke_sign_in(self, sid: UUID, now: datetime) -> int:
        stmt = (
            update(RefreshSessionRow)
            .where(RefreshSessionRow.sid == sid)
            .where(RefreshSessionRow.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )
        return _rowcount(await self._s.execute(stmt))


class SqlConsumedTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def consume(self, jti: UUID, expires_at: datetime, now: datetime) -> bool:
        try:
            async with self._s.begin_nested():
                await self._s.execute(insert(ConsumedTokenRow).values(id=jti, consumed_at=now, expires_at=expires_at))
        except IntegrityError:
            return False
        return True


class SqlRecoveryCodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def replace(self, user_id: UUID, codes: Sequence[RecoveryCode]) -> None:
        await self.delete_all(user_id)
        if codes:
            await self._s.execute(
                insert(RecoveryCodeRow),
                [{"id": c.id, "user_id": c.user_id, "code_hash": c.code_hash} for c in codes],
            )

    async def unused(self, user_id: UUID) -> list[RecoveryCode]:
        rows = await self._s.execute(
            select(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id).where(RecoveryCodeRow.used_at.is_(None))
        )
        return [recovery_from_row(r) for r in rows.scalars()]

    async def mark_used(self, code_id: UUID, now: datetime) -> bool:
        result = await self._s.execute(
            update(RecoveryCodeRow)
            .where(RecoveryCodeRow.id == code_id)
            .where(RecoveryCodeRow.used_at.is_(None))
            .values(used_at=now, updated_at=now)
        )
        return _rowcount(result) == 1

    async def delete_all(self, user_id: UUID) -> None:
        await self._s.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))


API_KEYS = cast(Table, ApiKeyRow.__table__)
_KEY_COLUMNS = [column.label(f"key_{column.name}") for column in API_KEYS.c]
# A key and its owner in one statement (the owner's columns under their own names).
_KEY_BY_PREFIX = (
    select(USERS, *_KEY_COLUMNS)
    .join_from(API_KEYS, USERS, API_KEYS.c.owner_id == USERS.c.id)
    .where(API_KEYS.c.prefix == bound(API_KEYS.c.prefix, "key"))
)


class SqlApiKeyLookup:
    """The per-request key read: one prepared statement, the key with its owner."""

    def __init__(self, reads: PreparedReads, engine: AsyncEngine) -> None:
        self._reads = reads
        self._engine = engine

    async def find(self, prefix: str) -> tuple[ApiKey, User] | None:
        row = await self._reads.first(_KEY_BY_PREFIX, {"key": prefix})
        return (api_key_from_row(row, "key_"), user_from_row(row)) if row else None

    async def touch(self, key_id: UUID, now: datetime, unless_since: datetime) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(API_KEYS)
                .where(API_KEYS.c.id == key_id)
                .where(or_(API_KEYS.c.last_used_at.is_(None), API_KEYS.c.last_used_at < unless_since))
                .values(last_used_at=now)
            )


class SqlApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, key: ApiKey) -> None:
        await self._s.execute(
            insert(ApiKeyRow).values(
                id=key.id,
                owner_id=key.owner_id,
                name=key.name,
                prefix=key.prefix,
                secret_hash=key.secret_hash,
                scopes=list(key.scopes),
                expires_at=key.expires_at,
                created_at=key.created_at,
                updated_at=key.created_at,
            )
        )

    async def get(self, key_id: UUID) -> ApiKey | None:
        row = await self._s.get(ApiKeyRow, key_id)
        return api_key_from_row(row) if row else None

    async def page(self, params: PageParams, owner_id: UUID | None) -> Page[ApiKey]:
        query = select(API_KEYS).order_by(API_KEYS.c.created_at.desc(), API_KEYS.c.id.desc())
        if owner_id is not None:
            query = query.where(API_KEYS.c.owner_id == owner_id)
        return await page_in(self._s, query, params, api_key_from_row)

    async def revoke(self, key_id: UUID, now: datetime) -> bool:
        result = await self._s.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.id == key_id)
            .where(ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )
        return _rowcount(result) == 1


IDENTITIES = cast(Table, UserIdentityRow.__table__)


class SqlLinkedIdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def find(self, provider: str, subject: str) -> LinkedIdentity | None:
        query = select(IDENTITIES).where(IDENTITIES.c.provider == provider, IDENTITIES.c.subject == subject)
        row = (await self._s.execute(query)).first()
        return identity_from_row(row) if row else None

    async def add(self, identity: LinkedIdentity) -> bool:
        values = {
            "id": identity.id,
            "user_id": identity.user_id,
            "provider": identity.provider,
            "subject": identity.subject,
            "email": identity.email,
            "created_at": identity.linked_at,
            "updated_at": identity.linked_at,
        }
        try:
            async with self._s.begin_nested():  # a lost race leaves the rest of the transaction intact
                await self._s.execute(insert(IDENTITIES).values(**values))
        except IntegrityError:
            return False
        return True

    async def page(self, user_id: UUID, params: PageParams) -> Page[LinkedIdentity]:
        query = (
            select(IDENTITIES)
            .where(IDENTITIES.c.user_id == user_id)
            .order_by(IDENTITIES.c.created_at.asc(), IDENTITIES.c.id.asc())
        )
        return await page_in(self._s, query, params, identity_from_row)

    async def count(self, user_id: UUID) -> int:
        query = select(func.count()).select_from(IDENTITIES).where(IDENTITIES.c.user_id == user_id)
        return int((await self._s.execute(query)).scalar_one())

    async def remove(self, user_id: UUID, provider: str) -> bool:
        result = await self._s.execute(
            delete(IDENTITIES).where(IDENTITIES.c.user_id == user_id, IDENTITIES.c.provider == provider)
        )
        return _rowcount(result) > 0
