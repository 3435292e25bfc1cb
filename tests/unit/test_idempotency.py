"""The Idempotency-Key middleware on a scripted ASGI app: a retry while the first request runs,
server errors that release the key, large and multipart bodies, an unreachable store."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from adapters.http import idempotency
from adapters.http.idempotency import IdempotencyMiddleware
from adapters.kv.memory import MemoryKeyValue
from domain.shared.ports import KeyValueUnavailable


class App:
    """Counts calls, echoes the body it read, answers `status`; waits for `gate` when set."""

    def __init__(self, status: int = 201) -> None:
        self.calls = 0
        self.status = status
        self.gate: asyncio.Event | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.gate is not None:
            await self.gate.wait()
        payload = json.dumps({"call": self.calls, "size": len(body)}).encode()
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"application/json"), (b"x-other", b"dropped")]})  # fmt: skip
        await send({"type": "http.response.body", "body": payload})


async def signed(token: str) -> dict[str, Any] | None:
    """The claims of the test's one valid token."""
    return {"sub": "user-1", "jti": "j-1"} if token == "valid" else None


class Authentication:
    """Whether the caller may still act; `refusal` once revoked."""

    def __init__(self) -> None:
        self.refusal: tuple[int, str] | None = None

    async def __call__(self, _: str) -> tuple[int, str] | None:
        return self.refusal


def scope(
    key: bytes = b"k-1",
    content_type: bytes = b"application/json",
    path: str = "/api/v1/enrollments",
    token: bytes | None = b"valid",
) -> dict[str, Any]:
    auth = [(b"authorization", b"Bearer " + token)] if token is not None else []
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": [(b"idempotency-key", key), (b"content-type", content_type), *auth],
        "client": ("10.0.0.1", 1234),
    }


async def call(
    app: Any, body: bytes | list[bytes], sc: dict[str, Any] | None = None
) -> tuple[int, dict[bytes, bytes], bytes]:
    parts = body if isinstance(body, list) else [body]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(sc or scope(), receive, send)
    headers = dict(sent[0]["headers"])
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def middleware(
    app: App, store: Any = None, max_body: int = 1_000_000, authentication: Authentication | None = None
) -> IdempotencyMiddleware:
    check = authentication or Authentication()
    return IdempotencyMiddleware(app, store or MemoryKeyValue(), signed, check, max_json=max_body, max_upload=max_body)


async def test_a_retry_while_the_first_runs_is_409_and_then_replays() -> None:
    app = App()
    app.gate = asyncio.Event()
    mw = middleware(app)
    first = asyncio.create_task(call(mw, b'{"a": 1}'))
    await asyncio.sleep(0.01)
    status, _, body = await call(mw, b'{"a": 1}')
    assert status == 409 and b"still being processed" in body
    status, _, _ = await call(mw, b'{"a": 2}')
    assert status == 422  # another request under the same key, even while the first runs
    app.gate.set()
    status, headers, body = await first
    assert (status, json.loads(body)["call"]) == (201, 1)
    status, headers, replayed = await call(mw, b'{"a": 1}')
    assert (status, replayed, headers[b"idempotency-replayed"]) == (201, body, b"true")
    assert b"x-other" not in headers  # only the representation's own headers are replayed
    assert app.calls == 1


async def test_server_errors_release_the_key() -> None:
    app = App(status=503)
    mw = middleware(app)
    assert (await call(mw, b"{}"))[0] == 503
    app.status = 201
    status, headers, _ = await call(mw, b"{}")
    assert (status, b"idempotency-replayed" in headers, app.calls) == (201, False, 2)


async def test_client_errors_are_stored() -> None:
    app = App(status=404)
    mw = middleware(app)
    await call(mw, b"{}")
    app.status = 201
    status, headers, _ = await call(mw, b"{}")
    assert (status, headers[b"idempotency-replayed"], app.calls) == (404, b"true", 1)


async def test_bodies_in_chunks_reach_the_app_whole() -> None:
    app = App()
    mw = middleware(app)
    parts = [b"x" * 70_000, b"y" * 70_000, b"z"]
    status, _, body = await call(mw, parts)
    assert (status, json.loads(body)["size"]) == (201, 140_001)
    assert (await call(mw, parts))[1][b"idempotency-replayed"] == b"true"


async def test_a_body_past_the_limit_goes_through_unprotected() -> None:
    app = App()
    mw = middleware(app, max_body=100)
    for _ in range(2):
        status, headers, body = await call(mw, [b"a" * 80, b"b" * 80, b"c" * 80])
        assert (status, json.loads(body)["size"], b"idempotency-replayed" in headers) == (201, 240, False)
    assert app.calls == 2


async def test_a_multipart_retry_with_a_new_boundary_matches() -> None:
    app = App()
    mw = middleware(app)

    def form(boundary: bytes) -> tuple[dict[str, Any], list[bytes]]:
        body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
                + b"%PDF" * 30_000 + b"\r\n--" + boundary + b"--\r\n")  # fmt: skip
        return scope(content_type=b"multipart/form-data; boundary=" + boundary), [body[:65_530], body[65_530:]]

    sc, body = form(b"first-boundary-123")
    assert (await call(mw, body, sc))[0] == 201
    sc, body = form(b"second-boundary-456")
    status, headers, _ = await call(mw, body, sc)
    assert (status, headers[b"idempotency-replayed"], app.calls) == (201, b"true", 1)


