"""Identity repositories on SQLite and PostgreSQL: the same assertions, including races."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.sql.identity_repositories import SqlUserLookup
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from domain.identity.model import MfaMethod, RecoveryCode, RefreshSession, Role, User
from domain.shared.errors import Conflict
from domain.shared.ids import new_id
from domain.shared.pagination import PageParams


def make_user(email: str = "ada@example.com", created: datetime | None = None) -> User:
    now = created or datetime.now(UTC)
    return User(
        id=new_id(),
        email=email,
        full_name="Ada",
        role=Role.STUDENT,
        password_hash="hash",
        created_at=now,
        updated_at=now,
    )


async def add(uow_factory: SqlUnitOfWorkFactory, user: User) -> None:
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()


async def test_user_round_trip(uow_factory: SqlUnitOfWorkFactory, user_lookup: SqlUserLookup) -> None:
    user = make_user()
    await add(uow_factory, user)
    async with uow_factory() as uow:
        loaded = await uow.users.get(user.id)
    by_email = await user_lookup.get_by_email("ada@example.com")
    assert loaded == user
    assert by_email == user
    assert loaded is not None
    assert loaded.created_at.tzinfo is not None
    user.mfa_method = MfaMethod.TOTP
    user.totp_secret = "S" * 32
    user.tokens_valid_after = datetime.now(UTC)
    async with uow_factory() as uow:
        await uow.users.save(user)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == user


async def test_uncommitted_work_is_rolled_back(uow_factory: SqlUnitOfWorkFactory) -> None:
    user = make_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None


async def test_duplicate_email_conflicts(uow_factory: SqlUnitOfWorkFactory) -> None:
    await add(uow_factory, make_user())
    with pytest.raises(Conflict, match="Email is already registered"):
        await add(uow_factory, make_user())


async def test_racing_inserts_of_one_email_leave_one_row(uow_factory: SqlUnitOfWorkFactory) -> None:
    results = await asyncio.gather(
        *(add(uow_factory, make_user("race@example.com")) for _ in range(5)), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if r is not None)
    async with uow_factory() as uow:
        assert (await uow.users.page(PageParams())).total == 1


async def test_page_is_newest_first(uow_factory: SqlUnitOfWorkFactory) -> None:
    base = datetime.now(UTC)
    users = [make_user(f"u{i}@example.com", base + timedelta(seconds=i)) for i in range(5)]
    for user in users:
        await add(uow_factory, user)
    async with uow_factory() as uow:
        first = await uow.users.page(PageParams(page=1, page_size=2))
        last = await uow.users.page(PageParams(page=3, page_size=2))
        beyond = await uow.users.page(PageParams(page=9, page_size=2))
    assert [u.email for u in first.items] == ["u4@example.com", "u3@example.com"]
    assert [u.email for u in last.items] == ["u0@example.com"]
    assert first.total == 5
    assert beyond.items == []
    assert beyond.total == 5


async def test_totp_step_is_claimed_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    user = make_user()
    await add(uow_factory, user)

    async def claim(step: int) -> bool:
        async with uow_factory() as uow:
            ok = await uow.users.claim_totp_step(user.id, step)
            await uow.commit()
            return ok

    assert await claim(100)
    assert not await claim(100)
    assert not await claim(99)
    results = await asyncio.gather(*(claim(101) for _ in range(5)))
    assert results.count(True) == 1


async def test_refresh_sessions_revoke_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    user = make_user()
    await add(uow_factory, user)
    now = datetime.now(UTC)
    sid, other_sid = new_id(), new_id()
    sessions = [
        RefreshSession(jti=new_id(), user_id=user.id, sid=s, expires_at=now + timedelta(days=1), created_at=now)
        for s in (sid, sid, other_sid)
    ]
    expired = RefreshSession(
        jti=new_id(), user_id=user.id, sid=sid, expires_at=now - timedelta(seconds=1), created_at=now
    )
    async with uow_factory() as uow:
        for s in [*sessions, expired]:
            await uow.refresh_sessions.add(s)
        await uow.commit()

    async def revoke(jti: object) -> bool:
        async with uow_factory() as uow:
            ok = await uow.refresh_sessions.revoke(jti, datetime.now(UTC))  # type: ignore[arg-type]
            await uow.commit()
            return ok

    results = await asyncio.gather(*(revoke(sessions[0].jti) for _ in range(5)))
    assert results.count(True) == 1
    assert not await revoke(expired.jti)
    assert not await revoke(new_id())
    async with uow_factory() as uow:
        assert await uow.refresh_sessions.revoke_all(user.id, now, except_sid=other_sid) == 2  # sessions[1], expired
        assert await uow.refresh_sessions.revoke_sign_in(other_sid, now) == 1
        await uow.commit()
    async with uow_factory() as uow:
        row = await uow.refresh_sessions.get(sessions[2].jti)
    assert row is not None
    assert row.revoked_at is not None


async def test_single_use_tokens_are_consumed_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    jti = new_id()
    now = datetime.now(UTC)

    async def consume() -> bool:
        async with uow_factory() as uow:
            ok = await uow.consumed_tokens.consume(jti, now + timedelta(minutes=30), now)
            await uow.commit()
            return ok

    results = await asyncio.gather(*(consume() for _ in range(5)))
    assert results.count(True) == 1


async def test_recovery_codes(uow_factory: SqlUnitOfWorkFactory) -> None:
    user = make_user()
    await add(uow_factory, user)
    codes = [RecoveryCode(id=new_id(), user_id=user.id, code_hash=f"h{i}") for i in range(3)]
    async with uow_factory() as uow:
        await uow.recovery_codes.replace(user.id, codes)
        await uow.commit()

    async def use(code: RecoveryCode) -> bool:
        async with uow_factory() as uow:
            ok = await uow.recovery_codes.mark_used(code.id, datetime.now(UTC))
            await uow.commit()
            return ok

    assert (await asyncio.gather(*(use(codes[0]) for _ in range(4)))).count(True) == 1
    async with uow_factory() as uow:
        assert {c.code_hash for c in await uow.recovery_codes.unused(user.id)} == {"h1", "h2"}
        await uow.recovery_codes.replace(user.id, [])
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.recovery_codes.unused(user.id) == []


async def test_user_lookup_sees_committed_state(uow_factory: SqlUnitOfWorkFactory, user_lookup: SqlUserLookup) -> None:
    lookup = user_lookup
    user = make_user()
    assert await lookup.get(user.id) is None
    await add(uow_factory, user)
    assert await lookup.get(user.id) == user
    user.is_active = False
    async with uow_factory() as uow:
        await uow.users.save(user)
        await uow.commit()
    found = await lookup.get(user.id)
    assert found is not None
    assert found.is_active is False
