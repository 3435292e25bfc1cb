"""Fixed-window rate limits (API §7.13), counted per (rule, client) in the key-value store.

If the store fails, limiting degrades open with a warning: an outage of Redis must not take the
API down with it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import msgspec

from adapters.http.asgi import App as ASGIApp
from adapters.http.asgi import Message, Receive, Scope, Send
from adapters.http.problems import send_problem
from domain.identity.api_keys import is_api_key
from domain.identity.blacklist import RevocationCheck, TokenBlacklist
from domain.identity.lockout import LockoutCheck, keys
from domain.identity.policy import normalize_email
from domain.shared.ports import Cached, KeyValueStore, KeyValueUnavailable, WindowHit
from domain.shared.telemetry import NULL_METER, Meter

log = logging.getLogger("lms.ratelimit")

AUTH_PATHS = frozenset(
    {
        "/api/v1/auth/login",
        "/api/v1/auth/token",
        "/api/v1/auth/login/mfa",
        "/api/v1/auth/mfa/login",
        "/api/v1/auth/login-cookie",
        "/api/v1/auth/login-cookie/mfa",
    }
)
# The browser-session cookies (API §10.2) and the header that echoes the CSRF one.
ACCESS_COOKIE = "lms_access"
REFRESH_COOKIE = "lms_refresh"
CSRF_COOKIE = "lms_csrf"
CSRF_HEADER = "x-csrf-token"
API_KEY_HEADER = "x-api-key"
_API_KEY_NAME = API_KEY_HEADER.encode()
# Password sign-ins whose email's lock state is read with the count (API §10.1), and the body
# member that holds the email.
EMAIL_SIGN_INS = {"/api/v1/auth/login": "email", "/api/v1/auth/token": "username", "/api/v1/auth/login-cookie": "email"}
LOCKOUT_PRECHECK = "lockout_precheck"  # scope state: the email's lock state read with the count
_PEEK_LIMIT = 16 * 1024  # sign-in bodies are small; a larger one is left to the handler to refuse
UPLOAD_PATH = "/api/v1/files/upload"
# Probes, metrics, and the payment provider's events: a busy shop's provider sends more than a
# client's share from a few addresses, and each event's signature is checked (an HMAC) before
# anything else is done with it.
EXEMPT_EXACT = frozenset({"/", "/api/v1/health", "/api/v1/ready", "/metrics", "/api/v1/payments/stripe/webhook"})


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    count: int
    seconds: int


@dataclass(frozen=True, slots=True)
class Rules:
    global_: Rule
    auth: Rule
    upload: Rule


# The verified, unexpired claims of a Bearer access token, or None.
BearerClaims = Callable[[str], Awaitable[dict[str, Any] | None]]
PRECHECK = "revocation_precheck"  # scope state: the blacklist answer read with the count
# The cache entry (namespace, key) an anonymous request will read, known from its path and query.
CacheKeyOf = Callable[[Scope], tuple[str, str] | None]
# A window hit and a cache read in one round trip: (counter key, window, namespace, key).
CountedGet = Callable[[str, float, str, str], Awaitable[tuple[WindowHit, Cached]]]
PREFETCHED = "cache_prefetched"  # scope state: (namespace, key, Cached) read with the count


def lockout_precheck(scope: Mapping[str, object]) -> LockoutCheck | None:
    """The email's lock state read with this request's count, if it was."""
    state = scope.get("state")
    found = state.get(LOCKOUT_PRECHECK) if isinstance(state, dict) else None
    return found if isinstance(found, LockoutCheck) else None


async def _peek(receive: Receive) -> tuple[Receive, bytes | None]:
    """The request body (None when it is larger than the peek limit or the client left), and a
    receive that hands the application every message again."""
    messages: list[Message] = []
    body = b""
    complete = False
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            complete = True
            break
        if len(body) > _PEEK_LIMIT:
            break

    async def again() -> Message:
        return messages.pop(0) if messages else await receive()

    return again, body if complete and len(body) <= _PEEK_LIMIT else None


def _email_in(body: bytes, member: str, form: bool) -> str | None:
    """The sign-in email in a JSON or form body, normalised; None when there is none to read."""
    try:
        if form:
            values = parse_qs(body.decode(), max_num_fields=8).get(member)
            found: object = values[0] if values else None
        else:
            decoded = msgspec.json.decode(body)
            found = decoded.get(member) if isinstance(decoded, dict) else None
    except (ValueError, msgspec.DecodeError):
        return None
    return normalize_email(found) if isinstance(found, str) and 0 < len(found) <= 320 else None


def prefetched(scope: Mapping[str, object], namespace: str, key: str) -> Cached | None:
    """The cache read made with this request's count, when it was of this entry."""
    state = scope.get("state")
    found = state.get(PREFETCHED) if isinstance(state, dict) else None
    return found[2] if isinstance(found, tuple) and found[:2] == (namespace, key) else None


def _normal(path: str) -> str:
    return path.rstrip("/") or "/"


