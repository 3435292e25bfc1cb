"""Benchmark: analytics cost as the tables grow. One fixed-size student and one fixed-size course
(made through the API) are measured with 1 k, then 1 M progress rows in the tables (bulk SQL,
not the API), with the analytics cache off; then course analytics of a course with 100 k
enrollments, one request at a time (the latency a dashboard waits for).

    uv run just bench-growth                  # 10 s per row
    uv run just bench-growth --duration 20s

The API runs as `lms run --workers 2` in production on PostgreSQL + Redis, rate limits on (never
refusing), `LMS_ANALYTICS_CACHE_TTL_SECONDS=0`.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from bench.run import Result, admin_headers, k6, latency, options, seed_learners, stack
from tests.support.volume import Volume, bulk_id, fill

SMALL = Volume(students=100)  # 100 enrollments in bulk course 0, 10 progress rows each: 1 k
LARGE = Volume(students=99_900, first=101)  # then 1 M progress rows, 100 k enrollments in course 0


def make_history(api: str, token: str, paths: list[str], quiz_id: str, answers: str) -> None:
    """The fixed student's own rows: progress on every lesson but the quiz's, two attempts."""
    headers = {"Authorization": f"Bearer {token}"}
    for path in paths[:-1]:
        body = {"status": "completed", "time_spent_seconds": 300}
        httpx.put(f"{api}{path}", json=body, headers=headers).raise_for_status()
    attempts = f"{api}/api/v1/quizzes/{quiz_id}/attempts"
    for body in ('{"answers": []}', answers):
        attempt = httpx.post(attempts, headers=headers).json()
        r = httpx.post(f"{attempts}/{attempt['id']}/submit", content=body, headers=headers)
        r.raise_for_status()


def measure(api: str, student: str, admin: str, course: str, *, vus: int, duration: str) -> list[Result]:
    run = {"vus": vus, "duration": duration}
    return [
        k6("N1 GET /analytics/my-progress", api, "/api/v1/analytics/my-progress", token=student, **run),
        k6("N2 GET /analytics/my-dashboard", api, "/api/v1/analytics/my-dashboard", token=student, **run),
        k6("N3 GET /analytics/courses/{id}", api, f"/api/v1/analytics/courses/{course}", token=admin, **run),
    ]


def main() -> None:
    opts = options(__doc__, vus=16)

    # Tokens minted before the 1 M fill must outlive it.
    with stack("lms-growth-", LMS_ANALYTICS_CACHE_TTL_SECONDS="0", LMS_ACCESS_TOKEN_EXPIRE_MINUTES="120") as servers:
        dsn = servers.database.replace("postgresql+asyncpg://", "postgresql://")
        api = servers.serve_api(opts.workers)
        admin = admin_headers(api)
        admin_token = admin["Authorization"].split()[1]
        learners = seed_learners(api, admin)  # the fixed course: 32 enrollments
        student = learners.tokens[0]
        paths = [str(path) for path in learners.progress[0]["paths"]]  # type: ignore[attr-defined]
        make_history(api, student, paths, learners.quiz_id, learners.answers)
        run = {"vus": opts.vus, "duration": opts.duration}
        busiest = f"{api}/api/v1/analytics/courses/{bulk_id('course-0')}"

        asyncio.run(fill(dsn, SMALL))
        small = measure(api, student, admin_token, learners.course_id, **run)
        small_busiest = latency(busiest, admin_token)
        print(f"1 k progress rows measured; filling to {SMALL.progress_rows + LARGE.progress_rows:,}", flush=True)
        started = time.perf_counter()
        asyncio.run(fill(dsn, LARGE))
        filled = time.perf_counter() - started
        large = measure(api, student, admin_token, learners.course_id, **run)
        large_busiest = latency(busiest, admin_token)
        figures = httpx.get(busiest, headers=admin).json()

    print(f"\nbulk fill of 1 M progress rows (100 k students and enrollments, 100 k attempts): {filled:.0f} s")
    print(f"{opts.workers} granian workers, {opts.vus} k6 virtual users, {opts.duration} per row, cache off\n")
    print("| route (fixed-size student, course) | req/s, 1 k | req/s, 1 M | 1 M / 1 k | p95 1 k (ms) | p95 1 M (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for a, b in zip(small, large, strict=True):
        print(f"| {a.name} | {a.rps:,.0f} | {b.rps:,.0f} | {b.rps / a.rps:.2f} | {a.p95:.1f} | {b.p95:.1f} |")
    print(
        f"\nN3 on bulk course 0, one request at a time (median / p95 / max ms): "
        f"{small_busiest[0]:.1f} / {small_busiest[1]:.1f} / {small_busiest[2]:.1f} with 100 enrollments, "
        f"{large_busiest[0]:.1f} / {large_busiest[1]:.1f} / {large_busiest[2]:.1f} with "
        f"{figures['total_enrollments']:,} enrollments"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
