"""The one pagination helper: `page`/`page_size`/`cursor` parameters, the page object, the `Link`
header (API §3).

A cursor is opaque to clients: the sort key of the last item of a page, and a binding to the list
it came from (the path, the other query parameters, the page size), base64url-encoded JSON. A
cursor that is malformed or was made for another list is `422` on `query.cursor`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar import Request, Response
from litestar.params import QueryParameter

from domain.shared.pagination import (
    CURSOR_ELSEWHERE,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    InvalidCursor,
    Page,
    PageParams,
    SortKey,
)

T = TypeVar("T")
E = TypeVar("E")

PAGING = ("page", "page_size", "cursor")
MAX_CURSOR = 1024


class PageResponse(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    page: int | None  # null for a page asked for by cursor
    page_size: int
    total_pages: int
    next_cursor: str | None  # to ask for the page after this one; null on the last page


def _binding(path: str, query: Sequence[tuple[str, str]], page_size: int) -> str:
    """What a cursor is bound to: the list (its path and its other parameters) and the page size."""
    others = sorted((k, v) for k, v in query if k not in PAGING)
    digest = hashlib.sha256(json.dumps([path, others, page_size]).encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": value.hex}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a sort key of type {type(value).__name__} cannot go in a cursor")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((kind, text),) = value.items()
        if isinstance(text, str):
            if kind == "t":
                moment = datetime.datetime.fromisoformat(text)
                if moment.tzinfo is None:
                    raise ValueError("a naive time")
                return moment
            if kind == "u":
                return uuid.UUID(hex=text)
            if kind == "d":
                return Decimal(text)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError("not a sort key")


def make_cursor(path: str, query: Sequence[tuple[str, str]], page_size: int, key: SortKey) -> str:
    payload = json.dumps({"b": _binding(path, query, page_size), "k": [_encode_value(v) for v in key]})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def read_cursor(cursor: str, path: str, query: Sequence[tuple[str, str]], page_size: int) -> SortKey:
    """The sort key a cursor holds; FieldsInvalid (422 on `query.cursor`) when it is malformed or
    was made for another list."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        binding, values = payload["b"], payload["k"]
        if not isinstance(values, list) or not values:
            raise ValueError("no sort key")
        key = tuple(_decode_value(value) for value in values)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor from None
    if binding != _binding(path, query, page_size):
        raise InvalidCursor(CURSOR_ELSEWHERE)
    return key


async def page_params(
    request: Request[Any, Any, Any],
    page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    page_size: Annotated[
        int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Items per page (1..100)")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        QueryParameter(
            max_length=MAX_CURSOR,
            description=(
                "A previous page's `next_cursor`: the page right after it, at the same cost at any depth "
                "(`page` is then ignored). Bound to this list, its filters and `page_size`."
            ),
        ),
    ] = None,
) -> PageParams:
    if not cursor:
        return PageParams(page=page, page_size=page_size)
    after = read_cursor(cursor, request.url.path, request_query(request), page_size)
    return PageParams(page=page, page_size=page_size, after=after)


def link_header(
    path: str,
    query: Sequence[tuple[str, str]],
    page: int | None,
    page_size: int,
    total_pages: int,
    *,
    next_cursor: str | None = None,
) -> str | None:
    """RFC 8288 links: the path, the other query parameters in order, then page and page_size. A
    page asked for by cursor links its next page by cursor (its own number is not known)."""
    if total_pages < 1:
        return None
    others = [(k, v) for k, v in query if k not in PAGING]

    def target(n: int) -> str:
        return f"{path}?{urlencode([*others, ('page', str(n)), ('page_size', str(page_size))])}"

    links = [f'<{target(1)}>; rel="first"']
    if page is None:
        if next_cursor is not None:
            after = urlencode([*others, ("cursor", next_cursor), ("page_size", str(page_size))])
            links.append(f'<{path}?{after}>; rel="next"')
    else:
        if page > 1:
            links.append(f'<{target(min(page - 1, total_pages))}>; rel="prev"')
        if page < total_pages:
            links.append(f'<{target(page + 1)}>; rel="next"')
    links.append(f'<{target(total_pages)}>; rel="last"')
    return ", ".join(links)


def request_query(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """The query parameters in the client's order, from the raw query string, so that one request
    gets the same `Link` bytes (and ETag) from every process."""
    return parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)


def _next_cursor(request: Request[Any, Any, Any], page: Page[Any], path: str | None) -> str | None:
    if page.next_key is None:
        return None
    return make_cursor(path or request.url.path, request_query(request), page.page_size, page.next_key)


def page_of(
    page: Page[E], convert: Callable[[E], T], request: Request[Any, Any, Any], *, path: str | None = None
) -> PageResponse[T]:
    return PageResponse(
        items=[convert(item) for item in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
        total_pages=page.total_pages,
        next_cursor=_next_cursor(request, page, path),
    )


def page_link(request: Request[Any, Any, Any], page: Page[Any], *, path: str | None = None) -> str | None:
    """The `Link` header of a page of the list at `path` (default: the request's own path)."""
    return link_header(
        path or request.url.path,
        request_query(request),
        page.page,
        page.page_size,
        page.total_pages,
        next_cursor=_next_cursor(request, page, path),
    )


def page_response(
    request: Request[Any, Any, Any],
    page: Page[E],
    convert: Callable[[E], T],
    *,
    path: str | None = None,
) -> Response[PageResponse[T]]:
    link = page_link(request, page, path=path)
    return Response(page_of(page, convert, request, path=path), headers={"Link": link} if link else None)
