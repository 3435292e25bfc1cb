"""Which API-key scope each route needs (API §10.4), by path and method: one table that the guard
enforces and the OpenAPI document declares. Reads are GET and HEAD; everything else writes."""

from __future__ import annotations

from domain.identity.api_keys import NOT_WITH_A_KEY, lacks_scope
from domain.shared.errors import Forbidden

NOT_WITH_KEYS = "-"  # a route a key may never use: sign-in, passwords, MFA, identities, keys
# (path prefix, scope to read, scope to write), the most specific first; None needs no scope. A
# `*` segment stands for any one segment (an id).
ROUTE_SCOPES: tuple[tuple[str, str | None, str | None], ...] = (
    ("/api/v1/courses/*/grading-queue", "grades:read", "grades:write"),
    ("/api/v1/courses/*/gradebook", "grades:read", "grades:write"),
    ("/api/v1/courses/*/gradebook.csv", "grades:read", "grades:write"),
    ("/api/v1/enrollments/*/grades", "grades:read", "grades:write"),
    ("/api/v1/courses/*/roster", "enrollments:read", "enrollments:write"),
    ("/api/v1/auth/me", None, None),
    ("/api/v1/auth/token-info", None, None),
    ("/api/v1/auth/ws-ticket", None, None),
    ("/api/v1/auth/", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/api-keys", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/users/me/password", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/users/me/identities", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/users/me/notification-preferences", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/notifications", NOT_WITH_KEYS, NOT_WITH_KEYS),
    # Personal data rights are exercised by the person (or an admin) signed in, never by a key.
    ("/api/v1/users/me/export", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/users/me/exports", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/users/*/export", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/users/*/exports", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/users/*/erase", NOT_WITH_KEYS, NOT_WITH_KEYS),
    ("/api/v1/users/me", None, None),
    ("/api/v1/users", "users:read", "users:write"),
    ("/api/v1/courses", "courses:read", "courses:write"),
    ("/api/v1/lessons", "courses:read", "courses:write"),
    ("/api/v1/enrollments", "enrollments:read", "enrollments:write"),
    ("/api/v1/quizzes", "grades:read", "grades:write"),
    ("/api/v1/assignments", "grades:read", "grades:write"),
    ("/api/v1/submissions", "grades:read", "grades:write"),
    ("/api/v1/attempts", "grades:read", "grades:write"),
    ("/api/v1/certificates", "grades:read", "grades:write"),
    ("/api/v1/analytics", "analytics:read", NOT_WITH_KEYS),
    ("/api/v1/files", "files:read", "files:write"),
    ("/api/v1/webhooks", "webhooks:read", NOT_WITH_KEYS),
)


def scope_for(method: str, path: str) -> str | None:
    """The scope a key needs here, None for none, NOT_WITH_KEYS where keys are refused (and for
    any route the table does not know, so a new route is closed to keys until it is listed)."""
    reading = method.upper() in ("GET", "HEAD")
    for prefix, read, write in ROUTE_SCOPES:
        if _matches(prefix, path):
            return read if reading else write
    return NOT_WITH_KEYS


def _matches(prefix: str, path: str) -> bool:
    if "*" in prefix:
        wanted, given = prefix.split("/"), path.rstrip("/").split("/")
        return len(given) >= len(wanted) and all(w in ("*", g) for w, g in zip(wanted, given, strict=False))
    return path == prefix.rstrip("/") or path.startswith(prefix if prefix.endswith("/") else prefix + "/")


def require_scope(method: str, path: str, scopes: frozenset[str]) -> None:
    needed = scope_for(method, path)
    if needed == NOT_WITH_KEYS:
        raise Forbidden(NOT_WITH_A_KEY)
    if needed is not None and needed not in scopes:
        raise Forbidden(lacks_scope(needed))
