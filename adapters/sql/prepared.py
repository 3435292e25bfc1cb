"""Prebuilt single-statement reads for the hot paths (the principal of every authenticated request,
a student's enrollments, figures and catalog pages). On PostgreSQL they run straight on asyncpg:
the statement is compiled by SQLAlchemy once, then executed as an asyncpg prepared statement
on a pool of its own, without SQLAlchemy's per-execution layer (measured: 82 µs of CPU per
execution through an open SQLAlchemy connection, 23 µs through asyncpg, for the same statement).
On SQLite, the same statements go through the engine.

Rows answer attribute access by column name, as SQLAlchemy rows do, and carry the values
SQLAlchemy would give: the columns' own result processing is applied, and JSON is decoded as the
SQLAlchemy dialect decodes it. A contract test reads every such statement both ways.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import CONNECT_ERRORS, DatabaseUnavailable, retrying_read

Processor = Callable[[Any], Any] | None


class Row(tuple[Any, ...]):
    """A result row: a tuple of its values, which are also attributes by column name (each
    statement has its own subclass; a column named `count` or `index` wins over tuple's method,
    as in SQLAlchemy's rows)."""

    __slots__ = ()

    @classmethod
    def with_columns(cls, names: list[str]) -> type[Row]:
        return type("Row", (cls,), {"__slots__": (), **{name: property(itemgetter(n)) for n, name in enumerate(names)}})


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the positional parameters, in order
    defaults: Mapping[str, Any]  # values the statement carries itself
    bind: tuple[Processor, ...]
    row_type: type[Row]  # with the result columns' names
    result: tuple[Processor, ...]

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or any(b.expanding for b in compiled.binds.values()):
            raise ValueError("a prepared read takes plain bound parameters only (no IN lists)")
        names = tuple(compiled.positiontup or ())
        columns = list(statement.selected_columns)
        return cls(
            sql=compiled.string,
            names=names,
            defaults={name: compiled.binds[name].effective_value for name in names},
            bind=tuple(compiled.binds[name].type.bind_processor(dialect) for name in names),
            row_type=Row.with_columns([str(column.key) for column in columns]),
            result=tuple(column.type.result_processor(dialect, None) for column in columns),
        )

    def arguments(self, binds: Mapping[str, Any]) -> list[Any]:
        values = (binds[name] if name in binds else self.defaults[name] for name in self.names)
        return [value if process is None else process(value) for process, value in zip(self.bind, values, strict=True)]

    def row(self, record: asyncpg.Record) -> Row:
        values = record.values()
        return self.row_type(
            value if process is None else process(value) for process, value in zip(self.result, values, strict=True)
        )


async def _json_codecs(connection: asyncpg.Connection) -> None:
    """JSON columns decoded to Python values, as SQLAlchemy's asyncpg dialect sets them up."""
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog", format="text"
        )


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, (OSError, asyncpg.PostgresConnectionError)) or type(exc).__name__ in CONNECT_ERRORS


class PreparedReads:
    """Reads of prebuilt statements, each on its own (autocommit); `engine` serves the others."""

    def __init__(self, engine: AsyncEngine, *, pool_size: int = 20, direct: bool = True) -> None:
        """`direct=False` reads through the engine on PostgreSQL too (to compare the two)."""
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._dialect = engine.dialect
        self._direct = direct and engine.dialect.name == "postgresql"
        # Connected as the engine connects: the URL's options as SQLAlchemy's asyncpg dialect
        # reads them (`ssl`, `command_timeout`, …), less those that are the dialect's own.
        self._connect: dict[str, Any] = dict(engine.dialect.create_connect_args(engine.url)[1]) if self._direct else {}
        for own in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"):
            self._connect.pop(own, None)
        self._pool_size = pool_size
        self._pool: asyncio.Task[asyncpg.Pool] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._compiled: dict[Select[Any], _Compiled] = {}

    async def rows(self, statement: Select[Any], binds: Mapping[str, Any] | None = None) -> list[Any]:
        """The statement's rows. `statement` must be built once (module level): it is compiled
        on first use and kept. A read on a connection found dead runs once more on a fresh one."""
        if not self._direct:
            return await retrying_read(lambda: self._through_engine(statement, binds or {}))
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = _Compiled.of(statement, self._dialect)
        arguments = compiled.arguments(binds or {})
        records = await retrying_read(lambda: self._fetch(compiled.sql, arguments))
        return [compiled.row(record) for record in records]

    async def first(self, statement: Select[Any], binds: Mapping[str, Any] | None = None) -> Any | None:
        rows = await self.rows(statement, binds)
        return rows[0] if rows else None

    async def _through_engine(self, statement: Select[Any], binds: Mapping[str, Any]) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(statement, binds)).all())

    async def _fetch(self, sql: str, arguments: list[Any]) -> list[asyncpg.Record]:
        pool = await self._current_pool()
        try:
            connection = await pool.acquire(timeout=30)
        except Exception as exc:
            if _is_connection_error(exc):
                raise DatabaseUnavailable(disconnect=False) from exc
            raise
        try:
            return await connection.fetch(sql, *arguments)  # type: ignore[no-any-return]
        except Exception as exc:
            if _is_connection_error(exc) or connection.is_closed():
                # The server went away: every pooled connection is as dead as this one.
                await pool.expire_connections()
                raise DatabaseUnavailable(disconnect=True) from exc
            raise
        finally:
            await pool.release(connection)

    async def _current_pool(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:  # a pool belongs to one event loop
            self._loop = loop
            self._pool = loop.create_task(self._open())
        return await self._pool

    async def _open(self) -> asyncpg.Pool:
        # No connection is opened here (min_size=0): each is made when first needed.
        return await asyncpg.create_pool(**self._connect, min_size=0, max_size=self._pool_size, init=_json_codecs)

    def pool_status(self) -> tuple[int, int, int] | None:
        """(in use, idle, max size) of the prepared reads' own pool, once it is open."""
        if self._pool is None or not self._pool.done() or self._pool.cancelled() or self._pool.exception():
            return None
        pool = self._pool.result()
        idle = pool.get_idle_size()
        return pool.get_size() - idle, idle, pool.get_max_size()

    async def close(self) -> None:
        if self._pool is not None and self._loop is asyncio.get_running_loop():
            pool = await self._pool
            await pool.close()
        self._pool = None
