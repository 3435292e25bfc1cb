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
import json
import statistics
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets

from adapters.security.jwt_codec import JwtCodec
from bench.run import SECRET, admin_headers, k6, rss_mb, stack
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
    """Sockets kept open in a thread of their own while k6 measures."""

    def __init__(self, api: str, token: str, count: int) -> None:
        self.api, self.token, self.count = api, token, count
        self.opened = threading.Event()
        self.release = threading.Event()
        self.open = 0
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        ids = await tickets(self.api, [self.token] * self.count)
        sockets = []
        gate = asyncio.Semaphore(100)

        async def connect(ticket: str) -> None:
            async with gate:
                sockets.append(await websockets.connect(ws(self.api) + ticket, open_timeout=60, max_queue=4))

        await asyncio.gather(*(connect(t) for t in ids))
        self.open = len(sockets)
        self.opened.set()
        await asyncio.to_thread(self.release.wait)
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)


async def fan_out(api: str, admin: dict[str, str], clients: int, rate: int, seconds: float) -> dict[str, Any]:
    tokens = [student_token(n) for n in range(1, clients + 1)]
    ids = await tickets(api, tokens)
    expected: Counter[tuple[int, str]] = Counter()  # (client, lesson title) -> 1
    got: Counter[tuple[int, str]] = Counter()
    latencies: list[float] = []
    gate = asyncio.Semaphore(100)
    sockets: list[Any] = []

    async def connect(ticket: str) -> Any:
        async with gate:
            return await websockets.connect(ws(api) + ticket, open_timeout=60)

    sockets = list(await asyncio.gather(*(connect(t) for t in ids)))

    async def listen(n: int, socket: Any) -> None:
        async for raw in socket:
            now = time.time()
            message = json.loads(raw)
            created = datetime.fromisoformat(message["created_at"].replace("Z", "+00:00")).timestamp()
            latencies.append((now - created) * 1000)
            got[(n, message["data"]["lesson_ids"][0])] += 1

    listeners = [asyncio.create_task(listen(n, s)) for n, s in enumerate(sockets, start=1)]
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
    for socket in sockets:
        await socket.close()
    for task in listeners:
        task.cancel()
    received = set(got)
    latencies.sort()
    return {
        "events": made,
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
    opts = parser.parse_args()
    seconds = float(opts.duration.rstrip("s"))
    with stack("lms-live-", LMS_ACCESS_TOKEN_EXPIRE_MINUTES="120") as servers:
        dsn = servers.database.replace("postgresql+asyncpg://", "postgresql://")
        volume = Volume(
            students=opts.clients, courses=COURSES, lessons=1, progress_per_enrollment=0,
            attempts_per_enrollment=0, spread=True,
        )  # fmt: skip
        asyncio.run(fill(dsn, volume))
        single = servers.serve_api(1)
        pid = servers.procs[-1].pid
        admin = admin_headers(single)
        token = admin["Authorization"].split()[1]
        run = {"vus": opts.vus, "duration": opts.duration}
        alone = k6("GET /users/me, no sockets open", single, "/api/v1/users/me", token=token, **run)
        before = rss_mb(pid)
        holder = Holder(single, token, opts.idle)
        holder.thread.start()
        assert holder.opened.wait(600), "the sockets did not open"
        time.sleep(2)
        held = rss_mb(pid)
        beside = k6(f"GET /users/me, {holder.open:,} sockets open", single, "/api/v1/users/me", token=token, **run)
        holder.release.set()
        holder.thread.join(120)

        api = servers.serve_api(2)
        figures = asyncio.run(fan_out(api, admin_headers(api), opts.clients, opts.rate, seconds))

    print(f"\nIdle: {holder.open:,} WebSockets on one API process")
    print(f"resident memory {before:.0f} MB before, {held:.0f} MB with them open (+{held - before:.0f} MB)")
    print("| route | requests/s | p95 (ms) | p99 (ms) | failed checks |")
    print("|---|---:|---:|---:|---:|")
    for r in (alone, beside):
        print(f"| {r.name} | {r.rps:,.0f} | {r.p95:.1f} | {r.p99:.1f} | {r.failed:.1%} |")
    print(f"ratio with sockets open: {beside.rps / alone.rps:.2f}")
    f = figures
    print(
        f"\nFan-out: {opts.clients:,} clients over 2 API processes, {f['events']} events at {f['rate']:.0f}/s "
        f"({f['expected']:,} messages expected): received {f['received']:,}, lost {f['lost']}, doubled "
        f"{f['doubled']}; commit to receipt p50 {f['p50']:.0f} ms, p95 {f['p95']:.0f} ms, p99 {f['p99']:.0f} ms"
    )


if __name__ == "__main__":
    main()
