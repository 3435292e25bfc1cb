"""Statements that each backend spells its own way: row locks, conflict-free inserts, JSON aggregates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Table, Text, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


def bound(column: Any, name: str | None = None) -> Any:
    """A bound parameter of `column`'s type, named as the column unless `name` is given: for
    statements built once and given their values at each execution."""
    return bindparam(name or column.key, type_=column.type)


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


class LockedQuery:
    """`query` (default: the rows of `table` matching `condition`), with those rows locked until the
    transaction ends; built once, so `condition` may hold bound parameters given at each `execute`.
    SQLite has no row locks: a no-op write takes the database's write lock instead, which later
    writers wait for (busy timeout), so the unit of work is serialised all the same.

    On PostgreSQL the lock is `FOR NO KEY UPDATE`: writers of the row wait for each other, but rows
    that merely reference it (a certificate naming its course, progress naming its enrollment) do
    not, since their foreign-key checks take `KEY SHARE`. `FOR UPDATE` would make those inserts wait
    on the lock holder, and two such transactions deadlock."""

    def __init__(self, table: Table, condition: ColumnElement[bool], query: Select[Any] | None = None) -> None:
        query = query if query is not None else select(table).where(condition)
        self._select = query.with_for_update(of=table, key_share=True)  # SQLite renders no lock clause
        # updated_at is named so its on-update default does not fire.
        self._touch = update(table).where(condition).values(id=table.c.id, updated_at=table.c.updated_at)

    async def execute(self, session: AsyncSession, **binds: Any) -> Any:
        if dialect_of(session) == "sqlite":
            await session.execute(self._touch, binds)
        return await session.execute(self._select, binds)


async def locked(
    session: AsyncSession, table: Table, condition: ColumnElement[bool], query: Select[Any] | None = None
) -> Any:
    """A `LockedQuery` built for one call (`condition` holding its values)."""
    return await LockedQuery(table, condition, query).execute(session)


async def first_row(session: AsyncSession, table: Table, condition: ColumnElement[bool], *, lock: bool = False) -> Any:
    """The first row of `table` matching `condition` (None when there is none); with `lock`, held
    until the transaction ends, as `locked` holds it."""
    if lock:
        return (await locked(session, table, condition)).first()
    return (await session.execute(select(table).where(condition))).first()


def insert_ignoring_conflicts(session: AsyncSession, table: Table, on: list[str] | None = None) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: a row that would break a unique constraint (the one over the
    columns `on`, when given; others still raise) is skipped, even when another transaction inserts it
    concurrently (PostgreSQL waits for that one to finish)."""
    dialect = postgresql if dialect_of(session) == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=on)


def upsert(session: AsyncSession, table: Table, values: dict[str, Any], on: list[str]) -> Any:
    """INSERT … ON CONFLICT (`on`) DO UPDATE: the row with these values, whether it existed or not
    (the other columns are set to `values`' too); atomic under racing writers."""
    dialect = postgresql if dialect_of(session) == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    return statement.on_conflict_do_update(
        index_elements=on, set_={name: value for name, value in values.items() if name not in on}
    )


class json_rows(FunctionElement[str]):
    """A group's rows as a JSON array of arrays, as text."""

    type = Text()
    inherit_cache = True


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


class uuid_hex(FunctionElement[str]):
    """A UUID column as its 32 lower-case hex digits (`UUID.hex`), on every backend."""

    type = Text()
    inherit_cache = True


@compiles(uuid_hex, "postgresql")
def _uuid_hex_postgresql(element: uuid_hex, compiler: SQLCompiler, **kw: Any) -> str:
    return f"replace(CAST({compiler.process(element.clauses, **kw)} AS TEXT), '-', '')"


@compiles(uuid_hex, "sqlite")
def _uuid_hex_sqlite(element: uuid_hex, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower(hex({compiler.process(element.clauses, **kw)}))"  # stored as 16 bytes
