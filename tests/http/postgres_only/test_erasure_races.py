"""Erasure racing on PostgreSQL (two app instances on one database): the last two admins erasing
each other at once leave one admin; erasing one person twice at once records one erasure."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text

from adapters.sql.models import OutboxEventRow
from tests.http.conftest import MakeApiFn


async def test_two_admins_erasing_each_other_leave_one(make_api: MakeApiFn) -> None:
    one, two = await make_api(), await make_api()
    current = await one.admin()
    for _ in range(3):
        rival = await one.admin()  # the only other active admin
        results = await asyncio.gather(
            one.client.post(f"/api/v1/users/{rival.user['id']}/erase", headers=current.headers),
            two.client.post(f"/api/v1/users/{current.user['id']}/erase", headers=rival.headers),
        )
        assert sorted(r.status_code for r in results) == [204, 409], [r.text for r in results]
        lost = next(r for r in results if r.status_code == 409)
        assert lost.json()["detail"] == "Cannot erase the last admin"
        async with one.container.engine.connect() as conn:
            query = text("SELECT id FROM users WHERE role = 'admin' AND is_active")
            (survivor,) = (await conn.execute(query)).scalars().all()
        current = current if str(survivor) == current.user["id"] else rival


async def test_one_person_erased_twice_at_once_is_erased_once(make_api: MakeApiFn) -> None:
    one, two = await make_api(), await make_api()
    admin = await one.admin()
    person = await one.register()
    results = await asyncio.gather(
        one.client.post(f"/api/v1/users/{person.user['id']}/erase", headers=admin.headers),
        two.client.post(f"/api/v1/users/{person.user['id']}/erase", headers=admin.headers),
    )
    assert [r.status_code for r in results] == [204, 204]
    async with one.container.sessions() as session:
        query = select(func.count()).select_from(OutboxEventRow).where(OutboxEventRow.type == "user.erased")
        assert (await session.execute(query)).scalar_one() == 1
