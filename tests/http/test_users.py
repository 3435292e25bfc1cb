"""`/users`: profile, password change, administration (API §5.3)."""

from __future__ import annotations

import uuid

import pytest

from tests.http.test_auth import invalid, problem
from tests.support.api import PASSWORD, Api, unique_email


async def test_profile_get_and_patch(api: Api) -> None:
    s = await api.register(full_name="Before Name")
    r = await api.client.patch(
        "/api/v1/users/me", json={"full_name": "After Name", "role": "admin", "email": "x@y.z"}, headers=s.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["full_name"] == "After Name"
    assert r.json()["role"] == "student"
    assert r.json()["email"] == s.email
    r = await api.client.patch("/api/v1/users/me", json={}, headers=s.headers)
    assert r.json()["full_name"] == "After Name"
    r = await api.client.patch("/api/v1/users/me", json={"full_name": None}, headers=s.headers)
    problem(r, 400, "'full_name' cannot be null")
    r = await api.client.patch("/api/v1/users/me", json={"full_name": "x"}, headers=s.headers)
    invalid(r, "body.full_name")
    r = await api.client.patch("/api/v1/users/me", json={"full_name": 12}, headers=s.headers)
    invalid(r, "body.full_name")
    assert (await api.me(s)).json()["full_name"] == "After Name"


async def test_password_change_keeps_this_sign_in(api: Api) -> None:
    s = await api.register()
    other = await api.login(s.email)
    r = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": "wrong-one", "new_password": "next-password"},
        headers=s.headers,
    )
    problem(r, 401, "Invalid password")
    r = await api.client.post(
        "/api/v1/users/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=s.headers
    )
    invalid(r, "body.new_password")
    r = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "next-password"},
        headers=s.headers,
    )
    assert r.status_code == 204
    assert (await api.me(s)).status_code == 200
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    assert r.status_code == 200
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": other.refresh})
    problem(r, 401, "Refresh token is invalid or revoked")
    assert (await api.me(other)).status_code == 200  # lives out its 15 minutes
    await api.login(s.email, "next-password")


async def test_admin_routes_refuse_non_admins_before_validation(api: Api) -> None:
    s = await api.register()
    for method, path, body in (
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/users?page=0", None),
        ("GET", f"/api/v1/users/{uuid.uuid4()}", None),
        ("GET", "/api/v1/users/not-a-uuid", None),
        ("POST", "/api/v1/users", {"bad": True}),
        ("PATCH", f"/api/v1/users/{s.user['id']}", {"role": "admin"}),
    ):
        r = await api.client.request(method, path, json=body, headers=s.headers)
        problem(r, 403, "Not authorized to perform this action")
        r = await api.client.request(method, path, json=body)
        problem(r, 401, "Not authenticated")
    assert (await api.me(s)).json()["role"] == "student"


