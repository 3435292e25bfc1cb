"""The plans PostgreSQL picks for the statements a test's requests run: every SELECT is recorded
as sent (through SQLAlchemy, or straight on asyncpg for prepared reads) and EXPLAINed afterwards
on the tables as they are."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

Statement = tuple[str, Any]


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def dsn_of(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def recorded(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[Statement]]:
    """The SELECT statements run meanwhile, with their parameters."""
    statements: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    fetch = asyncpg.Connection.fetch

    async def fetched(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        record(None, None, query, args, None, False)
        return await fetch(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "fetch", fetched)
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        monkeypatch.setattr(asyncpg.Connection, "fetch", fetch)


async def plans_of(engine: AsyncEngine, statements: list[Statement]) -> list[tuple[str, dict[str, Any]]]:
    """Each statement with its plan (both speak asyncpg's SQL, `$1`…, so each is explained as sent)."""
    explainer = await asyncpg.connect(dsn_of(engine))
    try:
        found = []
        for statement, parameters in statements:
            raw = await explainer.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *parameters)
            found.append((statement, (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]))
        return found
    finally:
        await explainer.close()
