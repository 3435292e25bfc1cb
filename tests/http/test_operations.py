"""What operators rely on: the client behind trusted proxies, key rotation, private answers,
metrics and who may scrape them, and the request body's read timeout."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import problem
from tests.support.api import PASSWORD, Api
from tests.support.catalog import create_course, publish, user_with_role
from tests.support.servers import free_port, s3_environment, wait_until_up

LIMITED = {"LMS_RATE_LIMIT_ENABLED": "true", "LMS_RATE_LIMIT_GLOBAL": "2/60"}
OTHER_KEY = "another-secret-key-that-is-long-enough-9876543210"


async def test_clients_behind_a_trusted_proxy_are_limited_one_by_one(make_api: MakeApiFn) -> None:
    """The test client connects from 127.0.0.1, the proxy here."""
    api = await make_api(LMS_TRUSTED_PROXIES="127.0.0.0/8", **LIMITED)
    for client in ("198.51.100.1", "198.51.100.2"):
        for _ in range(2):
            r = await api.client.get("/api/v1/courses", headers={"X-Forwarded-For": f"6.6.6.6, {client}"})
            assert r.status_code == 200
    problem(
        await api.client.get("/api/v1/courses", headers={"X-Forwarded-For": "198.51.100.1"}),
        429,
        "Rate limit exceeded. Try again later.",
    )
    # Forwarded (RFC 7239) names a client of its own.
    r = await api.client.get("/api/v1/courses", headers={"Forwarded": 'for="198.51.100.3:5555"'})
    assert r.status_code == 200


async def test_forwarding_headers_of_an_untrusted_peer_are_ignored(make_api: MakeApiFn) -> None:
    api = await make_api(**LIMITED)  # no trusted proxies: every header is a claim of the client
    for n in range(2):
        assert (await api.client.get("/api/v1/courses", headers={"X-Forwarded-For": f"10.0.0.{n}"})).status_code == 200
    r = await api.client.get("/api/v1/courses", headers={"X-Forwarded-For": "10.0.0.9", "X-Real-IP": "10.0.0.8"})
    problem(r, 429, "Rate limit exceeded. Try again later.")


async def test_the_access_log_names_the_client(make_api: MakeApiFn, caplog: pytest.LogCaptureFixture) -> None:
    api = await make_api(LMS_TRUSTED_PROXIES="127.0.0.1", LMS_LOG_LEVEL="INFO")
    access = logging.getLogger("lms.access")
    access.addHandler(caplog.handler)  # the app set up logging after caplog did
    try:
        await api.client.get("/api/v1/courses", headers={"X-Forwarded-For": "198.51.100.77"})
        await api.client.get("/api/v1/no-such-route")
    finally:
        access.removeHandler(caplog.handler)
    lines = [r for r in caplog.records if r.name == "lms.access"]
    listed = next(r for r in lines if getattr(r, "route", "") == "/api/v1/courses")
    assert (listed.client_ip, listed.status) == ("198.51.100.77", 200)  # type: ignore[attr-defined]
    assert "198.51.100.77" in listed.getMessage()
    unrouted = next(r for r in lines if getattr(r, "status", 0) == 404)
    assert unrouted.route == "<unmatched>"  # type: ignore[attr-defined]


async def test_tokens_outlive_a_key_rotation_but_not_the_removal_of_their_key(make_api: MakeApiFn) -> None:
    from tests.support.api import SECRET

    before = await make_api()
    session = await before.register()
    rotating = await make_api(LMS_SECRET_KEY=OTHER_KEY, LMS_SECRET_KEY_PREVIOUS=SECRET)
    assert (await rotating.me(session)).status_code == 200  # signed with the previous key
    r = await rotating.client.post("/api/v1/auth/refresh", json={"refresh_token": session.refresh})
    assert r.status_code == 200, r.text
    fresh = r.json()["tokens"]["access_token"]
    rotated = await make_api(LMS_SECRET_KEY=OTHER_KEY)  # the old key removed
    assert (await rotated.me(fresh)).status_code == 200
    login = await rotated.client.post("/api/v1/auth/login", json={"email": session.email, "password": PASSWORD})
    assert login.status_code == 200
    r = await rotated.me(session)
    problem(r, 401, "Could not validate credentials")
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_signed_in_answers_are_private(api: Api) -> None:
    admin = await api.admin()
    owner = await user_with_role(api, "instructor")
    course = await publish(api, owner, (await create_course(api, owner))["id"])
    for path in (
        "/api/v1/users/me",
        "/api/v1/enrollments/my-courses",
        "/api/v1/users",
        "/api/v1/analytics/my-dashboard",
    ):
        r = await api.client.get(path, headers=admin.headers)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "private, no-store", path
    # With an ETag to revalidate with, the caller's browser may keep it, and must ask again.
    r = await api.client.get(f"/api/v1/courses/{course['id']}", headers=admin.headers)
    assert (r.headers["cache-control"], bool(r.headers["etag"])) == ("private, no-cache", True)
    # Anonymous answers are the same for everyone: no private marking.
    assert "cache-control" not in (await api.client.get(f"/api/v1/courses/{course['id']}")).headers
    files = {"file": ("notes.pdf", b"%PDF-1.4 private", "application/pdf")}
    uploaded = (await api.client.post("/api/v1/files/upload", files=files, headers=admin.headers)).json()
    download = await api.client.get(uploaded["file_url"], headers=admin.headers)
    assert (download.status_code, download.headers["cache-control"]) == (200, "private, no-store")
    # Errors to signed-in callers are private too; auth answers are never stored at all.
    assert (await api.client.get("/api/v1/users/nope", headers=admin.headers)).headers["cache-control"] == (
        "private, no-store"
    )
    assert (await api.client.get("/api/v1/auth/me", headers=admin.headers)).headers["cache-control"] == "no-store"


async def test_metrics_for_operators(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_RATE_LIMIT_ENABLED="true", LMS_RATE_LIMIT_AUTH="3/60")  # two sign-ins set up
    owner = await user_with_role(api, "instructor")
    course = await publish(api, owner, (await create_course(api, owner))["id"])
    for _ in range(2):
        await api.client.get(f"/api/v1/courses/{course['id']}")  # a miss, then a hit
    for _ in range(2):
        await api.client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "wrong-password"})
    for path in ("/wp-admin/setup.php", "/api/v1/nothing/here", "/.env"):
        assert (await api.client.get(path)).status_code == 404
    text = (await api.client.get("/metrics")).text
    for series in (
        'lms_rate_limited_requests_total{rule="auth"} 1.0',
        'lms_cache_requests_total{result="hit"}',
        'lms_cache_requests_total{result="miss"}',
        'lms_db_pool_connections{pool="engine",state="in_use"}',
        "lms_db_pool_size",
        "lms_queue_jobs",
        'lms_build_info{python="',
        "process_resident_memory_bytes{pid=",
        "process_cpu_seconds_total{pid=",
        "lms_redis_errors_total",
        "lms_emails_total",
        "lms_jobs_total",
    ):
        assert series in text, series
    unmatched = re.findall(r'http_requests_total\{method="GET",path="([^"]*)",status="404"\} (\S+)', text)
    assert unmatched == [("<unmatched>", "3.0")]  # one series, whatever was asked for


async def test_who_may_scrape(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_METRICS_TOKEN="scrape-token", LMS_TRUSTED_HOSTS="testserver.local")
    r = await api.client.get("/metrics")
    problem(r, 401, "Not authenticated")
    assert r.headers["www-authenticate"] == "Bearer"
    problem(await api.client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401, "Not authenticated")
    assert (await api.client.get("/metrics", headers={"Authorization": "Bearer scrape-token"})).status_code == 200
    r = await api.client.get("http://elsewhere.example/metrics", headers={"Authorization": "Bearer scrape-token"})
    problem(r, 400, "Invalid host header")
    problem(await api.client.get("http://elsewhere.example/no-such-route"), 400, "Invalid host header")


async def test_production_serves_metrics_to_private_addresses_only(make_api: MakeApiFn) -> None:
    api = await make_api(
        LMS_ENVIRONMENT="production", LMS_TRUSTED_HOSTS="testserver.local", LMS_TRUSTED_PROXIES="127.0.0.1"
    )
    assert (await api.client.get("/metrics")).status_code == 200  # the cluster's Prometheus, say
    assert (await api.client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})).status_code == 200
    r = await api.client.get("/metrics", headers={"X-Forwarded-For": "93.184.216.34"})  # through the ingress
    problem(r, 403, "Metrics are served to private addresses only")


async def test_a_body_that_stops_arriving_is_refused(make_api: MakeApiFn) -> None:
    api = await make_api(LMS_BODY_READ_TIMEOUT_SECONDS="1")
    session = await api.register()

    async def stalls() -> AsyncIterator[bytes]:
        yield b'{"full_name": "Half'
        await asyncio.sleep(5)
        yield b' sent"}'

    started = asyncio.get_running_loop().time()
    r = await api.client.patch("/api/v1/users/me", content=stalls(), headers=session.headers)
    problem(r, 408, "Request body was not received in time")
    assert asyncio.get_running_loop().time() - started < 4
    assert (await api.me(session)).json()["full_name"] == "Test User"  # nothing changed


@pytest.fixture
def paused_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[bytes]]:
    """moto's S3 in a process of its own (so that it can be paused), configured as an operator
    would through the standard AWS environment."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{endpoint}/moto-api/", server)
        httpx.put(f"{endpoint}/paused-bucket").raise_for_status()
        for name, value in s3_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        yield server
    finally:
        server.send_signal(signal.SIGCONT)
        server.terminate()
        server.wait(timeout=10)


