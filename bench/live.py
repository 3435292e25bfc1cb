"""Benchmark: live connections (API §13).

    uv run just bench-live                    # 10,000 idle sockets; 2,000 clients at 100 events/s
    uv run just bench-live --duration 20s --idle 10000 --clients 2000 --rate 100

Idle: one API process (`lms run --workers 1`) answers `GET /users/me` under k6 alone, then again
while it holds `--idle` open WebSockets (each opened with its own ticket); its resident memory is
read before and after they open.

Fan-out: `lms run --workers 2` (two processes behind one port) on PostgreSQL + Redis; `--clients`
students (bulk SQL: 100 courses, 20 students each) each hold a WebSocket, spread by the kernel over
both processes. A producer opens lessons at `--rate` per second (one `lesson.published` event each,
a notification to each of the course's 20 students). Latency is receipt time minus the message's
`created_at` (the event's commit time; one machine, one clock); every expected message is counted
once: lost and doubled ones are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets

from adapters.security.jwt_codec import JwtCodec
from bench.run import SECRET, Result, Stack, admin_headers, k6, rss_mb, stack
from domain.identity.model import Role, TokenType, User
from domain.identity.tokens import Tokens
from tests.support.volume import Volume, bulk_id, fill

COURSES = 100


def student_token(n: int) -> str:
    now = datetime.now(UTC)
    user = User(
        id=bulk_id(f"student-{n}"), email=f"bulk-{n}@example.com", full_name=f"Bulk Student {n}",
        role=Role.STUDENT, password_hash="x", created_at=now, updated_at=now,
    )  # fmt: skip
    token, _ = Tokens(JwtCodec(SECRET)).mint(user, TokenType.ACCESS, timedelta(hours=2), now)
    return token


def ws(base: str) -> str:
    return base.replace("http://", "ws://") + "/api/v1/ws?ticket="


async def tickets(api: str, tokens: list[str]) -> list[str]:
    async with httpx.AsyncClient(base_url=api, timeout=60, limits=httpx.Limits(max_connections=64)) as client:
        gate = asyncio.Semaphore(64)

        async def one(token: str) -> str:
            async with gate:
                r = await client.post("/api/v1/auth/ws-ticket", headers={"Authorization": f"Bearer {token}"})
                r.raise_for_status()
                return str(r.json()["ticket"])

        return await asyncio.gather(*(one(t) for t in tokens))


class Holder:
    """Idle live connections kept open in a thread of their own while k6 measures: WebSockets
    (`ws`, each opened with its own ticket when `token` is set) or event streams (`sse`)."""

    def __init__(self, base: str, path: str, transport: str, count: int, token: str = "") -> None:
        self.base, self.path, self.transport, self.count, self.token = base, path, transport, count, token
        self.opened = threading.Event()
        self.release = threading.Event()
        self.open = 0
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Holder:
        self.thread.start()
        assert self.opened.wait(600), "the connections did not open"
        time.sleep(2)
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.thread.join(120)

    async def _run(self) -> None:
        gate = asyncio.Semaphore(100)
        closers: list[Any] = []

        async def socket(url: str) -> None:
            async with gate:
                opened = await websockets.connect(url, open_timeout=60, max_queue=4)
                closers.append(opened.close)

        async def stream() -> None:
            host, port = self.base.removeprefix("http://").split(":")
            async with gate:
                reader, writer = await asyncio.open_connection(host, int(port))
                auth = f"Authorization: Bearer {self.token}\r\n" if self.token else ""
                writer.write(f"GET {self.path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode())
                status = await reader.readline()
                assert b" 200 " in status, status
                await reader.readuntil(b": connected\r\n\r\n")
                closers.append(_closer(writer))

        if self.transport == "ws":
            url = self.base.replace("http://", "ws://") + self.path
            if self.token:
                ids = await tickets(self.base, [self.token] * self.count)
                await asyncio.gather(*(socket(url + "?ticket=" + t) for t in ids))
            else:
                await asyncio.gather(*(socket(url) for _ in range(self.count)))
        else:
            await asyncio.gather(*(stream() for _ in range(self.count)))
        self.open = len(closers)
        self.opened.set()
        await asyncio.to_thread(self.release.wait)
        await asyncio.gather(*(close() for close in closers), return_exceptions=True)


def _closer(writer: asyncio.StreamWriter) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        writer.close()
        await writer.wait_closed()

    return close


@dataclass
class Idle:
    transport: str
    open: int
    bare: tuple[float, float]  # resident MB of the bare app's worker before and with its connections
    ours: tuple[float, float]  # of the API's worker
    ours_all: tuple[float, float]  # of the API's worker and granian's parent process beside it
    beside: Result
    alone: Result = field(init=False)  # the same route on the same process before they opened

    def rows(self) -> list[str]:
        def row(name: str, before: float, held: float) -> str:
            each = (held - before) * 1024 / max(self.open, 1)
            return f"| {name} | {before:.0f} | {held:.0f} | +{held - before:.0f} ({each:.0f} KB each) |"

        return [
            row("bare Litestar on granian: its worker", *self.bare),
            row("`lms run --workers 1`: its worker (the API process)", *self.ours),
            row("`lms run --workers 1`: its worker and granian's parent", *self.ours_all),
        ]


def hold_idle(
    servers: Stack, api: str, pid: int, token: str, *, transport: str, count: int, run: dict[str, Any]
) -> Idle:
    """The API's memory and `/users/me` rate with `count` idle connections, beside the bare app's
    memory with as many."""
    bare = servers.serve_app("bench.hello:create_app", 1)
    bare_pid = servers.procs[-1].pid
    path = "/ws" if transport == "ws" else "/stream"
    bare_before = rss_mb(bare_pid, workers_only=True)
    with Holder(bare, path, transport, count):
        bare_held = rss_mb(bare_pid, workers_only=True)
    servers.stop(bare_pid)
    path = "/api/v1/ws" if transport == "ws" else "/api/v1/notifications/stream"
    before, before_all = rss_mb(pid, workers_only=True), rss_mb(pid)
    with Holder(api, path, transport, count, token) as holder:
        held, held_all = rss_mb(pid, workers_only=True), rss_mb(pid)
        what = "WebSockets" if transport == "ws" else "event streams"
        beside = k6(f"GET /users/me, {holder.open:,} {what} open", api, "/api/v1/users/me", token=token, **run)
    return Idle(transport, holder.open, (bare_before, bare_held), (before, held), (before_all, held_all), beside)


async def fan_out(api: str, admin: dict[str, str], clients: int, rate: int, seconds: float) -> dict[str, Any]:
    tokens = [student_token(n) for n in range(1, clients + 1)]
    first = await tickets(api, tokens)
    expected: Counter[tuple[int, str]] = Counter()  # (client, lesson title) -> 1
    got: Counter[tuple[int, str]] = Counter()
    latencies: list[float] = []
    gate = asyncio.Semaphore(100)
    sockets: dict[int, Any] = {}  # the open socket of each client
    ready, done = asyncio.Event(), asyncio.Event()
    reconnected = 0

    async def client(n: int, ticket: str) -> None:
        """Hold a socket; as a browser would, come back (with the last id) when told to."""
        nonlocal reconnected
        last = ""
        while True:
            url = ws(api) + ticket + (f"&last_event_id={last}" if last else "")
            async with gate:
                socket = await websockets.connect(url, open_timeout=60)
            sockets[n] = socket
            if len(sockets) == clients:
                ready.set()
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in socket:
                    now = time.time()
                    message = json.loads(raw)
                    created = datetime.fromisoformat(message["created_at"].replace("Z", "+00:00")).timestamp()
                    latencies.append((now - created) * 1000)
                    got[(n, message["data"]["lesson_ids"][0])] += 1
                    last = message["id"]
            sockets.pop(n, None)
            if done.is_set() or socket.close_code not in {1012, 1013}:
                return
            reconnected += 1
            await asyncio.sleep(0.5 + random.random())  # noqa: S311 (a jitter, not a secret)
            (ticket,) = await tickets(api, [tokens[n - 1]])

    listeners = [asyncio.create_task(client(n, t)) for n, t in enumerate(first, start=1)]
    await asyncio.wait_for(ready.wait(), 120)
    await asyncio.sleep(1)
    async with httpx.AsyncClient(base_url=api, timeout=30, limits=httpx.Limits(max_connections=32)) as http:
        made = 0
        start = time.monotonic()
        pending: set[asyncio.Task[None]] = set()

        async def make(k: int) -> None:
            course = k % COURSES
            r = await http.post(
                f"/api/v1/courses/{bulk_id(f'course-{course}')}/lessons",
                json={"title": f"Live {k}", "lesson_type": "text"},
                headers=admin,
            )
            r.raise_for_status()
            lesson_id = r.json()["id"]
            # Student n is enrolled in course n % COURSES (bulk `spread`).
            for n in range(1, clients + 1):
                if n % COURSES == course:
                    expected[(n, lesson_id)] += 1

        while time.monotonic() - start < seconds:
            made += 1
            task = asyncio.create_task(make(made))
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(max(0.0, start + made / rate - time.monotonic()))
        await asyncio.gather(*pending)
        elapsed = time.monotonic() - start
    await asyncio.sleep(3)  # the last messages in flight
    done.set()
    for socket in list(sockets.values()):
        await socket.close()
    for task in listeners:
        task.cancel()
    received = set(got)
    latencies.sort()
    return {
        "events": made,
        "reconnected": reconnected,
        "rate": made / elapsed,
        "expected": sum(expected.values()),
        "received": len(received & set(expected)),
        "lost": len(set(expected) - received),
        "doubled": sum(1 for key, count in got.items() if count > 1),
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p95": latencies[int(len(latencies) * 0.95) - 1] if latencies else 0.0,
        "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--vus", type=int, default=32)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--only", choices=("idle", "fan-out"), default=None)
    opts = parser.parse_args()
    seconds = float(opts.duration.rstrip("s"))
    idles: list[Idle] = []
    figures: dict[str, Any] = {}
    with stack("lms-live-", LMS_ACCESS_TOKEN_EXPIRE_MINUTES="120") as servers:
        dsn = servers.database.replace("postgresql+asyncpg://", "postgresql://")
        volume = Volume(
            students=opts.clients, courses=COURSES, lessons=1, progress_per_enrollment=0,
            attempts_per_enrollment=0, spread=True,
        )  # fmt: skip
        asyncio.run(fill(dsn, volume))
        for transport in ("sse", "ws") if opts.only != "fan-out" else ():
            single = servers.serve_api(1)  # a fresh process for each transport
            pid = servers.procs[-1].pid
            token = admin_headers(single)["Authorization"].split()[1]
            run = {"vus": opts.vus, "duration": opts.duration}
            alone = k6("GET /users/me, nothing open", single, "/api/v1/users/me", token=token, **run)
            idles.append(hold_idle(servers, single, pid, token, transport=transport, count=opts.idle, run=run))
            idles[-1].alone = alone
            servers.stop(pid)
        if opts.only != "idle":
            api = servers.serve_api(2)
            figures = asyncio.run(fan_out(api, admin_headers(api), opts.clients, opts.rate, seconds))

    for idle in idles:
        what = "WebSockets" if idle.transport == "ws" else "event streams"
        print(f"\nIdle: {idle.open:,} {what} on one process; resident MB")
        print("| server | before | with them open | difference |")
        print("|---|---:|---:|---:|")
        print("\n".join(idle.rows()))
    if idles:
        print("\n| route | requests/s | p95 (ms) | p99 (ms) | failed checks | ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        for idle in idles:
            for r in (idle.alone, idle.beside):
                ratio = r.rps / idle.alone.rps
                print(f"| {r.name} | {r.rps:,.0f} | {r.p95:.1f} | {r.p99:.1f} | {r.failed:.1%} | {ratio:.2f} |")
    if figures:
        f = figures
        print(
            f"\nFan-out: {opts.clients:,} clients over 2 API processes, {f['events']} events at {f['rate']:.0f}/s "
            f"({f['expected']:,} messages expected): received {f['received']:,}, lost {f['lost']}, doubled "
            f"{f['doubled']}; {f['reconnected']} reconnections (told 1012/1013);"
            f" commit to receipt p50 {f['p50']:.0f} ms, p95 {f['p95']:.0f} ms, p99 {f['p99']:.0f} ms"
        )


if __name__ == "__main__":
    main()
