"""Liveness probes answered before routing: what takes the short way, and what the framework answers."""

from __future__ import annotations

from typing import Any

from adapters.http.metrics import Metrics
from adapters.http.system import LivenessMiddleware
from domain.shared.build import version


def scope(method: str = "GET", path: str = "/api/v1/health", **headers: str) -> dict[str, Any]:
    raw = [(b"host", b"api.example.com")] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": method, "path": path, "headers": raw, "state": {}}


async def call(middleware: LivenessMiddleware, request: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await middleware(request, receive, send)
    return sent


async def test_probes_are_answered_and_counted_and_the_rest_goes_on() -> None:
    routed: list[str] = []

    async def framework(request: dict[str, Any], receive: Any, send: Any) -> None:
        routed.append(f"{request['method']} {request['path']}")

    metrics = Metrics()
    middleware = LivenessMiddleware(framework, metrics, ["api.example.com"])
    get = await call(middleware, scope())
    head = await call(middleware, scope("HEAD"))
    assert [m["status"] for m in (get[0], head[0])] == [200, 200]
    assert (get[1]["body"], head[1]["body"]) == (b'{"status":"ok","version":"%s"}' % version().encode(), b"")
    assert dict(head[0]["headers"])[b"content-length"] == str(len(get[1]["body"])).encode()
    assert metrics.requests[("GET", "/api/v1/health", 200)] == 2
    assert routed == []
    untrusted = scope()
    untrusted["headers"] = [(b"host", b"evil.example")]
    for request in (scope("POST"), scope(path="/api/v1/ready"), scope(origin="https://x.test"), untrusted):
        assert await call(middleware, request) == []
    assert routed == ["POST /api/v1/health", "GET /api/v1/ready", "GET /api/v1/health", "GET /api/v1/health"]
