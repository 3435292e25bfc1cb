"""Readiness (API §7.15, amended): each check within its own budget, all at once; only the
database takes an instance out of the load balancer."""

from __future__ import annotations

import asyncio
import time

from adapters.http.system import readiness_of, ready


async def up() -> None:
    return None


async def down() -> None:
    raise ConnectionRefusedError


async def hangs() -> None:
    await asyncio.sleep(60)


async def status_of(check: object) -> tuple[int, dict[str, str]]:
    import msgspec

    response = await ready.fn(readiness=check)
    return response.status_code, msgspec.to_builtins(response.content)


async def test_all_up_is_ok() -> None:
    assert await status_of(readiness_of(up, [up], up)) == (
        200,
        {"status": "ok", "database": "up", "redis": "up", "storage": "up"},
    )
    assert (await status_of(readiness_of(up, None, up)))[1]["redis"] == "not_configured"


async def test_redis_or_storage_down_degrades_without_draining() -> None:
    assert await status_of(readiness_of(up, [up, down], up)) == (
        200,
        {"status": "degraded", "database": "up", "redis": "down", "storage": "up"},
    )
    assert await status_of(readiness_of(up, [up], down)) == (
        200,
        {"status": "degraded", "database": "up", "redis": "up", "storage": "down"},
    )


async def test_only_the_database_down_is_503() -> None:
    assert await status_of(readiness_of(down, [up], up)) == (
        503,
        {"status": "degraded", "database": "down", "redis": "up", "storage": "up"},
    )


async def test_hanging_checks_answer_within_one_budget() -> None:
    started = time.monotonic()
    status, body = await status_of(readiness_of(hangs, [hangs], hangs, budget=0.3))
    elapsed = time.monotonic() - started
    assert (status, body["database"], body["redis"], body["storage"]) == (503, "down", "down", "down")
    assert elapsed < 1.0  # the three ran at once, each cut off at 0.3 s
