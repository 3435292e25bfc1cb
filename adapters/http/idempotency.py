"""`Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) on the API's unsafe routes.

A POST, PUT or PATCH under `/api/v1` (the auth routes excepted, but for registration) that carries
the header is answered once: the first response is stored for 24 h in the key-value port, keyed by
the caller (the Bearer user, else the client address) and the key, with a fingerprint of the
request (method, path, query, content type and body). A retry with the same key and request gets
the stored status, headers and body again, with `Idempotency-Replayed: true`; the same key with a
different request is `422`; a retry while the first is still running is `409`; a key that is not
1 to 255 visible ASCII characters (optionally as a quoted structured-field string) is `400`.

Responses that say nothing about the request itself are not stored, so a retry runs again: server
errors, `401` (no valid credentials yet), `408` and `429`. Nor are answers that carry credentials
(registration's tokens): a retry of a registration runs again, and meets `409 Email is already
registered`. If the key-value store cannot be reached the request is refused with `503` rather
than risk running twice.

Nothing is read before the caller is known: a request to a route that needs a token and carries
no valid one goes straight to the route (which answers `401`), and a body is buffered only up to
its route's own limit (the upload limit for uploads, 1 MiB of JSON otherwise). A stored answer is
replayed only to a caller who may still act: a token revoked or a user deactivated since gets
the `401` the route would give.

A running request holds its key on a short lease that it renews while it runs, so a retry after the
process died runs again within `LEASE_SECONDS`. The lease carries its holder's token, and every
later write (renewal, stored answer, release) is conditional on it (`replace_if`): a request whose
lease lapsed and was taken over never writes over the new holder's. A process that dies after its change committed but
before its response was stored leaves the change without a stored answer: the retry then runs
again and meets what the first did. Routes whose effect is unique by nature (enroll, submit) answer
it with their conflict; routes that create a new resource name it with `stable_id`, derived from the
caller and the key, so the retry finds the resource the first one made instead of making another.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import re
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import IO

from adapters.http.asgi import App, Message, Receive, Scope, Send
from adapters.http.problems import send_problem
from adapters.http.ratelimit import BearerClaims, bearer_of, caller_of
from domain.shared.ports import KeyValueStore, KeyValueUnavailable

log = logging.getLogger("lms.http")

HEADER = b"idempotency-key"
REPLAYED = (b"idempotency-replayed", b"true")
METHODS = frozenset({"POST", "PUT", "PATCH"})
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
KEEP_SECONDS = 24 * 3600
# How long a request holds its key unless it renews it (every third of that while it runs): a retry
# after the process died runs again this long after the last renewal.
LEASE_SECONDS = 6.0
RETRY_AFTER = (b"retry-after", b"2")
STABLE_ID = "idempotency_stable_id"
_NAMESPACE = uuid.UUID("0b9f6c1e-5d1f-4f43-9a55-2f1c2d7f3a61")
NOT_STORED = frozenset({401, 408, 429})
REGISTER = "/api/v1/auth/register"  # the one covered route open to anonymous callers
NEVER_STORED = frozenset({REGISTER})  # answers that carry credentials
UPLOAD = "/api/v1/files/upload"
# Why a replay is refused to a caller who may no longer act (the status and detail the route
# would answer: 401, or 503 when revocations cannot be checked), or None when it may go ahead.
Reauthenticate = Callable[[str], Awaitable[tuple[int, str] | None]]
# Headers replayed with a stored response; the edge, rate-limit and request-id headers are the retry's own.
REPLAYED_HEADERS = frozenset({b"content-type", b"location", b"etag", b"link", b"content-disposition"})
_CHUNK = 64 * 1024

INVALID_KEY = "Idempotency-Key must be 1 to 255 visible ASCII characters"
IN_PROGRESS = "A request with this Idempotency-Key is still being processed; retry later"
REUSED = "This Idempotency-Key was used with a different request"
UNAVAILABLE = "Idempotency keys cannot be checked right now; retry later"


def covered(method: str, path: str) -> bool:
    """The routes whose unsafe requests honour the header."""
    if method not in METHODS or not path.startswith("/api/v1/"):
        return False
    return not path.startswith("/api/v1/auth/") or path == "/api/v1/auth/register"


def stable_id(scope: Mapping[str, object]) -> uuid.UUID | None:
    """The id a resource created by this request takes: the same for every retry with the same
    caller and key, and None without a key."""
    state = scope.get("state")
    found = state.get(STABLE_ID) if isinstance(state, dict) else None
    return found if isinstance(found, uuid.UUID) else None


def key_of(raw: bytes) -> str | None:
    """The key from the header: a bare token, or a structured-field string `"..."`."""
    text = raw.decode("latin-1").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text if _KEY.fullmatch(text) else None


@dataclass(frozen=True, slots=True)
class Stored:
    fingerprint: str
    status: int | None = None  # None while the first request runs
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""  # base64
    lease: str = ""  # while running: the holder's token, so only the holder renews or ends it

    def dump(self) -> str:
        return json.dumps(
            {
                "fp": self.fingerprint,
                "status": self.status,
                "headers": self.headers,
                "body": self.body,
                "lease": self.lease,
            }
        )

    @classmethod
    def load(cls, raw: str) -> Stored:
        data = json.loads(raw)
        headers = tuple((str(k), str(v)) for k, v in data.get("headers", ()))
        return cls(
            fingerprint=data["fp"],
            status=data.get("status"),
            headers=headers,
            body=data.get("body", ""),
            lease=data.get("lease", ""),
        )


class IdempotencyMiddleware:
    def __init__(
        self,
        app: App,
        store: KeyValueStore,
        claims_of: BearerClaims,
        reauthenticate: Reauthenticate,
        *,
        max_json: int,
        max_upload: int,
    ) -> None:
        self.app = app
        self.store = store
        self.claims_of = claims_of
        self.reauthenticate = reauthenticate
        self.max_json = max_json
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not covered(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == HEADER), None)
        if raw is None:
            await self.app(scope, receive, send)
            return
        key = key_of(raw)
        if key is None:
            await send_problem(send, 400, INVALID_KEY)
            return
        token = bearer_of(scope)
        signed_in = token is not None and await self.claims_of(token) is not None
        if not signed_in and scope["path"] != REGISTER:
            await self.app(scope, receive, send)  # the route answers 401; nothing was read or kept
            return
        with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
            limit = self.max_upload if scope["path"] == UPLOAD else self.max_json
            complete, fingerprint = await self._buffer(scope, receive, spool, limit)
            if not complete:
                # Too large to fingerprint: the route refuses it on its own terms (413).
                await self.app(scope, _replay(spool, receive, complete=False), send)
                return
            record = f"idem:{await caller_of(scope, self.claims_of)}:{hashlib.sha256(key.encode()).hexdigest()}"
            scope.setdefault("state", {})[STABLE_ID] = uuid.uuid5(_NAMESPACE, record)
            try:
                body = _replay(spool, receive, complete=True)
                await self._answer(scope, send, body, record=record, fingerprint=fingerprint, token=token)
            except KeyValueUnavailable:
                log.warning("idempotency store unreachable; refusing %s %s", scope["method"], scope["path"])
                await send_problem(send, 503, UNAVAILABLE)

    async def _buffer(self, scope: Scope, receive: Receive, spool: IO[bytes], limit: int) -> tuple[bool, str]:
        """Read the body into the spool, then fingerprint the request; False when the body passes
        `limit`."""
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the route will see the same
            chunk = message.get("body", b"")
            spool.write(chunk)
            size += len(chunk)
            if size > limit:
                spool.seek(0)
                return False, ""
            if not message.get("more_body"):
                break
        spool.seek(0)
        fingerprint = _fingerprint(scope, spool)
        spool.seek(0)
        return True, fingerprint

    async def _answer(
        self, scope: Scope, send: Send, body: Receive, *, record: str, fingerprint: str, token: str | None
    ) -> None:
        running = Stored(fingerprint, lease=secrets.token_hex(16)).dump()
        if not await self.store.set_if_absent(record, running, LEASE_SECONDS):
            found = await self.store.get(record)
            if found is not None:
                refused = await self.reauthenticate(token) if token is not None else None
                if refused is not None:
                    status, detail = refused
                    challenge = [(b"www-authenticate", b'Bearer error="invalid_token"')] if status == 401 else []
                    await send_problem(send, status, detail, challenge)
                    return
                await self._repeat(send, Stored.load(found), fingerprint)
                return
            # Expired between the two calls: take it now (or answer as the one that did).
            if not await self.store.set_if_absent(record, running, LEASE_SECONDS):
                await send_problem(send, 409, IN_PROGRESS, [RETRY_AFTER])
                return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        renewing = asyncio.create_task(self._renew(record, running))
        try:
            await self.app(scope, body, capture)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing  # a renewal must not land on top of the stored response
            status = int(start["status"]) if start is not None else 500
            if status >= 500 or status in NOT_STORED or scope["path"] in NEVER_STORED:
                await self._forget(record, running)
            else:
                assert start is not None
                headers = tuple(
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in start.get("headers", ())
                    if k.lower() in REPLAYED_HEADERS
                )
                sent = base64.b64encode(b"".join(chunks)).decode()
                done = Stored(fingerprint, status=status, headers=headers, body=sent)
                if not await self.store.replace_if(record, running, done.dump(), KEEP_SECONDS):
                    log.warning("idempotency key %s was taken over while its request ran; answer not stored", record)

    async def _renew(self, record: str, running: str) -> None:
        """Renew the lease while it is ours. One that lapsed (a store stalled past it) and was
        taken by a retry stays the retry's: this request never writes over it again."""
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            try:
                if not await self.store.replace_if(record, running, running, LEASE_SECONDS):
                    log.warning("lost the lease of idempotency key %s to a retry", record)
                    return
            except KeyValueUnavailable:
                log.warning("could not renew idempotency key %s; trying again", record)

    async def _forget(self, record: str, running: str) -> None:
        try:
            await self.store.replace_if(record, running, None, 0)
        except KeyValueUnavailable:
            log.warning("could not release idempotency key %s; it expires on its own", record)

    async def _repeat(self, send: Send, stored: Stored, fingerprint: str) -> None:
        if stored.fingerprint != fingerprint:
            await send_problem(send, 422, REUSED)
            return
        if stored.status is None:
            await send_problem(send, 409, IN_PROGRESS, [RETRY_AFTER])
            return
        body = base64.b64decode(stored.body)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers]
        headers += [(b"content-length", str(len(body)).encode()), REPLAYED]
        await send({"type": "http.response.start", "status": stored.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _fingerprint(scope: Scope, spool: IO[bytes]) -> str:
    """The request's method, target, media type and body. A multipart body's boundary is left out
    (it is new on every send of most clients), so a retry of the same form matches."""
    digest = hashlib.sha256()
    for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")):
        digest.update(part.encode() + b"\0")
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    media_type, _, parameters = content_type.partition(b";")
    digest.update(media_type.strip().lower() + b"\0")
    boundary = _boundary(parameters) if media_type.strip().lower().startswith(b"multipart/") else b""
    carry = b""
    while chunk := spool.read(_CHUNK):
        data = carry + chunk
        if boundary:
            data = data.replace(boundary, b"")
            keep = len(boundary) - 1  # a boundary may straddle two chunks
            carry, data = data[-keep:] if keep else b"", data[:-keep] if keep else data
        digest.update(data)
    digest.update(carry)
    return digest.hexdigest()


def _boundary(parameters: bytes) -> bytes:
    for parameter in parameters.split(b";"):
        name, _, value = parameter.strip().partition(b"=")
        if name.lower() == b"boundary" and value:
            return b"--" + value.strip(b'"')
    return b""


def _replay(spool: IO[bytes], rest: Receive, *, complete: bool) -> Receive:
    """A `receive` that yields the buffered body, then whatever the client still sends."""
    chunks = _chunks(spool, complete)
    done = False

    async def receive() -> Message:
        nonlocal done
        if not done:
            chunk = await anext(chunks, None)
            if chunk is not None:
                data, more = chunk
                return {"type": "http.request", "body": data, "more_body": more}
            done = True
        return await rest()

    return receive


async def _chunks(spool: IO[bytes], complete: bool) -> AsyncIterator[tuple[bytes, bool]]:
    """The spool in chunks, each with whether more body follows (from the spool or the client)."""
    data = spool.read(_CHUNK)
    while True:
        following = spool.read(_CHUNK)
        yield data, bool(following) or not complete
        if not following:
            return
        data = following
