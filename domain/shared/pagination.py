"""Page requests and page results shared by every list use case (API §3).

A page is asked for by number (`page`, an offset) or, with a cursor, as the page that follows an
item: `after` holds that item's sort key (its values of the list's order columns), and the page
continues right after it at the same cost at any depth (keyset paging). Every page says the sort
key of its last item when more items follow (`next_key`), from which the HTTP adapter makes the
next cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from domain.shared.errors import VALIDATION_FAILED, FieldError, FieldsInvalid

T = TypeVar("T")

MAX_PAGE_SIZE = 100
# The largest page number: its offset ((page - 1) * page_size) always fits a 64-bit integer, and the
# bound itself fits the 32-bit integers generated clients use.
MAX_PAGE = 2_147_483_647
DEFAULT_PAGE_SIZE = 20

SortKey = tuple[Any, ...]

CURSOR_INVALID = "Invalid cursor"
CURSOR_ELSEWHERE = "This cursor belongs to another list (other filters, page size or route)"


class InvalidCursor(FieldsInvalid):
    """A cursor that is malformed, holds a sort key that does not fit its list's order, or was
    made for another list (422 on `query.cursor`)."""

    def __init__(self, message: str = CURSOR_INVALID) -> None:
        super().__init__(VALIDATION_FAILED, [FieldError("query.cursor", message)])


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    after: SortKey | None = None  # from a cursor: the page after the item with this sort key

    @property
    def offset(self) -> int:
        return 0 if self.after is not None else (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int | None  # None for a page asked for by cursor: its number is not known
    page_size: int
    next_key: SortKey | None = None  # the last item's sort key, when more items follow

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.page_size) if self.total else 0


def page_of_list(
    items: Sequence[T], params: PageParams, key: Callable[[T], SortKey], *, descending: bool = False
) -> Page[T]:
    """A page of a list held in memory, ordered by `key` (ascending unless `descending`)."""
    start = params.offset
    if params.after is not None:
        after = params.after
        start = next(
            (n for n, item in enumerate(items) if (key(item) < after if descending else key(item) > after)),
            len(items),
        )
    chosen = list(items[start : start + params.page_size])
    more = start + params.page_size < len(items)
    return Page(
        items=chosen,
        total=len(items),
        page=None if params.after is not None else params.page,
        page_size=params.page_size,
        next_key=key(chosen[-1]) if chosen and more else None,
    )
