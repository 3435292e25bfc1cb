"""The analytics formulas of API §7.11 and the access rules of §5.9, on a fake read port."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.analytics.model import (
    AttemptTotals,
    CourseAnalytics,
    CourseTotals,
    DayTotals,
    EnrollmentFigures,
    EnrollmentTotals,
    InstructorOverview,
    InstructorTotals,
    MyProgressSummary,
    RatingTotals,
    SystemOverview,
    merge_days,
)
from domain.analytics.services import AnalyticsService
from domain.identity.model import Role, User
from domain.shared.errors import Forbidden, NotFound
from tests.unit.fakes import FakeClock

STUDENT = uuid4()


def user(role: Role, user_id: UUID | None = None) -> User:
    now = datetime.now(UTC)
    return User(
        id=user_id or uuid4(),
        email="someone@example.com",
        full_name="Someone",
        role=role,
        password_hash="x",
        is_active=True,
        created_at=now,
        updated_at=now,
    )


def test_empty_data_is_all_zeros() -> None:
    summary = MyProgressSummary.of(STUDENT, EnrollmentTotals(), AttemptTotals())
    assert (summary.average_progress, summary.total_time_hours, summary.average_quiz_score) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    course = CourseAnalytics.of(uuid4(), "Empty", CourseTotals(enrollments=EnrollmentTotals(), ratings=RatingTotals()))
    assert (course.completion_rate, course.average_progress, course.average_time_hours, course.average_rating) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert InstructorOverview.of(uuid4(), InstructorTotals()).average_course_rating == Decimal("0.00")
    assert merge_days([]) == []


def test_one_item() -> None:
    enrollments = EnrollmentTotals(count=1, active=1, progress_cents=3333, time_seconds=5400, lessons_completed=1)
    summary = MyProgressSummary.of(STUDENT, enrollments, AttemptTotals(graded=1, passed=0, percentage_cents=7000))
    assert summary.average_progress == Decimal("33.33")
    assert summary.total_time_hours == Decimal("1.50")
    assert (summary.quizzes_taken, summary.quizzes_passed, summary.average_quiz_score) == (1, 0, Decimal("70.00"))


def test_the_quiz_score_is_the_mean_percentage_not_points() -> None:
    # 7 of 10 points (70.00 %) and 1 of 2 points (50.00 %): 60.00, never (7 + 1) / 2 points.
    assert AttemptTotals(graded=2, passed=1, percentage_cents=7000 + 5000).average_score == Decimal("60.00")


def test_thirds_and_half_even_ties() -> None:
    # 2 of 3 completed: 66.666… → 66.67
    course = CourseAnalytics.of(
        uuid4(),
        "Thirds",
        CourseTotals(enrollments=EnrollmentTotals(count=3, completed=2), ratings=RatingTotals(count=3, total=14)),
    )
    assert course.completion_rate == Decimal("66.67")
    assert course.average_rating == Decimal("4.67")  # 14 / 3
    # Ties go to the even digit: 16.665 → 16.66 and 16.675 → 16.68.
    assert progress_of(count=2, progress_cents=3333).average_progress == Decimal("16.66")
    assert progress_of(count=2, progress_cents=3335).average_progress == Decimal("16.68")
    # Hours: 18 s is 0.005 h (a tie, to 0.00); 54 s is 0.015 h (to 0.02).
    assert progress_of(time_seconds=18).total_time_hours == Decimal("0.00")
    assert progress_of(time_seconds=54).total_time_hours == Decimal("0.02")


def progress_of(**totals: int) -> MyProgressSummary:
    return MyProgressSummary.of(STUDENT, EnrollmentTotals(**totals), AttemptTotals())


def test_average_time_is_rounded_once() -> None:
    # (1 + 2 + 30) / 3 = 11 s = 0.003055… h → 0.00; (7200 + 1) / 2 = 3600.5 s → 1.00
    def average(seconds: int, count: int) -> Decimal:
        totals = CourseTotals(enrollments=EnrollmentTotals(count=count, time_seconds=seconds), ratings=RatingTotals())
        return CourseAnalytics.of(uuid4(), "Time", totals).average_time_hours

    assert average(33, 3) == Decimal("0.00")
    assert average(7201, 2) == Decimal("1.00")
    assert average(3 * 5418, 3) == Decimal("1.50")  # 1.505 h: a tie, to the even 0


def test_days_merge_newest_first_and_minutes_floor() -> None:
    days = [
        DayTotals(day=date(2026, 11, 20), lessons_completed=2, time_seconds=119),
        DayTotals(day=date(2026, 11, 22), quizzes_taken=1),
        DayTotals(day=date(2026, 11, 20), quizzes_taken=3),
    ]
    merged = merge_days(days)
    assert [(d.date, d.lessons_completed, d.time_spent_minutes, d.quizzes_taken) for d in merged] == [
        (date(2026, 11, 22), 0, 0, 1),
        (date(2026, 11, 20), 2, 1, 3),  # floor(119 / 60)
    ]


@dataclass
class FakeReader:
    courses: dict[UUID, tuple[str, UUID]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    since: datetime | None = None

    async def student_totals(self, student_id: UUID) -> tuple[EnrollmentTotals, AttemptTotals]:
        self.asked.append("student_totals")
        return EnrollmentTotals(count=1, progress_cents=5000), AttemptTotals()

    async def student_courses(self, student_id: UUID) -> list[EnrollmentFigures]:
        return [
            EnrollmentFigures(
                course_id=uuid4(),
                course_title="One",
                progress_percentage=Decimal("50.00"),
                completed_lessons=1,
                total_lessons=2,
                time_seconds=7200,
                attempts=AttemptTotals(graded=3, passed=1, percentage_cents=20000),
            )
        ]

    async def student_days(self, student_id: UUID, since: datetime) -> list[DayTotals]:
        self.since = since
        return [DayTotals(day=since.date(), lessons_completed=1)]

    async def course_heading(self, course_id: UUID) -> object | None:
        self.asked.append("course_heading")
        found = self.courses.get(course_id)
        if found is None:
            return None

        @dataclass
        class Heading:
            title: str
            instructor_id: UUID

        return Heading(*found)

    async def course_totals(self, course_id: UUID) -> CourseTotals:
        return CourseTotals(enrollments=EnrollmentTotals(count=1), ratings=RatingTotals())

    async def instructor_totals(self, instructor_id: UUID) -> InstructorTotals:
        self.asked.append("instructor_totals")
        return InstructorTotals(courses=1)

    async def system_totals(self) -> SystemOverview:
        self.asked.append("system_totals")
        return SystemOverview(
            total_users=1,
            total_students=1,
            total_instructors=0,
            total_courses=0,
            published_courses=0,
            total_enrollments=0,
            active_enrollments=0,
        )


def service(reader: FakeReader, now: datetime | None = None) -> AnalyticsService:
    from adapters.kv.memory import MemoryCache

    return AnalyticsService(reader=reader, clock=FakeClock(now), cache=MemoryCache())  # type: ignore[arg-type]


async def test_the_dashboard_covers_30_utc_days_including_today() -> None:
    reader = FakeReader()
    dashboard = await service(reader, datetime(2026, 12, 1, 0, 30, tzinfo=UTC)).my_dashboard(user(Role.STUDENT))
    assert reader.since == datetime(2026, 11, 2, tzinfo=UTC)
    assert dashboard.courses[0].time_spent_hours == Decimal("2.00")
    assert dashboard.courses[0].average_quiz_score == Decimal("66.67")  # 200.00 / 3
    assert dashboard.summary.average_progress == Decimal("50.00")


async def test_course_access_runs_the_role_guard_first_then_the_lookup_then_ownership() -> None:
    owner, other = user(Role.INSTRUCTOR), user(Role.INSTRUCTOR)
    course = uuid4()
    reader = FakeReader(courses={course: ("Course", owner.id)})
    analytics = service(reader)
    with pytest.raises(Forbidden, match="Insufficient permissions"):
        await analytics.course_heading(user(Role.STUDENT), course)
    assert reader.asked == []  # a student never reaches the database
    with pytest.raises(NotFound, match="Course not found"):
        await analytics.course_heading(owner, uuid4())
    with pytest.raises(Forbidden, match="Not authorized to view analytics for this course"):
        await analytics.course_heading(other, course)
    assert (await analytics.course_heading(owner, course)).title == "Course"
    assert (await analytics.course_heading(user(Role.ADMIN), course)).title == "Course"


async def test_instructor_and_system_overviews_check_before_reading() -> None:
    reader = FakeReader()
    analytics = service(reader)
    me = user(Role.INSTRUCTOR)
    with pytest.raises(Forbidden, match="Insufficient permissions"):
        await analytics.instructor_overview(user(Role.STUDENT), me.id)
    with pytest.raises(Forbidden, match="Not authorized to view this instructor overview"):
        await analytics.instructor_overview(user(Role.INSTRUCTOR), me.id)
    for role in (Role.STUDENT, Role.INSTRUCTOR):
        with pytest.raises(Forbidden, match="Only admins can access system overview"):
            await analytics.system_overview(user(role))
    assert reader.asked == []
    assert (await analytics.instructor_overview(me, me.id)).total_courses == 1
    assert (await analytics.system_overview(user(Role.ADMIN))).total_users == 1
