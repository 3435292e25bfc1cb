"""Benchmark: the gradebook of a course with 10,000 enrolled students and 40 items (20 quizzes, 20
assignments; attempts and submissions for nine students in ten at each item), filled in bulk SQL.

    uv run just bench-gradebook               # 15 s per row
    uv run just bench-gradebook --duration 30s

Rows: a page of 50 rows (page 1, and pages spread over the whole book) under 8 concurrent managers,
beside `GET /users/me` for the same caller (the cost of an authenticated request alone) in the same
run; then the CSV of all 10,000 rows, streamed by an API of one worker whose resident memory is
sampled every 20 ms while it streams.

The API runs as `lms run --workers 2` in production on PostgreSQL + Redis, rate limits on (never
refusing).
"""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import time

import httpx

from bench.run import Result, admin_headers, k6, options, rss_mb, stack
from tests.support.volume import GradebookVolume, bulk_id, fill_gradebook

VOLUME = GradebookVolume(students=10_000, items=40)
PAGE_SIZE = 50


def stream_csv(url: str, token: str, pid: int) -> tuple[int, float, float, float]:
    """Download the CSV while sampling the server's memory: (rows, seconds, MB before, MB peak)."""
    before = rss_mb(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    body = io.StringIO()
    try:
        with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=300) as r:
            r.raise_for_status()
            for chunk in r.iter_text():
                body.write(chunk)
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - started
    rows = sum(1 for _ in csv.reader(io.StringIO(body.getvalue()))) - 1
    return rows, seconds, before, peak[0]


def main() -> None:
    opts = options(__doc__, vus=8)
    with stack("lms-gradebook-", LMS_ACCESS_TOKEN_EXPIRE_MINUTES="120") as servers:
        dsn = servers.database.replace("postgresql+asyncpg://", "postgresql://")
        started = time.perf_counter()
        asyncio.run(fill_gradebook(dsn, VOLUME))
        filled = time.perf_counter() - started
        api = servers.serve_api(opts.workers)
        token = admin_headers(api)["Authorization"].split()[1]
        course = bulk_id("gradebook-course")
        book = f"/api/v1/courses/{course}/gradebook"
        first = httpx.get(f"{api}{book}?page_size={PAGE_SIZE}", headers={"Authorization": f"Bearer {token}"}).json()
        assert len(first["items"]) == VOLUME.items, first["items"]
        assert first["rows"]["total"] == VOLUME.students, first["rows"]["total"]
        pages = VOLUME.students // PAGE_SIZE
        spread = [f"{book}?page_size={PAGE_SIZE}&page={1 + (n * 37) % pages}" for n in range(pages)]
        run = {"vus": opts.vus, "duration": opts.duration}
        results: list[Result] = [
            k6("GET /users/me (the caller alone)", api, "/api/v1/users/me", token=token, **run),
            k6("B1 gradebook, page 1 of 50 rows", api, f"{book}?page_size={PAGE_SIZE}", token=token, **run),
            k6("B1 gradebook, pages spread", api, book, sets=[{"token": token, "paths": spread}], **run),
        ]
        single = servers.serve_api(1)
        pid = servers.procs[-1].pid
        rows, seconds, before, peak = stream_csv(f"{single}{book}.csv", token, pid)

    print(f"\nbulk fill: {VOLUME.students:,} students x {VOLUME.items} items in {filled:.0f} s")
    print(f"{opts.workers} granian workers, {opts.vus} k6 virtual users, {opts.duration} per row\n")
    print("| route | requests/s | p95 (ms) | p99 (ms) | failed checks |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.name} | {r.rps:,.0f} | {r.p95:.1f} | {r.p99:.1f} | {r.failed:.1%} |")
    print(
        f"\nB2 CSV: {rows:,} rows in {seconds:.1f} s; the serving process at {before:.0f} MB before, "
        f"{peak:.0f} MB at its peak while streaming (+{peak - before:.0f} MB)"
    )


if __name__ == "__main__":
    main()
