"""Service banner, liveness, readiness (API §5.1, §7.15)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect

from adapters.http.asgi import App, Receive, Scope, Send
from adapters.http.metrics import Metrics, host_allowed
from domain.shared.build import version


class Banner(msgspec.Struct):
    message: str


class Health(msgspec.Struct):
    status: Literal["ok"]
    version: str


class Readiness(msgspec.Struct):
    status: Literal["ok", "degraded"]
    database: Literal["up", "down"]
    redis: Literal["up", "down", "not_configured"]
    storage: Literal["up", "down"]


ReadinessCheck = Callable[[], Awaitable[Readiness]]

_BANNER = Banner(message="LMS Backend API")
_OK = Health(status="ok", version=version())
HEALTH = "/api/v1/health"
_HEALTH_BODY = msgspec.json.encode(_OK)
_HEALTH_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_HEALTH_BODY)).encode())]
# Each readiness check's own budget; they run at once, so the probe answers within it (API §7.15).
CHECK_SECONDS = 1.5


class LivenessMiddleware:
    """`GET` and `HEAD /api/v1/health` answered before routing, as the route below would answer
    (a test compares the two), and counted in the metrics as the edge counts it: probes come often
    and touch nothing, so they skip the framework. The edge's headers still come from the app's
    `before_send`, which wraps this. A request the edge would refuse (an untrusted host) and a
    cross-origin one (CORS headers) take the normal way."""

    def __init__(self, app: App, metrics: Metrics, trusted_hosts: Sequence[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.trusted_hosts = tuple(trusted_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != HEALTH or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        host = ""
        for name, value in scope["headers"]:
            if name == b"origin":
                await self.app(scope, receive, send)
                return
            if name == b"host":
                host = value.decode("latin-1")
        if self.trusted_hosts and not host_allowed(host, self.trusted_hosts):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        await send({"type": "http.response.start", "status": 200, "headers": list(_HEALTH_HEADERS)})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else _HEALTH_BODY})
        self.metrics.record("GET", HEALTH, 200, time.perf_counter() - start)  # HEAD counts as GET


@get("/", operation_id="service_banner", tags=["system"])
async def banner() -> Banner:
    """Service banner."""
    return _BANNER


@get("/docs", include_in_schema=False)
async def docs() -> Redirect:
    """Where people coming from other frameworks look first: the interactive docs (outside production)."""
    return Redirect("/schema", status_code=307)


@get(HEALTH, operation_id="health", tags=["system"], security=[])
async def health() -> Health:
    """Liveness: answers while the process serves requests; touches no dependency. Carries the
    running version."""
    return _OK


@get(
    "/api/v1/ready",
    operation_id="readiness",
    tags=["system"],
    security=[],
    responses={503: ResponseSpec(data_container=Readiness, description="The database is down")},
)
async def ready(readiness: NamedDependency[ReadinessCheck]) -> Response[Readiness]:
    """Readiness: the database, Redis (when configured) and the object store, each checked within
    its own short budget. `503` only when the database is down: without Redis or the object store
    an instance still serves public reads and sign-in, so they show as `degraded` with `200`, and
    an outage they share never takes every instance out of the load balancer at once."""
    result = await readiness()
    return Response(result, status_code=503 if result.database == "down" else 200)


async def _up(ping: Callable[[], Awaitable[Any]], budget: float) -> bool:
    try:
        await asyncio.wait_for(ping(), budget)
    except Exception:  # down, refused, or too slow: the same to a probe
        return False
    return True


def readiness_of(
    db: Callable[[], Awaitable[Any]],
    redis: list[Callable[[], Awaitable[Any]]] | None,
    storage: Callable[[], Awaitable[Any]] | None,
    budget: float = CHECK_SECONDS,
) -> ReadinessCheck:
    """Build the readiness probe from ping callables (None: Redis, or storage, is not checked);
    the checks run at once, each within `budget` seconds."""

    async def check() -> Readiness:
        pings = [db, *(redis or []), *([storage] if storage is not None else [])]
        results = await asyncio.gather(*(_up(ping, budget) for ping in pings))
        database_up = results[0]
        redis_results = results[1 : 1 + len(redis or [])]
        storage_up = results[-1] if storage is not None else True
        redis_state: Literal["up", "down", "not_configured"] = (
            "not_configured" if redis is None else "up" if all(redis_results) else "down"
        )
        healthy = database_up and redis_state != "down" and storage_up
        return Readiness(
            status="ok" if healthy else "degraded",
            database="up" if database_up else "down",
            redis=redis_state,
            storage="up" if storage_up else "down",
        )

    return check
