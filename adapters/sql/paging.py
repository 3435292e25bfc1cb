"""Pages of rows: one statement for the page and its exact total, at a cost that grows with the
page, not with the table (API §3).

The total is a scalar subquery beside the page's columns (PostgreSQL runs it once, as an InitPlan):
a count of the same filtered rows, which the filters' indexes serve, never a window over every
matching row (`count(*) OVER ()` reads and stores them all before the first row comes back, and
steers the planner off the indexes). For the big unfiltered lists the caller passes a count the
writes keep (`kept_count`) instead. A page past the end has no row to carry the total: then it is
read on its own.

A page asked for by number past the first finds its rows' sort keys first, skipping the earlier
ones in the list's index alone, then joins the page's rows to them (a deferred join: the rows
skipped are never read from the table). A page asked for by cursor continues after the sort key
of the previous page's last row (keyset: `WHERE (created_at, id) < (:a, :b)` in the list's order,
served by the same index at any depth).
The sort key is read from the statement's own `ORDER BY`, whose columns are the row's. One row more
than the page is read, to know whether another page follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    UnaryExpression,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql import operators

from adapters.sql.prepared import PreparedReads
from domain.shared.pagination import InvalidCursor, Page, PageParams, SortKey

TOTAL = "_total"


def counted(query: Select[Any]) -> ColumnElement[Any]:
    """The number of rows `query` selects, as a scalar subquery: its rows without their columns
    (a column computed per row, such as a quiz's totals, costs nothing here) or their order."""
    rows: Select[Any] = query.with_only_columns(literal_column("1"), maintain_column_froms=True).order_by(None)
    return select(func.count()).select_from(rows.subquery()).scalar_subquery()


def kept_count(counts: Table, name: str) -> ColumnElement[Any]:
    """A total the writes keep (the `row_counts` table, maintained by triggers in the same
    transaction as every insert, update and delete of the counted table)."""
    return select(counts.c.n).where(counts.c.name == name).scalar_subquery()


@dataclass(frozen=True, slots=True)
class _Order:
    """A statement's order: each column, and whether it runs newest (highest) first."""

    columns: tuple[Any, ...]
    descending: tuple[bool, ...]

    @classmethod
    def of(cls, query: Select[Any]) -> _Order:
        columns, descending = [], []
        for clause in query._order_by_clauses:  # the statement's own ORDER BY
            down = isinstance(clause, UnaryExpression) and clause.modifier is operators.desc_op
            columns.append(clause.element if isinstance(clause, UnaryExpression) else clause)
            descending.append(down)
        if not columns:
            raise ValueError("a paged statement needs an ORDER BY of its own columns")
        return cls(tuple(columns), tuple(descending))

    @property
    def on_tables(self) -> bool:
        return all(isinstance(getattr(column, "table", None), Table) for column in self.columns)

    def deferred(self, page: Select[Any], query: Select[Any], params: PageParams) -> Select[Any]:
        """A page at an offset, found on the sort key alone (which the list's index holds, so the
        rows skipped are read from the index only), then joined to its rows."""
        keys = (
            query.with_only_columns(*self.columns, maintain_column_froms=True)
            .offset(params.offset)
            .limit(params.page_size + 1)
            .subquery("page_keys")
        )
        return page.join(keys, and_(*(column == keys.c[column.key] for column in self.columns)))

    def key(self, row: Any) -> SortKey:
        return tuple(getattr(row, column.key) for column in self.columns)

    def after(self, values: list[ColumnElement[Any]]) -> ColumnElement[bool]:
        """Rows after the one whose sort key is `values`, in this order."""
        if len(set(self.descending)) == 1:  # one direction: a row comparison, which indexes serve
            pair = tuple_(*self.columns), tuple_(*values)
            return pair[0] < pair[1] if self.descending[0] else pair[0] > pair[1]
        alternatives = []
        for n, (column, down) in enumerate(zip(self.columns, self.descending, strict=True)):
            equal = [c == v for c, v in zip(self.columns[:n], values[:n], strict=True)]
            alternatives.append(and_(*equal, column < values[n] if down else column > values[n]))
        return or_(*alternatives)

    def checked(self, key: SortKey) -> SortKey:
        """The key of a cursor, when it fits this order (a value of each column's type);
        InvalidCursor otherwise (a cursor from another order, or made by hand)."""
        if len(key) != len(self.columns) or not all(map(_fits, self.columns, key)):
            raise InvalidCursor
        return key

    def literals(self, key: SortKey) -> list[ColumnElement[Any]]:
        pairs = zip(self.columns, self.checked(key), strict=True)
        return [bindparam(None, value, type_=column.type) for column, value in pairs]


def _fits(column: Any, value: Any) -> bool:
    if value is None:
        return bool(column.nullable)
    try:
        expected = column.type.python_type
    except NotImplementedError:  # a type that does not say: the driver judges
        return True
    return isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)


