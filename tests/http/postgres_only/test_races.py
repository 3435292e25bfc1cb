"""Races on PostgreSQL: concurrent requests for the same thing end with exactly one winner."""

from __future__ import annotations

import asyncio

from domain.shared.pagination import PageParams
from tests.http.conftest import MakeApiFn
from tests.support.api import PASSWORD, unique_email


async def test_same_refresh_token_twice_at_once(make_api: MakeApiFn) -> None:
    one = await make_api()
    two = await make_api()
    for _ in range(5):
        s = await one.register()
        results = await asyncio.gather(
            one.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh}),
            two.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh}),
        )
        assert sorted(r.status_code for r in results) == [200, 401]
        loser = next(r for r in results if r.status_code == 401)
        assert loser.json()["detail"] == "Refresh token is invalid or revoked"
        user = await one.container.identity.users.get_by_email(s.email)
        assert user is not None
        # Exactly one live refresh row remains for the sign-in: the winner's.
        from sqlalchemy import func, select

        from adapters.sql.models import RefreshSessionRow

        async with one.container.sessions() as session:
            live = await session.scalar(
                select(func.count())
                .select_from(RefreshSessionRow)
                .where(RefreshSessionRow.user_id == user.id, RefreshSessionRow.revoked_at.is_(None))
            )
        assert live == 1


async def test_same_email_registered_twice_at_once(make_api: MakeApiFn) -> None:
    one = await make_api()
    two = await make_api()
    for _ in range(5):
        email = unique_email("race")
        body = {"email": email, "full_name": "Racer", "password": PASSWORD}
        results = await asyncio.gather(
            one.client.post("/api/v1/auth/register", json=body),
            two.client.post("/api/v1/auth/register", json={**body, "email": email.upper()}),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        conflict = next(r for r in results if r.status_code == 409)
        assert conflict.json()["detail"] == "Email is already registered"
    async with one.container.identity.uow() as uow:
        assert (await uow.users.page(PageParams())).total == 5
