"""Pages of rows: one statement for the page and its total."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from adapters.sql.prepared import PreparedReads
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
        return _page_of(rows, int(rows[0]._total), params, convert)
    total = int((await executor.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
    return _page_of(rows, total, params, convert)


def _page_of(rows: Any, total: int, params: PageParams, convert: Any) -> Page[Any]:
    return Page(items=[convert(row) for row in rows], total=total, page=params.page, page_size=params.page_size)


class PagedQuery:
    """A page statement built once, with bound parameters (`:offset`, `:limit` and the query's
    own), read as a prepared read: for hot reads, where building and keying a statement per call
    costs more than running it. Answers as `page_in` does."""

    def __init__(self, query: Select[Any]) -> None:
        self._page = (
            query.add_columns(func.count().over().label("_total"))
            .offset(bindparam("offset", type_=BigInteger))
            .limit(bindparam("limit", type_=BigInteger))
        )
        self._count = select(func.count().label("total")).select_from(query.subquery())

    async def page(self, reads: PreparedReads, params: PageParams, convert: Any, **binds: Any) -> Page[Any]:
        rows = await reads.rows(self._page, {**binds, "offset": params.offset, "limit": params.page_size})
        if rows:
            return _page_of(rows, int(rows[0]._total), params, convert)
        (count,) = await reads.rows(self._count, binds)
        return _page_of(rows, int(count.total), params, convert)
