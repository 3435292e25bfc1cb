"""`lms demo seed`: demo accounts and a course to try the API with (API §8.4), and with
`--students N` a larger history, all made through the use cases (so every rule, event and
certificate is the real thing). Running it again changes nothing.

The larger history is spread over the last 60 days by running the use cases on a clock that is
moved back and forth: each demo student signs up on some day, enrolls in one to three courses,
works through lessons over the following days, takes quizzes (passing some, failing some),
completes courses (and so gets certificates) and reviews some of them.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TextIO
from uuid import UUID

from domain.assessment.banks import NewBank
from domain.assessment.draws import Draw
from domain.assessment.model import Answer, Question, QuestionType, Quiz, QuizType
from domain.assessment.quizzes import NewQuestion, NewQuiz, OptionInput
from domain.assignments.assignments import NewAssignment
from domain.assignments.model import SubmissionType
from domain.assignments.rules import Criterion
from domain.assignments.submissions import GradeInput, NewSubmission
from domain.catalog.model import Course, CourseFilter, DifficultyLevel, LessonType
from domain.catalog.services import NewCourse, NewLesson
from domain.identity.model import Role, User
from domain.identity.policy import NewUser
from domain.identity.ports import PasswordHasher
from domain.learning.model import REVIEW_THRESHOLD, ProgressStatus, ProgressUpdate
from domain.learning.services import PREREQUISITES_MISSING
from domain.shared.errors import Forbidden
from domain.shared.pagination import MAX_PAGE, PageParams
from lms.bootstrap import Container

ADMIN = ("admin@lms.local", "AdminPass123", "Demo Admin")
INSTRUCTOR = ("instructor@lms.local", "InstructorPass123", "Demo Instructor")
STUDENT = ("student@lms.local", "StudentPass123", "Demo Student")
STUDENT_PASSWORD = STUDENT[1]  # every generated demo student signs in with it too
HISTORY_DAYS = 60
DEMO_ASSIGNMENT = "Describe an API you use"


@dataclass(frozen=True, slots=True)
class CoursePlan:
    slug: str
    title: str
    description: str
    category: str
    level: DifficultyLevel
    lessons: tuple[tuple[str, LessonType], ...]  # the last one carries the quiz
    requires: tuple[str, ...] = ()  # the slugs of its prerequisites
    sequential: bool = False  # each lesson opens once the one before it is completed
    drawn: int = 0  # questions each quiz attempt draws from the course's question bank


DEMO_COURSE = CoursePlan(
    slug="demo-introduction-to-web-apis",
    title="Introduction to Web APIs",
    description="What an HTTP API is, how clients talk to it, and how to check what you learned.",
    category="Programming",
    level=DifficultyLevel.BEGINNER,
    lessons=(("Welcome: requests and responses", LessonType.VIDEO), ("Check your understanding", LessonType.QUIZ)),
)
# A second course that requires the first: its lessons open in order, and its quiz draws from a
# question bank, so two students rarely see the same paper.
SEQUENTIAL_COURSE = CoursePlan(
    slug="demo-reliable-services",
    title="Reliable Services",
    description="Queues, retries and idempotency: keeping promises when parts fail.",
    category="Operations",
    level=DifficultyLevel.ADVANCED,
    lessons=(
        ("Failure modes", LessonType.TEXT),
        ("Retries and idempotency", LessonType.VIDEO),
        ("Quiz: reliability", LessonType.QUIZ),
    ),
    requires=("demo-introduction-to-web-apis",),
    sequential=True,
    drawn=2,
)
# With --students: one more course of the demo instructor, so the history has some breadth.
MORE_COURSES = (
    CoursePlan(
        slug="demo-databases-in-practice",
        title="Databases in Practice",
        description="Tables, indexes and transactions, with the mistakes that make them slow.",
        category="Data",
        level=DifficultyLevel.INTERMEDIATE,
        lessons=(
            ("Tables and keys", LessonType.VIDEO),
            ("Indexes", LessonType.TEXT),
            ("Transactions", LessonType.VIDEO),
            ("Quiz: databases", LessonType.QUIZ),
        ),
    ),
)
BANK_QUESTIONS = (
    ("Retrying a request is safe when the request is idempotent.", "true"),
    ("A message queue delivers every message exactly once.", "false"),
    ("An idempotency key lets a server recognise a retried request.", "true"),
    ("Retrying at once, without backoff, spreads load during an outage.", "false"),
    ("A timeout tells the client whether the server applied the request.", "false"),
)


def _questions(topic: str) -> list[NewQuestion]:
    """Three questions: multiple choice, true/false, short answer (the correct option first)."""
    return [
        NewQuestion(
            question_text=f"{topic}: which status tells a client its request conflicts with the current state?",
            question_type=QuestionType.MULTIPLE_CHOICE,
            points=Decimal("2"),
            options=[
                OptionInput(option_text="409 Conflict", is_correct=True),
                OptionInput(option_text="404 Not Found"),
                OptionInput(option_text="500 Internal Server Error"),
            ],
            explanation="409 means the request conflicts with the resource's current state.",
        ),
        NewQuestion(
            question_text="HTTP is a stateless protocol.",
            question_type=QuestionType.TRUE_FALSE,
            correct_answer="true",
        ),
        NewQuestion(
            question_text="Which HTTP method replaces a resource with the request's body?",
            question_type=QuestionType.SHORT_ANSWER,
            correct_answer="PUT",
        ),
    ]


class DemoClock:
    """The real clock, unless the seed has moved it into the past (never into the future)."""

    def __init__(self) -> None:
        self._at: datetime | None = None

    def now(self) -> datetime:
        real = datetime.now(UTC)
        return real if self._at is None or self._at > real else self._at

    def set(self, at: datetime | None) -> None:
        self._at = at


class OnceHasher:
    """Demo students share one password: it is hashed once (a real argon2 hash, like any other)."""

    def __init__(self, inner: PasswordHasher) -> None:
        self._inner = inner
        self._hashes: dict[str, str] = {}

    async def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = await self._inner.hash(password)
        return self._hashes[password]

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._inner.verify(password_hash, password)


@dataclass
class Report:
    created: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.created.append(what)


@dataclass
class Seeder:
    container: Container
    clock: DemoClock
    report: Report = field(default_factory=Report)

    async def user(self, email: str, password: str, full_name: str, role: Role) -> User:
        existing = await self.container.identity.parts.users.get_by_email(email)
        return existing or await self.new_user(email, password, full_name, role)

    async def new_user(self, email: str, password: str, full_name: str, role: Role) -> User:
        user = await self.container.identity.accounts.provision(
            NewUser(email=email, full_name=full_name, password=password, role=role)
        )
        self.report.add(f"{role.value} {email}")
        return user

    async def course(self, instructor: User, plan: CoursePlan) -> tuple[Course, Quiz, list[Question]]:
        """The course, its lessons and its quiz, creating what is missing; published."""
        catalog = self.container.catalog
        mine = await catalog.reader.courses(
            CourseFilter(published_only=False, instructor_id=instructor.id), PageParams(page=1, page_size=MAX_PAGE)
        )
        course = next((c for c in mine.items if c.slug == plan.slug), None)
        if course is None:
            new = NewCourse(
                title=plan.title,
                slug=plan.slug,
                description=plan.description,
                category=plan.category,
                difficulty_level=plan.level,
                estimated_duration_minutes=30 * len(plan.lessons),
                sequential=plan.sequential,
            )
            course = await catalog.create_course(instructor, new)
            self.report.add(f"course {plan.title!r}")
        page = (await catalog.list_lessons(instructor, course.id, PageParams(page=1, page_size=MAX_PAGE))).page
        titles = {lesson.title: lesson for lesson in page.items}
        lessons = []
        for position, (title, kind) in enumerate(plan.lessons, start=1):
            lesson = titles.get(title)
            if lesson is None:
                video = f"https://videos.example.com/{plan.slug}/{position}" if kind is LessonType.VIDEO else None
                new_lesson = NewLesson(
                    title=title,
                    lesson_type=kind,
                    order_index=position,
                    duration_minutes=15,
                    video_url=video,
                    content=None if video else f"{title}: reading material.",
                    is_preview=position == 1,
                )
                lesson = await catalog.create_lesson(instructor, course.id, new_lesson)
            lessons.append(lesson)
        draws = await self.bank(instructor, course, plan.drawn) if plan.drawn else []
        quiz, questions = await self.quiz(instructor, course, lessons[-1].id, plan.title, draws)
        if not course.is_published:
            course = await catalog.publish_course(instructor, course.id)
        return course, quiz, questions

    async def bank(self, instructor: User, course: Course, count: int) -> list[Draw]:
        """The course's question bank (made once), and a draw of `count` of its questions."""
        banks = self.container.banks
        name = f"{course.title}: question bank"
        listed = await banks.list_banks(instructor, course.id, PageParams(page=1, page_size=MAX_PAGE))
        found = next((s.bank for s in listed.items if s.bank.name == name), None)
        if found is None:
            found = (await banks.create_bank(instructor, course.id, NewBank(name=name))).bank
            for text, answer in BANK_QUESTIONS:
                new = NewQuestion(question_text=text, question_type=QuestionType.TRUE_FALSE, correct_answer=answer)
                await banks.create_question(instructor, course.id, found.id, new)
            self.report.add(f"question bank {name!r}")
        return [Draw(bank_id=found.id, count=count)]

    async def quiz(
        self, instructor: User, course: Course, lesson_id: UUID, title: str, draws: list[Draw]
    ) -> tuple[Quiz, list[Question]]:
        quizzes = self.container.quizzes
        listed = await quizzes.list_quizzes(instructor, course.id, PageParams(page=1, page_size=MAX_PAGE))
        found = next((s.quiz for s in listed.items if s.quiz.lesson_id == lesson_id), None)
        if found is None:
            new = NewQuiz(
                lesson_id=lesson_id,
                title=f"{title}: check",
                quiz_type=QuizType.GRADED,
                max_attempts=3,
                shuffle_questions=False,
                shuffle_options=False,
                draws=draws,
            )
            found = await quizzes.create_quiz(instructor, course.id, new)
            for question in _questions(title):
                await quizzes.create_question(instructor, course.id, found.id, question)
            self.report.add(f"quiz {found.title!r}")
        if not found.is_published:
            found = await quizzes.publish_quiz(instructor, course.id, found.id)
        questions = await self.container.attempts.questions(found.id)
        return found, questions

    async def assignment(self, instructor: User, student: User, course: Course) -> None:
        """A published assignment of the demo course (on no lesson, so it gates none), and the demo
        student's work at it: a first submission graded with feedback, and a revision waiting."""
        service, submissions = self.container.assignments, self.container.submissions
        listed = await service.list_assignments(instructor, course.id, PageParams(page=1, page_size=MAX_PAGE))
        found = next((a for a in listed.items if a.title == DEMO_ASSIGNMENT), None)
        if found is None:
            new = NewAssignment(
                title=DEMO_ASSIGNMENT,
                instructions="Pick an HTTP API you use. Describe one request and its response, and say why "
                "the response has the status code it has.",
                submission_types=[SubmissionType.TEXT],
                max_points=Decimal("10"),
                due_at=datetime.now(UTC) + timedelta(days=14),
                max_submissions=2,
                rubric=[
                    Criterion("The request and response", Decimal("6")),
                    Criterion("The status code", Decimal("4")),
                ],
            )
            found = await service.create_assignment(instructor, course.id, new)
            found = await service.publish(instructor, course.id, found.id, published=True)
            self.report.add(f"assignment {found.title!r}")
        mine = await submissions.mine(student, found.id, PageParams(page=1, page_size=MAX_PAGE))
        if mine.items:
            return
        text = "GET /api/v1/courses answers 200 with a page of courses."
        first = await submissions.submit(student, found.id, NewSubmission(text=text))
        scores = [Criterion("The request and response", Decimal("5")), Criterion("The status code", Decimal("3"))]
        feedback = "Good request; say why 200 and not 204."
        await submissions.grade(instructor, first.submission.id, GradeInput(rubric_scores=scores, feedback=feedback))
        await submissions.submit(student, found.id, NewSubmission(text=f"{text} 200, not 204: it has a body."))
        self.report.add(f"submissions of {student.email} to {found.title!r} (one graded, one waiting)")

    async def enroll(self, student: User, course: Course) -> UUID:
        enrolled = await self.container.learning.enroll(student, course.id)
        if enrolled.created:
            self.report.add(f"enrollment of {student.email} in {course.title!r}")
        return enrolled.enrollment.id


