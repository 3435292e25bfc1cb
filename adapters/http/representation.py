"""Encoded representations with strong ETags, conditional requests (RFC 9110 §13), and the
read-through cache of representations."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from adapters.http.asgi import App, Receive, Scope, Send
from adapters.http.ratelimit import PREFETCHED, prefetched
from domain.shared.errors import PreconditionFailed
from domain.shared.ports import Cache

T = TypeVar("T")

JSON = "application/json"
STALE = "The resource has changed since it was read (If-Match)"
_ENCODER = msgspec.json.Encoder()
_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description="Apply the change only if the resource still has this ETag (else 412)",
    ),
]
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match",
        required=False,
        description="ETag(s) the client holds: 304 without a body when one is current",
    ),
]
ETAG = [ResponseHeader(name="ETag", description="Strong entity tag of this representation", documentation_only=True)]

NOT_MODIFIED: dict[int, ResponseSpec] = {
    304: ResponseSpec(data_container=None, description="Not modified: the `If-None-Match` tag is current")
}


def etag_of(body: bytes) -> str:
    """A strong entity tag: a 128-bit digest of the exact bytes sent."""
    digest = hashlib.blake2b(body, digest_size=16).digest()
    return '"' + base64.urlsafe_b64encode(digest).rstrip(b"=").decode() + '"'


@dataclass(frozen=True, slots=True)
class Representation:
    """A response body as sent, its ETag, and (for pages) its `Link` header."""

    body: bytes
    etag: str
    link: str | None = None

    @classmethod
    def of(cls, value: Any, link: str | None = None) -> Representation:
        body = _ENCODER.encode(value)
        return cls(body=body, etag=etag_of(body), link=link)

    def pack(self) -> bytes:
        # Neither an ETag nor a Link header holds a newline; compact JSON escapes them.
        return b"\n".join((self.etag.encode(), (self.link or "").encode(), self.body))

    @classmethod
    def unpack(cls, packed: bytes) -> Representation:
        etag, link, body = packed.split(b"\n", 2)
        return cls(body=body, etag=etag.decode(), link=link.decode() or None)


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """The (weak, opaque-tag) pairs of an If-Match / If-None-Match list; None for `*`."""
    if header.strip() == "*":
        return None
    return [(bool(weak), tag) for weak, tag in _ENTITY_TAG.findall(header)]


def none_match(header: str | None, etag: str) -> bool:
    """True when `If-None-Match` names the current representation (weak comparison)."""
    if header is None:
        return False
    tags = _tags(header)
    return tags is None or any(tag == etag for _, tag in tags)


def respond(representation: Representation, status: int = 200, *, if_none_match: str | None = None) -> Response[Any]:
    """The representation with its ETag (and Link); 304 without a body when the client has it."""
    headers = {"ETag": representation.etag}
    if none_match(if_none_match, representation.etag):
        return Response(content=b"", status_code=304, headers=headers)
    if representation.link:
        headers["Link"] = representation.link
    return Response(content=representation.body, status_code=status, media_type=JSON, headers=headers)


def if_match(header: str | None, represent: Callable[[T], Any]) -> Callable[[T], None] | None:
    """The `If-Match` precondition as a check of the current entity, or None when not sent.

    Strong comparison: a weak tag never matches; `*` matches any current representation.
    """
    if header is None:
        return None
    tags = _tags(header)

    def check(current: T) -> None:
        if tags is None:
            return
        etag = Representation.of(represent(current)).etag
        if not any(not weak and tag == etag for weak, tag in tags):
            raise PreconditionFailed(STALE)

    return check


def query_key(scope: Any, parameters: frozenset[str], prefix: str = "") -> str | None:
    """A cache key for a response shaped by its path and whole query (a `Link` header repeats the
    query in its order); None when the query holds a parameter outside `parameters`, since every
    invented parameter would otherwise make a new entry."""
    query = scope["query_string"].decode("latin-1")
    names = {pair.partition("=")[0] for pair in query.split("&") if pair}
    if not names <= parameters:
        return None
    return f"{prefix}{scope['path']}?{query}"


async def read_through(
    cache: Cache,
    namespace: str,
    key: str | None,
    ttl: float,
    load: Callable[[], Awaitable[tuple[Representation, bool]]],
    *,
    scope: Mapping[str, object] | None = None,
) -> Representation:
    """The cached representation, or `load()`'s, stored when it says it may be shared.

    The cache's stamp is taken before loading, so a write that commits meanwhile (and
    invalidates the namespace) makes the fill a no-op instead of storing what it replaced. A cold
    entry is loaded once however many requests miss it together (the cache's single flight).
    A `ttl` of 0, or no key, reads around the cache. The read the rate limiter made with the
    request's count (in `scope`), when it was of this entry, serves instead of a second one.
    """
    if ttl <= 0 or key is None:
        representation, _ = await load()
        return representation
    cached = (prefetched(scope, namespace, key) if scope is not None else None) or await cache.get(namespace, key)
    if cached.value is not None:
        return Representation.unpack(cached.value)
    if cached.stamp is None:  # the cache could not be read: no filling, and no waiting on others
        representation, _ = await load()
        return representation
    own: list[Representation] = []

    async def packed() -> tuple[bytes, bool]:
        representation, shareable = await load()
        own.append(representation)
        return representation.pack(), shareable

    shared = await cache.fill(namespace, key, packed, stamp=cached.stamp, ttl=ttl)
    return own[0] if shared is None else Representation.unpack(shared)


class PrefetchedAnswerMiddleware:
    """Answers a read whose shared cache entry the rate limiter read with the request's count
    (an anonymous catalog read, `public_cache_key`), before the route's handler runs: the route
    would answer with exactly this entry, since the entry's name follows from the path and query
    alone and only a request that passed the route's checks ever filled it. The answer is
    `respond`'s, byte for byte (a test compares the two); the handler machinery is skipped.
    Innermost, so every other middleware (edge, metrics, limits, envelope) sees it as usual."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state")
        found = state.get(PREFETCHED) if isinstance(state, dict) else None
        if found is None or found[2].value is None:
            await self.app(scope, receive, send)
            return
        representation = Representation.unpack(found[2].value)
        etag = representation.etag.encode()
        if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if none_match(if_none_match.decode("latin-1") if if_none_match is not None else None, representation.etag):
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = representation.body
        headers = [(b"etag", etag)]
        if representation.link:
            headers.append((b"link", representation.link.encode("latin-1")))
        headers += [(b"content-type", JSON.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