async def test_admin_lists_users_newest_first_with_links(api: Api) -> None:
    admin = await api.admin()
    emails = [(await api.register()).email for _ in range(3)]
    r = await api.client.get("/api/v1/users?page_size=2&page=1", headers=admin.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 4
    assert body["total_pages"] == 2
    assert body["page_size"] == 2
    assert [u["email"] for u in body["items"]] == [emails[2], emails[1]]
    assert r.headers["link"] == (
        '</api/v1/users?page=1&page_size=2>; rel="first", '
        '</api/v1/users?page=2&page_size=2>; rel="next", '
        '</api/v1/users?page=2&page_size=2>; rel="last"'
    )
    r = await api.client.get("/api/v1/users?page=5&page_size=2", headers=admin.headers)
    assert r.json()["items"] == []
    assert r.json()["total"] == 4
    for query, field in (("page=0", "query.page"), ("page_size=101", "query.page_size"), ("page=x", "query.page")):
        invalid(await api.client.get(f"/api/v1/users?{query}", headers=admin.headers), field)


async def test_admin_creates_gets_and_updates_users(api: Api) -> None:
    admin = await api.admin()
    email = unique_email()
    r = await api.client.post(
        "/api/v1/users", json={"email": email, "full_name": "Teacher", "password": PASSWORD, "role": "instructor"},
        headers=admin.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["role"] == "instructor"
    r = await api.client.post(
        "/api/v1/users", json={"email": email.upper(), "full_name": "Dup", "password": PASSWORD}, headers=admin.headers
    )
    problem(r, 409, "Email is already registered")
    r = await api.client.get(f"/api/v1/users/{user['id']}", headers=admin.headers)
    assert r.json() == user
    problem(await api.client.get(f"/api/v1/users/{uuid.uuid4()}", headers=admin.headers), 404, "User not found")
    r = await api.client.get("/api/v1/users/not-a-uuid", headers=admin.headers)
    invalid(r, "path.user_id")
    r = await api.client.patch(f"/api/v1/users/{user['id']}", json={"role": "admin"}, headers=admin.headers)
    assert r.json()["role"] == "admin"
    for field in ("full_name", "role", "password", "is_active"):
        r = await api.client.patch(f"/api/v1/users/{user['id']}", json={field: None}, headers=admin.headers)
        problem(r, 400, f"'{field}' cannot be null")
    r = await api.client.patch(f"/api/v1/users/{user['id']}", json={"role": "owner"}, headers=admin.headers)
    invalid(r, "body.role")
    r = await api.client.patch(f"/api/v1/users/{uuid.uuid4()}", json={"role": "student"}, headers=admin.headers)
    problem(r, 404, "User not found")


async def test_role_change_takes_effect_on_the_next_request(api: Api) -> None:
    admin = await api.admin()
    s = await api.register()
    problem(await api.client.get("/api/v1/users", headers=s.headers), 403, "Not authorized to perform this action")
    await api.client.patch(f"/api/v1/users/{s.user['id']}", json={"role": "admin"}, headers=admin.headers)
    assert (await api.client.get("/api/v1/users", headers=s.headers)).status_code == 200


async def test_admin_password_reset_signs_the_user_out_everywhere(api: Api) -> None:
    admin = await api.admin()
    s = await api.register()
    r = await api.client.patch(
        f"/api/v1/users/{s.user['id']}", json={"password": "set-by-admin"}, headers=admin.headers
    )
    assert r.status_code == 200
    problem(await api.me(s), 401, "Token has been revoked")
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    assert r.status_code == 401
    fresh = await api.login(s.email, "set-by-admin")
    assert (await api.me(fresh)).status_code == 200


async def test_deactivation_ends_every_sign_in_and_reactivation_revives_none(api: Api) -> None:
    admin = await api.admin()
    s = await api.register()
    other = await api.login(s.email)
    r = await api.client.patch(f"/api/v1/users/{s.user['id']}", json={"is_active": False}, headers=admin.headers)
    assert (r.status_code, r.json()["is_active"]) == (200, False)
    r = await api.client.patch(f"/api/v1/users/{s.user['id']}", json={"is_active": True}, headers=admin.headers)
    assert (r.status_code, r.json()["is_active"]) == (200, True)
    for session in (s, other):
        problem(await api.me(session), 401, "Token has been revoked")
        r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": session.refresh})
        problem(r, 401, "Token has been revoked")
    assert (await api.me(await api.login(s.email))).status_code == 200  # signing in again works


async def test_admins_keep_at_least_one_admin(api: Api) -> None:
    admin = await api.admin()
    for change in ({"is_active": False}, {"role": "instructor"}):
        r = await api.client.patch(f"/api/v1/users/{admin.user['id']}", json=change, headers=admin.headers)
        problem(r, 409, "Admins cannot deactivate or demote themselves")
    other = await api.admin()
    r = await api.client.patch(f"/api/v1/users/{other.user['id']}", json={"role": "student"}, headers=admin.headers)
    assert r.status_code == 200
    assert (await api.me(admin)).json()["role"] == "admin"


@pytest.mark.parametrize("path", ["/api/v1/users/me", "/api/v1/auth/me"])
async def test_me_shape(api: Api, path: str) -> None:
    s = await api.register()
    r = await api.client.get(path, headers=s.headers)
    assert r.json() == s.user
