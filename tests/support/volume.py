"""Bulk data on PostgreSQL, inserted with set-based SQL (not through the API), for the analytics
EXPLAIN test and the growth benchmark.

Bulk students enroll in the first `enrollments_per_student` bulk courses; each enrollment has
`progress_per_enrollment` completed progress rows and `attempts_per_enrollment` graded attempts,
all spread over the last 60 days. Ids are derived from names (`md5(name)::uuid`), so rows refer
to each other without lookups.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Volume:
    students: int
    courses: int = 10
    lessons: int = 10
    enrollments_per_student: int = 1
    progress_per_enrollment: int = 10
    attempts_per_enrollment: int = 1
    first: int = 1  # the number of the first bulk student: a second fill adds students after the first

    @property
    def last(self) -> int:
        return self.first + self.students - 1

    @property
    def progress_rows(self) -> int:
        return self.students * self.enrollments_per_student * self.progress_per_enrollment


def bulk_id(name: str) -> uuid.UUID:
    """The id the bulk SQL gives `name` (`md5(name)::uuid`): `course-0` is the busiest course,
    which every bulk student is enrolled in; `student-1` is a bulk student."""
    return uuid.UUID(hashlib.md5(name.encode(), usedforsecurity=False).hexdigest())


def _statements(v: Volume) -> list[str]:
    done = v.progress_per_enrollment >= v.lessons
    percentage = round(100 * v.progress_per_enrollment / v.lessons, 2)
    return [
        """INSERT INTO users (id, email, full_name, role, password_hash, is_active, created_at, updated_at)
           VALUES (md5('bulk-instructor')::uuid, 'bulk-instructor@example.com', 'Bulk Instructor', 'instructor',
                   'x', true, now(), now())
           ON CONFLICT DO NOTHING""",
        f"""INSERT INTO users (id, email, full_name, role, password_hash, is_active, created_at, updated_at)
            SELECT md5('student-' || n)::uuid, 'bulk-' || n || '@example.com', 'Bulk Student ' || n, 'student',
                   'x', true, now(), now()
            FROM generate_series({v.first}, {v.last}) AS n""",
        f"""INSERT INTO courses (id, title, slug, instructor_id, is_published, created_at, updated_at)
            SELECT md5('course-' || c)::uuid, 'Bulk course ' || c, 'bulk-course-' || c,
                   md5('bulk-instructor')::uuid, true, now(), now()
            FROM generate_series(0, {v.courses - 1}) AS c
            ON CONFLICT DO NOTHING""",
        f"""INSERT INTO lessons (id, course_id, title, slug, lesson_type, order_index, is_preview,
                                 created_at, updated_at)
            SELECT md5('lesson-' || c || '-' || l)::uuid, md5('course-' || c)::uuid, 'Lesson ' || l,
                   'lesson-' || l, 'text', l, false, now(), now()
            FROM generate_series(0, {v.courses - 1}) AS c, generate_series(1, {v.lessons}) AS l
            ON CONFLICT DO NOTHING""",
        f"""INSERT INTO quizzes (id, course_id, lesson_id, title, quiz_type, passing_score, shuffle_questions,
                                 shuffle_options, show_correct_answers, is_published, created_at, updated_at)
            SELECT md5('quiz-' || c)::uuid, md5('course-' || c)::uuid, md5('lesson-' || c || '-' || {v.lessons})::uuid,
                   'Quiz ' || c, 'graded', 70, false, false, true, true, now(), now()
            FROM generate_series(0, {v.courses - 1}) AS c
            ON CONFLICT DO NOTHING""",
        f"""INSERT INTO enrollments (id, student_id, course_id, status, enrolled_at, started_at, completed_at,
                                     progress_percentage, completed_lessons_count, total_lessons_count,
                                     total_time_spent_seconds, rating, created_at, updated_at)
            SELECT md5('enrollment-' || n || '-' || c)::uuid, md5('student-' || n)::uuid, md5('course-' || c)::uuid,
                   '{"completed" if done else "active"}', now() - (n % 60) * interval '1 day',
                   now() - (n % 60) * interval '1 day', {"now()" if done else "NULL"},
                   {percentage}, {v.progress_per_enrollment}, {v.lessons}, {60 * v.progress_per_enrollment},
                   CASE WHEN n % 3 = 0 THEN 1 + n % 5 END, now(), now()
            FROM generate_series({v.first}, {v.last}) AS n, generate_series(0, {v.enrollments_per_student - 1}) AS c""",
        f"""INSERT INTO lesson_progress (id, enrollment_id, lesson_id, status, started_at, completed_at,
                                         time_spent_seconds, last_position_seconds, completion_percentage,
                                         created_at, updated_at)
            SELECT gen_random_uuid(), md5('enrollment-' || n || '-' || c)::uuid, md5('lesson-' || c || '-' || l)::uuid,
                   'completed', now() - ((n + l) % 60) * interval '1 day', now() - ((n + l) % 60) * interval '1 day',
                   60, 0, 100, now(), now()
            FROM generate_series({v.first}, {v.last}) AS n, generate_series(0, {v.enrollments_per_student - 1}) AS c,
                 generate_series(1, {v.progress_per_enrollment}) AS l""",
        f"""INSERT INTO quiz_attempts (id, enrollment_id, quiz_id, student_id, attempt_number, status, started_at,
                                       submitted_at, graded_at, score, max_score, percentage, is_passed,
                                       time_taken_seconds, created_at, updated_at)
            SELECT gen_random_uuid(), md5('enrollment-' || n || '-' || c)::uuid, md5('quiz-' || c)::uuid,
                   md5('student-' || n)::uuid, a, 'graded', now() - ((n + a) % 60) * interval '1 day',
                   now() - ((n + a) % 60) * interval '1 day', now() - ((n + a) % 60) * interval '1 day',
                   (n + a) % 5, 4, ((n + a) % 5) * 25, (n + a) % 5 >= 3, 60, now(), now()
            FROM generate_series({v.first}, {v.last}) AS n, generate_series(0, {v.enrollments_per_student - 1}) AS c,
                 generate_series(1, {v.attempts_per_enrollment}) AS a""",
    ]


async def fill(dsn: str, volume: Volume) -> None:
    """Insert the volume into a migrated, otherwise empty database (VACUUM ANALYZE afterwards, as
    autovacuum would, so the planner and index-only scans see the real tables)."""
    conn = await asyncpg.connect(dsn)
    try:
        for statement in _statements(volume):
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
