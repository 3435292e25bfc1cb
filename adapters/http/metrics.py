"""Prometheus metrics (API §7.15), the request log line, and host validation, in one ASGI layer
so the hot path pays for a single wrapper."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import os
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector

from adapters.http.asgi import App as ASGIApp
from adapters.http.asgi import Message, Receive, Scope, Send
from adapters.http.edge import request_id
from adapters.http.problems import BodyTimeout, send_problem
from domain.integrations.context import current_request_id

log = logging.getLogger("lms.access")

# The path label of requests no route matched: one series, whatever was asked for.
UNMATCHED = "<unmatched>"

# Counters adapters keep through the `Meter` port, with their help texts (the `_total` suffix is
# Prometheus's). A name not listed here is a mistake caught by the tests.
COUNTERS = {
    "lms_xapi_statements": "xAPI statements sent to the LRS, or failed for good, by outcome",
    "lms_redis_errors": "Redis commands that failed (connection, timeout or protocol), by store",
    "lms_rate_limited_requests": "Requests refused with 429, by rate-limit rule",
    "lms_cache_requests": "Catalog and analytics cache reads, by result (hit, miss, error)",
    "lms_jobs": "Background job runs, by job and outcome (complete, retried, failed)",
    "lms_webhook_deliveries": "Webhook delivery attempts, by outcome (delivered, retry, failed)",
    "lms_emails": "Emails, by outcome (sent, failed)",
    "lms_storage_errors": "Object store calls that failed or timed out, by operation",
    "lms_live_messages": "Live messages published to the fan-out (WebSocket and Server-Sent Events clients)",
}
# Gauges each process samples of itself; a scrape adds up the living processes'.
GAUGES = {
    "lms_db_pool_connections": "Database connections of this server, by pool and state (in_use, idle)",
    "lms_db_pool_size": "The most database connections each pool may open, summed over processes",
    "lms_queue_jobs": "Jobs in the queue, by state (queued, active, scheduled)",
    "lms_outbox_backlog": "Committed events the relay has not yet turned into deliveries",
    "lms_outbox_oldest_age_seconds": "Age of the oldest event waiting in the outbox (0 when none waits)",
    "lms_live_connections": "Open live connections (WebSocket and Server-Sent Events)",
}
# The process figures of each living process, labelled with its pid.
_PROCESS = {
    "process_resident_memory_bytes": ("gauge", "Resident memory size in bytes"),
    "process_virtual_memory_bytes": ("gauge", "Virtual memory size in bytes"),
    "process_open_fds": ("gauge", "Number of open file descriptors"),
    "process_start_time_seconds": ("gauge", "Start time of the process since unix epoch in seconds"),
    "process_cpu_seconds_total": ("counter", "Total user and system CPU time spent in seconds"),
}

Labels = tuple[tuple[str, str], ...]
Sample = tuple[str, dict[str, str], float]
Sampler = Callable[[], Iterable[Sample]]
Probe = Callable[[], Awaitable[Iterable[Sample]]]


class _Histogram:
    __slots__ = ("buckets", "count", "sum")

    def __init__(self, size: int) -> None:
        self.buckets = [0] * size
        self.count = 0
        self.sum = 0.0


class Count:
    """One counter series: incremented on the event loop thread, so a plain attribute."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


