"""Assignments over HTTP (API §11.1) on both backends: managing them, handing work in, the
submission window on a moved clock, grading with rubrics and late penalties, returning for
revision, the lesson gate, events, emails, and who may do what."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from adapters.sql.models import OutboxEventRow
from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.http.test_files import upload
from tests.support.api import Api
from tests.support.assignments import assignment_room, create_assignment, grade, submit
from tests.support.catalog import user_with_role
from tests.support.documented import assert_documented_event
from tests.support.learning import audit_actions, classroom, complete, enroll, enrollment
from tests.unit.fakes import FakeClock

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"
WEBHOOKS = {"LMS_WEBHOOK_URLS": "http://127.0.0.1:9/hooks", "LMS_WEBHOOK_SECRET": "secret-for-the-outbox"}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def events(api: Api, event_type: str) -> list[dict[str, Any]]:
    async with api.container.sessions() as session:
        rows = (
            await session.execute(select(OutboxEventRow.payload).where(OutboxEventRow.type == event_type))
        ).scalars()
        return [json.loads(json.dumps(p)) for p in rows.all()]


async def test_create_read_update_publish_and_delete(api: Api) -> None:
    room = await classroom(api, 2)
    owner = room.cast.owner
    url = f"/api/v1/courses/{room.course_id}/assignments"
    body = {
        "title": "Write a runbook",
        "instructions": "Cover **rollback**.",
        "lesson_id": room.lessons[0]["id"],
        "submission_types": ["file", "text"],
        "allowed_extensions": [".PDF", "docx"],
        "max_points": 10,
        "passing_percentage": "70",
        "weight": "2.5",
        "due_at": "2030-01-01T00:00:00Z",
        "late_policy": {"accept_late": True, "penalty_percent_per_day": "10", "max_late_days": 3},
        "max_submissions": 2,
        "rubric": [{"criterion": "Steps", "points": "6"}, {"criterion": "Clarity", "points": 4}],
    }
    r = await api.client.post(url, json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["is_published"] is False
    assert (made["max_points"], made["passing_percentage"], made["weight"]) == ("10.00", "70.00", "2.50")
    assert made["submission_types"] == ["text", "file"]
    assert made["allowed_extensions"] == ["docx", "pdf"]
    assert made["late_policy"] == {"accept_late": True, "penalty_percent_per_day": "10.00", "max_late_days": 3}
    assert made["rubric"] == [{"criterion": "Steps", "points": "6.00"}, {"criterion": "Clarity", "points": "4.00"}]
    assert made["course_id"] == room.course_id and made["available_from"] is None
    one = f"{url}/{made['id']}"
    # Drafts: managers see them; students, other instructors and anonymous callers do not.
    student, other = room.cast.student, room.cast.other
    assert [a["id"] for a in (await api.client.get(url, headers=owner.headers)).json()["items"]] == [made["id"]]
    assert (await api.client.get(url, headers=student.headers)).json()["items"] == []
    for headers in (student.headers, other.headers, {}):
        problem(await api.client.get(one, headers=headers), 404, "Assignment not found")
    problem(
        await api.client.post(url, json={**body, "title": "Another"}, headers=owner.headers),
        409,
        "Lesson already has an assignment",
    )
    problem(
        await api.client.post(url, json={**body, "lesson_id": NO_SUCH}, headers=owner.headers),
        404,
        "Lesson not found in this course",
    )
    r = await api.client.patch(one, json={"title": "Write a better runbook", "due_at": None}, headers=owner.headers)
    assert (r.status_code, r.json()["title"], r.json()["due_at"]) == (200, "Write a better runbook", None)
    problem(
        await api.client.patch(one, json={"max_points": None}, headers=owner.headers),
        400,
        "'max_points' cannot be null",
    )
    r = await api.client.post(f"{one}/publish", headers=owner.headers)
    assert (r.status_code, r.json()["is_published"]) == (200, True)
    assert (await api.client.post(f"{one}/publish", headers=owner.headers)).json()["is_published"] is True
    assert (await api.client.get(one, headers=student.headers)).json()["id"] == made["id"]
    assert (await api.client.get(one)).status_code == 200
    r = await api.client.post(f"{one}/unpublish", headers=owner.headers)
    assert (r.status_code, r.json()["is_published"]) == (200, False)
    for who in (student, other):
        for call in (
            api.client.patch(one, json={"title": "Mine now"}, headers=who.headers),
            api.client.delete(one, headers=who.headers),
            api.client.post(f"{one}/publish", headers=who.headers),
            api.client.post(url, json={**body, "lesson_id": None}, headers=who.headers),
        ):
            problem(await call, 403, "Not authorized to manage assignments for this course")
    assert (await api.client.delete(one, headers=room.cast.admin.headers)).status_code == 204
    problem(await api.client.get(one, headers=owner.headers), 404, "Assignment not found")
    problem(await api.client.get(f"/api/v1/courses/{NO_SUCH}/assignments"), 404, "Course not found")
    invalid(await api.client.get(f"{url}/nope", headers=owner.headers), "path.assignment_id")


async def test_a_draft_course_answers_as_its_lessons_do(api: Api) -> None:
    room = await classroom(api, 1, published=False)
    url = f"/api/v1/courses/{room.course_id}/assignments"
    made = await create_assignment(api, room.cast.owner, room.course_id)
    await api.client.post(f"{url}/{made['id']}/publish", headers=room.cast.owner.headers)
    problem(
        await api.client.get(url, headers=room.cast.student.headers),
        403,
        "Not authorized to view assignments for this course",
    )
    problem(await api.client.get(f"{url}/{made['id']}", headers=room.cast.student.headers), 404, "Assignment not found")
    assert (await api.client.get(url, headers=room.cast.admin.headers)).json()["total"] == 1


async def test_bad_assignments_change_nothing(api: Api) -> None:
    room = await classroom(api, 1)
    owner = room.cast.owner
    url = f"/api/v1/courses/{room.course_id}/assignments"
    base = {"title": "Essay", "submission_types": ["text"], "max_points": "10"}
    invalid(await api.client.post(url, json={**base, "max_points": "ten"}, headers=owner.headers), "body.max_points")
    invalid(await api.client.post(url, json={**base, "max_points": "0"}, headers=owner.headers), "body.max_points")
    invalid(await api.client.post(url, json={**base, "max_points": "10001"}, headers=owner.headers), "body.max_points")
    invalid(await api.client.post(url, json={**base, "max_points": "NaN"}, headers=owner.headers), "body.max_points")
    invalid(
        await api.client.post(url, json={**base, "submission_types": ["video"]}, headers=owner.headers),
        "body.submission_types.0",
    )
    invalid(
        await api.client.post(url, json={**base, "submission_types": []}, headers=owner.headers),
        "body.submission_types",
    )
    invalid(
        await api.client.post(url, json={**base, "passing_percentage": "101"}, headers=owner.headers),
        "body.passing_percentage",
    )
    invalid(
        await api.client.post(url, json={**base, "max_submissions": 0}, headers=owner.headers), "body.max_submissions"
    )
    invalid(
        await api.client.post(url, json={**base, "due_at": "2030-01-01T00:00:00"}, headers=owner.headers), "body.due_at"
    )
    invalid(
        await api.client.post(
            url, json={**base, "late_policy": {"penalty_percent_per_day": "101"}}, headers=owner.headers
        ),
        "body.late_policy.penalty_percent_per_day",
    )
    invalid(
        await api.client.post(
            url, json={**base, "rubric": [{"criterion": "A", "points": "-1"}]}, headers=owner.headers
        ),
        "body.rubric.0.points",
    )
    problem(
        await api.client.post(url, json={**base, "rubric": [{"criterion": "A", "points": "4"}]}, headers=owner.headers),
        400,
        "The rubric's points must add up to max_points",
    )
    problem(
        await api.client.post(url, json={**base, "allowed_extensions": ["exe"]}, headers=owner.headers),
        400,
        "Extension is not allowed for uploads: exe",
    )
    problem(
        await api.client.post(
            url,
            json={**base, "available_from": "2030-01-02T00:00:00Z", "due_at": "2030-01-01T00:00:00Z"},
            headers=owner.headers,
        ),
        400,
        "due_at must be after available_from",
    )
    assert (await api.client.get(url, headers=owner.headers)).json()["total"] == 0
    made = await create_assignment(api, owner, room.course_id, rubric=[{"criterion": "A", "points": "10"}])
    one = f"{url}/{made['id']}"
    problem(
        await api.client.patch(one, json={"max_points": "20"}, headers=owner.headers),
        400,
        "The rubric's points must add up to max_points",
    )
    assert (await api.client.get(one, headers=owner.headers)).json()["max_points"] == "10.00"
    r = await api.client.patch(one, json={"max_points": "20", "rubric": []}, headers=owner.headers)
    assert (r.status_code, r.json()["max_points"], r.json()["rubric"]) == (200, "20.00", [])
    r = await api.client.patch(one, json={"allowed_extensions": ["PDF"]}, headers=owner.headers)
    assert (r.status_code, r.json()["allowed_extensions"]) == (200, ["pdf"])
    r = await api.client.patch(one, json={"allowed_extensions": None}, headers=owner.headers)
    assert (r.status_code, "docx" in r.json()["allowed_extensions"]) == (200, True)  # the upload list again


async def test_submit_grade_with_a_rubric_and_complete_the_course(api: Api) -> None:
    ar = await assignment_room(
        api, rubric=[{"criterion": "Steps", "points": "6"}, {"criterion": "Clarity", "points": "4"}]
    )
    student, owner = ar.room.cast.student, ar.room.cast.owner
    # The lesson completes only through the assignment.
    problem(
        await complete(api, student, ar.enrollment_id, ar.room.lessons[0]["id"]),
        409,
        "Lesson is completed by passing its assignment",
    )
    made = await submit(api, student, ar, text="Step one: breathe.")
    assert (made["number"], made["status"], made["is_late"], made["late_days"], made["files"]) == (
        1,
        "submitted",
        False,
        0,
        [],
    )
    assert made["points"] is None and made["feedback"] is None
    assert made["enrollment_id"] == ar.enrollment_id and made["student_id"] == student.user["id"]
    problem(
        await api.client.post(ar.submissions, json={"text": "again"}, headers=student.headers),
        409,
        "Maximum submissions reached",
    )
    sid = made["id"]
    problem(
        await api.client.post(f"/api/v1/submissions/{sid}/grade", json={"points": "8"}, headers=owner.headers),
        400,
        "Rubric scores do not match the rubric",
    )
    over = {"rubric_scores": [{"criterion": "Steps", "points": "7"}, {"criterion": "Clarity", "points": "1"}]}
    problem(
        await api.client.post(f"/api/v1/submissions/{sid}/grade", json=over, headers=owner.headers),
        400,
        "Rubric scores do not match the rubric",
    )
    missing = {"rubric_scores": [{"criterion": "Steps", "points": "6"}]}
    problem(
        await api.client.post(f"/api/v1/submissions/{sid}/grade", json=missing, headers=owner.headers),
        400,
        "Rubric scores do not match the rubric",
    )
    low = await grade(
        api,
        owner,
        sid,
        rubric_scores=[{"criterion": "Steps", "points": "3"}, {"criterion": "Clarity", "points": "2.5"}],
    )
    assert (low["status"], low["points"], low["final_points"], low["final_percentage"], low["penalty_percent"]) == (
        "graded",
        "5.50",
        "5.50",
        "55.00",
        "0.00",
    )
    assert (await enrollment(api, student, ar.enrollment_id))["completed_lessons_count"] == 0  # 55 < 60
    high = await grade(
        api,
        owner,
        sid,
        feedback="Clear and complete.",
        rubric_scores=[{"criterion": "Steps", "points": "6"}, {"criterion": "Clarity", "points": "3"}],
    )
    assert (high["final_percentage"], high["feedback"], high["graded_by"]) == (
        "90.00",
        "Clear and complete.",
        owner.user["id"],
    )
    state = await enrollment(api, student, ar.enrollment_id)
    assert (state["status"], state["progress_percentage"]) == ("completed", "100.00")
    await api.mailbox.wait_for(student.email, "Your submission was graded", count=2)
    # A lower grade later never un-completes the lesson.
    await grade(
        api, owner, sid, rubric_scores=[{"criterion": "Steps", "points": "0"}, {"criterion": "Clarity", "points": "0"}]
    )
    assert (await enrollment(api, student, ar.enrollment_id))["status"] == "completed"
    mine = (await api.client.get(f"{ar.submissions}/mine", headers=student.headers)).json()
    assert [(s["id"], s["final_percentage"]) for s in mine["items"]] == [(sid, "0.00")]
    actions = [a for a, _ in await audit_actions(api, sid)]
    assert actions == ["assignment_submitted", "submission_graded", "submission_graded", "submission_graded"]


async def test_students_see_grades_only_once_graded_or_returned(api: Api) -> None:
    ar = await assignment_room(api, max_submissions=1)
    student, owner = ar.room.cast.student, ar.room.cast.owner
    sid = (await submit(api, student, ar))["id"]
    await grade(api, owner, sid, points="4", feedback="Redo the second half.")
    r = await api.client.post(
        f"/api/v1/submissions/{sid}/return", json={"feedback": "Please redo it."}, headers=owner.headers
    )
    assert (r.status_code, r.json()["status"], r.json()["feedback"], r.json()["points"]) == (
        200,
        "returned",
        "Please redo it.",
        "4.00",
    )
    problem(
        await api.client.post(f"/api/v1/submissions/{sid}/return", json={"feedback": "x"}, headers=owner.headers),
        409,
        "Only a submitted or graded submission can be returned",
    )
    problem(
        await api.client.post(f"/api/v1/submissions/{sid}/grade", json={"points": "5"}, headers=owner.headers),
        409,
        "Submission was returned for revision",
    )
    shown = (await api.client.get(f"/api/v1/submissions/{sid}", headers=student.headers)).json()
    assert (shown["status"], shown["feedback"]) == ("returned", "Please redo it.")
    # Returned: one more submission even past max_submissions, and then no more.
    second = await submit(api, student, ar, text="Second try")
    assert second["number"] == 2
    problem(
        await api.client.post(ar.submissions, json={"text": "third"}, headers=student.headers),
        409,
        "Maximum submissions reached",
    )
    await grade(api, owner, second["id"], points="9", feedback="Good")
    listed = (await api.client.get(f"{ar.submissions}?status=graded", headers=owner.headers)).json()
    assert [s["id"] for s in listed["items"]] == [second["id"]]
    returned = (await api.client.get(f"{ar.submissions}?status=returned", headers=owner.headers)).json()
    assert [s["id"] for s in returned["items"]] == [sid]
    by_student = (
        await api.client.get(f"{ar.submissions}?student_id={student.user['id']}", headers=owner.headers)
    ).json()
    assert [s["number"] for s in by_student["items"]] == [2, 1]
    invalid(await api.client.get(f"{ar.submissions}?status=lost", headers=owner.headers), "query.status")


async def test_hidden_grades_before_grading(api: Api) -> None:
    ar = await assignment_room(api, max_submissions=2)
    student, owner = ar.room.cast.student, ar.room.cast.owner
    sid = (await submit(api, student, ar))["id"]
    # A grade, then a new submission: the new one is ungraded.
    await grade(api, owner, sid, points="7")
    newer = await submit(api, student, ar, text="v2")
    seen = (await api.client.get(f"/api/v1/submissions/{newer['id']}", headers=student.headers)).json()
    assert (seen["status"], seen["points"], seen["final_percentage"]) == ("submitted", None, None)
    first = (await api.client.get(f"/api/v1/submissions/{sid}", headers=student.headers)).json()
    assert first["final_percentage"] == "70.00"


async def test_the_window_and_late_penalties_on_a_moved_clock(make_api: MakeApiFn) -> None:
    clock = FakeClock()  # tokens are checked against the real time: the clock starts now
    start = clock.current
    api = await make_api(clock=clock)
    due = start + timedelta(days=2)
    ar = await assignment_room(
        api,
        max_submissions=10,
        available_from=iso(start + timedelta(days=1)),
        due_at=iso(due),
        late_policy={"accept_late": True, "penalty_percent_per_day": "30", "max_late_days": 5},
    )
    strict = await assignment_room(api, due_at=iso(due + timedelta(days=10)))  # late work refused
    student, owner = ar.room.cast.student, ar.room.cast.owner
    problem(
        await api.client.post(ar.submissions, json={"text": "early"}, headers=student.headers),
        403,
        "Assignment is not open yet",
    )
    clock.current = due  # exactly on time
    on_time = await submit(api, student, ar)
    assert (on_time["is_late"], on_time["late_days"]) == (False, 0)
    clock.current = due + timedelta(minutes=1)  # a minute late is a day late
    late = await submit(api, student, ar)
    assert (late["is_late"], late["late_days"]) == (True, 1)
    graded = await grade(api, owner, late["id"], points="7.77")
    # 7.77 x 0.70 = 5.439 -> 5.44; 54.40 %
    assert (graded["penalty_percent"], graded["final_points"], graded["final_percentage"]) == ("30.00", "5.44", "54.40")
    clock.current = due + timedelta(days=1, seconds=1)  # across the day boundary: two days
    two = await submit(api, student, ar)
    assert two["late_days"] == 2
    clock.current = due + timedelta(days=4)  # the penalty caps at 100
    four = await submit(api, student, ar)
    capped = await grade(api, owner, four["id"], points="10")
    assert (capped["penalty_percent"], capped["final_points"], capped["final_percentage"]) == ("100.00", "0.00", "0.00")
    clock.current = due + timedelta(days=5, seconds=1)  # past the last late day
    problem(
        await api.client.post(ar.submissions, json={"text": "too late"}, headers=student.headers),
        403,
        "Assignment is closed",
    )
    clock.current = due + timedelta(days=10, seconds=1)
    problem(
        await api.client.post(strict.submissions, json={"text": "late"}, headers=strict.room.cast.student.headers),
        403,
        "Assignment is closed",
    )


async def test_files_are_the_submitters_and_of_allowed_types(make_api: MakeApiFn, tmp_path: Any) -> None:
    api = await make_api(LMS_STORAGE_URL=f"file://{tmp_path / 'objects'}")
    ar = await assignment_room(api, submission_types=["file"], allowed_extensions=["pdf"])
    student = ar.room.cast.student
    mine = (await upload(api, student, "report.pdf")).json()
    picture = (await upload(api, student, "photo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")).json()
    someone = await user_with_role(api, "student")
    theirs = (await upload(api, someone, "theirs.pdf")).json()
    problem(
        await api.client.post(ar.submissions, json={"text": "no file"}, headers=student.headers),
        400,
        "A file is required",
    )
    problem(
        await api.client.post(ar.submissions, json={"file_ids": [theirs["id"]]}, headers=student.headers),
        400,
        "File not found or not yours",
    )
    problem(
        await api.client.post(ar.submissions, json={"file_ids": [NO_SUCH]}, headers=student.headers),
        400,
        "File not found or not yours",
    )
    problem(
        await api.client.post(ar.submissions, json={"file_ids": [picture["id"]]}, headers=student.headers),
        400,
        "File type is not allowed for this assignment: .png",
    )
    invalid(
        await api.client.post(ar.submissions, json={"file_ids": [mine["id"]] * 11}, headers=student.headers),
        "body.file_ids",
    )
    invalid(
        await api.client.post(ar.submissions, json={"file_ids": ["nope"]}, headers=student.headers), "body.file_ids.0"
    )
    assert (await api.client.get(f"{ar.submissions}/mine", headers=student.headers)).json()["total"] == 0
    made = await submit(api, student, ar, file_ids=[mine["id"], mine["id"]])
    assert [(f["id"], f["original_filename"]) for f in made["files"]] == [(mine["id"], "report.pdf")]
    shown = (await api.client.get(f"/api/v1/submissions/{made['id']}", headers=ar.room.cast.owner.headers)).json()
    assert [f["id"] for f in shown["files"]] == [mine["id"]]


async def test_content_rules(api: Api) -> None:
    ar = await assignment_room(api, max_submissions=5)
    student = ar.room.cast.student
    problem(await api.client.post(ar.submissions, json={}, headers=student.headers), 400, "A text answer is required")
    problem(
        await api.client.post(ar.submissions, json={"text": "   "}, headers=student.headers),
        400,
        "A text answer is required",
    )
    invalid(await api.client.post(ar.submissions, json={"text": 5}, headers=student.headers), "body.text")
    invalid(await api.client.post(ar.submissions, json={"text": "x" * 100_001}, headers=student.headers), "body.text")
    both = await assignment_room(api, submission_types=["text", "file"])
    problem(
        await api.client.post(both.submissions, json={}, headers=both.room.cast.student.headers),
        400,
        "A text answer or a file is required",
    )
    assert (await api.client.get(f"{ar.submissions}/mine", headers=student.headers)).json()["total"] == 0


async def test_who_may_submit_read_and_grade(api: Api) -> None:
    ar = await assignment_room(api)
    cast = ar.room.cast
    outsider = await user_with_role(api, "student")
    problem(
        await api.client.post(ar.submissions, json={"text": "x"}, headers=outsider.headers),
        403,
        "Not enrolled in this course",
    )
    problem(await api.client.post(ar.submissions, json={"text": "x"}), 401, "Not authenticated")
    problem(
        await api.client.post(
            f"/api/v1/assignments/{NO_SUCH}/submissions", json={"text": "x"}, headers=cast.student.headers
        ),
        404,
        "Assignment not found",
    )
    invalid(
        await api.client.post("/api/v1/assignments/nope/submissions", json={"text": "x"}, headers=cast.student.headers),
        "path.assignment_id",
    )
    sid = (await submit(api, cast.student, ar))["id"]
    for who in (outsider, cast.other):
        problem(
            await api.client.get(f"/api/v1/submissions/{sid}", headers=who.headers),
            403,
            "Not authorized to view this submission",
        )
    for who in (outsider, cast.other, cast.student):
        problem(
            await api.client.get(ar.submissions, headers=who.headers),
            403,
            "Not authorized to grade submissions for this course",
        )
        problem(
            await api.client.post(f"/api/v1/submissions/{sid}/grade", json={"points": "1"}, headers=who.headers),
            403,
            "Not authorized to grade submissions for this course",
        )
        problem(
            await api.client.post(f"/api/v1/submissions/{sid}/return", json={"feedback": "x"}, headers=who.headers),
            403,
            "Not authorized to grade submissions for this course",
        )
    problem(
        await api.client.get(f"/api/v1/submissions/{NO_SUCH}", headers=cast.owner.headers), 404, "Submission not found"
    )
    problem(
        await api.client.post(f"/api/v1/submissions/{NO_SUCH}/grade", json={"points": "1"}, headers=cast.owner.headers),
        404,
        "Submission not found",
    )
    for who in (cast.owner, cast.admin):
        assert (await api.client.get(f"/api/v1/submissions/{sid}", headers=who.headers)).status_code == 200
    assert (await api.client.get(f"{ar.submissions}/mine", headers=outsider.headers)).json()["items"] == []
    # Points outside 0..max_points, or none at all.
    for points in ("-1", "10.01", "NaN", "Infinity"):
        problem(
            await api.client.post(
                f"/api/v1/submissions/{sid}/grade", json={"points": points}, headers=cast.admin.headers
            ),
            400,
            "Points must be between 0 and max_points",
        )
    problem(
        await api.client.post(f"/api/v1/submissions/{sid}/grade", json={}, headers=cast.admin.headers),
        400,
        "points or rubric_scores is required",
    )
    invalid(
        await api.client.post(f"/api/v1/submissions/{sid}/grade", json={"points": "lots"}, headers=cast.admin.headers),
        "body.points",
    )
    invalid(
        await api.client.post(f"/api/v1/submissions/{sid}/return", json={}, headers=cast.admin.headers), "body.feedback"
    )
    assert (await api.client.get(f"/api/v1/submissions/{sid}", headers=cast.owner.headers)).json()[
        "status"
    ] == "submitted"
    # Unpublished: 404 to students, and the lesson can be completed by hand again.
    await api.client.post(f"{ar.url}/unpublish", headers=cast.owner.headers)
    problem(
        await api.client.post(ar.submissions, json={"text": "x"}, headers=cast.student.headers),
        404,
        "Assignment not found",
    )
    problem(await api.client.get(f"{ar.submissions}/mine", headers=cast.student.headers), 404, "Assignment not found")
    assert (await complete(api, cast.student, ar.enrollment_id, ar.room.lessons[0]["id"])).status_code == 200
    problem(
        await api.client.delete(ar.url, headers=cast.owner.headers),
        409,
        "Assignment has submissions and cannot be deleted",
    )


async def test_events_are_recorded_with_their_changes(make_api: MakeApiFn) -> None:
    api = await make_api(**WEBHOOKS)
    ar = await assignment_room(api)
    student, owner = ar.room.cast.student, ar.room.cast.owner
    made = await submit(api, student, ar)
    graded = await grade(api, owner, made["id"], points="6")
    (submitted,) = await events(api, "assignment.submitted")
    (grading,) = await events(api, "submission.graded")
    for event in (submitted, grading):
        await assert_documented_event(api, event)
    assert submitted["data"] == {
        "submission_id": made["id"],
        "assignment_id": ar.assignment["id"],
        "enrollment_id": ar.enrollment_id,
        "student_id": student.user["id"],
        "course_id": ar.room.course_id,
        "is_late": False,
        "submitted_at": submitted["data"]["submitted_at"],
    }
    assert grading["data"] == {
        "submission_id": made["id"],
        "assignment_id": ar.assignment["id"],
        "student_id": student.user["id"],
        "final_percentage": "60.00",
        "graded_at": grading["data"]["graded_at"],
    }
    assert graded["final_percentage"] == "60.00"
    assert (await enrollment(api, student, ar.enrollment_id))["status"] == "completed"  # 60 >= 60
    (mail,) = api.mailbox.find(student.email, "Your submission was graded")
    assert "60.00%" in mail.body


async def test_an_assignment_without_a_lesson_gates_nothing(api: Api) -> None:
    ar = await assignment_room(api, lesson_id=None)
    sid = (await submit(api, ar.room.cast.student, ar))["id"]
    await grade(api, ar.room.cast.owner, sid, points="10")
    assert (await enrollment(api, ar.room.cast.student, ar.enrollment_id))["completed_lessons_count"] == 0
    assert (await complete(api, ar.room.cast.student, ar.enrollment_id, ar.room.lessons[0]["id"])).status_code == 200


async def test_a_retried_submission_with_an_idempotency_key_makes_one(api: Api) -> None:
    ar = await assignment_room(api, max_submissions=3)
    headers = {**ar.room.cast.student.headers, "Idempotency-Key": "submit-once-1"}
    first = await api.client.post(ar.submissions, json={"text": "hello"}, headers=headers)
    again = await api.client.post(ar.submissions, json={"text": "hello"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert (await api.client.get(f"{ar.submissions}/mine", headers=ar.room.cast.student.headers)).json()["total"] == 1
    await enroll(api, ar.room.cast.student, ar.room.course_id, status=200)
