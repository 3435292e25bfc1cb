"""MFA by emailed code and by authenticator app over HTTP (API §7.3)."""

from __future__ import annotations

import asyncio
import time

import pyotp

from tests.http.test_auth import invalid, problem
from tests.support.api import PASSWORD, Api, Session


async def enable_email_mfa(api: Api, s: Session) -> None:
    r = await api.client.post("/api/v1/auth/mfa/enable/request", json={"password": PASSWORD}, headers=s.headers)
    assert r.json() == {"message": "A verification code has been sent to your email"}
    mail = await api.mailbox.wait_for(s.email, "Your MFA setup code")
    assert "10 minutes" in mail.body
    r = await api.client.post("/api/v1/auth/mfa/enable/confirm", json={"code": mail.code()}, headers=s.headers)
    assert r.json() == {"message": "MFA has been enabled successfully"}


async def test_email_mfa_end_to_end(api: Api) -> None:
    s = await api.register()
    r = await api.client.post("/api/v1/auth/mfa/enable/request", json={"password": "wrong-password"}, headers=s.headers)
    problem(r, 401, "Invalid password")
    r = await api.client.post("/api/v1/auth/mfa/enable/confirm", json={"code": "123456"}, headers=s.headers)
    problem(r, 401, "Invalid MFA code")
    await enable_email_mfa(api, s)
    me = (await api.me(s)).json()
    assert me["mfa_enabled"] is True
    assert me["mfa_method"] == "email"

    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    assert r.status_code == 200
    challenge = r.json()
    assert challenge["mfa_required"] is True
    assert challenge["mfa_method"] == "email"
    assert challenge["expires_in_seconds"] == 600
    assert challenge["message"] == "MFA verification required"
    code = (await api.mailbox.wait_for(s.email, "Your sign-in code")).code()
    r = await api.client.post(
        "/api/v1/auth/login/mfa", json={"challenge_token": challenge["challenge_token"], "code": f" {code} "}
    )
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == s.user["id"]
    r = await api.client.post(
        "/api/v1/auth/mfa/login", json={"challenge_token": challenge["challenge_token"], "code": code}
    )
    problem(r, 401, "MFA challenge expired or invalid")

    r = await api.client.post("/api/v1/auth/token", data={"username": s.email, "password": PASSWORD})
    problem(r, 400, "MFA is enabled for this account. Use /api/v1/auth/login then /api/v1/auth/login/mfa.")


async def test_wrong_codes_and_bad_challenges(api: Api) -> None:
    s = await api.register()
    await enable_email_mfa(api, s)
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    token = r.json()["challenge_token"]
    good = (await api.mailbox.wait_for(s.email, "Your sign-in code")).code()
    bad = "000000" if good != "000000" else "111111"
    for _ in range(5):
        r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": token, "code": bad})
        problem(r, 401, "Invalid MFA code")
    r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": token, "code": good})
    problem(r, 401, "MFA challenge expired or invalid")
    r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": "garbage", "code": good})
    problem(r, 401, "MFA challenge expired or invalid")
    r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": s.access, "code": good})
    problem(r, 401, "Invalid token type")
    r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": token, "code": "12"})
    invalid(r, "body.code")


async def test_mfa_disabled_after_challenge(api: Api) -> None:
    s = await api.register()
    await enable_email_mfa(api, s)
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    token = r.json()["challenge_token"]
    code = (await api.mailbox.wait_for(s.email, "Your sign-in code")).code()
    r = await api.client.post("/api/v1/auth/mfa/disable", json={"password": PASSWORD}, headers=s.headers)
    assert r.json() == {"message": "MFA has been disabled successfully"}
    r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": token, "code": code})
    problem(r, 401, "MFA is not enabled for this account")
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    assert "tokens" in r.json()


async def test_totp_end_to_end(api: Api) -> None:
    s = await api.register()
    r = await api.client.post("/api/v1/auth/mfa/totp/confirm", json={"code": "123456"}, headers=s.headers)
    problem(r, 400, "No TOTP setup is pending")
    r = await api.client.post("/api/v1/auth/mfa/totp/setup", json={"password": "bad-password"}, headers=s.headers)
    problem(r, 401, "Invalid password")
    r = await api.client.post("/api/v1/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=s.headers)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    setup = r.json()
    assert len(setup["secret"]) == 32
    email = s.email.replace("@", "%40")
    assert setup["otpauth_uri"] == (
        f"otpauth://totp/LMS:{email}?secret={setup['secret']}&issuer=LMS&algorithm=SHA1&digits=6&period=30"
    )
    totp = pyotp.TOTP(setup["secret"])
    wrong = "000000" if totp.now() != "000000" else "111111"
    r = await api.client.post("/api/v1/auth/mfa/totp/confirm", json={"code": wrong}, headers=s.headers)
    problem(r, 401, "Invalid MFA code")
    step = int(time.time()) // 30
    r = await api.client.post("/api/v1/auth/mfa/totp/confirm", json={"code": totp.at(step * 30)}, headers=s.headers)
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10
    r = await api.client.post("/api/v1/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=s.headers)
    problem(r, 409, "TOTP is already enabled")

    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    challenge = r.json()
    assert challenge["mfa_method"] == "totp"
    # The code that confirmed the setup is spent.
    r = await api.client.post(
        "/api/v1/auth/login/mfa", json={"challenge_token": challenge["challenge_token"], "code": totp.at(step * 30)}
    )
    problem(r, 401, "Invalid MFA code")
    r = await api.client.post(
        "/api/v1/auth/login/mfa", json={"challenge_token": challenge["challenge_token"], "code": codes[3].upper()}
    )
    assert r.status_code == 200, r.text
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    r = await api.client.post(
        "/api/v1/auth/login/mfa", json={"challenge_token": r.json()["challenge_token"], "code": codes[3]}
    )
    problem(r, 401, "Invalid MFA code")
    assert api.mailbox.find(s.email, "Your sign-in code") == []


async def test_a_totp_code_is_accepted_once_even_when_raced(api: Api) -> None:
    s = await api.register()
    r = await api.client.post("/api/v1/auth/mfa/totp/setup", json={"password": PASSWORD}, headers=s.headers)
    totp = pyotp.TOTP(r.json()["secret"])
    now = int(time.time())
    r = await api.client.post("/api/v1/auth/mfa/totp/confirm", json={"code": totp.at(now - 30)}, headers=s.headers)
    assert r.status_code == 200, r.text
    tokens = []
    for _ in range(2):
        r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
        tokens.append(r.json()["challenge_token"])
    code = totp.at(now)
    results = await asyncio.gather(
        *(api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": t, "code": code}) for t in tokens)
    )
    assert sorted(r.status_code for r in results) == [200, 401]
