"""The analytics queries on PostgreSQL read through indexes, whatever the tables hold: each
statement N1-N4 issues is EXPLAINed (the planner's own choice, on tables filled in bulk and
analysed) and no plan scans `enrollments`, `lesson_progress` or `quiz_attempts` sequentially.

N5 (the system overview) counts whole tables, which reads every row of them (or of an index) by
definition; it is left out here and its cost is shown in the benchmark instead.
"""

from __future__ import annotations

import json

import pytest

from tests.http.conftest import MakeApiFn
from tests.support.learning import enroll, progress, quiz_room
from tests.support.plans import dsn_of, nodes, plans_of, recorded
from tests.support.volume import Volume, fill

WATCHED = {"enrollments", "lesson_progress", "quiz_attempts"}
VOLUME = Volume(
    students=3000,
    courses=200,
    spread=True,
    enrollments_per_student=3,
    progress_per_enrollment=5,
    attempts_per_enrollment=2,
)


async def test_no_analytics_query_scans_the_big_tables(make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch) -> None:
    api = await make_api()
    qr = await quiz_room(api, lessons=3)
    owner, student = qr.room.cast.owner, qr.room.cast.student
    eid = (await enroll(api, student, qr.room.course_id))["id"]
    await progress(api, student, eid, qr.room.lessons[0]["id"], status="completed", time_spent_seconds=60)
    attempt = (await api.client.post(qr.attempts, headers=student.headers)).json()
    await api.client.post(f"{qr.attempts}/{attempt['id']}/submit", json={"answers": []}, headers=student.headers)
    engine = api.container.engine
    await fill(dsn_of(engine), VOLUME)

    routes = [
        "/my-progress",
        "/my-dashboard",
        f"/courses/{qr.room.course_id}",
        f"/instructors/{owner.user['id']}/overview",
    ]
    # The analytics statements are prepared reads, straight on asyncpg; any other through SQLAlchemy.
    async with recorded(engine, monkeypatch) as statements:
        for path in routes:
            who = student if path.startswith("/my") else owner
            r = await api.client.get(f"/api/v1/analytics{path}", headers=who.headers)
            assert r.status_code == 200, r.text

    analytics = [(s, p) for s, p in statements if any(table in s for table in WATCHED)]
    assert len(analytics) >= 5  # N1: 1, N2: 3, N3: 1 (+ the heading), N4: 1
    for statement, plan in await plans_of(engine, analytics):
        scanned = {n.get("Relation Name") for n in nodes(plan) if n["Node Type"] == "Seq Scan"}
        assert not scanned & WATCHED, (statement, json.dumps(plan, indent=1))
