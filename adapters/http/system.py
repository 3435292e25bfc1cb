"""Service banner, liveness, readiness (API §5.1, §7.15)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect


class Banner(msgspec.Struct):
    message: str


class Health(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    status: Literal["ok", "degraded"]
    database: Literal["up", "down"]
    redis: Literal["up", "down", "not_configured"]
    storage: Literal["up", "down"]


ReadinessCheck = Callable[[], Awaitable[Readiness]]

_BANNER = Banner(message="LMS Backend API")
_OK = Health(status="ok")


@get("/", operation_id="service_banner", tags=["system"])
async def banner() -> Banner:
    """Service banner."""
    return _BANNER


@get("/docs", include_in_schema=False)
async def docs() -> Redirect:
    """Where people coming from other frameworks look first: the interactive docs (outside production)."""
    return Redirect("/schema", status_code=307)


@get("/api/v1/health", operation_id="health", tags=["system"])
async def health() -> Health:
    """Liveness: answers while the process serves requests; touches no dependency."""
    return _OK


@get(
    "/api/v1/ready",
    operation_id="readiness",
    tags=["system"],
    responses={503: ResponseSpec(data_container=Readiness, description="A dependency is down")},
)
async def ready(readiness: NamedDependency[ReadinessCheck]) -> Response[Readiness]:
    """Readiness: the database, and Redis when configured. `503` with `status=degraded` when one is down."""
    result = await readiness()
    return Response(result, status_code=200 if result.status == "ok" else 503)


def readiness_of(
    db: Callable[[], Awaitable[Any]],
    redis: list[Callable[[], Awaitable[Any]]] | None,
    storage: Callable[[], Awaitable[Any]],
) -> ReadinessCheck:
    """Build the readiness probe from ping callables (None: Redis is not configured)."""

    async def check() -> Readiness:
        async def up(ping: Callable[[], Awaitable[Any]]) -> bool:
            try:
                await ping()
            except Exception:
                return False
            return True

        database_up = await up(db)
        if redis is None:
            redis_state: Literal["up", "down", "not_configured"] = "not_configured"
        else:
            redis_state = "up" if all([await up(p) for p in redis]) else "down"
        storage_up = await up(storage)
        healthy = database_up and redis_state != "down" and storage_up
        return Readiness(
            status="ok" if healthy else "degraded",
            database="up" if database_up else "down",
            redis=redis_state,
            storage="up" if storage_up else "down",
        )

    return check
