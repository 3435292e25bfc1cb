"""The gradebook over HTTP (API §11.3) on both backends: items, statuses, best and latest grades,
the weighted course percentage on a moved clock, the CSV export with formula injection
neutralised, a student's own row, and who may read what."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api
from tests.support.assignments import AssignmentRoom, create_assignment, grade, submit
from tests.support.catalog import user_with_role
from tests.support.learning import classroom, enroll, quiz_room
from tests.unit.fakes import FakeClock

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"


def iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_the_gradebook_adds_it_all_up(make_api: MakeApiFn) -> None:
    clock = FakeClock()
    api = await make_api(clock=clock)
    now = clock.current
    # A quiz (4 points, weight 1) on the last lesson, and two assignments on the first lessons.
    qr = await quiz_room(api, lessons=3, weight="1", due_at=iso(now + timedelta(days=3)))
    room, owner = qr.room, qr.room.cast.owner
    essay = await create_assignment(
        api,
        owner,
        room.course_id,
        title="=HYPERLINK(1)",
        lesson_id=room.lessons[0]["id"],
        weight="2",
        due_at=iso(now + timedelta(days=1)),
        max_submissions=2,
    )
    report = await create_assignment(
        api,
        owner,
        room.course_id,
        title="Report",
        lesson_id=room.lessons[1]["id"],
        weight="3",
        max_points="20",
    )
    draft = await create_assignment(api, owner, room.course_id, title="Draft", lesson_id=None)
    for made in (essay, report):
        r = await api.client.post(
            f"/api/v1/courses/{room.course_id}/assignments/{made['id']}/publish", headers=owner.headers
        )
        assert r.status_code == 200
    ann = room.cast.student
    bob = await user_with_role(api, "student")
    eid_ann = (await enroll(api, ann, room.course_id))["id"]
    await enroll(api, bob, room.course_id)
    # Ann: the quiz twice (25 %, then 100 %: the best counts), the essay graded 8/10 then resubmitted (pending,
    # but the latest graded grade counts), the report handed in and not graded.
    for answers in ([], qr.right_answers()):
        attempt = (await api.client.post(qr.attempts, headers=ann.headers)).json()
        r = await api.client.post(
            f"{qr.attempts}/{attempt['id']}/submit", json={"answers": answers}, headers=ann.headers
        )
        assert r.status_code == 200
    essay_room = AssignmentRoom(room, essay, eid_ann)
    first = await submit(api, ann, essay_room)
    await grade(api, owner, first["id"], points="8")
    await submit(api, ann, essay_room, text="second")
    await submit(api, ann, AssignmentRoom(room, report, eid_ann))
    url = f"/api/v1/courses/{room.course_id}/gradebook"
    body = (await api.client.get(url, headers=owner.headers)).json()
    assert [(i["kind"], i["title"], i["weight"], i["max_points"]) for i in body["items"]] == [
        ("assignment", "=HYPERLINK(1)", "2.00", "10.00"),
        ("assignment", "Report", "3.00", "20.00"),
        ("quiz", "Checkpoint", "1.00", "4.00"),
    ]
    assert draft["id"] not in {i["id"] for i in body["items"]}
    rows = {r["email"]: r for r in body["rows"]["items"]}
    assert body["rows"]["total"] == 2
    assert [(g["status"], g["percentage"]) for g in rows[ann.email]["grades"]] == [
        ("graded", "80.00"),
        ("pending", None),
        ("graded", "100.00"),
    ]
    # (2 x 80 + 1 x 100) / 3 = 86.67; the pending report is left out.
    assert rows[ann.email]["course_percentage"] == "86.67"
    assert [(g["status"], g["percentage"]) for g in rows[bob.email]["grades"]] == [
        ("not_due", None),
        ("not_due", None),
        ("not_due", None),
    ]
    assert rows[bob.email]["course_percentage"] is None
    # Two days on, the essay is past due: Bob's is missing and counts as 0.
    clock.advance(days=2)
    body = (await api.client.get(url, headers=room.cast.admin.headers)).json()
    bob_row = next(r for r in body["rows"]["items"] if r["email"] == bob.email)
    assert [(g["status"], g["percentage"]) for g in bob_row["grades"]] == [
        ("missing", "0.00"),
        ("not_due", None),
        ("not_due", None),
    ]
    assert bob_row["course_percentage"] == "0.00"
    # The student's own row (B3), and the CSV (B2).
    mine = (await api.client.get(f"/api/v1/enrollments/{eid_ann}/grades", headers=ann.headers)).json()
    assert mine["row"]["course_percentage"] == "86.67" and len(mine["items"]) == 3
    r = await api.client.get(f"{url}.csv", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith("attachment")
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0] == [
        "student_id",
        "full_name",
        "email",
        "'=HYPERLINK(1)",
        "Report",
        "Checkpoint",
        "course_percentage",
    ]
    by_email = {row[2]: row for row in table[1:]}
    assert by_email[ann.email][3:] == ["80.00", "pending", "100.00", "86.67"]
    assert by_email[bob.email][3:] == ["0.00", "", "", "0.00"]


async def test_names_that_look_like_formulas_are_neutralised(api: Api) -> None:
    room = await classroom(api, 1)
    nasty = await api.register(full_name="@SUM(A1:A9)")
    await enroll(api, nasty, room.course_id)
    for lead in ("+1", "-1", "\tx", "\rx"):
        who = await api.register(full_name=f"{lead} person")
        await enroll(api, who, room.course_id)
    r = await api.client.get(f"/api/v1/courses/{room.course_id}/gradebook.csv", headers=room.cast.owner.headers)
    names = [row[1] for row in csv.reader(io.StringIO(r.text))][1:]
    assert sorted(names) == sorted(["'@SUM(A1:A9)", "'+1 person", "'-1 person", "'\tx person", "'\rx person"])


async def test_who_may_read_grades(api: Api) -> None:
    room = await classroom(api, 1)
    cast = room.cast
    eid = (await enroll(api, cast.student, room.course_id))["id"]
    outsider = await user_with_role(api, "student")
    url = f"/api/v1/courses/{room.course_id}/gradebook"
    for who in (cast.student, cast.other, outsider):
        problem(
            await api.client.get(url, headers=who.headers), 403, "Not authorized to view the gradebook of this course"
        )
        problem(
            await api.client.get(f"{url}.csv", headers=who.headers),
            403,
            "Not authorized to view the gradebook of this course",
        )
    for who in (cast.other, outsider):
        problem(
            await api.client.get(f"/api/v1/enrollments/{eid}/grades", headers=who.headers),
            403,
            "Not authorized to view these grades",
        )
    for who in (cast.student, cast.owner, cast.admin):
        r = await api.client.get(f"/api/v1/enrollments/{eid}/grades", headers=who.headers)
        assert (r.status_code, r.json()["items"], r.json()["row"]["course_percentage"]) == (200, [], None)
    problem(
        await api.client.get(f"/api/v1/courses/{NO_SUCH}/gradebook", headers=cast.admin.headers),
        404,
        "Course not found",
    )
    problem(
        await api.client.get(f"/api/v1/enrollments/{NO_SUCH}/grades", headers=cast.admin.headers),
        404,
        "Enrollment not found",
    )
    problem(await api.client.get(url), 401, "Not authenticated")
    empty = (await api.client.get(url, headers=cast.owner.headers)).json()
    assert empty["items"] == [] and [r["grades"] for r in empty["rows"]["items"]] == [[]]


async def test_the_gradebook_pages_in_enrollment_order(api: Api) -> None:
    room = await classroom(api, 1)
    for name in ("Cleo", "Abe", "Bea"):
        await enroll(api, await api.register(full_name=name), room.course_id)
    url = f"/api/v1/courses/{room.course_id}/gradebook?page_size=2"
    first = await api.client.get(url, headers=room.cast.owner.headers)
    body = first.json()
    assert [r["full_name"] for r in body["rows"]["items"]] == ["Cleo", "Abe"]
    assert body["rows"]["total"] == 3 and "next" in first.headers["link"]
    cursor = body["rows"]["next_cursor"]
    second = (await api.client.get(f"{url}&cursor={cursor}", headers=room.cast.owner.headers)).json()
    assert [r["full_name"] for r in second["rows"]["items"]] == ["Bea"]


async def test_malformed_ids_are_422_on_every_grading_route(api: Api) -> None:
    room = await classroom(api, 1)
    owner = room.cast.owner
    for path in (
        "/api/v1/courses/nope/gradebook",
        "/api/v1/courses/nope/gradebook.csv",
        "/api/v1/courses/nope/grading-queue",
        "/api/v1/enrollments/nope/grades",
    ):
        invalid(
            await api.client.get(path, headers=owner.headers),
            "path." + ("enrollment_id" if "enroll" in path else "course_id"),
        )
    r = await api.client.post(
        f"/api/v1/attempts/nope/answers/{NO_SUCH}/grade", json={"points": "1"}, headers=owner.headers
    )
    invalid(r, "path.attempt_id")
    r = await api.client.post(
        f"/api/v1/attempts/{NO_SUCH}/answers/nope/grade", json={"points": "1"}, headers=owner.headers
    )
    invalid(r, "path.question_id")
    invalid(
        await api.client.get(f"/api/v1/courses/{room.course_id}/gradebook?page_size=0", headers=owner.headers),
        "query.page_size",
    )
    invalid(await api.client.get("/api/v1/courses/slug/" + "x" * 256), "path.slug")
