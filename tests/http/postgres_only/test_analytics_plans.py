"""The analytics queries on PostgreSQL read through indexes, whatever the tables hold: each
statement N1-N4 issues is EXPLAINed (the planner's own choice, on tables filled in bulk and
analysed) and no plan scans `enrollments`, `lesson_progress` or `quiz_attempts` sequentially.

N5 (the system overview) counts whole tables, which reads every row of them (or of an index) by
definition; it is left out here and its cost is shown in the benchmark instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from tests.http.conftest import MakeApiFn
from tests.support.learning import enroll, progress, quiz_room
from tests.support.volume import Volume, fill

WATCHED = {"enrollments", "lesson_progress", "quiz_attempts"}
VOLUME = Volume(students=3000, enrollments_per_student=3, progress_per_enrollment=5, attempts_per_enrollment=2)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


async def test_no_analytics_query_scans_the_big_tables(make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch) -> None:
    api = await make_api()
    qr = await quiz_room(api, lessons=3)
    owner, student = qr.room.cast.owner, qr.room.cast.student
    eid = (await enroll(api, student, qr.room.course_id))["id"]
    await progress(api, student, eid, qr.room.lessons[0]["id"], status="completed", time_spent_seconds=60)
    attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
    await api.client.post(f"{qr.attempts}/{attempt['id']}/submit", json={"answers": []}, headers=student.headers)
    engine = api.container.engine
    await fill(engine.url.set(drivername="postgresql").render_as_string(hide_password=False), VOLUME)

    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    # The analytics statements are prepared reads, straight on asyncpg; any other through SQLAlchemy.
    fetch = asyncpg.Connection.fetch

    async def fetched(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        record(None, None, query, args, None, False)
        return await fetch(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "fetch", fetched)
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    routes = [
        "/my-progress",
        "/my-dashboard",
        f"/courses/{qr.room.course_id}",
        f"/instructors/{owner.user['id']}/overview",
    ]
    try:
        for path in routes:
            who = student if path.startswith("/my") else owner
            r = await api.client.get(f"/api/v1/analytics{path}", headers=who.headers)
            assert r.status_code == 200, r.text
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        monkeypatch.setattr(asyncpg.Connection, "fetch", fetch)

    analytics = [(s, p) for s, p in statements if any(table in s for table in WATCHED)]
    assert len(analytics) >= 5  # N1: 1, N2: 3, N3: 1 (+ the heading), N4: 1
    # Both speak asyncpg's SQL ($1, $2, …), so each is explained as it was sent.
    explainer = await asyncpg.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        for statement, parameters in analytics:
            raw = await explainer.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *parameters)
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            scanned = {n.get("Relation Name") for n in nodes(plan) if n["Node Type"] == "Seq Scan"}
            assert not scanned & WATCHED, (statement, json.dumps(plan, indent=1))
    finally:
        await explainer.close()
