"""Prometheus metrics (API §7.15), the request log line, and host validation, in one ASGI layer
so the hot path pays for a single wrapper."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from adapters.http.asgi import App as ASGIApp
from adapters.http.asgi import Message, Receive, Scope, Send
from adapters.http.edge import request_id

log = logging.getLogger("lms.access")


class Metrics:
    """One registry per application instance, so several apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "path", "status"], registry=self.registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds", "HTTP request duration", ["method", "path"], registry=self.registry
        )
        self.in_progress = Gauge("http_requests_in_progress", "HTTP requests in progress", registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count one request; label children are cached because `labels()` takes a lock each call."""
        key = (method, path, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(method, path, str(status)), self.duration.labels(method, path))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    host = host.lower()
    for allowed_host in allowed:
        pattern = allowed_host.lower()
        if pattern in ("*", host):
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


async def _send_problem(send: Send, status: int, detail: str) -> None:
    import msgspec

    titles = {400: "Bad Request"}
    body = msgspec.json.encode(
        {"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": detail}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class EdgeMiddleware:
    """Host check → metrics and access log → the rest of the stack."""

    def __init__(self, app: ASGIApp, metrics: Metrics, trusted_hosts: Sequence[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.trusted_hosts = tuple(trusted_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        if self.trusted_hosts:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if not host_allowed(host, self.trusted_hosts):
                await _send_problem(send, 400, "Invalid host header")
                return
        method = scope["method"]
        template: str = scope.get("path_template") or scope["path"]
        status = 500
        metrics = self.metrics
        start = time.perf_counter()
        metrics.in_progress.inc()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            metrics.in_progress.dec()
            metrics.record(method, template, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %d %.1fms",
                    method,
                    template,
                    status,
                    elapsed * 1000,
                    extra={"request_id": request_id(scope)},
                )


def metrics_app(metrics: Metrics) -> Any:
    """A bare ASGI app serving the exposition text (mounted outside the OpenAPI document)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = metrics.exposition()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app
