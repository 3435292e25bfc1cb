"""The one pagination helper: `page`/`page_size` parameters, the page object, the `Link` header."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

import msgspec
from litestar import Request, Response
from litestar.params import QueryParameter

from domain.shared.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, Page, PageParams

T = TypeVar("T")
E = TypeVar("E")


class PageResponse(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    total_pages: int


async def page_params(
    page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    page_size: Annotated[
        int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Items per page (1..100)")
    ] = DEFAULT_PAGE_SIZE,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


def link_header(path: str, query: Sequence[tuple[str, str]], page: int, page_size: int, total_pages: int) -> str | None:
    """RFC 8288 links: the path, the other query parameters in order, then page and page_size."""
    if total_pages < 1:
        return None
    others = [(k, v) for k, v in query if k not in ("page", "page_size")]

    def target(n: int) -> str:
        return f"{path}?{urlencode([*others, ('page', str(n)), ('page_size', str(page_size))])}"

    links = [f'<{target(1)}>; rel="first"']
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


def page_of(page: Page[E], convert: Callable[[E], T]) -> PageResponse[T]:
    return PageResponse(
        items=[convert(item) for item in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
        total_pages=page.total_pages,
    )


def page_link(request: Request[Any, Any, Any], page: Page[Any], *, path: str | None = None) -> str | None:
    """The `Link` header of a page of the list at `path` (default: the request's own path)."""
    return link_header(
        path or request.url.path,
        request_query(request),
        page.page,
        page.page_size,
        page.total_pages,
    )


def page_response(
    request: Request[Any, Any, Any],
    page: Page[E],
    convert: Callable[[E], T],
    *,
    path: str | None = None,
) -> Response[PageResponse[T]]:
    link = page_link(request, page, path=path)
    return Response(page_of(page, convert), headers={"Link": link} if link else None)
