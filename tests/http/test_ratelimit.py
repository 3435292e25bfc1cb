"""Rate limits (API §7.13): one budget per (rule, client) across the rule's paths, with headers."""

from __future__ import annotations

import time

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import problem
from tests.support.api import PASSWORD


async def test_auth_rule_is_shared_across_its_paths(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_RATE_LIMIT_ENABLED="true", LMS_RATE_LIMIT_AUTH="3/60", LMS_RATE_LIMIT_GLOBAL="50/60")
    s = await api.register()
    r = await api.client.post("/api/v1/auth/login", json={"email": s.email, "password": PASSWORD})
    assert r.status_code == 200
    assert r.headers["ratelimit-limit"] == "3"
    assert r.headers["x-ratelimit-limit"] == "3"
    assert r.headers["ratelimit-remaining"] == "2"
    assert 1 <= int(r.headers["ratelimit-reset"]) <= 60
    assert abs(int(r.headers["x-ratelimit-reset"]) - (int(time.time()) + int(r.headers["ratelimit-reset"]))) <= 2
    r = await api.client.post("/api/v1/auth/login/mfa", json={"challenge_token": "x", "code": "123456"})
    assert r.headers["ratelimit-remaining"] == "1"
    r = await api.client.post("/api/v1/auth/token", data={"username": s.email, "password": PASSWORD})
    assert r.headers["ratelimit-remaining"] == "0"
    r = await api.client.post("/api/v1/auth/mfa/login", json={"challenge_token": "x", "code": "123456"})
    problem(r, 429, "Rate limit exceeded. Try again later.")
    assert r.headers["retry-after"] == r.headers["ratelimit-reset"]
    assert r.headers["ratelimit-remaining"] == "0"
    # Other rules keep their own budget.
    r = await api.client.get("/api/v1/users/me", headers=s.headers)
    assert r.status_code == 200
    assert r.headers["ratelimit-limit"] == "50"


async def test_global_rule_and_exempt_paths(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_RATE_LIMIT_ENABLED="true", LMS_RATE_LIMIT_GLOBAL="2/60")
    for path in ("/", "/api/v1/health", "/api/v1/ready", "/metrics", "/schema/openapi.json") * 3:
        r = await api.client.get(path)
        assert r.status_code == 200, path
        assert "ratelimit-limit" not in r.headers
    assert (await api.client.post("/api/v1/auth/forgot-password", json={"email": "a@example.com"})).status_code == 200
    assert (await api.client.get("/api/v1/users/me")).status_code == 401  # refused requests count too
    r = await api.client.post("/api/v1/auth/verify-email/request", json={"email": "a@example.com"})
    problem(r, 429, "Rate limit exceeded. Try again later.")
    assert int(r.headers["retry-after"]) >= 1


async def test_counters_are_shared_between_processes(make_api: MakeApiFn, backend: str) -> None:
    if backend != "postgres":
        return  # in-process counters are per process by design; Redis shares them
    env = {"LMS_RATE_LIMIT_ENABLED": "true", "LMS_RATE_LIMIT_GLOBAL": "3/60"}
    one = await make_api(**env)
    two = await make_api(**env)
    for api in (one, two, one):
        assert (await api.client.get("/api/v1/auth/me")).status_code == 401
    problem(await two.client.get("/api/v1/auth/me"), 429, "Rate limit exceeded. Try again later.")


async def test_disabled(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_RATE_LIMIT_ENABLED="false", LMS_RATE_LIMIT_GLOBAL="1/60")
    for _ in range(3):
        r = await api.client.get("/api/v1/auth/me")
        assert r.status_code == 401
        assert "ratelimit-limit" not in r.headers