def _answers(questions: list[Question], rng: random.Random, skill: float) -> list[Answer]:
    """Each question answered right with probability `skill`."""
    answers = []
    for question in questions:
        right = rng.random() < skill
        if question.question_type is QuestionType.MULTIPLE_CHOICE:
            options = question.options or []
            pick = next((o for o in options if o.is_correct is right), options[0])
            answers.append(Answer(question_id=question.id, selected_option_id=pick.option_id))
        elif question.question_type is QuestionType.TRUE_FALSE:
            correct = (question.correct_answer or "true").lower() == "true"
            answers.append(Answer(question_id=question.id, answer_text=str(correct is right).lower()))
        else:
            answers.append(
                Answer(question_id=question.id, answer_text=(question.correct_answer or "") if right else "?")
            )
    return answers


async def _history(
    seeder: Seeder, number: int, courses: list[tuple[Course, Quiz, list[Question]]], now: datetime
) -> None:
    """One demo student's 60 days (deterministic for a given number)."""
    rng = random.Random(number)  # noqa: S311 (demo data, not secrets)
    email = f"student{number}@demo.lms.local"
    c = seeder.container
    if await c.identity.parts.users.get_by_email(email) is not None:
        return  # made by an earlier run: nothing changes
    at = now - timedelta(days=rng.uniform(3, HISTORY_DAYS), minutes=rng.uniform(0, 600))
    seeder.clock.set(at)
    student = await seeder.new_user(email, STUDENT_PASSWORD, f"Demo Student {number}", Role.STUDENT)
    skill = rng.uniform(0.45, 0.98)
    diligence = rng.uniform(0.55, 0.97)  # the chance of going on to the next lesson
    picked = rng.sample(courses, k=rng.randint(1, len(courses)))
    for course, quiz, questions in sorted(picked, key=courses.index):  # prerequisites come first
        at += timedelta(minutes=rng.uniform(5, 240))
        seeder.clock.set(at)
        try:
            enrollment_id = await seeder.enroll(student, course)
        except Forbidden as refused:
            if refused.detail != PREREQUISITES_MISSING:
                raise
            continue  # the course it requires was not completed: this student stops here
        page = (await c.catalog.list_lessons(student, course.id, PageParams(page=1, page_size=MAX_PAGE))).page
        stopped = None  # the lesson the student did not finish, if any
        for lesson in page.items:
            at += timedelta(hours=rng.uniform(2, 72))
            if at >= now or rng.random() > diligence:
                stopped = lesson
                break
            seeder.clock.set(at)
            if lesson.id == quiz.lesson_id:
                for _ in range(quiz.max_attempts or 3):
                    attempt = await c.attempts.start(student, quiz.id)
                    paper = [*questions, *await c.attempts.drawn_questions(student, quiz)]  # its own draw
                    seeder.clock.set(at + timedelta(minutes=rng.uniform(3, 15)))
                    graded, _ = await c.attempts.submit(student, quiz.id, attempt.id, _answers(paper, rng, skill))
                    if graded.is_passed:
                        break
                    at += timedelta(hours=rng.uniform(1, 24))
                    seeder.clock.set(min(at, now))
                continue
            spent = rng.randint(240, 1800)
            update = ProgressUpdate(status=ProgressStatus.COMPLETED, time_spent_seconds=spent)
            await c.learning.update_progress(student, enrollment_id, lesson.id, update)
        if stopped is not None and rng.random() < 0.5:
            # Partway into the next lesson: time spent, not completed.
            seeder.clock.set(min(at, now))
            halfway = ProgressUpdate(status=ProgressStatus.IN_PROGRESS, time_spent_seconds=rng.randint(60, 600))
            await c.learning.update_progress(student, enrollment_id, stopped.id, halfway)
        enrollment, _ = await c.learning.get_enrollment(student, enrollment_id)
        if enrollment.progress_percentage >= REVIEW_THRESHOLD and rng.random() < 0.6:
            rating = rng.choices([2, 3, 4, 5], weights=[1, 2, 4, 4])[0]
            await c.learning.review(student, enrollment_id, rating, "Demo review.")
    seeder.clock.set(None)