async def test_a_store_that_stops_answering_costs_seconds_and_a_503(
    make_api: MakeApiFn, paused_s3: subprocess.Popen[bytes]
) -> None:
    api = await make_api(
        LMS_STORAGE_URL="s3://paused-bucket/objects",
        LMS_STORAGE_TIMEOUT_SECONDS="1",
        LMS_STORAGE_CONNECT_TIMEOUT_SECONDS="1",
    )
    owner = await api.register()
    files = {"file": ("notes.pdf", b"%PDF-1.4 before", "application/pdf")}
    stored = await api.client.post("/api/v1/files/upload", files=files, headers=owner.headers)
    assert stored.status_code == 201, stored.text
    paused_s3.send_signal(signal.SIGSTOP)  # connections are accepted, nothing is answered
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        r = await api.client.get("/api/v1/ready")
        assert (r.status_code, r.json()["storage"], r.json()["status"]) == (200, "down", "degraded")
        assert loop.time() - started < 2.5
        started = loop.time()
        r = await api.client.post("/api/v1/files/upload", files=files, headers=owner.headers)
        problem(r, 503, "File storage unavailable")
        assert loop.time() - started < 10
        # Signing needs no request to the store: downloads still redirect.
        r = await api.client.get(stored.json()["file_url"], headers=owner.headers)
        assert r.status_code == 307
    finally:
        paused_s3.send_signal(signal.SIGCONT)
    r = await api.client.post("/api/v1/files/upload", files=files, headers=owner.headers)
    assert r.status_code == 201
    assert (await api.client.get("/api/v1/ready")).json()["storage"] == "up"
    assert 'lms_storage_errors_total{operation="put"}' in (await api.client.get("/metrics")).text
