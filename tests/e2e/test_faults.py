"""Faults operators meet, on real processes (`lms run --workers 2` in production on PostgreSQL and
Redis): each scenario runs a bounded load loop through the fault and ends by checking what every
request got."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.conftest import production_env, serving
from tests.support.databases import PostgresDatabases
from tests.support.servers import PostgresServer, RedisServer

PASSWORD = "fault-password-1"


@dataclass
class Outcome:
    at: float
    what: str
    status: int
    problem: bool


@dataclass
class Load:
    """Requests in a loop from a thread, each outcome recorded with its time."""

    base: str
    token: str
    email: str
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        login = {"email": self.email, "password": PASSWORD}
        with httpx.Client(base_url=self.base, timeout=10) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                for what, send in (
                    ("me", lambda: client.get("/api/v1/users/me", headers=headers)),
                    ("courses", lambda: client.get("/api/v1/courses")),
                    *([("login", lambda: client.post("/api/v1/auth/login", json=login))] if n % 5 == 0 else []),
                ):
                    sent = time.monotonic()  # a request is placed by when it left, not when it was answered
                    try:
                        r = send()
                        problem = r.headers.get("content-type", "").startswith("application/problem+json")
                        self.outcomes.append(Outcome(sent, what, r.status_code, problem))
                    except httpx.HTTPError:
                        self.outcomes.append(Outcome(sent, what, 0, False))
                time.sleep(0.02)

    def between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if start <= o.at < end]


@contextmanager
def loaded(base: str, token: str, email: str) -> Iterator[Load]:
    load = Load(base, token, email)
    thread = threading.Thread(target=load.run, daemon=True)
    thread.start()
    try:
        yield load
    finally:
        load.stop.set()
        thread.join(timeout=30)


def under_load(tmp_path: Path, database: str, redis: str) -> dict[str, str]:
    """Production, with rate limits the load never reaches."""
    return production_env(tmp_path, database, redis, LMS_RATE_LIMIT_GLOBAL="100000/60", LMS_RATE_LIMIT_AUTH="100000/60")


def signed_up(base: str) -> tuple[str, str]:
    email = f"fault-{time.monotonic_ns()}@example.com"
    r = httpx.post(f"{base}/api/v1/auth/register", json={"email": email, "full_name": "Fault", "password": PASSWORD})
    r.raise_for_status()
    return r.json()["tokens"]["access_token"], email


@dataclass
class Phases:
    """A load's outcomes around a fault: well before it, while it lasted, after the repair
    started, and from 5 s after the repaired server was up."""

    before: list[Outcome]
    during: list[Outcome]
    after: list[Outcome]
    late: list[Outcome]


def through_fault(base: str, break_it: Callable[[], None], repair: Callable[[], None]) -> Phases:
    """Sign up, run the load, break a server for 2.5 s, repair it, keep loading 6.5 s."""
    token, email = signed_up(base)
    with loaded(base, token, email) as load:
        time.sleep(1.5)
        break_it()
        down = time.monotonic()  # requests sent before this may still have met the server
        time.sleep(2.5)
        back = time.monotonic()  # requests from here on may meet the server again
        repair()
        up = time.monotonic()
        time.sleep(6.5)
    after = load.between(back, float("inf"))
    phases = Phases(load.between(0, down - 1), load.between(down, back), after, [o for o in after if o.at >= up + 5])
    assert phases.before and phases.during and phases.late
    assert all(o.status == 200 for o in phases.before), [o for o in phases.before if o.status != 200]
    return phases


def test_postgres_restarted_under_load(tmp_path: Path, own_postgres: PostgresServer, own_redis: RedisServer) -> None:
    database = asyncio.run(PostgresDatabases(own_postgres.url).create())
    # A Redis of its own too: the load's rate-limit counts must not reach other tests' servers.
    with serving(under_load(tmp_path, database, own_redis.url), "--workers", "2") as base:
        phases = through_fault(base, own_postgres.pause, own_postgres.resume)
    during, after, late = phases.during, phases.after, phases.late
    # While it is down: problems with 503, never a 500; the cached public list keeps answering.
    assert all(o.status in (200, 503) for o in during), sorted({(o.what, o.status) for o in during})
    assert all(o.problem for o in during if o.status == 503)
    assert any(o.what == "me" and o.status == 503 for o in during)
    assert all(o.status == 200 for o in during if o.what == "courses")
    # Back within 5 s, and from then on every request succeeds: no pool stays broken.
    assert all(o.status == 200 for o in late), sorted({(o.what, o.status) for o in late})
    assert all(o.status in (200, 503) for o in after)


def test_redis_killed_under_load(tmp_path: Path, own_redis: RedisServer, postgres_databases: PostgresDatabases) -> None:
    database = asyncio.run(postgres_databases.create())
    with serving(under_load(tmp_path, database, own_redis.url), "--workers", "2") as base:
        phases = through_fault(base, own_redis.kill, own_redis.resume)
    during, after, late = phases.during, phases.after, phases.late
    # Public reads answer from the database; rate limiting lets requests through; authenticated
    # requests fail closed (revocations cannot be checked) with 503, never 500.
    assert all(o.status == 200 for o in during if o.what in ("courses", "login")), sorted(
        {(o.what, o.status) for o in during}
    )
    assert all(o.status == 503 and o.problem for o in during if o.what == "me"), sorted(
        {(o.what, o.status) for o in during}
    )
    assert all(o.status == 200 for o in late), sorted({(o.what, o.status) for o in late})
    assert all(o.status in (200, 503) for o in after)
