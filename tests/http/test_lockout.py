"""Account lockout over HTTP (API §10.1), on both backends: counted per email, the same answer
with and without an account, the unlock email, admin unlock, reset, doubling, second factors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import PASSWORD, Api, Session, unique_email
from tests.unit.fakes import FakeClock

LOCKED = "Account temporarily locked due to multiple failed login attempts. Please try again later."
WRONG = "Invalid email or password"
UNLOCK_INVALID = "Unlock link is invalid or expired"
LIMITED = {
    "LMS_LOGIN_MAX_FAILURES": "3",
    # The lock state is read in the rate limiter's round trip: through it, from many addresses.
    "LMS_RATE_LIMIT_ENABLED": "true",
    "LMS_RATE_LIMIT_AUTH": "1000/60",
    "LMS_RATE_LIMIT_GLOBAL": "1000/60",
    "LMS_TRUSTED_PROXIES": "127.0.0.1/32",
}


async def login(api: Api, email: str, password: str, ip: int = 1) -> Any:
    headers = {"X-Forwarded-For": f"203.0.113.{ip}"}
    return await api.client.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=headers)


async def fail(api: Api, email: str, times: int) -> None:
    for attempt in range(times):
        problem(await login(api, email, "not-the-password", ip=attempt), 401, WRONG)


async def test_failures_from_many_addresses_lock_an_email_with_or_without_an_account(make_api: MakeApiFn) -> None:
    api = await make_api(**LIMITED)
    victim = await api.register()
    nobody = unique_email("nobody")
    for email in (victim.email, nobody):
        await fail(api, email.upper(), 3)  # the third failure still answers as a wrong password
        problem(await login(api, email, PASSWORD), 401, LOCKED)
        problem(await login(api, email, "not-the-password"), 401, LOCKED)
        form = {"username": email, "password": PASSWORD}
        problem(await api.client.post("/api/v1/auth/token", data=form), 401, LOCKED)
    me = (await api.me(victim)).json()  # tokens already issued keep working
    assert me["locked_until"] is not None
    locked_until = datetime.fromisoformat(me["locked_until"])
    assert timedelta(minutes=14) < locked_until - datetime.now(UTC) <= timedelta(minutes=15)
    mail = await api.mailbox.wait_for(victim.email, "Your account was locked")
    assert "http://localhost:3000/unlock-account?token=" in mail.body
    assert "15 minutes" in mail.body
    assert api.mailbox.find(nobody, "Your account was locked") == []
    # Another email is not affected.
    other = await api.register()
    assert (await login(api, other.email, PASSWORD)).status_code == 200


async def test_the_unlock_link_opens_the_lock_once(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_LOGIN_MAX_FAILURES="2")
    victim = await api.register()
    await fail(api, victim.email, 2)
    token = (await api.mailbox.wait_for(victim.email, "Your account was locked")).token()
    for bad in ("not-a-token", victim.access, token[:-4] + "AAAA"):
        problem(await api.client.post("/api/v1/auth/unlock", json={"token": bad}), 400, UNLOCK_INVALID)
    invalid(await api.client.post("/api/v1/auth/unlock", json={}), "body.token")
    invalid(await api.client.post("/api/v1/auth/unlock", json={"token": 5}), "body.token")
    problem(await login(api, victim.email, PASSWORD), 401, LOCKED)  # the bad tries changed nothing

    r = await api.client.post("/api/v1/auth/unlock", json={"token": token})
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "Account has been unlocked"}
    problem(await api.client.post("/api/v1/auth/unlock", json={"token": token}), 400, UNLOCK_INVALID)
    assert (await api.me(victim)).json()["locked_until"] is None
    assert (await login(api, victim.email, PASSWORD)).status_code == 200
    # The failures were forgotten: one more failure does not lock again.
    await fail(api, victim.email, 1)
    assert (await login(api, victim.email, PASSWORD)).status_code == 200


async def test_an_old_unlock_link_does_not_open_a_later_lock(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_LOGIN_MAX_FAILURES="1")
    victim = await api.register()
    admin = await api.admin()
    await fail(api, victim.email, 1)
    first = (await api.mailbox.wait_for(victim.email, "Your account was locked")).token()
    r = await api.client.post(f"/api/v1/users/{victim.user['id']}/unlock", headers=admin.headers)
    assert r.status_code == 204, r.text
    await fail(api, victim.email, 1)
    await api.mailbox.wait_for(victim.email, "Your account was locked", count=2)
    problem(await api.client.post("/api/v1/auth/unlock", json={"token": first}), 400, UNLOCK_INVALID)
    problem(await login(api, victim.email, PASSWORD), 401, LOCKED)


async def test_admin_unlock_and_password_reset_lift_the_lock(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_LOGIN_MAX_FAILURES="2")
    admin = await api.admin()
    victim = await api.register()
    await fail(api, victim.email, 2)
    path = f"/api/v1/users/{victim.user['id']}/unlock"
    problem(await api.client.post(path, headers=victim.headers), 403, "Not authorized to perform this action")
    problem(await api.client.post(path), 401, "Not authenticated")
    r = await api.client.post(f"/api/v1/users/{uuid.uuid4()}/unlock", headers=admin.headers)
    problem(r, 404, "User not found")
    problem(
        await api.client.post("/api/v1/users/not-a-uuid/unlock", headers=admin.headers),
        422,
        "Request validation failed",
    )
    problem(await login(api, victim.email, PASSWORD), 401, LOCKED)
    assert (await api.client.get(f"/api/v1/users/{victim.user['id']}", headers=admin.headers)).json()["locked_until"]
    assert (await api.client.post(path, headers=admin.headers)).status_code == 204
    assert (await api.client.get(f"/api/v1/users/{victim.user['id']}", headers=admin.headers)).json()[
        "locked_until"
    ] is None
    assert (await login(api, victim.email, PASSWORD)).status_code == 200

    await fail(api, victim.email, 2)
    problem(await login(api, victim.email, PASSWORD), 401, LOCKED)
    await api.client.post("/api/v1/auth/forgot-password", json={"email": victim.email})
    reset = (await api.mailbox.wait_for(victim.email, "Reset your password")).token()
    r = await api.client.post("/api/v1/auth/reset-password", json={"token": reset, "new_password": "a-new-password-9"})
    assert r.status_code == 200, r.text
    assert (await login(api, victim.email, "a-new-password-9")).status_code == 200


async def test_a_lock_ends_with_time_and_a_repeat_within_a_day_doubles(make_api: MakeApiFn) -> None:
    clock = FakeClock(datetime.now(UTC))
    api = await make_api(clock, LMS_LOGIN_MAX_FAILURES="2", LMS_LOGIN_LOCKOUT_SECONDS="60")
    victim = await api.register()
    # A success resets the count: fail, succeed, fail is one failure.
    await fail(api, victim.email, 1)
    assert (await login(api, victim.email, PASSWORD)).status_code == 200
    await fail(api, victim.email, 1)
    assert (await login(api, victim.email, PASSWORD)).status_code == 200

    await fail(api, victim.email, 2)
    assert "1 minutes" in (await api.mailbox.wait_for(victim.email, "Your account was locked")).body
    clock.advance(seconds=59)
    problem(await login(api, victim.email, PASSWORD), 401, LOCKED)
    clock.advance(seconds=2)
    r = await login(api, victim.email, PASSWORD)
    assert r.status_code == 200 and r.json()["user"]["locked_until"] is None  # the ended lock is cleared

    await fail(api, victim.email, 2)  # within 24 h of the first: two minutes
    clock.advance(seconds=61)
    problem(await login(api, victim.email, PASSWORD), 401, LOCKED)
    clock.advance(seconds=60)
    assert (await login(api, victim.email, PASSWORD)).status_code == 200

    clock.advance(hours=25)  # a day later the next lock is back to one minute
    await fail(api, victim.email, 2)
    clock.advance(seconds=61)
    assert (await login(api, victim.email, PASSWORD)).status_code == 200


async def test_routes_that_check_the_current_password_count_and_refuse_while_locked(api: Api) -> None:
    victim = await api.register()
    body = {"current_password": "not-the-password", "new_password": "a-new-password-9"}
    for _ in range(5):
        r = await api.client.post("/api/v1/users/me/password", json=body, headers=victim.headers)
        problem(r, 401, "Invalid password")
    for path in ("/api/v1/auth/mfa/enable/request", "/api/v1/auth/mfa/disable", "/api/v1/auth/mfa/totp/setup"):
        r = await api.client.post(path, json={"password": PASSWORD}, headers=victim.headers)
        problem(r, 401, LOCKED)
    body["current_password"] = PASSWORD
    problem(await api.client.post("/api/v1/users/me/password", json=body, headers=victim.headers), 401, LOCKED)
    problem(await login(api, victim.email, PASSWORD), 401, LOCKED)


async def totp_user(api: Api) -> tuple[Session, pyotp.TOTP]:
    s = await api.register()
    setup = (
        await api.client.post("/api/v1/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=s.headers)
    ).json()
    totp = pyotp.TOTP(setup["secret"])
    r = await api.client.post("/api/v1/auth/mfa/totp/confirm", json={"code": totp.now()}, headers=s.headers)
    assert r.status_code == 200, r.text
    return s, totp


async def test_wrong_second_factors_count_across_challenges(make_api: MakeApiFn) -> None:
    api = await make_api(**LIMITED)
    s, totp = await totp_user(api)
    wrong = "000000" if totp.now() != "000000" else "111111"
    for attempt in range(3):  # a fresh challenge each time: the account's count goes on
        r = await login(api, s.email, PASSWORD, ip=attempt)
        challenge = r.json()["challenge_token"]
        r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": challenge, "code": wrong})
        problem(r, 401, "Invalid MFA code")
    problem(await login(api, s.email, PASSWORD), 401, LOCKED)
    # A challenge issued before the lock cannot be finished while it lasts, even with the right code.
    r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": challenge, "code": totp.now()})
    problem(r, 401, LOCKED)
    await api.mailbox.wait_for(s.email, "Your account was locked")
