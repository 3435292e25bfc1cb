"""API keys over HTTP (API §10.4), on both backends: created once, scoped, acting as the owner now,
revoked at once."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api, Session
from tests.support.catalog import create_course, user_with_role
from tests.unit.fakes import FakeClock

INVALID = "API key is invalid or revoked"


async def create_key(api: Api, owner: Session, *scopes: str, **body: Any) -> dict[str, Any]:
    r = await api.client.post(
        "/api/v1/api-keys", json={"name": "Integration", "scopes": list(scopes), **body}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def bearer(key: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['key']}"}


async def test_a_key_is_shown_once_and_only_its_hash_is_kept(api: Api) -> None:
    owner = await user_with_role(api, "instructor")
    key = await create_key(api, owner, "courses:read", "courses:read")
    assert re.fullmatch(r"lms_[a-z0-9]{8}_[A-Za-z0-9_-]{43}", key["key"])
    assert key["prefix"] == key["key"][4:12] and key["scopes"] == ["courses:read"]
    assert key["owner_id"] == owner.user["id"] and key["revoked_at"] is None and key["last_used_at"] is None
    listed = (await api.client.get("/api/v1/api-keys", headers=owner.headers)).json()
    assert [k["id"] for k in listed["items"]] == [key["id"]] and "key" not in listed["items"][0]
    async with api.container.identity.parts.uow() as uow:
        stored = await uow.api_keys.get(uuid.UUID(key["id"]))
    assert stored is not None and key["key"].split("_", 2)[2] not in stored.secret_hash


async def test_bad_requests_create_nothing(api: Api) -> None:
    owner = await user_with_role(api, "instructor")
    student = await api.register()
    path = "/api/v1/api-keys"
    problem(
        await api.client.post(path, json={"name": "x", "scopes": ["nope"]}, headers=owner.headers),
        400,
        "Unknown scope: nope",
    )
    r = await api.client.post(path, json={"name": "x", "scopes": ["users:read"]}, headers=owner.headers)
    problem(r, 403, "Scope not allowed for your role: users:read")
    r = await api.client.post(path, json={"name": "x", "scopes": ["courses:read"]}, headers=student.headers)
    problem(r, 403, "Insufficient permissions")
    invalid(await api.client.post(path, json={"name": "x", "scopes": []}, headers=owner.headers), "body.scopes")
    invalid(
        await api.client.post(path, json={"name": "", "scopes": ["files:read"]}, headers=owner.headers), "body.name"
    )
    invalid(
        await api.client.post(path, json={"scopes": "files:read", "name": "x"}, headers=owner.headers), "body.scopes"
    )
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await api.client.post(
        path, json={"name": "x", "scopes": ["files:read"], "expires_at": past}, headers=owner.headers
    )
    problem(r, 400, "expires_at must be in the future")
    assert (await api.client.get(path, headers=owner.headers)).json()["total"] == 0
    problem(await api.client.get(path, params={"all": "true"}, headers=owner.headers), 403, "Insufficient permissions")


async def test_a_key_acts_as_its_owner_within_its_scopes(api: Api) -> None:
    owner = await user_with_role(api, "instructor")
    reader = await create_key(api, owner, "courses:read")
    writer = await create_key(api, owner, "courses:write")
    for headers in (bearer(reader), {"X-API-Key": reader["key"]}):
        r = await api.client.get("/api/v1/users/me", headers=headers)  # needs no scope
        assert r.status_code == 200 and r.json()["id"] == owner.user["id"]
    info = (await api.client.get("/api/v1/auth/token-info", headers=bearer(reader))).json()
    assert (info["auth"], info["session_id"], info["expires_at"]) == ("api_key", None, None)
    course = await create_course(api, owner)
    r = await api.client.get(f"/api/v1/courses/{course['id']}", headers=bearer(reader))  # a draft: the owner's view
    assert r.status_code == 200 and "private" in r.headers["cache-control"]
    r = await api.client.post("/api/v1/courses", json={"title": "By key"}, headers=bearer(reader))
    problem(r, 403, "API key lacks scope: courses:write")
    r = await api.client.post("/api/v1/courses", json={"title": "By key"}, headers=bearer(writer))
    assert r.status_code == 201 and r.json()["instructor_id"] == owner.user["id"]
    problem(
        await api.client.get("/api/v1/enrollments/my-courses", headers=bearer(reader)),
        403,
        "API key lacks scope: enrollments:read",
    )
    for method, path in (
        ("POST", "/api/v1/api-keys"),
        ("GET", "/api/v1/api-keys"),
        ("POST", "/api/v1/users/me/password"),
        ("POST", "/api/v1/auth/mfa/totp/setup"),
        ("POST", "/api/v1/auth/logout"),
    ):
        r = await api.client.request(method, path, json={}, headers=bearer(writer))
        problem(r, 403, "Not allowed with an API key")


async def test_a_key_follows_its_owner_and_stops_when_revoked(api: Api) -> None:
    admin = await api.admin()
    owner = await user_with_role(api, "instructor")
    other = await user_with_role(api, "instructor")
    key = await create_key(api, owner, "courses:read")
    theirs = await create_key(api, other, "courses:read")
    problem(
        await api.client.delete(f"/api/v1/api-keys/{theirs['id']}", headers=owner.headers), 404, "API key not found"
    )
    problem(
        await api.client.delete(f"/api/v1/api-keys/{uuid.uuid4()}", headers=owner.headers), 404, "API key not found"
    )
    invalid(await api.client.delete("/api/v1/api-keys/not-a-uuid", headers=owner.headers), "path.key_id")
    everyone = (await api.client.get("/api/v1/api-keys", params={"all": "true"}, headers=admin.headers)).json()
    assert {k["id"] for k in everyone["items"]} == {key["id"], theirs["id"]}

    # The owner's current role: demoted, the key acts as a student (and may still read as one).
    r = await api.client.patch(f"/api/v1/users/{owner.user['id']}", json={"role": "student"}, headers=admin.headers)
    assert r.status_code == 200
    assert (await api.client.get("/api/v1/users/me", headers=bearer(key))).json()["role"] == "student"
    r = await api.client.patch(f"/api/v1/users/{owner.user['id']}", json={"is_active": False}, headers=admin.headers)
    problem(await api.client.get("/api/v1/users/me", headers=bearer(key)), 401, "User account is disabled")
    await api.client.patch(f"/api/v1/users/{owner.user['id']}", json={"is_active": True}, headers=admin.headers)
    owner = await api.login(owner.email)

    assert (await api.client.delete(f"/api/v1/api-keys/{key['id']}", headers=owner.headers)).status_code == 204
    problem(await api.client.get("/api/v1/users/me", headers=bearer(key)), 401, INVALID)
    listed = (await api.client.get("/api/v1/api-keys", params={"all": "true"}, headers=admin.headers)).json()
    assert [k["revoked_at"] is not None for k in listed["items"] if k["id"] == key["id"]] == [True]
    assert (await api.client.delete(f"/api/v1/api-keys/{theirs['id']}", headers=admin.headers)).status_code == 204
    problem(await api.client.get("/api/v1/users/me", headers=bearer(theirs)), 401, INVALID)
    forged = key["key"][:13] + ("A" if key["key"][13] != "A" else "B") + key["key"][14:]
    for credential in (forged, "lms_short", f"lms_{'a' * 8}_{'b' * 43}"):
        problem(await api.client.get("/api/v1/users/me", headers={"X-API-Key": credential}), 401, INVALID)


async def test_last_used_is_written_at_most_once_a_minute(make_api: MakeApiFn) -> None:
    clock = FakeClock(datetime.now(UTC))
    api = await make_api(clock)
    owner = await user_with_role(api, "instructor")
    key = await create_key(api, owner, "files:read")

    async def last_used() -> str | None:
        items = (await api.client.get("/api/v1/api-keys", headers=owner.headers)).json()["items"]
        return items[0]["last_used_at"]

    assert await last_used() is None
    assert (await api.client.get("/api/v1/files/my-files", headers=bearer(key))).status_code == 200
    first = await last_used()
    assert first is not None
    clock.advance(seconds=30)
    await api.client.get("/api/v1/files/my-files", headers=bearer(key))
    assert await last_used() == first
    clock.advance(seconds=31)
    await api.client.get("/api/v1/files/my-files", headers=bearer(key))
    assert await last_used() != first
    expiring = await create_key(api, owner, "files:read", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    assert (await api.client.get("/api/v1/files/my-files", headers=bearer(expiring))).status_code == 200
    clock.advance(hours=1, seconds=1)
    problem(await api.client.get("/api/v1/files/my-files", headers=bearer(expiring)), 401, INVALID)
