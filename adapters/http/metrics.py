"""Prometheus metrics (API §7.15), the request log line, and host validation, in one ASGI layer
so the hot path pays for a single wrapper."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from adapters.http.asgi import App as ASGIApp
from adapters.http.asgi import Message, Receive, Scope, Send
from adapters.http.edge import request_id
from adapters.http.problems import send_problem
from domain.integrations.context import current_request_id

log = logging.getLogger("lms.access")


class _Histogram:
    __slots__ = ("buckets", "count", "sum")

    def __init__(self, size: int) -> None:
        self.buckets = [0] * size
        self.count = 0
        self.sum = 0.0


class Metrics:
    """Request metrics kept in plain dicts and rendered by a collector at scrape time.

    Requests are recorded on the event loop thread, so no locks are needed; this keeps the
    per-request cost to a few dict updates (prometheus_client's own metrics take a lock per update).
    One registry per application instance, so several apps in one process never collide.

    With a `share` folder (`lms run` gives its workers one), each process writes a snapshot of
    its figures there every `SHARE_EVERY` seconds and a scrape adds up every process's: the
    counters and histograms of all processes that ever ran under this server (so they never go
    backwards when a worker is replaced), the in-progress gauge of the living ones.
    """

    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
    SHARE_EVERY = 1.0

    def __init__(self, share: Path | None = None) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.durations: dict[tuple[str, str], _Histogram] = {}
        self.in_progress = 0
        self.share = share
        self._sharing: asyncio.Task[None] | None = None
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, path, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        hist = self.durations.get((method, path))
        if hist is None:
            hist = self.durations[(method, path)] = _Histogram(len(self.BUCKETS) + 1)
        hist.buckets[bisect_left(self.BUCKETS, seconds)] += 1
        hist.count += 1
        hist.sum += seconds

    # ----- sharing between processes -----

    def snapshot(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "requests": [[m, p, st, n] for (m, p, st), n in self.requests.items()],
            "durations": [[m, p, h.buckets, h.sum] for (m, p), h in self.durations.items()],
            "in_progress": self.in_progress,
        }

    def write_snapshot(self) -> None:
        if self.share is None:
            return
        self.share.mkdir(parents=True, exist_ok=True)
        target = self.share / f"{os.getpid()}.json"
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(self.snapshot()))
        partial.replace(target)  # atomic: a scrape never reads half a file

    async def start_sharing(self) -> None:
        if self.share is None or self._sharing is not None:
            return

        async def share() -> None:
            while True:
                await asyncio.to_thread(self.write_snapshot)
                await asyncio.sleep(self.SHARE_EVERY)

        self._sharing = asyncio.create_task(share(), name="metrics-share")

    async def stop_sharing(self) -> None:
        if self._sharing is not None:
            self._sharing.cancel()
            self._sharing = None
            self.in_progress = 0
            await asyncio.to_thread(self.write_snapshot)

    def _others(self) -> list[dict[str, Any]]:
        if self.share is None or not self.share.is_dir():
            return []
        found = []
        for path in self.share.glob("*.json"):
            if path.stem == str(os.getpid()):
                continue
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # being replaced this instant: its figures come with the next scrape
        return found

    def collect(self) -> Iterator[Metric]:
        requests = dict(self.requests)
        durations = {key: (list(h.buckets), h.sum) for key, h in self.durations.items()}
        in_progress = self.in_progress
        for other in self._others():
            for method, path, status, n in other["requests"]:
                key = (method, path, int(status))
                requests[key] = requests.get(key, 0) + int(n)
            for method, path, buckets, total in other["durations"]:
                mine = durations.get((method, path))
                if mine is None:
                    durations[(method, path)] = (list(buckets), float(total))
                else:
                    durations[(method, path)] = (
                        [a + b for a, b in zip(mine[0], buckets, strict=True)],
                        mine[1] + total,
                    )
            if _alive(int(other["pid"])):
                in_progress += int(other["in_progress"])
        total = CounterMetricFamily("http_requests", "HTTP requests", labels=["method", "path", "status"])
        for (method, path, status), count in requests.items():
            total.add_metric([method, path, str(status)], count)
        yield total
        duration = HistogramMetricFamily(
            "http_request_duration_seconds", "HTTP request duration", labels=["method", "path"]
        )
        for (method, path), (counts, seconds) in durations.items():
            cumulative, buckets = 0, []
            for bound, n in zip((*map(str, self.BUCKETS), "+Inf"), counts, strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            duration.add_metric([method, path], buckets, seconds)
        yield duration
        yield GaugeMetricFamily("http_requests_in_progress", "HTTP requests in progress", value=in_progress)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
                await send_problem(send, 400, "Invalid host header")
                return
        method = scope["method"]
        template: str = scope.get("path_template") or scope["path"]
        context = current_request_id.set(request_id(scope))  # for the audit log and error lines
        status = 500
        metrics = self.metrics
        start = time.perf_counter()
        metrics.in_progress += 1

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            current_request_id.reset(context)
            elapsed = time.perf_counter() - start
            metrics.in_progress -= 1
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
