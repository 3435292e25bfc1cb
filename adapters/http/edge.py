"""What every response carries (API §1.7, §7.14): request id, security headers, and caching rules:
`no-store` on auth, and `private` on every answer to a request that carried credentials.

Applied with Litestar's `before_send`, so it also reaches responses no route produced (404, 405).
"""

from __future__ import annotations

import random
import re

from adapters.http.asgi import Message, Scope

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_random = random.Random()  # noqa: S311 (request ids are not secrets)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-permitted-cross-domain-policies": "none",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "content-security-policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
}
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


def request_id(scope: Scope) -> str:
    """The request's id: the client's `X-Request-ID` when well-formed, else a new one; memoised."""
    state = scope.setdefault("state", {})
    rid = state.get("request_id")
    if rid is None:
        sent = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), None)
        candidate = sent.decode("latin-1") if sent else ""
        # Request ids need to be unique, not secret: a PRNG avoids a urandom syscall per request.
        rid = candidate if _REQUEST_ID.fullmatch(candidate) else f"{_random.getrandbits(128):032x}"
        state["request_id"] = rid
    return str(rid)


_SECURITY_RAW = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_DOCS_RAW = [(k, DOCS_CSP.encode() if k == b"content-security-policy" else v) for k, v in _SECURITY_RAW]
_OWN = {k for k, _ in _SECURITY_RAW} | {b"strict-transport-security", b"x-request-id"}
NO_STORE = (b"cache-control", b"no-store")
# An answer for one signed-in caller: never kept by a shared cache, and by the browser only when
# it can revalidate it (its ETag, with If-None-Match).
PRIVATE_NO_STORE = (b"cache-control", b"private, no-store")
PRIVATE_REVALIDATE = (b"cache-control", b"private, no-cache")
_CREDENTIALS = (b"authorization", b"cookie", b"x-api-key")


def _signed_in(scope: Scope) -> bool:
    return any(name in _CREDENTIALS for name, _ in scope.get("headers", ()))


async def add_edge_headers(message: Message, scope: Scope) -> None:
    """Append the edge headers as raw bytes: this runs on every response, so it avoids re-parsing.

    `Cache-Control`: `no-store` on everything under `/api/v1/auth/` (tokens, secrets); a route's
    own value otherwise; and, on an answer to a request that carried credentials and set none,
    `private, no-cache` when it has an ETag to revalidate with, else `private, no-store`."""
    if message["type"] != "http.response.start":
        return
    path: str = scope.get("path", "")
    headers = [h for h in message.get("headers", ()) if h[0] not in _OWN]
    headers.extend(_DOCS_RAW if path.startswith("/schema") else _SECURITY_RAW)
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", HSTS.encode()))
    if path.startswith("/api/v1/auth/"):
        headers = [h for h in headers if h[0] != b"cache-control"]
        headers.append(NO_STORE)
    elif _signed_in(scope) and not any(name == b"cache-control" for name, _ in headers):
        etag = any(name == b"etag" for name, _ in headers)
        headers.append(PRIVATE_REVALIDATE if etag else PRIVATE_NO_STORE)
    headers.append((b"x-request-id", request_id(scope).encode()))
    message["headers"] = headers
