"""Fresh, migrated databases per test: copied from a template migrated once per session."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import anyio.to_thread
import asyncpg
from sqlalchemy.engine import make_url

from adapters.sql import migrate


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


class PostgresDatabases:
    TEMPLATE = "lms_template"

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._template_ready = False

    async def _admin(self, *statements: str) -> None:
        """Run statements on the maintenance database (CREATE/DROP DATABASE cannot run in a transaction)."""
        conn = await asyncpg.connect(_dsn(self.server_url))
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    def _url(self, name: str) -> str:
        return str(make_url(self.server_url).set(database=name).render_as_string(hide_password=False))

    async def create_empty(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        await self._admin(f'CREATE DATABASE "{name}"')
        return self._url(name)

    async def create(self) -> str:
        """A new database holding the current schema, copied from a template migrated once."""
        if not self._template_ready:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.TEMPLATE}"', f'CREATE DATABASE "{self.TEMPLATE}"')
            await anyio.to_thread.run_sync(migrate.upgrade, self._url(self.TEMPLATE))
            self._template_ready = True
        name = f"t_{uuid.uuid4().hex[:16]}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.TEMPLATE}"')
        return self._url(name)

    async def drop(self, url: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


class SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._template: Path | None = None

    async def create(self) -> str:
        if self._template is None:
            template = self.root / "template.db"
            await anyio.to_thread.run_sync(migrate.upgrade, f"sqlite+aiosqlite:///{template}")
            self._template = template
        path = self.root / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self._template, path)
        return f"sqlite+aiosqlite:///{path}"

    def create_empty(self) -> str:
        return f"sqlite+aiosqlite:///{self.root / (uuid.uuid4().hex + '.db')}"