class DownStore(MemoryKeyValue):
    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        raise KeyValueUnavailable


async def test_an_unreachable_store_refuses_rather_than_risk_a_double() -> None:
    app = App()
    status, _, body = await call(middleware(app, store=DownStore()), b"{}")
    assert (status, app.calls) == (503, 0)
    assert b"cannot be checked" in body


async def test_a_running_request_renews_its_lease_and_a_dead_ones_lapses(monkeypatch: Any) -> None:
    """The key is leased for a short time and renewed while the request runs, so a retry meets 409
    (with Retry-After) for as long as the first lives, and runs once the lease of one that died
    has lapsed."""
    monkeypatch.setattr(idempotency, "LEASE_SECONDS", 0.15)
    app = App()
    app.gate = asyncio.Event()
    store = MemoryKeyValue()
    mw = middleware(app, store)
    first = asyncio.create_task(call(mw, b'{"a": 1}'))
    await asyncio.sleep(0.5)  # three leases' time
    status, headers, _ = await call(mw, b'{"a": 1}')
    assert (status, headers[b"retry-after"]) == (409, b"2")
    app.gate.set()
    assert (await first)[0] == 201
    # A process that stopped (its request hangs, nothing renews the lease): the retry runs anew.
    hung, retried = App(), App()
    hung.gate = asyncio.Event()

    async def dead(*_: Any) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(IdempotencyMiddleware, "_renew", dead)
    stuck = asyncio.create_task(call(middleware(hung, store), b'{"b": 1}', scope(b"k-2")))
    await asyncio.sleep(0.05)
    assert (await call(middleware(retried, store), b'{"b": 1}', scope(b"k-2")))[0] == 409
    await asyncio.sleep(0.2)
    assert (await call(middleware(retried, store), b'{"b": 1}', scope(b"k-2")))[0] == 201
    assert (hung.calls, retried.calls) == (1, 1)
    stuck.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stuck


async def test_a_lease_taken_over_after_it_lapsed_stays_with_the_retry(monkeypatch: Any) -> None:
    """The store stalled past the first request's lease and a retry took the key: the first
    request never writes over it again (no renewal, no stored answer, no release), so a third
    call meets the retry's running lease and then the retry's answer, never a second run."""
    monkeypatch.setattr(idempotency, "LEASE_SECONDS", 0.15)
    store = MemoryKeyValue()
    stalled, retry, third = App(), App(), App()
    stalled.gate, retry.gate = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(call(middleware(stalled, store), b'{"a": 1}'))
    await asyncio.sleep(0.02)
    (record,) = list(store._data)
    await store.delete(record)  # as if its lease had lapsed in a stall
    second = asyncio.create_task(call(middleware(retry, store), b'{"a": 1}'))
    await asyncio.sleep(0.3)  # the first one's renewals find the retry's lease and stop
    taken = json.loads(await store.get(record) or "{}")
    stalled.gate.set()
    assert (await first)[0] == 201  # its client gets its answer, which is not stored
    assert json.loads(await store.get(record) or "{}") == taken
    assert (await call(middleware(third, store), b'{"a": 1}'))[0] == 409
    retry.gate.set()
    assert (await second)[0] == 201
    status, headers, body = await call(middleware(third, store), b'{"a": 1}')
    assert (status, headers[b"idempotency-replayed"], json.loads(body)["call"]) == (201, b"true", 1)
    assert (stalled.calls, retry.calls, third.calls) == (1, 1, 0)


async def test_nothing_is_read_for_a_caller_the_route_will_refuse() -> None:
    """No valid token on a route that needs one: the route answers (401), with the body as sent,
    and no key is taken, so a signed-in retry later runs."""
    app, store = App(status=401), MemoryKeyValue()
    mw = middleware(app, store, max_body=10)
    for token in (None, b"forged"):
        status, headers, body = await call(mw, [b"x" * 8, b"y" * 8], scope(token=token))
        assert (status, json.loads(body)["size"], b"idempotency-replayed" in headers) == (401, 16, False)
    assert (app.calls, store._data) == (2, {})


async def test_registration_answers_are_never_replayed() -> None:
    """Anonymous registration is covered (a concurrent retry meets 409), but its answer carries
    tokens: a retry runs again (and meets the route's `409 Email is already registered`)."""
    app = App()
    mw = middleware(app)
    register = scope(path="/api/v1/auth/register", token=None)
    for _ in range(2):
        status, headers, _ = await call(mw, b'{"email": "a@example.com"}', register)
        assert (status, b"idempotency-replayed" in headers) == (201, False)
    assert app.calls == 2


async def test_a_replay_is_refused_to_a_caller_who_may_no_longer_act() -> None:
    app, authentication = App(), Authentication()
    mw = middleware(app, authentication=authentication)
    assert (await call(mw, b"{}"))[0] == 201
    authentication.refusal = (401, "Token has been revoked")
    status, headers, body = await call(mw, b"{}")
    assert (status, json.loads(body)["detail"], headers[b"www-authenticate"]) == (
        401,
        "Token has been revoked",
        b'Bearer error="invalid_token"',
    )
    authentication.refusal = (503, "Token revocation service unavailable")
    status, headers, _ = await call(mw, b"{}")
    assert (status, b"www-authenticate" in headers, app.calls) == (503, False, 1)
