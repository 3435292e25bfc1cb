"""Single sign-on over HTTP (API §10.3), on both backends, through a real OpenID Provider
(`oidc-provider`) whose login and consent pages are filled in as a browser would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.http.test_mfa import enable_email_mfa
from tests.support.api import PASSWORD, Api
from tests.support.openid import OpenIdProvider
from tests.unit.fakes import FakeClock

FRONT = "https://app.example/after-sign-in"
CALLBACK = "http://testserver.local/api/v1/auth/sso/{}/callback"
ACCOUNTS = {
    "alice": {"email": "alice@school.example", "email_verified": True, "name": "Alice Liddell"},
    "bob": {"email": "bob@school.example", "email_verified": False, "name": "Bob"},
    "carol": {"email": "Carol@School.example", "email_verified": True, "name": "Carol"},
}


CLIENTS = [
    {"client_id": "lms", "client_secret": "lms-secret", "redirect_uris": [CALLBACK.format("school")]},
    {"client_id": "partner", "client_secret": "partner-secret", "redirect_uris": [CALLBACK.format("partner")]},
]


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    server = OpenIdProvider(clients=CLIENTS, accounts=ACCOUNTS).start()
    yield server
    server.stop()


def settings(provider: OpenIdProvider) -> dict[str, str]:
    return {
        "LMS_OIDC_PROVIDERS": "school,partner",
        "LMS_OIDC_REDIRECT_URIS": FRONT,
        "LMS_OIDC_SCHOOL_ISSUER": provider.issuer,
        "LMS_OIDC_SCHOOL_CLIENT_ID": "lms",
        "LMS_OIDC_SCHOOL_CLIENT_SECRET": "lms-secret",
        "LMS_OIDC_SCHOOL_DISPLAY_NAME": "Our School",
        "LMS_OIDC_PARTNER_ISSUER": provider.issuer,
        "LMS_OIDC_PARTNER_CLIENT_ID": "partner",
        "LMS_OIDC_PARTNER_CLIENT_SECRET": "partner-secret",
        "LMS_OIDC_PARTNER_ALLOWED_DOMAINS": "partner.example",
    }


async def start(api: Api, name: str = "school") -> str:
    r = await api.client.get(f"/api/v1/auth/sso/{name}/authorize", params={"redirect_uri": FRONT})
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def callback(api: Api, back: str) -> httpx.Response:
    url = httpx.URL(back)
    return await api.client.get(f"{url.path}?{url.query.decode()}")


async def sso(api: Api, provider: OpenIdProvider, login: str, name: str = "school") -> httpx.URL:
    """The whole flow as a browser goes through it; the front-end URL it ends at."""
    back = provider.sign_in(await start(api, name), login)
    assert back.startswith(CALLBACK.format(name)), back
    r = await callback(api, back)
    assert r.status_code == 302, r.text
    ended = httpx.URL(r.headers["location"])
    assert str(ended).startswith(FRONT)
    return ended


async def exchange(api: Api, ended: httpx.URL) -> httpx.Response:
    return await api.client.post("/api/v1/auth/sso/exchange", json={"code": ended.params["code"]})


async def test_a_new_person_gets_an_account_just_in_time(make_api: MakeApiFn, provider: OpenIdProvider) -> None:
    api = await make_api(**settings(provider))
    listed = (await api.client.get("/api/v1/auth/sso/providers")).json()
    assert listed["items"] == [  # in the operator's order
        {"name": "school", "display_name": "Our School"},
        {"name": "partner", "display_name": "partner"},
    ]
    ended = await sso(api, provider, "alice")
    r = await exchange(api, ended)
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert (user["email"], user["full_name"], user["role"]) == ("alice@school.example", "Alice Liddell", "student")
    assert user["email_verified_at"] is not None
    headers = {"Authorization": f"Bearer {r.json()['tokens']['access_token']}"}
    assert (await api.client.get("/api/v1/auth/token-info", headers=headers)).json()["auth"] == "sso"
    identities = (await api.client.get("/api/v1/users/me/identities", headers=headers)).json()
    assert [(i["provider"], i["subject"], i["email"]) for i in identities["items"]] == [
        ("school", "alice", "alice@school.example")
    ]
    # The code works once; the account has no password; signing in again finds the same account.
    problem(await exchange(api, ended), 401, "Sign-in code is invalid or expired")
    r = await api.client.post("/api/v1/auth/login", json={"email": "alice@school.example", "password": PASSWORD})
    problem(r, 401, "Invalid email or password")
    again = await exchange(api, await sso(api, provider, "alice"))
    assert again.json()["user"]["id"] == user["id"]
    # The only way in cannot be removed.
    problem(
        await api.client.delete("/api/v1/users/me/identities/school", headers=headers),
        409,
        "Cannot remove the only way to sign in",
    )
    problem(
        await api.client.delete("/api/v1/users/me/identities/other", headers=headers), 404, "Sign-in identity not found"
    )


async def test_an_account_is_linked_by_a_verified_email_only(make_api: MakeApiFn, provider: OpenIdProvider) -> None:
    api = await make_api(**settings(provider))
    carol = await api.register("carol@school.example")
    bob = await api.register("bob@school.example")
    r = await exchange(api, await sso(api, provider, "carol"))
    assert r.json()["user"]["id"] == carol.user["id"]
    assert (await sso(api, provider, "bob")).params["error"] == "email_not_verified"
    assert (await api.client.get("/api/v1/users/me/identities", headers=bob.headers)).json()["total"] == 0
    # With a password as well, the link can go.
    assert (await api.client.delete("/api/v1/users/me/identities/school", headers=carol.headers)).status_code == 204
    assert (await api.client.get("/api/v1/users/me/identities", headers=carol.headers)).json()["total"] == 0


async def test_the_flow_refuses_what_it_did_not_start(make_api: MakeApiFn, provider: OpenIdProvider) -> None:
    api = await make_api(**settings(provider))
    r = await api.client.get("/api/v1/auth/sso/nowhere/authorize", params={"redirect_uri": FRONT})
    problem(r, 404, "Unknown sign-in provider")
    for target in ("https://evil.example/steal", f"{FRONT}/../x", "javascript:alert(1)"):
        r = await api.client.get("/api/v1/auth/sso/school/authorize", params={"redirect_uri": target})
        problem(r, 400, "redirect_uri is not allowed")
    invalid(await api.client.get("/api/v1/auth/sso/school/authorize"), "query.redirect_uri")

    # A replayed or forged state.
    back = provider.sign_in(await start(api), "alice")
    assert (await callback(api, back)).status_code == 302
    problem(await callback(api, back), 400, "Sign-in flow expired or invalid")
    problem(
        await api.client.get("/api/v1/auth/sso/school/callback?code=x&state=forged"),
        400,
        "Sign-in flow expired or invalid",
    )
    # A flow started with one provider cannot end at another.
    back = provider.sign_in(await start(api), "alice")
    problem(await callback(api, back.replace("/sso/school/", "/sso/partner/")), 400, "Sign-in flow expired or invalid")

    # An ID token whose nonce is not the flow's creates nothing.
    location = httpx.URL(await start(api))
    key = f"sso:flow:{location.params['state']}"
    flow = json.loads(await api.container.kv.get(key) or "{}")
    await api.container.kv.set(key, json.dumps({**flow, "nonce": "another"}), 600)
    r = await callback(api, provider.sign_in(str(location), "alice"))
    assert httpx.URL(r.headers["location"]).params["error"] == "invalid_token"
    problem(
        await api.client.post("/api/v1/auth/sso/exchange", json={"code": "made-up"}),
        401,
        "Sign-in code is invalid or expired",
    )
    invalid(await api.client.post("/api/v1/auth/sso/exchange", json={}), "body.code")


async def test_disabled_accounts_and_other_domains_are_refused(make_api: MakeApiFn, provider: OpenIdProvider) -> None:
    api = await make_api(**settings(provider))
    admin = await api.admin()
    user = (await exchange(api, await sso(api, provider, "alice"))).json()["user"]
    r = await api.client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin.headers)
    assert r.status_code == 200
    assert (await sso(api, provider, "alice")).params["error"] == "account_disabled"
    assert (await sso(api, provider, "carol", "partner")).params["error"] == "domain_not_allowed"


async def test_a_sign_in_code_lasts_a_minute(make_api: MakeApiFn, provider: OpenIdProvider) -> None:
    clock = FakeClock(datetime.now(UTC))
    api = await make_api(clock, **settings(provider))
    ended = await sso(api, provider, "alice")
    clock.advance(seconds=61)
    problem(await exchange(api, ended), 401, "Sign-in code is invalid or expired")


async def test_a_provider_may_ask_for_the_local_second_factor(make_api: MakeApiFn, provider: OpenIdProvider) -> None:
    api = await make_api(**settings(provider), LMS_OIDC_SCHOOL_REQUIRE_LOCAL_MFA="true")
    carol = await api.register("carol@school.example")
    await enable_email_mfa(api, carol)
    r = await exchange(api, await sso(api, provider, "carol"))
    assert r.status_code == 200 and r.json()["mfa_required"] is True, r.text
    code = (await api.mailbox.wait_for(carol.email, "Your sign-in code")).code()
    body = {"challenge_token": r.json()["challenge_token"], "code": code}
    r = await api.client.post("/api/v1/auth/login/mfa", json=body)
    assert r.status_code == 200 and r.json()["user"]["id"] == carol.user["id"]