def choose_rule(method: str, path: str, rules: Rules) -> Rule | None:
    path = _normal(path)
    if path in EXEMPT_EXACT or path == "/schema" or path.startswith("/schema/"):
        return None
    if method == "POST" and path in AUTH_PATHS:
        return rules.auth
    if method == "POST" and path == UPLOAD_PATH:
        return rules.upload
    return rules.global_


def bearer_of(scope: Scope) -> str | None:
    """The access token of a request: its Bearer credential, else its access cookie (API §10.2)."""
    auth = next((v for k, v in scope["headers"] if k == b"authorization"), b"").decode("latin-1")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return cookie_of(scope, ACCESS_COOKIE)


def _keyed(scope: Scope, token: str | None) -> bool:
    """Whether the request carries an API key (API §10.4), as its Bearer `token` or in its own
    header: it is no anonymous read."""
    return (token is not None and is_api_key(token)) or any(k == _API_KEY_NAME for k, _ in scope["headers"])


def cookie_of(scope: Scope, name: str) -> str | None:
    """One cookie's value from the raw `Cookie` headers, or None."""
    for key, value in scope["headers"]:
        if key != b"cookie":
            continue
        for pair in value.decode("latin-1").split(";"):
            found, _, content = pair.strip().partition("=")
            if found == name and content:
                return str(content)
    return None


async def caller_of(scope: Scope, claims_of: BearerClaims | None) -> str:
    """Who sends the request: `user:<id>` from a valid Bearer access token (when `claims_of` is
    given), else `ip:<client address>`."""
    token = bearer_of(scope) if claims_of is not None else None
    if claims_of is not None and token is not None:
        claims = await claims_of(token)
        if claims is not None:
            return f"user:{claims['sub']}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class RateLimitMiddleware:
    """`cache_key_of` and `counted_get`, when given, let an anonymous read that the cache answers
    count and read in one round trip: the entry read travels with the count, and the route's
    `read_through` finds it in the scope."""

    def __init__(
        self,
        app: ASGIApp,
        store: KeyValueStore,
        rules: Rules,
        claims_of: BearerClaims,
        *,
        cache_key_of: CacheKeyOf | None = None,
        counted_get: CountedGet | None = None,
        meter: Meter = NULL_METER,
    ) -> None:
        self.app = app
        self.store = store
        self.rules = rules
        self.claims_of = claims_of
        self.cache_key_of = cache_key_of if counted_get is not None else None
        self.counted_get = counted_get
        self.refused = {
            rule.name: meter.counter("lms_rate_limited_requests", rule=rule.name)
            for rule in (rules.global_, rules.auth, rules.upload)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = choose_rule(scope["method"], scope["path"], self.rules)
        if rule is None:
            await self.app(scope, receive, send)
            return
        email = None
        member = EMAIL_SIGN_INS.get(scope["path"]) if scope["method"] == "POST" else None
        if member is not None:
            receive, body = await _peek(receive)
            email = _email_in(body, member, form=member == "username") if body is not None else None
        token = bearer_of(scope) if email is None else None
        claims = await self.claims_of(token) if token else None
        if rule is self.rules.upload and claims is not None:
            key = f"rl:{rule.name}:user:{claims['sub']}"
        else:
            key = f"rl:{rule.name}:{await caller_of(scope, None)}"
        # A Bearer request's revocation entries are read in the same round trip as its count.
        revocation = TokenBlacklist.keys(claims["jti"], claims.get("sid")) if claims is not None else []
        anonymous = claims is None and not _keyed(scope, token)
        entry = self.cache_key_of(scope) if self.cache_key_of is not None and anonymous else None
        try:
            if entry is not None:
                assert self.counted_get is not None
                hit, cached = await self.counted_get(key, rule.seconds, *entry)
                scope.setdefault("state", {})[PREFETCHED] = (*entry, cached)
                found = 0
            elif email is not None:
                hit, (lock, failures) = await self.store.hit_and_get(key, rule.seconds, *keys(email))
                scope.setdefault("state", {})[LOCKOUT_PRECHECK] = LockoutCheck(email, lock, failures)
                found = 0
            else:
                hit, found = await self.store.hit_and_count(key, rule.seconds, *revocation)
        except KeyValueUnavailable:
            log.warning("rate-limit store unreachable; letting %s through unlimited", scope["path"])
            await self.app(scope, receive, send)
            return
        reset = max(1, math.ceil(hit.reset_after))
        remaining = max(0, rule.count - hit.count)
        limit = str(rule.count).encode()
        left = str(remaining).encode()
        headers = [
            (b"ratelimit-limit", limit),
            (b"ratelimit-remaining", left),
            (b"ratelimit-reset", str(reset).encode()),
            (b"x-ratelimit-limit", limit),
            (b"x-ratelimit-remaining", left),
            (b"x-ratelimit-reset", str(int(time.time()) + reset).encode()),
        ]
        if claims is not None:
            scope.setdefault("state", {})[PRECHECK] = RevocationCheck(str(claims["jti"]), found)
        if hit.count > rule.count:
            self.refused[rule.name].inc()
            retry = [(b"retry-after", str(reset).encode())]
            await send_problem(send, 429, "Rate limit exceeded. Try again later.", headers + retry)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Appended as bytes: no handler sets these names, so there is nothing to replace.
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_wrapper)
