"""Two API processes on one PostgreSQL and one Redis share sessions and revocations; when
Redis fails, rate limiting degrades open while the revocation check fails closed in production."""

from __future__ import annotations

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import problem
from tests.support.api import PASSWORD


async def test_logout_through_one_process_is_seen_by_the_other(make_api: MakeApiFn) -> None:
    one = await make_api()
    two = await make_api()
    s = await one.register()
    assert (await two.me(s)).status_code == 200
    r = await two.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    rotated = r.json()["tokens"]
    r = await one.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    problem(r, 401, "Refresh token is invalid or revoked")
    headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    r = await one.client.post("/api/v1/auth/logout", json={"refresh_token": rotated["refresh_token"]}, headers=headers)
    assert r.status_code == 204
    problem(await two.me(rotated["access_token"]), 401, "Token has been revoked")


async def test_mfa_codes_are_shared(make_api: MakeApiFn) -> None:
    one = await make_api()
    two = await make_api()
    s = await one.register()
    await one.client.post("/api/v1/auth/mfa/enable/request", json={"password": PASSWORD}, headers=s.headers)
    code = (await one.mailbox.wait_for(s.email, "Your MFA setup code")).code()
    r = await two.client.post("/api/v1/auth/mfa/enable/confirm", json={"code": code}, headers=s.headers)
    assert r.status_code == 200


async def break_redis(api: object) -> None:
    """Point the running app's Redis clients at a closed port: a real connection failure."""
    from adapters.kv.redis_store import RedisKeyValue
    from tests.support.servers import free_port

    container = api.container  # type: ignore[attr-defined]
    dead = RedisKeyValue(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    container.kv._redis = dead._redis


async def test_redis_outage_in_production(make_api: MakeApiFn) -> None:
    api = await make_api(
        LMS_ENVIRONMENT="production", LMS_TRUSTED_HOSTS="testserver.local", LMS_RATE_LIMIT_ENABLED="true"
    )
    s = await api.register()
    await break_redis(api)
    r = await api.me(s)
    problem(r, 503, "Token revocation service unavailable")
    # Public routes keep working: rate limiting degrades open.
    r = await api.client.post("/api/v1/auth/forgot-password", json={"email": s.email})
    assert r.status_code == 200
    assert "ratelimit-limit" not in r.headers
    # Readiness stays 200: the instance still serves, and an outage every instance shares must not
    # take them all out of the load balancer at once (API §7.15, amended).
    r = await api.client.get("/api/v1/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "degraded", "database": "up", "redis": "down", "storage": "up"}
    assert r.headers["content-type"].startswith("application/json")


async def test_redis_outage_outside_production_falls_back_to_memory(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_RATE_LIMIT_ENABLED="true")
    s = await api.register()
    await break_redis(api)
    assert (await api.me(s)).status_code == 200
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": s.refresh}, headers=s.headers)
    assert r.status_code == 204
    problem(await api.me(s), 401, "Token has been revoked")


async def test_the_catalog_cache_is_shared_and_invalidated_across_processes(make_api: MakeApiFn) -> None:
    from tests.http.test_catalog_cache import public_state, sneak_title
    from tests.support.catalog import create_course, create_lesson, publish, user_with_role

    one = await make_api()
    two = await make_api()
    owner = await user_with_role(one, "instructor")
    course = await publish(one, owner, (await create_course(one, owner, title="Shared course"))["id"])
    await create_lesson(one, owner, course["id"], title="Shared lesson")
    filled = await public_state(one, course)
    # the entries live in Redis: the second process reads them even after a change behind the API
    from adapters.sql.models import CourseRow

    await sneak_title(one, CourseRow, course["id"], "Behind the API")
    assert await public_state(two, course) == filled
    # a write through one process is seen by the next read through the other
    r = await one.client.patch(f"/api/v1/courses/{course['id']}", json={"title": "Renamed"}, headers=owner.headers)
    assert r.status_code == 200
    after = await public_state(two, course)
    assert after["detail"] == (200, "Renamed")
    assert after["list"] == ["Renamed"]
    await create_lesson(two, owner, course["id"], title="Second lesson")
    assert (await public_state(one, course))["lessons"] == (200, [("Shared lesson", 1), ("Second lesson", 2)])
    r = await two.client.patch(f"/api/v1/courses/{course['id']}", json={"is_published": False}, headers=owner.headers)
    assert r.status_code == 200
    hidden = await public_state(one, course)
    assert hidden == {"detail": (403, None), "list": [], "lessons": (403, None)}
