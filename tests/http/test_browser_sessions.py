"""Browser sessions in cookies with double-submit CSRF (API §10.2), on both backends."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import problem
from tests.http.test_mfa import enable_email_mfa
from tests.support.api import PASSWORD, Api, Session
from tests.support.catalog import cast_of, create_course, publish

CSRF_INVALID = "CSRF token missing or invalid"


def cookies_of(r: Any) -> dict[str, Any]:
    """The response's Set-Cookie headers, by name (morsels carry the attributes)."""
    jar: SimpleCookie = SimpleCookie()
    for header in r.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar)


class Browser:
    """What a browser keeps: the three cookies, sent explicitly by path like a browser would."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.jar: dict[str, str] = {}

    def keep(self, r: Any) -> None:
        for name, morsel in cookies_of(r).items():
            if morsel["max-age"] == "0":
                self.jar.pop(name, None)
            else:
                self.jar[name] = morsel.value
        self.api.client.cookies.clear()

    def headers(self, path: str, csrf: bool = False, **extra: str) -> dict[str, str]:
        sent = {k: v for k, v in self.jar.items() if k != "lms_refresh" or path.startswith("/api/v1/auth")}
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in sent.items()), **extra}
        if csrf:
            headers["X-CSRF-Token"] = self.jar["lms_csrf"]
        return headers

    async def send(self, method: str, path: str, *, csrf: bool = False, **kwargs: Any) -> Any:
        headers = self.headers(path, csrf, **kwargs.pop("headers", {}))
        r = await self.api.client.request(method, path, headers=headers, **kwargs)
        self.keep(r)
        return r

    async def sign_in(self, s: Session) -> Any:
        r = await self.send("POST", "/api/v1/auth/login-cookie", json={"email": s.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return r


async def test_a_cookie_sign_in_sets_three_cookies_and_no_tokens_in_the_body(api: Api) -> None:
    s = await api.register()
    browser = Browser(api)
    r = await browser.sign_in(s)
    assert r.json() == {"user": (await api.me(s)).json(), "mfa_required": False}
    cookies = cookies_of(r)
    access, refresh, csrf = cookies["lms_access"], cookies["lms_refresh"], cookies["lms_csrf"]
    assert (access["path"], access["max-age"], access["httponly"]) == ("/", "900", True)
    assert (refresh["path"], refresh["max-age"], refresh["httponly"]) == ("/api/v1/auth", str(30 * 86400), True)
    assert (csrf["path"], csrf["max-age"], csrf["httponly"]) == ("/", str(30 * 86400), "")
    assert len(csrf.value) >= 43
    for morsel in (access, refresh, csrf):
        assert morsel["samesite"] == "lax"
        assert morsel["secure"] is True  # outside development
    problem(
        await api.client.post("/api/v1/auth/login-cookie", json={"email": s.email, "password": "wrong-password"}),
        401,
        "Invalid email or password",
    )


async def test_a_cookie_authenticates_and_unsafe_requests_need_the_csrf_header(api: Api) -> None:
    s = await api.register()
    browser = Browser(api)
    await browser.sign_in(s)
    r = await browser.send("GET", "/api/v1/users/me")
    assert r.status_code == 200 and r.json()["id"] == s.user["id"]
    info = (await browser.send("GET", "/api/v1/auth/token-info")).json()
    assert info["auth"] == "cookie" and info["user_id"] == s.user["id"] and info["role"] == "student"
    assert info["session_id"] and info["expires_at"].endswith("Z")

    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        r = await browser.send("PATCH", "/api/v1/users/me", json={"full_name": "Changed"}, headers=headers)
        problem(r, 403, CSRF_INVALID)
    assert (await api.me(s)).json()["full_name"] == "Test User"  # refused, nothing changed
    r = await browser.send("PATCH", "/api/v1/users/me", json={"full_name": "Changed"}, csrf=True)
    assert r.status_code == 200 and r.json()["full_name"] == "Changed"

    # A Bearer header wins over the cookie and needs no CSRF token.
    r = await browser.send("GET", "/api/v1/auth/token-info", headers=s.headers)
    assert r.json()["auth"] == "bearer"
    r = await browser.send("PATCH", "/api/v1/users/me", json={"full_name": "Bearer"}, headers=s.headers)
    assert r.status_code == 200
    # A forged or foreign access cookie is no sign-in.
    r = await api.client.get("/api/v1/users/me", headers={"Cookie": "lms_access=forged"})
    problem(r, 401, "Could not validate credentials")


async def test_refresh_rotates_the_cookies_and_the_old_refresh_cookie_stops_working(api: Api) -> None:
    s = await api.register()
    browser = Browser(api)
    await browser.sign_in(s)
    old = dict(browser.jar)
    problem(await browser.send("POST", "/api/v1/auth/refresh-cookie"), 403, CSRF_INVALID)
    r = await browser.send("POST", "/api/v1/auth/refresh-cookie", csrf=True)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == s.user["id"]
    assert browser.jar["lms_refresh"] != old["lms_refresh"] and browser.jar["lms_csrf"] != old["lms_csrf"]
    stale = {"Cookie": f"lms_refresh={old['lms_refresh']}; lms_csrf=x", "X-CSRF-Token": "x"}
    r = await api.client.post("/api/v1/auth/refresh-cookie", headers=stale)
    problem(r, 401, "Refresh token is invalid or revoked")
    r = await api.client.post("/api/v1/auth/refresh-cookie", headers={"Cookie": "lms_csrf=x", "X-CSRF-Token": "x"})
    problem(r, 401, "Refresh token is invalid or revoked")
    assert (await browser.send("GET", "/api/v1/users/me")).status_code == 200


async def test_logout_ends_the_sign_in_and_clears_the_cookies(api: Api) -> None:
    s = await api.register()
    browser = Browser(api)
    await browser.sign_in(s)
    old = dict(browser.jar)
    problem(await browser.send("POST", "/api/v1/auth/logout-cookie"), 403, CSRF_INVALID)
    assert (await browser.send("GET", "/api/v1/users/me")).status_code == 200  # still signed in
    r = await browser.send("POST", "/api/v1/auth/logout-cookie", csrf=True)
    assert r.status_code == 204, r.text
    cleared = cookies_of(r)
    assert {name: cleared[name]["max-age"] for name in cleared} == {
        "lms_access": "0",
        "lms_refresh": "0",
        "lms_csrf": "0",
    }
    assert browser.jar == {}
    headers = {"Cookie": f"lms_access={old['lms_access']}"}
    problem(await api.client.get("/api/v1/users/me", headers=headers), 401, "Token has been revoked")
    stale = {"Cookie": f"lms_refresh={old['lms_refresh']}; lms_csrf=x", "X-CSRF-Token": "x"}
    problem(
        await api.client.post("/api/v1/auth/refresh-cookie", headers=stale), 401, "Refresh token is invalid or revoked"
    )
    assert (await api.me(s)).status_code == 200  # another sign-in (the bearer one) is untouched


async def test_a_cookie_sign_in_with_mfa_finishes_at_its_second_step(api: Api) -> None:
    s = await api.register()
    await enable_email_mfa(api, s)
    browser = Browser(api)
    r = await browser.send("POST", "/api/v1/auth/login-cookie", json={"email": s.email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["mfa_required"] is True and browser.jar == {}
    code = (await api.mailbox.wait_for(s.email, "Your sign-in code")).code()
    body = {"challenge_token": r.json()["challenge_token"], "code": code}
    r = await browser.send("POST", "/api/v1/auth/login-cookie/mfa", json=body)
    assert r.status_code == 200, r.text
    assert set(browser.jar) == {"lms_access", "lms_refresh", "lms_csrf"}
    assert (await browser.send("GET", "/api/v1/users/me")).status_code == 200


async def test_cookie_attributes_follow_the_settings(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_COOKIE_SECURE="false", LMS_COOKIE_SAMESITE="strict", LMS_COOKIE_DOMAIN="lms.example")
    s = await api.register()
    for morsel in cookies_of(await Browser(api).sign_in(s)).values():
        assert (morsel["secure"], morsel["samesite"], morsel["domain"]) == ("", "strict", "lms.example")


async def test_a_cookie_read_of_the_catalog_is_the_viewers_not_the_shared_one(make_api: MakeApiFn) -> None:
    """The rate limiter reads the shared cache entry only for anonymous reads; a cookie is a
    sign-in, so an admin sees the drafts that the cached public list leaves out."""
    api = await make_api(LMS_RATE_LIMIT_ENABLED="true", LMS_RATE_LIMIT_GLOBAL="1000/60")
    cast = await cast_of(api)
    draft = await create_course(api, cast.owner)
    await publish(api, cast.owner, (await create_course(api, cast.owner))["id"])
    for _ in range(2):  # the second is answered from the shared entry
        public = (await api.client.get("/api/v1/courses")).json()
        assert draft["id"] not in [c["id"] for c in public["items"]] and public["total"] == 1
    browser = Browser(api)
    await browser.sign_in(cast.admin)
    r = await browser.send("GET", "/api/v1/courses")
    assert r.status_code == 200, r.text
    assert draft["id"] in [c["id"] for c in r.json()["items"]]
    assert "private" in r.headers["cache-control"]


async def test_bad_cookie_requests_are_refused_and_set_nothing(api: Api) -> None:
    s = await api.register()
    for body in (
        {},
        {"email": s.email},
        {"email": 5, "password": PASSWORD},
        {"email": "not-an-email", "password": "x"},
    ):
        r = await api.client.post("/api/v1/auth/login-cookie", json=body)
        assert r.status_code == 422, r.text
        assert cookies_of(r) == {}
    r = await api.client.post("/api/v1/auth/login-cookie/mfa", json={"challenge_token": "forged", "code": "123456"})
    problem(r, 401, "MFA challenge expired or invalid")
    assert cookies_of(r) == {}
    headers = {"Cookie": "lms_refresh=forged; lms_csrf=x", "X-CSRF-Token": "x"}
    r = await api.client.post("/api/v1/auth/refresh-cookie", headers=headers)
    problem(r, 401, "Could not validate credentials")  # as `/auth/refresh` answers a forged token
    problem(await api.client.post("/api/v1/auth/logout-cookie"), 401, "Not authenticated")
    problem(await api.client.get("/api/v1/auth/token-info"), 401, "Not authenticated")
