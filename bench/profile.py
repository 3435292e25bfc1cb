"""Where a request's time goes: the API and the raw baseline (`bench/raw.py`) driven in this process,
request by request through ASGI with no HTTP server or client, on the PostgreSQL and Redis of a
throwaway stack, rate limits on (never refusing) as in the k6 runs.

    uv run just bench-profile                  # 2,000 requests per route, 16 in flight
    uv run just bench-profile --requests 5000 --top 30

For each route it prints the CPU time per request of each app (this process's CPU time divided by
the requests: what two granian workers spend per request, without the server's own share), and then
the API's profile (cProfile): self time per package and the functions with the most self time.
The database and Redis run in their own processes, so their work is not in these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import admin_headers, seed_learners, stack
from tests.support.lifespan import Lifespan

ROOT = Path(__file__).resolve().parent.parent
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    paths: list[str]  # rotated over, one per request
    token: str = ""
    body: bytes = b""
    cache_off: bool = False  # drive the apps built with the catalog cache off
    raw_paths: list[str] | None = None  # where the baseline serves it, when elsewhere


async def call(app: App, method: str, path: str, token: str, body: bytes) -> int:
    """One request through the app's ASGI interface (`path` may carry a query); its status."""
    path, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"bench-profile")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never goes away
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: App, route: Route, requests: int, in_flight: int, paths: list[str] | None = None) -> float:
    """CPU seconds of this process per request, for `requests` requests with `in_flight` at a time."""
    pending = iter(range(requests))
    paths = paths or route.paths

    async def client() -> None:
        for n in pending:
            path = paths[n % len(paths)]
            status = await call(app, route.method, path, route.token, route.body)
            if status >= 300:
                raise RuntimeError(f"{route.name}: {route.method} {path} answered {status}")

    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(in_flight)))
    return (time.process_time() - started) / requests


def package_of(filename: str) -> str:
    """The package a profiled function belongs to: our layers, an installed distribution, or Python."""
    if filename.startswith("~") or filename.startswith("<"):
        return "built-ins (C)"
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/", maxsplit=1)[0].removesuffix(".py")
    if filename.startswith(str(ROOT)):
        return "ours: " + Path(filename).relative_to(ROOT).parts[0]
    return "Python stdlib"


def report(profile: cProfile.Profile, requests: int, top: int, callers: str) -> None:
    stats = pstats.Stats(profile)
    if callers:
        stats.sort_stats("tottime").print_callers(callers)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    by_package: dict[str, float] = defaultdict(float)
    functions = []
    for (filename, line, name), (_, calls, self_time, _, _) in raw.items():
        by_package[package_of(filename)] += self_time
        functions.append((self_time, calls, f"{Path(filename).name}:{line} {name}", package_of(filename)))
    total = sum(by_package.values())
    print("  self time by package (µs per request):")
    for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1]):
        if seconds / total >= 0.01:
            print(f"    {package:<28} {seconds / requests * 1e6:7.1f}  {seconds / total:5.1%}")
    print(f"  top {top} functions by self time (µs per request, calls per request):")
    for self_time, calls, where, package in sorted(functions, reverse=True)[:top]:
        print(f"    {self_time / requests * 1e6:6.1f}  {calls / requests:5.1f}  {package:<20} {where}")


async def profile(env: dict[str, str], routes: list[Route], opts: argparse.Namespace) -> None:
    requests, in_flight = opts.requests, opts.in_flight
    os.environ.update(env)
    import bench.raw  # reads the environment at import
    from lms.app import create_app
    from lms.bootstrap import build_container
    from lms.settings import load_settings

    def api(**overrides: str) -> Any:
        settings = load_settings({**env, **overrides})
        return create_app(settings, build_container(settings))

    ours, uncached = api(), api(LMS_CACHE_TTL_SECONDS="0")
    bare = bench.raw.create_app()  # one app; its cache is switched per route (bench.raw.CACHING)
    async with Lifespan(ours), Lifespan(uncached), Lifespan(bare):
        print(f"\n{requests:,} requests per route, {in_flight} in flight; CPU µs per request in this process\n")
        print("| route | API µs | raw µs | raw / API |")
        print("|---|---:|---:|---:|")
        profiles = []
        for route in routes:
            app = uncached if route.cache_off else ours
            bench.raw.CACHING = not route.cache_off
            await drive(app, route, 200, in_flight)  # caches filled, connections open
            await drive(bare, route, 200, in_flight, route.raw_paths)
            bare_cost = await drive(bare, route, requests, in_flight, route.raw_paths)
            api_cost = await drive(app, route, requests, in_flight)
            profiler = cProfile.Profile()
            profiler.enable()
            await drive(app, route, requests, in_flight)
            profiler.disable()
            if opts.dump:
                profiler.dump_stats(Path(opts.dump) / f"{len(profiles)}.prof")
            profiles.append((route, profiler))
            print(f"| {route.name} | {api_cost * 1e6:,.0f} | {bare_cost * 1e6:,.0f} | {bare_cost / api_cost:.2f} |")
        bench.raw.CACHING = True
        for route, profiler in profiles:
            print(f"\n{route.name} (API, under the profiler)")
            report(profiler, requests, opts.top, opts.callers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--only", default="", help="profile only routes whose name contains this")
    parser.add_argument("--callers", default="", help="also print who calls the functions matching this")
    parser.add_argument("--dump", default="", help="save each route's profile in this folder (for pstats or snakeviz)")
    opts = parser.parse_args()

    with stack("lms-profile-") as servers:
        api = servers.serve_api(1)
        learners = seed_learners(api, admin_headers(api))
        course = f"/api/v1/courses/{learners.course_id}"
        student = learners.tokens[0]
        progress = [str(p) for p in learners.progress[0]["paths"]]  # type: ignore[attr-defined]
        report_body = json.dumps({"status": "in_progress", "time_spent_seconds": 30, "last_position_seconds": 12})
        routes = [
            Route("GET /health", "GET", ["/api/v1/health"], raw_paths=["/health"]),
            Route("GET /users/me", "GET", ["/api/v1/users/me"], student),
            Route("GET /courses/{id} (anonymous, cached)", "GET", [course]),
            Route("GET /courses (anonymous, cached)", "GET", ["/api/v1/courses"]),
            Route("GET /courses/{id} (anonymous, uncached)", "GET", [course], cache_off=True),
            Route("GET /enrollments/my-courses", "GET", ["/api/v1/enrollments/my-courses"], student),
            Route("PUT …/lessons/{id}/progress", "PUT", progress, student, report_body.encode()),
        ]
        routes = [r for r in routes if opts.only in r.name]
        if opts.dump:
            Path(opts.dump).mkdir(parents=True, exist_ok=True)
        asyncio.run(profile(servers.env, routes, opts))


if __name__ == "__main__":
    main()
