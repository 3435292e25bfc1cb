"""What every response carries (API §1.7, §7.14): request id, security headers, no-store on auth.

Applied with Litestar's `before_send`, so it also reaches responses no route produced (404, 405).
"""

from __future__ import annotations

import re
import uuid

from litestar.datastructures import MutableScopeHeaders

from adapters.http.asgi import Message, Scope

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
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
        rid = candidate if _REQUEST_ID.fullmatch(candidate) else uuid.uuid4().hex
        state["request_id"] = rid
    return str(rid)


async def add_edge_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)  # type: ignore[arg-type]
    path: str = scope.get("path", "")
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    if path.startswith("/schema"):
        headers["content-security-policy"] = DOCS_CSP
    if scope.get("scheme") == "https":
        headers["strict-transport-security"] = HSTS
    if path.startswith("/api/v1/auth/"):
        headers["cache-control"] = "no-store"
    headers["x-request-id"] = request_id(scope)
