"""Running Alembic from code: upgrade, downgrade, and "is the schema current?".

On PostgreSQL a run holds a transaction-level advisory lock (`MIGRATION_LOCK`, taken in
`migrations/env.py`) from before it reads the current revision until it commits, so concurrent
runs (two pods' init containers, a Job retried) apply each revision once: the second waits, then
finds the schema current.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# pg_advisory_xact_lock's key for schema changes ("lms-migr" as a 64-bit integer).
MIGRATION_LOCK = int.from_bytes(b"lms-migr", "big") - 2**63
APPLIED = "applied_steps"  # Config.attributes: the steps a run applied, filled by env.py


def upgrade(url: str, revision: str = "head") -> list[str]:
    """Blocking (runs its own event loop): call from a thread or before the server starts.
    Returns the steps applied, oldest first (`0009 add x`); empty when the schema was current."""
    cfg = alembic_config(url)
    cfg.attributes[APPLIED] = []
    command.upgrade(cfg, revision)
    return list(cfg.attributes[APPLIED])


def downgrade(url: str, revision: str) -> list[str]:
    """Revert to `revision` (an id, or relative such as `-1`); returns the steps reverted."""
    cfg = alembic_config(url)
    cfg.attributes[APPLIED] = []
    command.downgrade(cfg, revision)
    return list(cfg.attributes[APPLIED])


def describe_step(revision: str, doc: str | None) -> str:
    return f"{revision} {doc.strip().splitlines()[0]}" if doc and doc.strip() else revision


def head_revisions(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))


async def is_current(engine: AsyncEngine, url: str) -> bool:
    return await current_revisions(engine) == head_revisions(url)


def new_revision(message: str) -> None:
    """Autogenerate a revision from the models against a scratch SQLite database at head."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/scratch.db"
        upgrade(url)
        command.revision(alembic_config(url), message=message, autogenerate=True)
