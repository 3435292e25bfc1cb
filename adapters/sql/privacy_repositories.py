"""The data export repository on one AsyncSession."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.mappers import entity_from_row, row_values
from adapters.sql.models import DATA_EXPORTS
from adapters.sql.statements import first_row
from domain.privacy.model import DataExport, ExportStatus


def export_from_row(row: object) -> DataExport:
    return entity_from_row(DataExport, row, status=ExportStatus)


class SqlExportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, export: DataExport) -> None:
        await self._s.execute(insert(DATA_EXPORTS).values(**row_values(export)))

    async def get(self, export_id: UUID, *, lock: bool = False) -> DataExport | None:
        row = await first_row(self._s, DATA_EXPORTS, DATA_EXPORTS.c.id == export_id, lock=lock)
        return export_from_row(row) if row else None

    async def save(self, export: DataExport) -> None:
        values = row_values(export)
        await self._s.execute(update(DATA_EXPORTS).where(DATA_EXPORTS.c.id == export.id).values(**values))

    async def expired(self, now: datetime, limit: int) -> list[DataExport]:
        query = (
            select(DATA_EXPORTS)
            .where(DATA_EXPORTS.c.status == ExportStatus.READY, DATA_EXPORTS.c.expires_at <= now)
            .order_by(DATA_EXPORTS.c.expires_at)
            .limit(limit)
        )
        return [export_from_row(row) for row in await self._s.execute(query)]

    async def stale(self, created_before: datetime, limit: int) -> list[DataExport]:
        query = (
            select(DATA_EXPORTS)
            .where(DATA_EXPORTS.c.status == ExportStatus.PENDING, DATA_EXPORTS.c.created_at < created_before)
            .order_by(DATA_EXPORTS.c.created_at)
            .limit(limit)
        )
        return [export_from_row(row) for row in await self._s.execute(query)]

    async def delete(self, export_id: UUID) -> None:
        await self._s.execute(delete(DATA_EXPORTS).where(DATA_EXPORTS.c.id == export_id))
