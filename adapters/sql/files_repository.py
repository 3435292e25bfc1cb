"""File records: single statements, each its own transaction."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.mappers import entity_from_row, row_values
from adapters.sql.models import FileRow
from adapters.sql.paging import page_of_rows
from domain.files.model import FileType, StoredFile
from domain.shared.pagination import Page, PageParams

FILES = cast(Table, FileRow.__table__)


def file_from_row(row: Any) -> StoredFile:
    return entity_from_row(StoredFile, row, file_type=FileType)


class SqlFileRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, record: StoredFile) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(FILES).values(**row_values(record)))

    async def get(self, file_id: UUID) -> StoredFile | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(FILES).where(FILES.c.id == file_id))).first()
        return file_from_row(row) if row else None

    async def delete(self, file_id: UUID) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(FILES).where(FILES.c.id == file_id))

    async def of_uploader(self, uploader_id: UUID, file_type: FileType | None, params: PageParams) -> Page[StoredFile]:
        query = select(FILES).where(FILES.c.uploader_id == uploader_id)
        if file_type is not None:
            query = query.where(FILES.c.file_type == file_type.value)
        ordered = query.order_by(FILES.c.created_at.desc(), FILES.c.id.desc())
        return await page_of_rows(self._engine, ordered, params, file_from_row)