def _page_of(rows: Any, total: int, params: PageParams, order: _Order, convert: Any) -> Page[Any]:
    shown = rows[: params.page_size]
    more = len(rows) > params.page_size
    return Page(
        items=[convert(row) for row in shown],
        total=total,
        page=None if params.after is not None else params.page,
        page_size=params.page_size,
        next_key=order.key(shown[-1]) if more else None,
    )


async def page_of_rows(
    engine: AsyncEngine,
    query: Select[Any],
    params: PageParams,
    convert: Any,
    *,
    total: ColumnElement[Any] | None = None,
) -> Page[Any]:
    """A page read on its own connection."""
    async with engine.connect() as conn:
        return await page_in(conn, query, params, convert, total=total)


async def page_in(
    executor: AsyncConnection | AsyncSession,
    query: Select[Any],
    params: PageParams,
    convert: Any,
    *,
    total: ColumnElement[Any] | None = None,
) -> Page[Any]:
    """The page and its total in one statement; a second one only past the end."""
    order = _Order.of(query)
    count = total if total is not None else counted(query)
    page = query.add_columns(count.label(TOTAL))
    if params.after is not None:
        page = page.where(order.after(order.literals(params.after))).limit(params.page_size + 1)
    elif params.offset and order.on_tables:
        page = order.deferred(page, query, params)
    else:
        page = page.offset(params.offset).limit(params.page_size + 1)
    rows = (await executor.execute(page)).all()
    if rows:
        return _page_of(rows, int(getattr(rows[0], TOTAL)), params, order, convert)
    found = int((await executor.execute(select(count))).scalar_one())
    return _page_of(rows, found, params, order, convert)


class PagedQuery:
    """A page statement built once, with bound parameters (`:offset`, `:limit`, the sort key of a
    cursor, and the query's own), read as a prepared read: for hot reads, where building and keying
    a statement per call costs more than running it. Answers as `page_in` does."""

    def __init__(self, query: Select[Any], *, total: ColumnElement[Any] | None = None) -> None:
        self._order = _Order.of(query)
        count = total if total is not None else counted(query)
        page = query.add_columns(count.label(TOTAL))
        self._page = page.offset(bindparam("offset", type_=BigInteger)).limit(bindparam("limit", type_=BigInteger))
        keys = [
            bindparam(f"after_{n}", type_=column.type) for n, column in enumerate(self._order.columns)
        ]  # fmt: skip
        self._after = page.where(self._order.after(list(keys))).limit(bindparam("limit", type_=BigInteger))
        self._count = select(count.label("total"))

    async def page(self, reads: PreparedReads, params: PageParams, convert: Any, **binds: Any) -> Page[Any]:
        limit = {"limit": params.page_size + 1}
        if params.after is None:
            rows = await reads.rows(self._page, {**binds, **limit, "offset": params.offset})
        else:
            after = {f"after_{n}": value for n, value in enumerate(self._order.checked(params.after))}
            rows = await reads.rows(self._after, {**binds, **limit, **after})
        if rows:
            return _page_of(rows, int(getattr(rows[0], TOTAL)), params, self._order, convert)
        (count,) = await reads.rows(self._count, binds)
        return _page_of(rows, int(count.total), params, self._order, convert)
