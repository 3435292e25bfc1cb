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

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.run import ADMIN, PASSWORD, ROOT, SECRET, Result, admin_headers, k6, seed_learners, serve
from tests.support.databases import PostgresDatabases
from tests.support.servers import PostgresServer, RedisServer, free_port
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


def latency(url: str, token: str, n: int = 50) -> tuple[float, float, float]:
    """One request at a time: median, p95 and max in ms (after 5 warm-up requests)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers) as client:
        for _ in range(5):
            client.get(url).raise_for_status()
        times = []
        for _ in range(n):
            start = time.perf_counter()
            client.get(url).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.95) - 1], times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--vus", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    opts = parser.parse_args()

    pg, redis = PostgresServer.start(), RedisServer.start()
    procs: list[subprocess.Popen[bytes]] = []
    tmp = Path(tempfile.mkdtemp(prefix="lms-growth-"))
    try:
        database = asyncio.run(PostgresDatabases(pg.url).create())
        dsn = database.replace("postgresql+asyncpg://", "postgresql://")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
        env.update(
            {
                "LMS_ENVIRONMENT": "production",
                "LMS_SECRET_KEY": SECRET,
                "LMS_TRUSTED_HOSTS": "127.0.0.1,localhost",
                "LMS_DATA_DIR": str(tmp),
                "LMS_DATABASE_URL": database,
                "LMS_REDIS_URL": redis.url,
                "LMS_QUEUE_URL": redis.url,
                "LMS_EMAIL_BACKEND": "file",
                "LMS_LOG_LEVEL": "WARNING",
                "LMS_RATE_LIMIT_GLOBAL": "1000000000/60",
                "LMS_RATE_LIMIT_AUTH": "1000000000/60",
                "LMS_ANALYTICS_CACHE_TTL_SECONDS": "0",
                # Tokens minted before the 1 M fill must outlive it.
                "LMS_ACCESS_TOKEN_EXPIRE_MINUTES": "120",
            }
        )
        subprocess.run([sys.executable, "-m", "lms.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "lms.cli", "users", "create-admin", "--email", ADMIN, "--password-stdin"],
            env=env, cwd=ROOT, check=True, capture_output=True, input=f"{PASSWORD}\n".encode(),
        )  # fmt: skip
        port = free_port()
        procs.append(
            serve([sys.executable, "-m", "lms.cli", "run", "--port", str(port), "--workers", str(opts.workers)],
                  env, f"http://127.0.0.1:{port}/api/v1/health")
        )  # fmt: skip
        api = f"http://127.0.0.1:{port}"
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
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        pg.stop()
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)

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
