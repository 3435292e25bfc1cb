"""System routes, headers, CORS, hosts, envelope, metrics and the OpenAPI document (API §4, §5.1, §7.14, §7.15)."""

from __future__ import annotations

from typing import Any

from domain.shared.build import version
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import problem
from tests.support.api import Api

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-permitted-cross-domain-policies": "none",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "content-security-policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
}


async def test_banner_health_ready(api: Api) -> None:
    r = await api.client.get("/")
    assert r.json() == {"message": "LMS Backend API"}
    r = await api.client.get("/api/v1/health")
    assert r.json() == {"status": "ok", "version": version()}
    r = await api.client.get("/api/v1/ready")
    assert r.status_code == 200
    expected_redis = "up" if api.backend == "postgres" else "not_configured"
    assert r.json() == {"status": "ok", "database": "up", "redis": expected_redis, "storage": "up"}


async def test_every_response_carries_security_headers_and_a_request_id(api: Api) -> None:
    for method, path in (
        ("GET", "/api/v1/health"),
        ("GET", "/nowhere"),
        ("DELETE", "/api/v1/health"),
        ("GET", "/api/v1/users/me"),
    ):
        r = await api.client.request(method, path)
        for name, value in SECURITY.items():
            assert r.headers[name] == value, (path, name)
        assert r.headers["x-request-id"]
        assert "strict-transport-security" not in r.headers
    r = await api.client.get("/api/v1/health", headers={"X-Request-ID": "abc.DEF_123-x"})
    assert r.headers["x-request-id"] == "abc.DEF_123-x"
    r = await api.client.get("/api/v1/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"
    r = await api.client.get("https://testserver.local/api/v1/health")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_implicit_errors_are_problems(api: Api) -> None:
    problem(await api.client.get("/api/v1/nothing-here"), 404, "Not Found")
    r = await api.client.delete("/api/v1/health")
    problem(r, 405, "Method Not Allowed")
    assert "GET" in r.headers["allow"]


async def test_cors(api: Api) -> None:
    r = await api.client.options(
        "/api/v1/auth/login",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert r.status_code in (200, 204)
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    # Cookie sessions (API §10.2): credentials for a listed origin, and the CSRF header allowed.
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "x-csrf-token" in r.headers["access-control-allow-headers"].lower()
    r = await api.client.get("/api/v1/health", headers={"Origin": "http://localhost:3000"})
    exposed = r.headers["access-control-expose-headers"].lower()
    for header in ("link", "retry-after", "x-request-id", "ratelimit-remaining", "x-ratelimit-reset"):
        assert header in exposed
    r = await api.client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers  # so the browser shares nothing with it


async def test_a_wildcard_origin_never_allows_credentials(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_CORS_ORIGINS="*")
    r = await api.client.get("/api/v1/health", headers={"Origin": "https://any.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers


async def test_trusted_hosts(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_TRUSTED_HOSTS="testserver.local,*.example.com")
    assert (await api.client.get("/api/v1/health")).status_code == 200
    r = await api.client.get("/api/v1/health", headers={"Host": "api.example.com"})
    assert r.status_code == 200
    r = await api.client.get("/api/v1/health", headers={"Host": "evil.test"})
    problem(r, 400, "Invalid host header")


async def test_envelope(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_RESPONSE_ENVELOPE="true")
    assert (await api.client.get("/api/v1/health")).json() == {"status": "ok", "version": version()}
    assert (await api.client.get("/")).json() == {
        "success": True,
        "data": {"message": "LMS Backend API"},
        "message": "Success",
    }
    s = await api.register()
    admin = await api.admin()
    r = await api.client.get("/api/v1/users", headers=admin.headers)
    body = r.json()
    assert body["success"] is True
    assert set(body["data"]) == {"items", "total", "page", "page_size", "total_pages", "next_cursor"}
    assert r.headers["link"]
    r = await api.client.get("/api/v1/users", headers=s.headers)
    assert "success" not in r.json()  # problems are never wrapped
    r = await api.client.post("/api/v1/auth/token", data={"username": s.email, "password": s.password})
    assert "access_token" in r.json()
    r = await api.client.post("/api/v1/auth/logout", json={"refresh_token": s.refresh}, headers=s.headers)
    assert r.status_code == 204
    assert r.content == b""
    r = await api.client.get("/schema/openapi.json")
    assert "openapi" in r.json()


async def test_metrics(api: Api) -> None:
    await api.client.get("/api/v1/health")
    await api.client.get(f"/api/v1/users/{'0' * 8}-0000-0000-0000-{'0' * 12}")
    r = await api.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert 'http_requests_total{method="GET",path="/api/v1/health",status="200"}' in text
    assert 'path="/api/v1/users/{user_id}"' in text
    assert "http_request_duration_seconds_bucket" in text
    assert "http_requests_in_progress" in text
    assert 'path="/metrics"' not in text


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }


async def test_openapi_document(api: Api) -> None:
    r = await api.client.get("/schema/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.1")
    ops = operations(spec)
    assert ("GET", "/metrics") not in ops
    expected = {
        ("GET", "/"), ("GET", "/api/v1/health"), ("GET", "/api/v1/ready"),
        ("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/auth/login/mfa"), ("POST", "/api/v1/auth/mfa/login"), ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/forgot-password"),
        ("POST", "/api/v1/auth/reset-password"), ("POST", "/api/v1/auth/verify-email/request"),
        ("POST", "/api/v1/auth/verify-email/confirm"), ("POST", "/api/v1/auth/mfa/enable/request"),
        ("POST", "/api/v1/auth/mfa/enable/confirm"), ("POST", "/api/v1/auth/mfa/disable"),
        ("POST", "/api/v1/auth/mfa/totp/setup"), ("POST", "/api/v1/auth/mfa/totp/confirm"), ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/users/me"), ("PATCH", "/api/v1/users/me"), ("POST", "/api/v1/users/me/password"),
        ("GET", "/api/v1/users"), ("POST", "/api/v1/users"), ("GET", "/api/v1/users/{user_id}"),
        ("PATCH", "/api/v1/users/{user_id}"),
    }  # fmt: skip
    assert expected <= set(ops), expected - set(ops)
    ids = [op["operationId"] for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert all(i.replace("_", "").isalnum() and i.islower() for i in ids)
    for (method, path), op in ops.items():
        assert op.get("description") or op.get("summary"), (method, path)
        if path.startswith("/api/v1/users") or path == "/api/v1/auth/me":
            assert "401" in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and status != "503":
                assert "application/problem+json" in response["content"], (method, path, status)
    user_param = next(p for p in ops[("GET", "/api/v1/users/{user_id}")]["parameters"] if p["name"] == "user_id")
    assert user_param["schema"].get("format") == "uuid"


async def test_docs_page(api: Api) -> None:
    r = await api.client.get("/schema")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]


async def test_docs_are_off_in_production(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_ENVIRONMENT="production", LMS_TRUSTED_HOSTS="testserver.local")
    problem(await api.client.get("/schema/openapi.json"), 404, "Not Found")
    problem(await api.client.get("/schema"), 404, "Not Found")


VARYING = {"x-request-id", "vary"}


def answer(response: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in VARYING and not k.startswith("access-")]
    return response.status_code, response.content, sorted(headers)


async def test_health_answered_before_routing_is_the_routes_answer(api: Api) -> None:
    """A probe skips the framework; a cross-origin request (CORS) is answered by the route. The
    two agree on everything but CORS, for GET and HEAD, on http and https."""
    for method in ("GET", "HEAD"):
        for base in ("http://testserver.local", "https://testserver.local"):
            probe = await api.client.request(method, f"{base}/api/v1/health")
            routed = await api.client.request(method, f"{base}/api/v1/health", headers={"Origin": "https://x.test"})
            assert answer(probe) == answer(routed), (method, base)
            assert probe.headers["x-request-id"] != routed.headers["x-request-id"]
    assert answer(probe)[1] == b""  # the last was a HEAD
