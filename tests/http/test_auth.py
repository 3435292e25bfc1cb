"""Registration, sign-in, tokens, passwords and email verification over HTTP (API §5.2, §7.1, §7.2)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from domain.shared.pagination import PageParams
from tests.http.conftest import MakeApiFn
from tests.support.api import PASSWORD, Api, unique_email
from tests.support.factories import UserCreateFactory


def problem(r: Any, status: int, detail: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    assert body["detail"] == detail, body
    assert body["type"] == ("urn:lms:problem:validation-error" if status == 422 else "about:blank")


def invalid(r: Any, *fields: str) -> None:
    problem(r, 422, "Request validation failed")
    got = {e["field"] for e in r.json()["errors"]}
    assert set(fields) <= got, r.json()["errors"]


async def count_users(api: Api) -> int:
    async with api.container.identity.parts.uow() as uow:
        return (await uow.users.page(PageParams())).total


async def test_register_returns_user_and_tokens_and_queues_mail(api: Api) -> None:
    body = msgspec.to_builtins(UserCreateFactory.build())
    body["email"] = body["email"].upper()
    r = await api.client.post("/api/v1/auth/register", json=body)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    data = r.json()
    user = data["user"]
    assert set(user) == {
        "id", "email", "full_name", "role", "is_active", "mfa_enabled", "mfa_method", "created_at", "email_verified_at",
        "locked_until",
    }  # fmt: skip
    assert user["email"] == body["email"].lower()
    assert user["role"] == "student"
    assert user["mfa_enabled"] is False
    assert user["mfa_method"] is None
    assert user["email_verified_at"] is None
    assert user["locked_until"] is None
    assert user["created_at"].endswith("Z")
    assert data["tokens"]["token_type"] == "bearer"
    welcome = await api.mailbox.wait_for(user["email"], "Welcome to LMS")
    assert body["full_name"] in welcome.body
    verify = await api.mailbox.wait_for(user["email"], "Verify your email address")
    assert "http://localhost:3000/verify-email?token=" in verify.body


async def test_register_conflicts_and_role_rules(api: Api) -> None:
    s = await api.register()
    r = await api.client.post(
        "/api/v1/auth/register", json={"email": s.email.upper(), "full_name": "Again", "password": PASSWORD}
    )
    problem(r, 409, "Email is already registered")
    r = await api.client.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "full_name": "Teacher", "password": PASSWORD, "role": "instructor"},
    )
    problem(r, 403, "Public registration is limited to student accounts")
    assert await count_users(api) == 1


async def test_public_role_registration_switch(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_ALLOW_PUBLIC_ROLE_REGISTRATION="true")
    s = await api.register(role="instructor")
    assert s.user["role"] == "instructor"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "not-an-email", "full_name": "Ab", "password": PASSWORD}, ["body.email"]),
        ({"email": "a@example.com", "full_name": "A", "password": PASSWORD}, ["body.full_name"]),
        ({"email": "a@example.com", "full_name": "x" * 256, "password": PASSWORD}, ["body.full_name"]),
        ({"email": "a@example.com", "full_name": "Ab", "password": "short"}, ["body.password"]),
        ({"email": "a@example.com", "full_name": "Ab", "password": "p" * 129}, ["body.password"]),
        ({"email": "a@example.com", "full_name": "Ab", "password": PASSWORD, "role": "root"}, ["body.role"]),
        ({"email": 42, "full_name": "Ab", "password": PASSWORD}, ["body.email"]),
        ({"full_name": "Ab", "password": PASSWORD}, ["body.email"]),
        ({"email": ("x" * 250) + "@example.com", "full_name": "Ab", "password": PASSWORD}, ["body.email"]),
        ([1, 2], ["body"]),
        ("just a string", ["body"]),
    ],
)
async def test_register_rejects_bad_input_and_changes_nothing(api: Api, body: Any, fields: list[str]) -> None:
    r = await api.client.post("/api/v1/auth/register", json=body)
    invalid(r, *fields)
    assert await count_users(api) == 0


async def test_malformed_and_oversized_bodies(api: Api) -> None:
    headers = {"content-type": "application/json"}
    r = await api.client.post("/api/v1/auth/register", content=b'{"email": ', headers=headers)
    invalid(r, "body")
    r = await api.client.post("/api/v1/auth/register", content=b"", headers=headers)
    invalid(r, "body")
    big = b'{"email": "a@example.com", "full_name": "' + b"x" * (1024 * 1024 + 10) + b'", "password": "pw123456"}'
    r = await api.client.post("/api/v1/auth/register", content=big, headers=headers)
    problem(r, 413, "Request body too large")
    assert await count_users(api) == 0


async def test_unknown_members_are_ignored(api: Api) -> None:
    r = await api.client.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "full_name": "Ab", "password": PASSWORD, "is_admin": True, "extra": [1]},
    )
    assert r.status_code == 201
    assert r.json()["user"]["role"] == "student"


async def test_login_paths(api: Api) -> None:
    s = await api.register()
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email.upper(), "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["user"]["id"] == s.user["id"]
    for body in ({"email": s.email, "password": "wrong-pass"}, {"email": unique_email(), "password": PASSWORD}):
        r = await api.client.post("/api/v1/auth/login", json=body)
        problem(r, 401, "Invalid email or password")
        assert r.headers["www-authenticate"] == "Bearer"
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": ""})
    problem(r, 401, "Invalid email or password")
    r = await api.client.post("/api/v1/auth/login", json={"email": "nope", "password": "x"})
    invalid(r, "body.email")


async def test_token_endpoint_is_a_form_password_grant(api: Api) -> None:
    s = await api.register()
    r = await api.client.post(
        "/api/v1/auth/token", data={"username": s.email, "password": PASSWORD, "grant_type": "password"}
    )
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"access_token", "refresh_token", "token_type"}
    assert (await api.me(r.json()["access_token"])).status_code == 200
    r = await api.client.post("/api/v1/auth/token", data={"username": s.email, "password": "wrong-pass"})
    problem(r, 401, "Invalid email or password")
    r = await api.client.post("/api/v1/auth/token", data={"password": PASSWORD})
    invalid(r, "form.username")


async def test_disabled_account(api: Api) -> None:
    admin = await api.admin()
    s = await api.register()
    r = await api.client.patch(f"/api/v1/users/{s.user['id']}", json={"is_active": False}, headers=admin.headers)
    assert r.status_code == 200
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    problem(r, 401, "User account is disabled")
    problem(await api.me(s), 401, "Could not validate credentials")
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    problem(r, 401, "User is inactive")


async def test_bearer_errors(api: Api) -> None:
    s = await api.register()
    r = await api.client.get("/api/v1/users/me")
    problem(r, 401, "Not authenticated")
    assert r.headers["www-authenticate"] == "Bearer"
    r = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Basic {s.access}"})
    problem(r, 401, "Not authenticated")
    for token in ("garbage", s.access[:-3] + "abc", s.access + "x"):
        r = await api.me(token)
        problem(r, 401, "Could not validate credentials")
        assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    problem(await api.me(s.refresh), 401, "Invalid token type")


async def test_forged_and_malformed_tokens(api: Api) -> None:
    import jwt

    s = await api.register()
    claims = jwt.decode(s.access, options={"verify_signature": False})
    forged = jwt.encode({**claims, "role": "admin"}, "another-secret-that-is-long-enough-123", algorithm="HS256")
    problem(await api.me(forged), 401, "Could not validate credentials")
    none_alg = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    problem(await api.me(none_alg), 401, "Could not validate credentials")
    secret = api.container.settings.secret_key
    no_jti = jwt.encode({k: v for k, v in claims.items() if k != "jti"}, secret, algorithm="HS256")
    problem(await api.me(no_jti), 401, "Malformed token")
    wrong_aud = jwt.encode({**claims, "aud": "someone-else"}, secret, algorithm="HS256")
    problem(await api.me(wrong_aud), 401, "Could not validate credentials")
    expired = jwt.encode({**claims, "exp": claims["iat"] - 1}, secret, algorithm="HS256")
    problem(await api.me(expired), 401, "Could not validate credentials")


async def test_refresh_rotation_and_reuse(api: Api) -> None:
    s = await api.register()
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    assert r.status_code == 200, r.text
    second = r.json()["tokens"]
    assert second["refresh_token"] != s.refresh
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    problem(r, 401, "Refresh token is invalid or revoked")
    assert (await api.me(second["access_token"])).status_code == 200
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 200
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": "not-a-jwt"})
    problem(r, 401, "Could not validate credentials")
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.access})
    problem(r, 401, "Invalid token type")
    r = await api.client.post("/api/v1/auth/refresh", json={})
    invalid(r, "body.refresh_token")


async def test_refresh_with_bearer_revokes_the_old_access_token(api: Api) -> None:
    s = await api.register()
    other = await api.register()
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh}, headers=other.headers)
    problem(r, 401, "Access token does not match refresh token")
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh}, headers=s.headers)
    assert r.status_code == 200
    problem(await api.me(s), 401, "Token has been revoked")


async def test_reuse_revokes_the_sign_in_when_configured(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_REFRESH_REUSE_REVOKES_SESSION="true")
    s = await api.register()
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    newer = r.json()["tokens"]
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    problem(r, 401, "Refresh token is invalid or revoked")
    problem(await api.me(newer["access_token"]), 401, "Token has been revoked")
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": newer["refresh_token"]})
    problem(r, 401, "Refresh token is invalid or revoked")


async def test_logout(api: Api) -> None:
    s = await api.register()
    other = await api.register()
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": other.refresh}, headers=s.headers)
    problem(r, 401, "Access token does not match refresh token")
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": s.refresh})
    problem(r, 401, "Not authenticated")
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": s.refresh}, headers=s.headers)
    assert r.status_code == 204
    assert r.content == b""
    problem(await api.me(s), 401, "Token has been revoked")
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": s.refresh})
    problem(r, 401, "Refresh token is invalid or revoked")
    assert (await api.me(other)).status_code == 200


async def test_forgot_and_reset_password(api: Api) -> None:
    s = await api.register()
    elsewhere = await api.login(s.email)
    message = {"message": "If the email is registered, a reset link has been sent"}
    for email in (s.email, unique_email()):
        r = await api.client.post("/api/v1/auth/forgot-password", json={"email": email})
        assert r.status_code == 200
        assert r.json() == message
    mail = await api.mailbox.wait_for(s.email, "Reset your password")
    assert "30 minutes" in mail.body
    token = mail.token()
    r = await api.client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "short"})
    invalid(r, "body.new_password")
    r = await api.client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "a-new-password"})
    assert r.status_code == 200
    assert r.json() == {"message": "Password has been reset successfully"}
    r = await api.client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "third-password"})
    problem(r, 401, "Token has been revoked")
    for old in (s, elsewhere):
        problem(await api.me(old), 401, "Token has been revoked")
        r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": old.refresh})
        assert r.status_code == 401
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    problem(r, 401, "Invalid email or password")
    fresh = await api.login(s.email, "a-new-password")
    assert (await api.me(fresh)).status_code == 200
    r = await api.client.post("/api/v1/auth/reset-password", json={"token": s.access, "new_password": "whatever-123"})
    problem(r, 401, "Invalid token type")


async def test_email_verification(api: Api) -> None:
    s = await api.register()
    first = await api.mailbox.wait_for(s.email, "Verify your email address")
    message = {"message": "If the email is registered, a verification link has been sent"}
    for email in (s.email, unique_email()):
        r = await api.client.post("/api/v1/auth/verify-email/request", json={"email": email})
        assert r.json() == message
    await api.mailbox.wait_for(s.email, "Verify your email address", count=2)
    for _ in range(2):  # idempotent
        r = await api.client.post("/api/v1/auth/verify-email/confirm", json={"token": first.token()})
        assert r.status_code == 200
        assert r.json() == {"message": "Email has been verified successfully"}
    me = (await api.me(s)).json()
    assert me["email_verified_at"] is not None
    r = await api.client.post("/api/v1/auth/verify-email/confirm", json={"token": s.refresh})
    problem(r, 401, "Invalid token type")


async def test_required_verification(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_REQUIRE_EMAIL_VERIFICATION="true")
    s = await api.register()
    problem(await api.me(s), 401, "Email is not verified")
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    problem(r, 401, "Email is not verified")
    mail = await api.mailbox.wait_for(s.email, "Verify your email address")
    r = await api.client.post("/api/v1/auth/verify-email/confirm", json={"token": mail.token()})
    assert r.status_code == 200
    assert (await api.me(s)).status_code == 200


async def test_auth_me(api: Api) -> None:
    s = await api.register()
    r = await api.client.get("/api/v1/auth/me", headers=s.headers)
    assert r.status_code == 200
    assert r.json()["id"] == s.user["id"]
    assert r.headers["cache-control"] == "no-store"


async def test_trailing_slash_is_not_significant(api: Api) -> None:
    s = await api.register()
    r = await api.client.get("/api/v1/users/me/", headers=s.headers)
    assert r.status_code == 200


async def test_concurrent_logins_each_get_their_own_sign_in(api: Api) -> None:
    s = await api.register()
    results = await asyncio.gather(*(api.login(s.email) for _ in range(4)))
    assert len({r.refresh for r in results}) == 4


async def test_the_most_common_passwords_are_refused(api: Api) -> None:
    """Length alone let `password` and `12345678` in; every place a password is chosen refuses the
    most common ones (case aside) with 422 on its field, and changes nothing."""
    message = "This password is one of the most common ones; choose another"
    for password in ("password", "12345678", "Password1", "QWERTYUIOP"):
        body = {"email": unique_email(), "full_name": "Common", "password": password}
        r = await api.client.post("/api/v1/auth/register", json=body)
        invalid(r, "body.password")
        assert r.json()["errors"] == [{"field": "body.password", "message": message}]
    s = await api.register()
    r = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": s.password, "new_password": "iloveyou1"},
        headers=s.headers,
    )
    invalid(r, "body.new_password")
    admin = await api.admin()
    r = await api.client.patch(f"/api/v1/users/{s.user['id']}", json={"password": "123456789"}, headers=admin.headers)
    invalid(r, "body.password")
    assert (await api.me(s)).status_code == 200  # nothing changed: the sign-in lives on
    await api.client.post("/api/v1/auth/forgot-password", json={"email": s.email})
    mail = await api.mailbox.wait_for(s.email, "Reset your password")
    token = mail.body.split("token=")[1].split()[0]
    r = await api.client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "sunshine1"})
    invalid(r, "body.new_password")
    r = await api.client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "rarely-guessed-9"})
    assert r.status_code == 200  # the token was not spent on the refused attempt


async def test_every_invalid_member_is_named_in_words(api: Api) -> None:
    r = await api.client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "full_name": "A", "password": 12, "role": "owner"}
    )
    invalid(r)
    assert r.json()["errors"] == [
        {"field": "body.email", "message": "Must be a valid email address"},
        {"field": "body.full_name", "message": "Must be at least 2 characters long"},
        {"field": "body.password", "message": "Must be a string, not an integer"},
        {"field": "body.role", "message": "Must be one of: admin, instructor, student"},
    ]
    assert await count_users(api) == 0
