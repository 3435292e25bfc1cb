"""Pages of rows: one statement for the page and its total."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from domain.shared.pagination import Page, PageParams


async def page_of_rows(engine: AsyncEngine, query: Select[Any], params: PageParams, convert: Any) -> Page[Any]:
    """A page read on its own connection."""
    async with engine.connect() as conn:
        return await page_in(conn, query, params, convert)


async def page_in(
    executor: AsyncConnection | AsyncSession, query: Select[Any], params: PageParams, convert: Any
) -> Page[Any]:
    """The page and the total in one statement (a window count); a second one only past the end."""
    counted = query.add_columns(func.count().over().label("_total")).offset(params.offset).limit(params.page_size)
    rows = (await executor.execute(counted)).all()
    if rows:
        total = int(rows[0]._total)
    else:
        total = int((await executor.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
    return Page(items=[convert(row) for row in rows], total=total, page=params.page, page_size=params.page_size)
