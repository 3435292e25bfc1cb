"""Benchmark: the student journey on the API, beside the same round trips on raw asyncpg and
redis-py (`bench/raw.py`) and the hello-world ceiling, in one run.

    uv run just bench-journey                 # 10 s per row, 32 virtual users, 2 workers each
    uv run just bench-journey --duration 20s

All three servers are granian with the same number of workers; the API and the baseline share one
PostgreSQL and one Redis, with rate limits on (limits that never refuse). Each virtual user is
one enrolled student with its own token. Every endpoint is driven on its own, then the whole
journey (`bench/journey.js`: me, my courses, lessons, a progress report, my progress figures).
Health is compared with the ceiling; the uncached course with both servers' catalog cache off.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from bench.run import PASSWORD, Learners, Result, _result, admin_headers, k6, options, run_k6, seed_learners, stack


def journey(name: str, base: str, learners: Learners, *, vus: int, duration: str) -> tuple[Result, dict[str, float]]:
    """The whole journey: the row counts journeys per second; the dict holds each step's p95."""
    students = [
        {"token": set_["token"], "course": learners.course_id, "progress": set_["paths"]} for set_ in learners.progress
    ]
    summary = run_k6("journey.js", {"BASE": base, "STUDENTS": json.dumps(students)}, vus=vus, duration=duration)
    data = json.loads(Path(summary).read_text())
    steps = {
        key.split("step:")[1].rstrip("}"): metric["p(95)"]
        for key, metric in data["metrics"].items()
        if key.startswith("http_req_duration{step:")
    }
    result = _result(name, summary)
    result.rps = float(data["metrics"]["iterations"]["rate"])
    return result, steps


def main() -> None:
    opts = options(__doc__)

    with stack("lms-journey-") as servers:
        api = servers.serve_api(opts.workers)
        raw = servers.serve_app("bench.raw:create_app", opts.workers, probe="/health")
        hello = servers.serve_app("bench.hello:create_app", opts.workers)
        # The catalog cache off on both sides: the uncached read's query on every request.
        api_uncached = servers.serve_api(opts.workers, LMS_CACHE_TTL_SECONDS="0")
        raw_uncached = servers.serve_app("bench.raw:create_app", opts.workers, "/health", LMS_CACHE_TTL_SECONDS="0")
        learners = seed_learners(api, admin_headers(api))
        # A student's own password, for the login rows.
        login = json.dumps({"email": "learner0@example.com", "password": PASSWORD})
        check = httpx.get(f"{raw}/api/v1/users/me", headers={"Authorization": f"Bearer {learners.tokens[0]}"})
        check.raise_for_status()

        run = {"vus": opts.vus, "duration": opts.duration}
        each = {
            "GET /users/me": ("GET", "/api/v1/users/me"),
            "GET /enrollments/my-courses": ("GET", "/api/v1/enrollments/my-courses"),
            "GET /courses/{id}/lessons": ("GET", f"/api/v1/courses/{learners.course_id}/lessons"),
            "GET /analytics/my-progress": ("GET", "/api/v1/analytics/my-progress"),
        }
        report = json.dumps({"status": "in_progress", "time_spent_seconds": 30, "last_position_seconds": 12})
        rows: list[tuple[str, Result, Result]] = []
        ceiling = k6("hello-world ceiling", hello, "/", **run)
        # Health goes through the whole middleware stack and touches nothing: its baseline is the ceiling.
        rows.append(("GET /health (baseline: the ceiling)", k6("health", api, "/api/v1/health", **run), ceiling))
        for name, (_, path) in each.items():
            sets = [{"token": t, "paths": [path]} for t in learners.tokens]
            rows.append((name, k6(name, api, "", sets=sets, **run), k6(name, raw, "", sets=sets, **run)))
        # Anonymous catalog reads the cache answers: one Redis round trip on each side.
        for name, path in (
            ("GET /courses/{id} (anonymous, cached)", f"/api/v1/courses/{learners.course_id}"),
            ("GET /courses (anonymous, cached)", "/api/v1/courses"),
        ):
            rows.append((name, k6(name, api, path, **run), k6(name, raw, path, **run)))
        name, path = "GET /courses/{id} (anonymous, uncached)", f"/api/v1/courses/{learners.course_id}"
        rows.append((name, k6(name, api_uncached, path, **run), k6(name, raw_uncached, path, **run)))
        name = "PUT …/lessons/{id}/progress"
        rows.append(
            (
                name,
                k6(name, api, "", method="PUT", body=report, sets=learners.progress, **run),
                k6(name, raw, "", method="PUT", body=report, sets=learners.progress, **run),
            )
        )
        api_journey, api_steps = journey("journey", api, learners, **run)
        raw_journey, raw_steps = journey("journey", raw, learners, **run)
        rows.append(("the whole journey (journeys/s, 5 requests each)", api_journey, raw_journey))
        # API §10.4: a key against the same user's Bearer token, on the same API (both read the
        # user, or the key with its user, in one statement after the rate limiter's round trip).
        admin = admin_headers(api)
        minted = httpx.post(f"{api}/api/v1/api-keys", json={"name": "bench", "scopes": ["courses:read"]}, headers=admin)
        minted.raise_for_status()
        me = "/api/v1/users/me"
        by_key = k6("me by key", api, "", sets=[{"token": minted.json()["key"], "paths": [me]}] * opts.vus, **run)
        by_bearer = k6(
            "me by token", api, "", sets=[{"token": admin["Authorization"][7:], "paths": [me]}] * opts.vus, **run
        )
        name = "POST /auth/login"
        rows.append(
            (
                name,
                k6(name, api, "/api/v1/auth/login", method="POST", body=login, **run),
                k6(name, raw, "/api/v1/auth/login", method="POST", body=login, **run),
            )
        )

    print(f"\n{opts.workers} granian workers each, {opts.vus} k6 virtual users, {opts.duration} per row")
    print(f"hello-world ceiling: {ceiling.rps:,.0f} requests/s (p95 {ceiling.p95:.1f} ms)\n")
    print("| endpoint | API req/s | raw req/s | API / raw | API / ceiling | API p95 (ms) | raw p95 (ms) | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, ours, bare in rows:
        ratios = f"{ours.rps / bare.rps:.2f} | {ours.rps / ceiling.rps:.2f}"
        print(
            f"| {name} | {ours.rps:,.0f} | {bare.rps:,.0f} | {ratios} | "
            f"{ours.p95:.1f} | {bare.p95:.1f} | {max(ours.failed, bare.failed):.1%} |"
        )
    print(
        f"\nGET /users/me with an API key: {by_key.rps:,.0f} req/s (p95 {by_key.p95:.1f} ms), "
        f"{by_key.rps / by_bearer.rps:.2f} times the same user's Bearer token ({by_bearer.rps:,.0f} req/s, "
        f"p95 {by_bearer.p95:.1f} ms)"
    )
    print(
        "\njourney steps, p95 (ms): "
        + ", ".join(f"{s} {api_steps[s]:.1f} vs {raw_steps.get(s, 0):.1f}" for s in api_steps)
    )


if __name__ == "__main__":
    main()
