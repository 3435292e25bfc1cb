"""Races on PostgreSQL: concurrent requests for the same thing end with exactly one winner."""

from __future__ import annotations

import asyncio

import httpx

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
        user = await one.container.identity.parts.users.get_by_email(s.email)
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
    async with one.container.identity.parts.uow() as uow:
        assert (await uow.users.page(PageParams())).total == 5


async def test_two_lessons_at_the_same_position_at_once(make_api: MakeApiFn) -> None:
    from tests.support.catalog import create_course, user_with_role

    one = await make_api()
    two = await make_api()
    owner = await user_with_role(one, "instructor")
    for attempt in range(5):
        course = await create_course(one, owner)
        url = f"/api/v1/courses/{course['id']}/lessons"
        results = await asyncio.gather(
            one.client.post(
                url, json={"title": "From one", "lesson_type": "text", "order_index": 1}, headers=owner.headers
            ),
            two.client.post(
                url, json={"title": "From two", "lesson_type": "text", "order_index": 1}, headers=owner.headers
            ),
        )
        assert sorted(r.status_code for r in results) == [201, 409], (attempt, [r.text for r in results])
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json()["detail"] == "Lesson already exists or order index conflicts"
        listed = (await one.client.get(url, headers=owner.headers)).json()
        assert listed["total"] == 1


async def test_lessons_added_at_once_get_distinct_default_positions(make_api: MakeApiFn) -> None:
    from tests.support.catalog import create_course, user_with_role

    one = await make_api()
    two = await make_api()
    owner = await user_with_role(one, "instructor")
    course = await create_course(one, owner)
    url = f"/api/v1/courses/{course['id']}/lessons"
    results = await asyncio.gather(
        *(
            (one if n % 2 else two).client.post(
                url, json={"title": f"Lesson {n}", "lesson_type": "text"}, headers=owner.headers
            )
            for n in range(8)
        )
    )
    assert [r.status_code for r in results] == [201] * 8
    positions = sorted(r.json()["order_index"] for r in results)
    assert positions == list(range(1, 9))


async def test_same_course_slug_at_once(make_api: MakeApiFn) -> None:
    from tests.support.catalog import user_with_role

    one = await make_api()
    two = await make_api()
    owner = await user_with_role(one, "instructor")
    for n in range(4):
        body = {"title": "Racing course", "slug": f"racing-course-{n}"}
        results = await asyncio.gather(
            one.client.post("/api/v1/courses", json=body, headers=owner.headers),
            two.client.post("/api/v1/courses", json=body, headers=owner.headers),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        assert next(r for r in results if r.status_code == 409).json()["detail"] == "Course slug already exists"
    # derived slugs never collide: each racer gets its own
    results = await asyncio.gather(
        *(
            (one if n % 2 else two).client.post("/api/v1/courses", json={"title": "Same Title"}, headers=owner.headers)
            for n in range(6)
        )
    )
    assert [r.status_code for r in results] == [201] * 6
    assert sorted(r.json()["slug"] for r in results) == sorted(
        ["same-title", *(f"same-title-{k}" for k in range(2, 7))]
    )


async def test_reorder_racing_a_new_lesson_keeps_positions_unique(make_api: MakeApiFn) -> None:
    from tests.support.catalog import create_course, create_lesson, user_with_role

    one = await make_api()
    two = await make_api()
    owner = await user_with_role(one, "instructor")
    course = await create_course(one, owner)
    lessons = [await create_lesson(one, owner, course["id"], title=f"Lesson {n}") for n in range(4)]
    url = f"/api/v1/courses/{course['id']}/lessons"
    reorder, create = await asyncio.gather(
        one.client.patch(
            f"{url}/reorder", json={"lesson_ids": [x["id"] for x in reversed(lessons)]}, headers=owner.headers
        ),
        two.client.post(url, json={"title": "Newcomer", "lesson_type": "text"}, headers=owner.headers),
    )
    assert create.status_code == 201
    # the reorder either ran first (complete list) or saw the newcomer and refused the stale list
    assert reorder.status_code in (200, 422)
    listed = (await one.client.get(url, headers=owner.headers)).json()["items"]
    assert sorted(x["order_index"] for x in listed) == list(range(1, 6))


async def test_two_admins_demoting_each_other_at_once_leave_one(make_api: MakeApiFn) -> None:
    one = await make_api()
    two = await make_api()
    survivor = await one.admin()
    for _ in range(4):
        newcomer = await two.admin()
        results = await asyncio.gather(
            one.client.patch(
                f"/api/v1/users/{newcomer.user['id']}", json={"is_active": False}, headers=survivor.headers
            ),
            two.client.patch(
                f"/api/v1/users/{survivor.user['id']}", json={"role": "student"}, headers=newcomer.headers
            ),
        )
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        refused = next(r for r in results if r.status_code == 409)
        assert refused.json()["detail"] == "Cannot remove the last admin"
        async with one.container.sessions() as session:
            from sqlalchemy import func, select

            from adapters.sql.models import UserRow

            admins = await session.scalar(
                select(func.count()).select_from(UserRow).where(UserRow.role == "admin", UserRow.is_active.is_(True))
            )
        assert admins == 1
        survivor = survivor if results[0].status_code == 200 else newcomer


async def test_two_revocations_of_one_key_at_once(make_api: MakeApiFn) -> None:
    """Both answer 204 (the conditional update lets one of them write); no process accepts the key after."""
    one = await make_api()
    two = await make_api()
    admin = await one.admin()
    for _ in range(3):
        r = await one.client.post(
            "/api/v1/api-keys", json={"name": "race", "scopes": ["files:read"]}, headers=admin.headers
        )
        key = r.json()
        path = f"/api/v1/api-keys/{key['id']}"
        results = await asyncio.gather(
            one.client.delete(path, headers=admin.headers), two.client.delete(path, headers=admin.headers)
        )
        assert [r.status_code for r in results] == [204, 204]
        for api in (one, two):
            r = await api.client.get("/api/v1/users/me", headers={"X-API-Key": key["key"]})
            assert r.status_code == 401 and r.json()["detail"] == "API key is invalid or revoked"


async def test_two_callbacks_with_the_same_code_at_once(make_api: MakeApiFn) -> None:
    """The flow's state is taken once (an atomic pop in Redis): one browser gets a sign-in code, the
    other `400`, and one account with one link exists."""
    from tests.http.test_sso import ACCOUNTS, CLIENTS, FRONT, settings
    from tests.support.openid import OpenIdProvider

    provider = OpenIdProvider(clients=CLIENTS, accounts=ACCOUNTS).start()
    try:
        one = await make_api(**settings(provider))
        two = await make_api(**settings(provider))
        for _ in range(3):
            r = await one.client.get("/api/v1/auth/sso/school/authorize", params={"redirect_uri": FRONT})
            back = httpx.URL(provider.sign_in(r.headers["location"], "alice"))
            path = f"{back.path}?{back.query.decode()}"
            results = await asyncio.gather(one.client.get(path), two.client.get(path))
            assert sorted(r.status_code for r in results) == [302, 400]
            winner = next(r for r in results if r.status_code == 302)
            assert "code" in httpx.URL(winner.headers["location"]).params
        async with one.container.identity.parts.uow() as uow:
            user = await uow.users.page(PageParams())
        assert [u.email for u in user.items].count("alice@school.example") == 1
    finally:
        provider.stop()
