"""Benchmark: every list route, uncached, as the catalog grows to 100, 10 k and 100 k courses
(five lessons each, ten times as many users and enrollments: 1 M of each at the end), filled in
bulk SQL the way the plan test fills its tables. Per route and size: requests/s and p95 under
load (k6), and the median of single requests one at a time.

    uv run just bench-lists                   # 10 s per row
    uv run just bench-lists --duration 5s

The API runs as `lms run --workers 2` in production on PostgreSQL + Redis with the cache off
(`LMS_CACHE_TTL_SECONDS=0`), rate limits on (never refusing).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from bench.run import Result, admin_headers, k6, latency, options, seed_learners, stack
from tests.support.volume import Catalog, bulk_id, fill_catalog

SIZES = [
    Catalog(courses=100, lessons=5, users=1_000, enrollments=1_000, rows=100),
    Catalog(courses=10_000, lessons=5, users=100_000, enrollments=100_000, rows=10_000),
    Catalog(courses=100_000, lessons=5, users=1_000_000, enrollments=1_000_000, rows=100_000),
]
DEPTH = 10_000  # the cursor row: the page that starts after this many courses
PAGE_SIZE = 20


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    token: str = ""


@dataclass(frozen=True)
class Measured:
    load: Result
    median_ms: float


def deep_cursor(api: str, depth: int) -> str:
    """The cursor of the page after `depth` published courses (or after the deepest page there is)."""
    first = httpx.get(f"{api}/api/v1/courses", params={"page_size": PAGE_SIZE}).json()
    page = max(1, min(depth // PAGE_SIZE, first["total_pages"] - 1))
    body = httpx.get(f"{api}/api/v1/courses", params={"page": page, "page_size": PAGE_SIZE}).json()
    return str(body["next_cursor"])


def routes(api: str, admin: str, student: str, quiz: str, course: str) -> list[Route]:
    bulk = bulk_id("list-course-1")
    return [
        Route("GET /courses (page 1)", "/api/v1/courses"),
        Route("GET /courses?page=500", "/api/v1/courses?page=500"),
        Route(f"GET /courses?cursor= (after {DEPTH:,})", f"/api/v1/courses?cursor={deep_cursor(api, DEPTH)}"),
        Route("GET /courses?q=kubernetes (1 %)", "/api/v1/courses?q=kubernetes"),
        Route("GET /courses?q=python (57 %)", "/api/v1/courses?q=python"),
        Route("GET /courses?category&difficulty_level", "/api/v1/courses?category=DevOps&difficulty_level=beginner"),
        Route("GET /courses (admin: drafts too)", "/api/v1/courses", admin),
        Route("GET /users (admin)", "/api/v1/users", admin),
        Route("GET /webhooks/deliveries (admin)", "/api/v1/webhooks/deliveries", admin),
        Route("GET /courses/{id}/lessons", f"/api/v1/courses/{bulk}/lessons"),
        Route("GET /courses/{id}/quizzes", f"/api/v1/courses/{bulk}/quizzes", admin),
        Route("GET /enrollments/courses/{id}", f"/api/v1/enrollments/courses/{bulk}", admin),
        Route("GET /enrollments/my-courses", "/api/v1/enrollments/my-courses", student),
        Route("GET /certificates/my-certificates", "/api/v1/certificates/my-certificates", student),
        Route("GET /files/my-files", "/api/v1/files/my-files", student),
        Route("GET …/quizzes/{id}/questions", f"/api/v1/courses/{course}/quizzes/{quiz}/questions", student),
        Route("GET /quizzes/{id}/attempts/my-attempts", f"/api/v1/quizzes/{quiz}/attempts/my-attempts", student),
    ]


def measure(api: str, chosen: list[Route], *, vus: int, duration: str) -> list[Measured]:
    found = []
    for route in chosen:
        load = k6(route.name, api, route.path, token=route.token, vus=vus, duration=duration)
        found.append(Measured(load, latency(f"{api}{route.path}", route.token)[0]))
        print(f"  {route.name}: {load.rps:,.0f} req/s, p95 {load.p95:.1f} ms", flush=True)
    return found


def main() -> None:
    opts = options(__doc__, vus=16)
    settings = {"LMS_CACHE_TTL_SECONDS": "0", "LMS_ACCESS_TOKEN_EXPIRE_MINUTES": "240"}
    with stack("lms-lists-", **settings) as servers:
        dsn = servers.database.replace("postgresql+asyncpg://", "postgresql://")
        api = servers.serve_api(opts.workers)
        admin = admin_headers(api)
        learners = seed_learners(api, admin)  # a student with an enrollment, a certificate, an attempt
        student = learners.tokens[0]
        attempts = f"{api}/api/v1/quizzes/{learners.quiz_id}/attempts"
        httpx.post(attempts, headers={"Authorization": f"Bearer {student}"}).raise_for_status()
        upload = {"file": ("notes.pdf", b"%PDF-1.4 bench", "application/pdf")}
        r = httpx.post(f"{api}/api/v1/files/upload", files=upload, headers={"Authorization": f"Bearer {student}"})
        r.raise_for_status()
        admin_token = admin["Authorization"].split()[1]

        results, fills, since = [], [], None
        for size in SIZES:
            started = time.perf_counter()
            asyncio.run(fill_catalog(dsn, size, since=since))
            fills.append(time.perf_counter() - started)
            since = size
            print(f"{size.courses:,} courses filled in {fills[-1]:.0f} s", flush=True)
            chosen = routes(api, admin_token, student, learners.quiz_id, learners.course_id)
            results.append(measure(api, chosen, vus=opts.vus, duration=opts.duration))

    print(f"\n{opts.workers} granian workers, {opts.vus} k6 virtual users, {opts.duration} per row, cache off")
    print("bulk fills: " + ", ".join(f"{s.courses:,} courses in {t:.0f} s" for s, t in zip(SIZES, fills, strict=True)))
    print(
        "\n| uncached list route | req/s at 100 | at 10 k | at 100 k | p95 at 100 (ms) | p95 at 100 k (ms) "
        "| p95 100 k / 100 | median, one at a time, at 100 k (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    small, middle, large = results
    for a, b, c in zip(small, middle, large, strict=True):
        print(
            f"| {a.load.name} | {a.load.rps:,.0f} | {b.load.rps:,.0f} | {c.load.rps:,.0f} | {a.load.p95:.1f} "
            f"| {c.load.p95:.1f} | {c.load.p95 / a.load.p95:.2f} | {c.median_ms:.1f} |"
        )
    first, deep = large[0], large[2]
    print(
        f"\ncursor after {DEPTH:,} against page 1, at 100 k: p95 {deep.load.p95 / first.load.p95:.2f} times, "
        f"req/s {first.load.rps / deep.load.rps:.2f} times lower"
    )


if __name__ == "__main__":
    main()