def _labels(labels: dict[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


class Metrics:
    """The process's metrics, kept in plain dicts and rendered by a collector at scrape time.

    Requests are recorded on the event loop thread, so no locks are needed; this keeps the
    per-request cost to a few dict updates (prometheus_client's own metrics take a lock per update).
    One registry per application instance, so several apps in one process never collide. It is the
    `Meter` adapters count through; `sample` adds figures a process reads of itself (pool use),
    `probe` figures read once per scrape (queue depth, outbox backlog).

    With a `share` folder (`lms run` gives its workers one), each process writes a snapshot of
    its figures there every `SHARE_EVERY` seconds and a scrape adds up every process's: the
    counters and histograms of all processes that ever ran under this server (so they never go
    backwards when a worker is replaced), the gauges of the living ones.
    """

    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
    SHARE_EVERY = 1.0
    PROBE_SECONDS = 2.0

    def __init__(self, share: Path | None = None, *, build: dict[str, str] | None = None) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.durations: dict[tuple[str, str], _Histogram] = {}
        self.in_progress = 0
        self.counts: dict[tuple[str, Labels], Count] = {}
        self.share = share
        self.build = build or {}
        self._samplers: list[Sampler] = []
        self._probes: list[Probe] = []
        self._probed: list[Sample] = []
        self._process = ProcessCollector(registry=None)
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

    # ----- the Meter port, and figures read at snapshot or scrape time -----

    def counter(self, name: str, **labels: str) -> Count:
        if name not in COUNTERS:
            raise ValueError(f"unknown counter {name!r}: add it to COUNTERS with its help text")
        key = (name, _labels(labels))
        found = self.counts.get(key)
        if found is None:
            found = self.counts[key] = Count()
        return found

    def sample(self, sampler: Sampler) -> None:
        """Figures this process reads of itself whenever it writes a snapshot or is scraped."""
        self._samplers.append(sampler)

    def probe(self, probe: Probe) -> None:
        """Figures read once per scrape, by the process answering it (shared state: the queue)."""
        self._probes.append(probe)

    async def refresh(self) -> None:
        """Run the probes before a scrape, each within PROBE_SECONDS; one that fails or is late is
        left out of this scrape (and logged), never failing it."""
        found: list[Sample] = []
        for probe in self._probes:
            try:
                found.extend(await asyncio.wait_for(probe(), self.PROBE_SECONDS))
            except Exception as exc:
                log.warning("metrics probe %s failed: %s", getattr(probe, "__name__", probe), type(exc).__name__)
        self._probed = found

    def _own_gauges(self) -> list[list[Any]]:
        gauges: list[list[Any]] = []
        for sampler in self._samplers:
            try:
                gauges.extend([name, sorted(labels.items()), value] for name, labels, value in sampler())
            except Exception as exc:  # a figure that cannot be read now is left out
                log.warning("metrics sampler failed: %s", type(exc).__name__)
        return gauges

    def _own_process(self) -> list[list[Any]]:
        return [
            [sample.name, sample.value]
            for family in self._process.collect()
            for sample in family.samples
            if sample.name in _PROCESS
        ]

    # ----- sharing between processes -----

    def snapshot(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "requests": [[m, p, st, n] for (m, p, st), n in self.requests.items()],
            "durations": [[m, p, h.buckets, h.sum] for (m, p), h in self.durations.items()],
            "in_progress": self.in_progress,
            "counters": [[name, list(labels), c.value] for (name, labels), c in self.counts.items()],
            "gauges": self._own_gauges(),
            "process": self._own_process(),
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
        mine = self.snapshot()
        snapshots = [mine, *self._others()]
        living = [mine, *(other for other in snapshots[1:] if _alive(int(other["pid"])))]
        yield from self._http(snapshots, living)
        yield from _families(CounterMetricFamily, COUNTERS, _summed(snapshots, "counters"))
        gauges = _summed(living, "gauges")
        gauges.update(((name, _labels(labels)), float(value)) for name, labels, value in self._probed)
        yield from _families(GaugeMetricFamily, GAUGES, gauges, skip_empty=True)
        for name, (kind, documentation) in _PROCESS.items():
            process: CounterMetricFamily | GaugeMetricFamily = (
                CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            )(name.removesuffix("_total"), documentation, labels=["pid"])
            for snapshot in living:
                for found, value in snapshot.get("process", ()):
                    if found == name:
                        process.add_metric([str(snapshot["pid"])], float(value))
            yield process
        if self.build:
            info = GaugeMetricFamily("lms_build_info", "The running build", labels=sorted(self.build))
            info.add_metric([self.build[k] for k in sorted(self.build)], 1.0)
            yield info

    def _http(self, snapshots: list[dict[str, Any]], living: list[dict[str, Any]]) -> Iterator[Metric]:
        requests: dict[tuple[str, str, int], int] = {}
        durations: dict[tuple[str, str], tuple[list[int], float]] = {}
        for snapshot in snapshots:
            for method, path, status, n in snapshot["requests"]:
                key = (method, path, int(status))
                requests[key] = requests.get(key, 0) + int(n)
            for method, path, buckets, total in snapshot["durations"]:
                seen = durations.get((method, path))
                if seen is None:
                    durations[(method, path)] = (list(buckets), float(total))
                else:
                    durations[(method, path)] = (
                        [a + b for a, b in zip(seen[0], buckets, strict=True)],
                        seen[1] + total,
                    )
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
        in_progress = sum(int(snapshot["in_progress"]) for snapshot in living)
        yield GaugeMetricFamily("http_requests_in_progress", "HTTP requests in progress", value=in_progress)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _summed(snapshots: list[dict[str, Any]], member: str) -> dict[tuple[str, Labels], float]:
    """The series of `member` (`counters` or `gauges`) added up over the snapshots."""
    series: dict[tuple[str, Labels], float] = {}
    for snapshot in snapshots:
        for name, labels, value in snapshot.get(member, ()):
            key = (name, tuple((str(k), str(v)) for k, v in labels))
            series[key] = series.get(key, 0.0) + float(value)
    return series


def _families(
    kind: type[CounterMetricFamily] | type[GaugeMetricFamily],
    documented: dict[str, str],
    series: dict[tuple[str, Labels], float],
    *,
    skip_empty: bool = False,
) -> Iterator[Metric]:
    for name, documentation in documented.items():
        found = sorted((labels, value) for (series_name, labels), value in series.items() if series_name == name)
        if skip_empty and not found:
            continue
        family = kind(name, documentation, labels=[k for k, _ in found[0][0]] if found else [])
        for labels, value in found:
            family.add_metric([v for _, v in labels], value)
        yield family


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
    """Host check → metrics and access log → the application.

    It wraps the whole application rather than each route, so requests that no route matches
    (404, 405) are checked, counted under one path label (`UNMATCHED`) and logged like the rest.
    `/metrics` is host-checked but neither counted nor logged. A request body that pauses longer
    than `body_timeout` between two chunks is refused with 408 (`BodyTimeout`): the wait applies
    only until the body is complete, so a streamed answer may take as long as it needs.
    """

    def __init__(
        self, app: ASGIApp, metrics: Metrics, trusted_hosts: Sequence[str], *, body_timeout: float = 30.0
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.trusted_hosts = tuple(trusted_hosts)
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.trusted_hosts:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if not host_allowed(host, self.trusted_hosts):
                await send_problem(send, 400, "Invalid host header")
                return
        if scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
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
            await self.app(scope, _timed(receive, self.body_timeout), send_wrapper)
        finally:
            current_request_id.reset(context)
            elapsed = time.perf_counter() - start
            metrics.in_progress -= 1
            template: str = scope.get("path_template") or UNMATCHED
            metrics.record(method, template, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                address = str(client[0]) if client else "-"
                log.info(
                    "%s %s %d %.1fms %s",
                    method,
                    template,
                    status,
                    elapsed * 1000,
                    address,
                    extra={
                        "request_id": request_id(scope),
                        "client_ip": address,
                        "method": method,
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )


def _timed(receive: Receive, seconds: float) -> Receive:
    """`receive` that gives up on a body whose next chunk takes longer than `seconds`."""
    complete = False

    async def receive_in_time() -> Message:
        nonlocal complete
        if complete:
            return await receive()
        try:
            async with asyncio.timeout(seconds):
                message = await receive()
        except TimeoutError:
            raise BodyTimeout from None
        if message["type"] != "http.request" or not message.get("more_body"):
            complete = True
        return message

    return receive_in_time


# Where a cluster's scraper lives: loopback, RFC 1918, carrier-grade NAT (some clusters' pods),
# link-local, and IPv6 unique-local and link-local addresses.
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
        "::1/128", "fc00::/7", "fe80::/10",
    )
)  # fmt: skip


def _private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in INTERNAL_NETWORKS)


def scrape_refusal(
    token: str | None, private_only: bool, authorization: bytes, client: str | None
) -> tuple[int, str] | None:
    """Who may scrape: with `token`, only a request sending `Authorization: Bearer <token>` (401
    otherwise); without one, `private_only` (production) limits scrapes to clients on private and
    loopback addresses, such as the cluster's Prometheus, once trusted proxies' headers named the
    real client (403 otherwise). None when the scrape may go ahead."""
    if token:
        if not hmac.compare_digest(authorization, f"Bearer {token}".encode()):
            return 401, "Not authenticated"
    elif private_only and not (client and _private(client)):
        return 403, "Metrics are served to private addresses only"
    return None


def metrics_app(metrics: Metrics, *, token: str | None, private_only: bool) -> Any:
    """A bare ASGI app serving the exposition text (mounted outside the OpenAPI document), to
    the scrapers `scrape_refusal` lets through."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        sent = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        client = scope.get("client")
        refused = scrape_refusal(token, private_only, sent, str(client[0]) if client else None)
        if refused is not None:
            challenge = [(b"www-authenticate", b"Bearer")] if refused[0] == 401 else []
            await send_problem(send, *refused, challenge)
            return
        await metrics.refresh()
        body = metrics.exposition()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app
