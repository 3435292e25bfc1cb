"""Every list route on PostgreSQL reads a page through indexes at any table size: with 100 k rows
in each big table (filled in bulk and analysed), each SELECT the list routes issue is EXPLAINed,
by page number, deep, and by cursor, with every filter the contract offers, and no plan scans a
big table sequentially or counts its total with a window over every matching row (`WindowAgg`).

Search is checked with words that match 1 % of the courses, published ones or drafts only, and
must read its matches through the text index (walking the date index for a word no published
course has would read every course). For a word that matches most courses, counting the matches
reads most of the table whichever way it goes (the benchmark shows its cost); so does any filter
whose value most rows share, which the planner may then read sequentially: the filters here pick
values as rare as an operator's usual question (failed deliveries, one event type).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.http.conftest import MakeApiFn
from tests.http.test_files import upload
from tests.support.learning import enroll, quiz_room
from tests.support.plans import dsn_of, nodes, plans_of, recorded
from tests.support.volume import Catalog, fill_catalog

ROWS = 100_000
CATALOG = Catalog(courses=ROWS, lessons=1, users=ROWS, enrollments=ROWS, rows=ROWS)
WATCHED = {
    "users",
    "courses",
    "lessons",
    "enrollments",
    "quizzes",
    "questions",
    "quiz_attempts",
    "certificates",
    "files",
    "webhook_deliveries",
}


def problems_in(statement: str, plan: dict[str, Any]) -> set[str]:
    found = set()
    if "search_document" in statement and not any(n.get("Index Name") == "ix_courses_search" for n in nodes(plan)):
        found.add("search without the text index")
    for node in nodes(plan):
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in WATCHED:
            found.add(f"Seq Scan on {node['Relation Name']}")
        if node["Node Type"] == "WindowAgg":
            found.add("WindowAgg")
    return found


async def test_no_list_reads_a_big_table_whole(make_api: MakeApiFn, monkeypatch: pytest.MonkeyPatch) -> None:
    api = await make_api()
    qr = await quiz_room(api, lessons=2)
    cast, course_id = qr.room.cast, qr.room.course_id
    await enroll(api, cast.student, course_id)
    assert (await api.client.post(qr.attempts, headers=cast.student.headers)).status_code == 201
    assert (await upload(api, cast.student)).status_code == 201
    engine = api.container.engine
    await fill_catalog(dsn_of(engine), CATALOG)

    anonymous: dict[str, str] = {}
    student, owner, admin = cast.student.headers, cast.owner.headers, cast.admin.headers
    routes = [
        ("/api/v1/courses", anonymous),
        ("/api/v1/courses?page=500", anonymous),
        ("/api/v1/courses?category=DevOps", anonymous),
        ("/api/v1/courses?category=DevOps&difficulty_level=beginner", anonymous),
        ("/api/v1/courses?difficulty_level=advanced", anonymous),
        ("/api/v1/courses?q=kubernetes", anonymous),
        ("/api/v1/courses?q=terraform", anonymous),
        ("/api/v1/courses?mine=true", owner),
        ("/api/v1/courses", admin),
        ("/api/v1/courses?page=500", admin),
        ("/api/v1/courses?category=Data&difficulty_level=advanced", admin),
        ("/api/v1/courses?difficulty_level=beginner", admin),
        ("/api/v1/courses?q=kubernetes", admin),
        ("/api/v1/users", admin),
        ("/api/v1/users?page=500", admin),
        (f"/api/v1/courses/{course_id}/lessons", anonymous),
        (f"/api/v1/courses/{course_id}/quizzes", owner),
        (f"{qr.url}/questions", student),
        (f"{qr.url}/questions/manage", owner),
        (f"{qr.attempts}/my-attempts", student),
        ("/api/v1/enrollments/my-courses", student),
        (f"/api/v1/enrollments/courses/{course_id}", owner),
        ("/api/v1/files/my-files", student),
        ("/api/v1/certificates/my-certificates", student),
        ("/api/v1/webhooks/deliveries", admin),
        ("/api/v1/webhooks/deliveries?page=500", admin),
        ("/api/v1/webhooks/deliveries?status=failed", admin),
        ("/api/v1/webhooks/deliveries?event_type=certificate.revoked", admin),
    ]
    async with recorded(engine, monkeypatch) as statements:
        for url, headers in routes:
            paged = f"{url}{'&' if '?' in url else '?'}page_size=2"
            r = await api.client.get(paged, headers=headers)
            assert r.status_code == 200, (url, r.text)
            cursor = r.json()["next_cursor"]
            if cursor is not None and "page=" not in url:
                r = await api.client.get(f"{paged}&cursor={cursor}", headers=headers)
                assert r.status_code == 200, (url, r.text)

    lists = [(s, p) for s, p in statements if any(f"FROM {table}" in s for table in WATCHED)]
    assert len(lists) >= len(routes)
    found = {}
    for statement, plan in await plans_of(engine, lists):
        if problems := problems_in(statement, plan):
            found[statement] = (sorted(problems), json.dumps(plan, indent=1))
    assert not found, found
