"""`/metrics` of `lms run --workers 2` adds up both worker processes (API §7.15)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import lms_env, serving
from tests.support.servers import RedisServer

HEALTH = re.compile(r'http_requests_total\{method="GET",path="/api/v1/health",status="200"\} (\d+)')


def test_one_scrape_sees_every_worker(tmp_path: Path, own_redis: RedisServer) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    env = lms_env(tmp_path, LMS_REDIS_URL=own_redis.url, LMS_DATABASE_URL=database)
    with serving(env, "--workers", "2") as base:
        for _ in range(60):
            with httpx.Client() as client:  # a new connection each: the kernel spreads them over the workers
                assert client.get(f"{base}/api/v1/health").status_code == 200
        time.sleep(2.5)  # both workers write their snapshot every second
        scrapes = []
        for _ in range(6):
            with httpx.Client() as client:
                found = HEALTH.search(client.get(f"{base}/metrics").text)
            scrapes.append(int(found.group(1)) if found else 0)
        snapshots = [json.loads(p.read_text()) for p in (tmp_path / "metrics").glob("*.json")]
    assert scrapes == [61] * 6  # whichever worker answers the scrape (60 and the start-up probe)
    assert len({s["pid"] for s in snapshots}) == 2
    served = [sum(n for m, p, _, n in s["requests"] if p == "/api/v1/health") for s in snapshots]
    assert sum(served) == 61