def _progress_bar(out: TextIO, total: int) -> Callable[[int], None]:
    width = 30

    def show(done: int) -> None:
        filled = width * done // total if total else width
        out.write(f"\rstudents [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            out.write("\n")
        out.flush()

    return show


async def seed(container: Container, clock: DemoClock, *, students: int = 0, out: TextIO = sys.stdout) -> Report:
    seeder = Seeder(container, clock)
    await seeder.user(*ADMIN, role=Role.ADMIN)
    instructor = await seeder.user(*INSTRUCTOR, role=Role.INSTRUCTOR)
    student = await seeder.user(*STUDENT, role=Role.STUDENT)
    demo = await seeder.course(instructor, DEMO_COURSE)
    await seeder.enroll(student, demo[0])
    await seeder.assignment(instructor, student, demo[0])
    sequential = await seeder.course(instructor, SEQUENTIAL_COURSE)
    # Setting the same list again changes nothing.
    await container.catalog.set_prerequisites(instructor, sequential[0].id, [demo[0].id])
    if students > 0:
        courses = [demo, sequential] + [await seeder.course(instructor, plan) for plan in MORE_COURSES]
        show = _progress_bar(out, students)
        now = datetime.now(UTC)
        for number in range(1, students + 1):
            await _history(seeder, number, courses, now)
            show(number)
    return seeder.report
