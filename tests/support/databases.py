"""Fresh, migrated databases per test: copied from a template migrated once per session."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

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

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(_dsn(self.server_url))

    async def create_empty(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return str(make_url(self.server_url).set(database=name).render_as_string(hide_password=False))

    async def create(self) -> str:
        """A new database holding the current schema."""
        if not self._template_ready:
            conn = await self._admin()
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.TEMPLATE}"')
                await conn.execute(f'CREATE DATABASE "{self.TEMPLATE}"')
            finally:
                await conn.close()
            url = make_url(self.server_url).set(database=self.TEMPLATE).render_as_string(hide_password=False)
            import anyio.to_thread

            await anyio.to_thread.run_sync(migrate.upgrade, url)
            self._template_ready = True
        name = f"t_{uuid.uuid4().hex[:16]}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.TEMPLATE}"')
        finally:
            await conn.close()
        return str(make_url(self.server_url).set(database=name).render_as_string(hide_password=False))

    async def drop(self, url: str) -> None:
        name = make_url(url).database
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


class SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._template: Path | None = None

    async def create(self) -> str:
        if self._template is None:
            template = self.root / "template.db"
            import anyio.to_thread

            await anyio.to_thread.run_sync(migrate.upgrade, f"sqlite+aiosqlite:///{template}")
            self._template = template
        path = self.root / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self._template, path)
        return f"sqlite+aiosqlite:///{path}"

    def create_empty(self) -> str:
        return f"sqlite+aiosqlite:///{self.root / (uuid.uuid4().hex + '.db')}"
