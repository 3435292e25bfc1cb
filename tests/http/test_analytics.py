"""Analytics over HTTP on both backends (API §5.9, §7.11): a known history built through the API,
every figure of N1–N5 checked exactly, every role against every route, and the cache never
answering before the checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import problem
from tests.support.api import Api, Session
from tests.support.catalog import create_course, create_lesson, publish
from tests.support.learning import QuizRoom, complete, enroll, progress, quiz_room
from tests.unit.fakes import FakeClock

NO_SUCH = "00000000-0000-4000-8000-000000000000"


@dataclass
class History:
    api: Api
    clock: FakeClock
    qr: QuizRoom  # course one: 3 lessons, the last carrying the quiz; owned by `owner`
    second: dict[str, Any]  # course two: 2 lessons, owned by `other`
    s1: Session
    s2: Session
    day1: datetime
    day2: datetime

    @property
    def owner(self) -> Session:
        return self.qr.room.cast.owner

    @property
    def other(self) -> Session:
        return self.qr.room.cast.other

    @property
    def admin(self) -> Session:
        return self.qr.room.cast.admin

    def url(self, path: str) -> str:
        return f"/api/v1/analytics{path}"

    async def get(self, path: str, who: Session) -> dict[str, Any]:
        r = await self.api.client.get(self.url(path), headers=who.headers)
        assert r.status_code == 200, r.text
        return dict(r.json())


async def submit(api: Api, qr: QuizRoom, who: Session, answers: list[dict[str, Any]]) -> dict[str, Any]:
    attempt = (await api.client.post(qr.attempts, headers=who.headers)).json()
    r = await api.client.post(f"{qr.attempts}/{attempt['id']}/submit", json={"answers": answers}, headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def history(make_api: MakeApiFn) -> History:
    """Yesterday and today (UTC), two students, two courses of two instructors:

    - s1 enrolls in course one, then (a minute later) in course two. Yesterday: completes lesson 1
      of course one after 600 s, and fails the quiz (1 of 4 points: 25.00 %).
      Today: completes lesson 2 after 130 s, passes the quiz (100.00 %; the quiz lesson completes,
      so does the enrollment), spends 125 s on lesson 1 of course two without finishing it, and
      rates course one 4.
    - s2 enrolls in both courses yesterday; completes lesson 1 of course one after 45 s and rates
      it 3 (33.33 % done).
    """
    day2 = datetime.now(UTC)
    day1 = day2 - timedelta(days=1)
    clock = FakeClock(day1)
    # Tokens minted "yesterday" must still be valid today.
    api = await make_api(clock=clock, LMS_ACCESS_TOKEN_EXPIRE_MINUTES="2880")
    qr = await quiz_room(api, lessons=3, max_attempts=3)
    cast = qr.room.cast
    second = await create_course(api, cast.other, title="Course two")
    two_lessons = [await create_lesson(api, cast.other, second["id"]) for _ in range(2)]
    second = {**(await publish(api, cast.other, second["id"])), "lessons": two_lessons}
    s1, s2 = cast.student, await api.register()
    lessons = qr.room.lessons

    e1 = await enroll(api, s1, qr.room.course_id)
    clock.advance(minutes=1)
    e2 = await enroll(api, s1, second["id"])
    r = await progress(api, s1, e1["id"], lessons[0]["id"], status="completed", time_spent_seconds=600)
    assert r.status_code == 200, r.text
    _, tf, _ = qr.questions
    failed = await submit(api, qr, s1, [{"question_id": tf["id"], "answer_text": "true"}])
    assert (failed["percentage"], failed["is_passed"]) == ("25.00", False)
    f1 = await enroll(api, s2, qr.room.course_id)
    await enroll(api, s2, second["id"])
    r = await progress(api, s2, f1["id"], lessons[0]["id"], status="completed", time_spent_seconds=45)
    assert r.status_code == 200, r.text
    r = await api.client.post(
        f"/api/v1/enrollments/{f1['id']}/review", json={"rating": 3, "review": "Good start."}, headers=s2.headers
    )
    assert r.status_code == 200, r.text

    clock.current = day2
    r = await progress(api, s1, e1["id"], lessons[1]["id"], status="completed", time_spent_seconds=130)
    assert r.status_code == 200, r.text
    passed = await submit(api, qr, s1, qr.right_answers())
    assert (passed["percentage"], passed["is_passed"]) == ("100.00", True)
    r = await progress(api, s1, e2["id"], two_lessons[0]["id"], status="in_progress", time_spent_seconds=125)
    assert r.status_code == 200, r.text
    r = await api.client.post(
        f"/api/v1/enrollments/{e1['id']}/review",
        json={"rating": 4, "review": "Clear and practical."},
        headers=s1.headers,
    )
    assert r.status_code == 200, r.text
    return History(api=api, clock=clock, qr=qr, second=second, s1=s1, s2=s2, day1=day1, day2=day2)


async def test_every_figure_of_a_known_history(make_api: MakeApiFn) -> None:
    h = await history(make_api)
    s1_id, course_one, course_two = h.s1.user["id"], h.qr.room.course_id, h.second["id"]

    # N1: 2 enrollments (one completed); mean progress (100 + 0) / 2; 600 + 130 + 125 s;
    # the mean of the attempts' percentages (25 and 100), not of their points (1 and 4).
    summary = {
        "student_id": s1_id,
        "total_enrollments": 2,
        "active_enrollments": 1,
        "completed_enrollments": 1,
        "average_progress": "50.00",
        "total_time_hours": "0.24",  # 855 s
        "total_lessons_completed": 3,
        "quizzes_taken": 2,
        "quizzes_passed": 1,
        "average_quiz_score": "62.50",
    }
    assert await h.get("/my-progress", h.s1) == summary

    # N2: newest enrollment first; yesterday and today, newest first.
    dashboard = await h.get("/my-dashboard", h.s1)
    assert dashboard["summary"] == summary
    assert dashboard["student_id"] == s1_id
    assert dashboard["courses"] == [
        {
            "course_id": course_two,
            "course_title": "Course two",
            "progress_percentage": "0.00",
            "completed_lessons": 0,
            "total_lessons": 2,
            "time_spent_hours": "0.03",  # 125 s
            "quizzes_completed": 0,
            "average_quiz_score": "0.00",
        },
        {
            "course_id": course_one,
            "course_title": h.qr.room.course["title"],
            "progress_percentage": "100.00",
            "completed_lessons": 3,
            "total_lessons": 3,
            "time_spent_hours": "0.20",  # 730 s
            "quizzes_completed": 2,
            "average_quiz_score": "62.50",
        },
    ]
    assert dashboard["recent_activity"] == [
        # lesson 2 (130 s) and the quiz lesson; lesson 1 of course two is not completed
        {"date": h.day2.date().isoformat(), "lessons_completed": 2, "time_spent_minutes": 2, "quizzes_taken": 1},
        {"date": h.day1.date().isoformat(), "lessons_completed": 1, "time_spent_minutes": 10, "quizzes_taken": 1},
    ]

    # s2: 33.33 % of course one, nothing in course two, no attempts.
    s2_summary = await h.get("/my-progress", h.s2)
    assert s2_summary["average_progress"] == "16.66"  # (33.33 + 0) / 2 = 16.665: a tie, to the even 6
    assert (s2_summary["quizzes_taken"], s2_summary["average_quiz_score"]) == (0, "0.00")
    s2_dashboard = await h.get("/my-dashboard", h.s2)
    assert s2_dashboard["recent_activity"] == [
        {"date": h.day1.date().isoformat(), "lessons_completed": 1, "time_spent_minutes": 0, "quizzes_taken": 0}
    ]

    # N3: course one has both students, one completed; ratings 4 and 3.
    assert await h.get(f"/courses/{course_one}", h.owner) == {
        "course_id": course_one,
        "course_title": h.qr.room.course["title"],
        "total_enrollments": 2,
        "active_students": 1,
        "completed_students": 1,
        "completion_rate": "50.00",
        "average_progress": "66.66",  # (100 + 33.33) / 2 = 66.665: a tie, to the even 6
        "average_time_hours": "0.11",  # (730 + 45) / 2 = 387.5 s
        "average_rating": "3.50",
        "total_reviews": 2,
    }
    course_two_figures = await h.get(f"/courses/{course_two}", h.admin)
    assert {k: course_two_figures[k] for k in ("total_enrollments", "completion_rate", "average_rating")} == {
        "total_enrollments": 2,
        "completion_rate": "0.00",
        "average_rating": "0.00",
    }

    # N4: the owner's one course (the quiz room's); two students, two enrollments, ratings 4 and 3.
    assert await h.get(f"/instructors/{h.owner.user['id']}/overview", h.owner) == {
        "instructor_id": h.owner.user["id"],
        "total_courses": 1,
        "published_courses": 1,
        "total_students": 2,
        "total_enrollments": 2,
        "average_course_rating": "3.50",
    }
    draft = await create_course(h.api, h.other, title="Draft of the other")
    other = await h.get(f"/instructors/{h.other.user['id']}/overview", h.admin)
    assert (other["total_courses"], other["published_courses"], other["total_enrollments"]) == (2, 1, 2)
    assert (other["total_students"], other["average_course_rating"]) == (2, "0.00")
    assert draft["is_published"] is False

    # N5 on this database: 2 students, 2 instructors and 3 admins (making each instructor took one).
    assert await h.get("/system/overview", h.admin) == {
        "total_users": 7,
        "total_students": 2,
        "total_instructors": 2,
        "total_courses": 3,
        "published_courses": 2,
        "total_enrollments": 4,
        "active_enrollments": 3,
    }


async def test_empty_figures_are_zero(api: Api) -> None:
    student = await api.register()
    r = await api.client.get("/api/v1/analytics/my-dashboard", headers=student.headers)
    assert r.status_code == 200, r.text
    assert r.json()["courses"] == [] and r.json()["recent_activity"] == []
    assert r.json()["summary"] == {
        "student_id": student.user["id"],
        "total_enrollments": 0,
        "active_enrollments": 0,
        "completed_enrollments": 0,
        "average_progress": "0.00",
        "total_time_hours": "0.00",
        "total_lessons_completed": 0,
        "quizzes_taken": 0,
        "quizzes_passed": 0,
        "average_quiz_score": "0.00",
    }


async def test_activity_older_than_30_days_is_left_out(make_api: MakeApiFn) -> None:
    now = datetime.now(UTC)
    clock = FakeClock(now - timedelta(days=30))
    api = await make_api(clock=clock, LMS_ACCESS_TOKEN_EXPIRE_MINUTES=str(31 * 24 * 60))
    qr = await quiz_room(api, lessons=3)
    student = qr.room.cast.student
    eid = (await enroll(api, student, qr.room.course_id))["id"]
    assert (await complete(api, student, eid, qr.room.lessons[0]["id"])).status_code == 200
    clock.current = now - timedelta(days=29)
    assert (await complete(api, student, eid, qr.room.lessons[1]["id"])).status_code == 200
    clock.current = now
    r = await api.client.get("/api/v1/analytics/my-dashboard", headers=student.headers)
    assert [item["date"] for item in r.json()["recent_activity"]] == [(now - timedelta(days=29)).date().isoformat()]
    assert r.json()["summary"]["total_lessons_completed"] == 2  # the summary counts all time


@pytest.mark.parametrize("who", ["anonymous", "student", "owner", "other", "admin"])
async def test_every_role_against_every_route(api: Api, who: str) -> None:
    qr = await quiz_room(api)
    cast = qr.room.cast
    headers = cast.headers(who)
    owner_id = cast.owner.user["id"]
    routes = {
        "/my-progress": {"student": 200, "owner": 200, "other": 200, "admin": 200},
        "/my-dashboard": {"student": 200, "owner": 200, "other": 200, "admin": 200},
        f"/courses/{qr.room.course_id}": {"student": 403, "owner": 200, "other": 403, "admin": 200},
        f"/instructors/{owner_id}/overview": {"student": 403, "owner": 200, "other": 403, "admin": 200},
        "/system/overview": {"student": 403, "owner": 403, "other": 403, "admin": 200},
    }
    details = {
        ("/courses", "student"): "Insufficient permissions",
        ("/courses", "other"): "Not authorized to view analytics for this course",
        ("/instructors", "student"): "Insufficient permissions",
        ("/instructors", "other"): "Not authorized to view this instructor overview",
        ("/system", "student"): "Only admins can access system overview",
        ("/system", "owner"): "Only admins can access system overview",
        ("/system", "other"): "Only admins can access system overview",
    }
    for path, statuses in routes.items():
        r = await api.client.get(f"/api/v1/analytics{path}", headers=headers)
        if who == "anonymous":
            problem(r, 401, "Not authenticated")
            continue
        expected = statuses[who]
        if expected == 200:
            assert r.status_code == 200, (path, r.text)
        else:
            problem(r, expected, details[("/" + path.split("/")[1], who)])


async def test_missing_courses_and_bad_ids(api: Api) -> None:
    qr = await quiz_room(api)
    owner, student, admin = qr.room.cast.owner, qr.room.cast.student, qr.room.cast.admin
    problem(
        await api.client.get(f"/api/v1/analytics/courses/{NO_SUCH}", headers=owner.headers), 404, "Course not found"
    )
    # The role guard comes before the lookup: a student learns nothing about which ids exist.
    problem(
        await api.client.get(f"/api/v1/analytics/courses/{NO_SUCH}", headers=student.headers),
        403,
        "Insufficient permissions",
    )
    for path in ("/courses/not-a-uuid", "/instructors/not-a-uuid/overview"):
        r = await api.client.get(f"/api/v1/analytics{path}", headers=admin.headers)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    # An admin may read the overview of anyone, even of nobody: all zeros.
    r = await api.client.get(f"/api/v1/analytics/instructors/{NO_SUCH}/overview", headers=admin.headers)
    assert (r.status_code, r.json()["total_courses"], r.json()["average_course_rating"]) == (200, 0, "0.00")


async def test_a_cached_course_body_never_reaches_a_caller_who_fails_the_checks(api: Api) -> None:
    """The seed application's bug, replayed: the instructor reads (and so caches) the course's
    analytics; then a student, another instructor and a later-demoted owner ask for the same URL."""
    qr = await quiz_room(api)
    cast = qr.room.cast
    url = f"/api/v1/analytics/courses/{qr.room.course_id}"
    first = await api.client.get(url, headers=cast.owner.headers)
    assert first.status_code == 200, first.text
    again = await api.client.get(url, headers=cast.owner.headers)
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["etag"] == first.headers["etag"]
    problem(await api.client.get(url, headers=cast.student.headers), 403, "Insufficient permissions")
    problem(
        await api.client.get(url, headers=cast.other.headers), 403, "Not authorized to view analytics for this course"
    )
    # A conditional read answers 304 only after the checks, too.
    r = await api.client.get(url, headers={**cast.student.headers, "If-None-Match": first.headers["etag"]})
    problem(r, 403, "Insufficient permissions")
    r = await api.client.get(url, headers={**cast.owner.headers, "If-None-Match": first.headers["etag"]})
    assert r.status_code == 304
    # The owner loses the instructor role: the entry cached for them is not served any more.
    r = await api.client.patch(
        f"/api/v1/users/{cast.owner.user['id']}", json={"role": "student"}, headers=cast.admin.headers
    )
    assert r.status_code == 200, r.text
    problem(await api.client.get(url, headers=cast.owner.headers), 403, "Insufficient permissions")


async def test_course_figures_may_lag_by_the_cache_lifetime_and_not_with_it_off(make_api: MakeApiFn) -> None:
    for ttl, expected in (("300", 0), ("0", 1)):
        api = await make_api(LMS_ANALYTICS_CACHE_TTL_SECONDS=ttl)
        qr = await quiz_room(api)
        url = f"/api/v1/analytics/courses/{qr.room.course_id}"
        before = await api.client.get(url, headers=qr.room.cast.owner.headers)
        assert before.json()["total_enrollments"] == 0
        await enroll(api, qr.room.cast.student, qr.room.course_id)
        after = await api.client.get(url, headers=qr.room.cast.owner.headers)
        assert after.json()["total_enrollments"] == expected
