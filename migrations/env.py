"""Alembic environment: async engines, batch mode so SQLite can alter tables."""

from __future__ import annotations

import asyncio
from typing import Any

from advanced_alchemy.base import orm_registry
from alembic import context
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql import models  # noqa: F401  (registers the tables)
from adapters.sql.migrate import APPLIED, MIGRATION_LOCK, describe_step

config = context.config
target_metadata = orm_registry.metadata


def _record(*, step: Any, **_: Any) -> None:
    """Note each step applied (or reverted), for the command to report."""
    applied = config.attributes.get(APPLIED)
    if applied is not None:
        applied.append(describe_step(step.up_revision_id, step.up_revision.doc))


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        literal_binds=connection is None,
        on_version_apply=_record,
    )


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"))
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # One run at a time, held until this run commits: a concurrent one then reads the new head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
