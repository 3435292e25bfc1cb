"""Bulk data on PostgreSQL, inserted with set-based SQL (not through the API), for the analytics
EXPLAIN test and the growth benchmark.

Bulk students enroll in the first `enrollments_per_student` bulk courses (or, with `spread`,
student n in the courses after course n, so that enrollments cover every course); each enrollment has
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
    spread: bool = False  # each student in other courses, rather than every student in the first ones

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
    course = f"((n + c) % {v.courses})" if v.spread else "c"  # the bulk course of student n's c-th enrollment
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
            SELECT md5('enrollment-' || n || '-' || c)::uuid, md5('student-' || n)::uuid,
                   md5('course-' || {course})::uuid,
                   '{"completed" if done else "active"}', now() - (n % 60) * interval '1 day',
                   now() - (n % 60) * interval '1 day', {"now()" if done else "NULL"},
                   {percentage}, {v.progress_per_enrollment}, {v.lessons}, {60 * v.progress_per_enrollment},
                   CASE WHEN n % 3 = 0 THEN 1 + n % 5 END, now(), now()
            FROM generate_series({v.first}, {v.last}) AS n, generate_series(0, {v.enrollments_per_student - 1}) AS c""",
        f"""INSERT INTO lesson_progress (id, enrollment_id, lesson_id, status, started_at, completed_at,
                                         time_spent_seconds, last_position_seconds, completion_percentage,
                                         created_at, updated_at)
            SELECT gen_random_uuid(), md5('enrollment-' || n || '-' || c)::uuid,
                   md5('lesson-' || {course} || '-' || l)::uuid,
                   'completed', now() - ((n + l) % 60) * interval '1 day', now() - ((n + l) % 60) * interval '1 day',
                   60, 0, 100, now(), now()
            FROM generate_series({v.first}, {v.last}) AS n, generate_series(0, {v.enrollments_per_student - 1}) AS c,
                 generate_series(1, {v.progress_per_enrollment}) AS l""",
        f"""INSERT INTO quiz_attempts (id, enrollment_id, quiz_id, student_id, attempt_number, status, started_at,
                                       submitted_at, graded_at, score, max_score, percentage, is_passed,
                                       time_taken_seconds, created_at, updated_at)
            SELECT gen_random_uuid(), md5('enrollment-' || n || '-' || c)::uuid, md5('quiz-' || {course})::uuid,
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


# A course's category and level cycle through these; its description says `kubernetes` in 1 % of
# courses (all published) and `python` in 57 % (the selective and the broad search of the list
# benchmark), and `terraform` in 1 % (all drafts: a word no published course has).
CATEGORIES = ("DevOps", "Backend", "Data", "Design", "Security")
LEVELS = ("beginner", "intermediate", "advanced")


@dataclass(frozen=True)
class Catalog:
    """A large catalog for the list routes: `courses` courses (nine in ten published, one
    second apart) with `lessons` lessons, one quiz with one question each; `users` students;
    `enrollments` enrollments (student n in course n mod `courses`), each with a graded attempt at
    its course's quiz and every other one with a certificate; and `rows` files, outbox events and
    webhook deliveries (1 % failed, 1 % pending, 1 % of type `certificate.revoked`)."""

    courses: int
    lessons: int = 5
    users: int = 0
    enrollments: int = 0
    rows: int = 0


def _catalog_statements(v: Catalog, since: Catalog) -> list[str]:
    courses = f"generate_series({since.courses + 1}, {v.courses})"
    enrollments = f"generate_series({since.enrollments + 1}, {v.enrollments})"
    rows = f"generate_series({since.rows + 1}, {v.rows})"
    categories = "ARRAY[" + ", ".join(f"'{c}'" for c in CATEGORIES) + "]"
    levels = "ARRAY[" + ", ".join(f"'{level}'" for level in LEVELS) + "]"
    return [
        """INSERT INTO users (id, email, full_name, role, password_hash, is_active, created_at, updated_at)
           VALUES (md5('list-instructor')::uuid, 'list-instructor@example.com', 'List Instructor', 'instructor',
                   'x', true, now(), now())
           ON CONFLICT DO NOTHING""",
        f"""INSERT INTO users (id, email, full_name, role, password_hash, is_active, created_at, updated_at)
            SELECT md5('list-user-' || n)::uuid, 'list-' || n || '@example.com', 'List Student ' || n, 'student',
                   'x', true, now() - n * interval '1 second', now()
            FROM generate_series({since.users + 1}, {v.users}) AS n""",
        f"""INSERT INTO courses (id, title, slug, description, instructor_id, category, difficulty_level,
                                 is_published, created_at, updated_at)
            SELECT md5('list-course-' || n)::uuid, 'Course ' || n, 'list-course-' || n,
                   CASE n % 100 WHEN 1 THEN 'Operating kubernetes clusters' WHEN 0 THEN 'Terraform drafts'
                        ELSE 'Services and queues' END
                   || CASE WHEN n % 100 < 57 THEN ' with python' ELSE '' END,
                   md5('list-instructor')::uuid, ({categories})[n % 5 + 1], ({levels})[n % 3 + 1],
                   n % 10 <> 0, now() - n * interval '1 second', now()
            FROM {courses} AS n""",
        f"""INSERT INTO lessons (id, course_id, title, slug, lesson_type, order_index, is_preview,
                                 created_at, updated_at)
            SELECT md5('list-lesson-' || n || '-' || l)::uuid, md5('list-course-' || n)::uuid, 'Lesson ' || l,
                   'lesson-' || l, 'text', l, false, now(), now()
            FROM {courses} AS n, generate_series(1, {v.lessons}) AS l""",
        f"""INSERT INTO quizzes (id, course_id, lesson_id, title, quiz_type, passing_score, shuffle_questions,
                                 shuffle_options, show_correct_answers, is_published, created_at, updated_at)
            SELECT md5('list-quiz-' || n)::uuid, md5('list-course-' || n)::uuid,
                   md5('list-lesson-' || n || '-1')::uuid, 'Quiz ' || n, 'graded', 70, false, false, true, true,
                   now() - n * interval '1 second', now()
            FROM {courses} AS n WHERE {v.lessons} > 0""",
        f"""INSERT INTO questions (id, quiz_id, question_text, question_type, points, order_index, correct_answer,
                                   created_at, updated_at)
            SELECT md5('list-question-' || n)::uuid, md5('list-quiz-' || n)::uuid, 'True?', 'true_false', 1, 1,
                   'true', now(), now()
            FROM {courses} AS n WHERE {v.lessons} > 0""",
        f"""INSERT INTO enrollments (id, student_id, course_id, status, enrolled_at, progress_percentage,
                                     completed_lessons_count, total_lessons_count, total_time_spent_seconds,
                                     created_at, updated_at)
            SELECT md5('list-enrollment-' || n)::uuid, md5('list-user-' || (1 + (n - 1) % {max(v.users, 1)}))::uuid,
                   md5('list-course-' || (1 + n % {max(v.courses, 1)}))::uuid, 'active',
                   now() - n * interval '1 second', 0, 0, {v.lessons}, 0, now(), now()
            FROM {enrollments} AS n""",
        f"""INSERT INTO quiz_attempts (id, enrollment_id, quiz_id, student_id, attempt_number, status, started_at,
                                       submitted_at, graded_at, score, max_score, percentage, is_passed,
                                       created_at, updated_at)
            SELECT md5('list-attempt-' || n)::uuid, md5('list-enrollment-' || n)::uuid,
                   md5('list-quiz-' || (1 + n % {max(v.courses, 1)}))::uuid,
                   md5('list-user-' || (1 + (n - 1) % {max(v.users, 1)}))::uuid, 1, 'graded', now(), now(), now(),
                   1, 1, 100, true, now(), now()
            FROM {enrollments} AS n WHERE {v.lessons} > 0""",
        f"""INSERT INTO certificates (id, enrollment_id, student_id, course_id, certificate_number, completion_date,
                                      issued_at, is_revoked, created_at, updated_at)
            SELECT md5('list-certificate-' || n)::uuid, md5('list-enrollment-' || n)::uuid,
                   md5('list-user-' || (1 + (n - 1) % {max(v.users, 1)}))::uuid,
                   md5('list-course-' || (1 + n % {max(v.courses, 1)}))::uuid, 'LIST-' || n,
                   now(), now() - n * interval '1 second', false, now(), now()
            FROM {enrollments} AS n
            WHERE n % 2 = 0""",
        f"""INSERT INTO files (id, uploader_id, filename, original_filename, storage_key, file_type, mime_type,
                               file_size, storage_provider, is_public, created_at)
            SELECT md5('list-file-' || n)::uuid, md5('list-user-' || (1 + (n - 1) % {max(v.users, 1)}))::uuid,
                   n || '.pdf', 'notes-' || n || '.pdf', 'bulk/' || n || '.pdf', 'document', 'application/pdf',
                   1000, 'local', false, now() - n * interval '1 second'
            FROM {rows} AS n WHERE {v.users} > 0""",
        f"""INSERT INTO outbox_events (id, type, occurred_at, payload, relayed_at)
            SELECT md5('list-event-' || n)::uuid, 'enrollment.created', now(), '{{}}', now()
            FROM {rows} AS n""",
        f"""INSERT INTO webhook_deliveries (id, event_id, event_type, target_url, status, attempts, created_at,
                                            updated_at)
            SELECT md5('list-delivery-' || n)::uuid, md5('list-event-' || n)::uuid,
                   CASE WHEN n % 100 = 2 THEN 'certificate.revoked'
                        ELSE (ARRAY['enrollment.created', 'enrollment.completed', 'certificate.issued'])[n % 3 + 1] END,
                   'https://hooks.example.com/lms',
                   CASE n % 100 WHEN 0 THEN 'failed' WHEN 1 THEN 'pending' ELSE 'delivered' END, 1,
                   now() - n * interval '1 second', now()
            FROM {rows} AS n""",
    ]


async def fill_catalog(dsn: str, catalog: Catalog, *, since: Catalog | None = None) -> None:
    """Insert the catalog into a migrated database, or grow one filled as `since` to it (VACUUM
    ANALYZE afterwards, as `fill` does)."""
    conn = await asyncpg.connect(dsn)
    try:
        for statement in _catalog_statements(catalog, since or Catalog(courses=0, lessons=catalog.lessons)):
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE")
        await conn.execute("CHECKPOINT")  # the fill's writes flushed now, not during what follows
    finally:
        await conn.close()


@dataclass(frozen=True)
class GradebookVolume:
    """One course (`gradebook-course`, owned by `gradebook-instructor`) with `students` enrolled
    students and `items` lessons, each carrying one published item: quizzes on the odd lessons
    (two one-point questions each), assignments of 10 points on the even ones, every second one
    due in the past. Most students have done most items: student n at item i has a graded
    attempt (a second one for one in three) or a graded submission unless (n + i) % 10 is 0
    (nothing) or 1 (an attempt waiting for review, or a submission not yet graded)."""

    students: int = 10_000
    items: int = 40


def _gradebook_statements(v: GradebookVolume) -> list[str]:
    students = f"generate_series(1, {v.students}) AS n"
    items = f"generate_series(1, {v.items}) AS i"
    course = "md5('gradebook-course')::uuid"
    return [
        """INSERT INTO users (id, email, full_name, role, password_hash, is_active, created_at, updated_at)
           VALUES (md5('gradebook-instructor')::uuid, 'gradebook-instructor@example.com', 'Gradebook Instructor',
                   'instructor', 'x', true, now(), now())""",
        f"""INSERT INTO users (id, email, full_name, role, password_hash, is_active, created_at, updated_at)
            SELECT md5('gb-student-' || n)::uuid, 'gb-' || n || '@example.com',
                   'Student ' || lpad(((n * 7919) % {v.students})::text, 6, '0'), 'student', 'x', true, now(), now()
            FROM {students}""",
        f"""INSERT INTO courses (id, title, slug, instructor_id, is_published, created_at, updated_at)
            VALUES ({course}, 'Gradebook course', 'gradebook-course', md5('gradebook-instructor')::uuid, true,
                    now(), now())""",
        f"""INSERT INTO lessons (id, course_id, title, slug, lesson_type, order_index, is_preview, created_at,
                                 updated_at)
            SELECT md5('gb-lesson-' || i)::uuid, {course}, 'Lesson ' || i, 'lesson-' || i, 'text', i, false, now(),
                   now()
            FROM {items}""",
        f"""INSERT INTO quizzes (id, course_id, lesson_id, title, quiz_type, passing_score, shuffle_questions,
                                 shuffle_options, show_correct_answers, essay_grading, due_at, weight, is_published,
                                 created_at, updated_at)
            SELECT md5('gb-item-' || i)::uuid, {course}, md5('gb-lesson-' || i)::uuid, 'Quiz ' || i, 'graded', 70,
                   false, false, true, 'manual', CASE WHEN i % 4 = 1 THEN now() - interval '1 day' END, 1, true,
                   now(), now()
            FROM {items} WHERE i % 2 = 1""",
        f"""INSERT INTO questions (id, quiz_id, question_text, question_type, points, order_index, correct_answer,
                                   created_at, updated_at)
            SELECT gen_random_uuid(), md5('gb-item-' || i)::uuid, 'True?', 'true_false', 1, q, 'true', now(), now()
            FROM {items}, generate_series(1, 2) AS q WHERE i % 2 = 1""",
        f"""INSERT INTO assignments (id, course_id, lesson_id, title, submission_types, allowed_extensions,
                                     max_points, passing_percentage, weight, due_at, accept_late,
                                     penalty_percent_per_day, max_late_days, max_submissions, rubric, is_published,
                                     created_at, updated_at)
            SELECT md5('gb-item-' || i)::uuid, {course}, md5('gb-lesson-' || i)::uuid, 'Assignment ' || i,
                   '["text"]', '["pdf"]', 10, 60, 2, CASE WHEN i % 4 = 0 THEN now() - interval '1 day' END, false,
                   0, 0, 3, '[]', true, now(), now()
            FROM {items} WHERE i % 2 = 0""",
        f"""INSERT INTO enrollments (id, student_id, course_id, status, enrolled_at, progress_percentage,
                                     completed_lessons_count, total_lessons_count, total_time_spent_seconds,
                                     created_at, updated_at)
            SELECT md5('gb-enrollment-' || n)::uuid, md5('gb-student-' || n)::uuid, {course}, 'active',
                   now() - n * interval '1 second', 0, 0, {v.items}, 0, now(), now()
            FROM {students}""",
        f"""INSERT INTO quiz_attempts (id, enrollment_id, quiz_id, student_id, attempt_number, status, started_at,
                                       submitted_at, graded_at, score, max_score, percentage, is_passed, answers,
                                       created_at, updated_at)
            SELECT gen_random_uuid(), md5('gb-enrollment-' || n)::uuid, md5('gb-item-' || i)::uuid,
                   md5('gb-student-' || n)::uuid, a, CASE WHEN (n + i) % 10 = 1 THEN 'pending_review' ELSE 'graded' END,
                   now(), now(), now(), (n + i + a) % 3, 2,
                   CASE WHEN (n + i) % 10 = 1 THEN NULL ELSE ((n + i + a) % 3) * 50 END,
                   CASE WHEN (n + i) % 10 = 1 THEN NULL ELSE (n + i + a) % 3 >= 2 END, '[]', now(), now()
            FROM {students}, {items}, generate_series(1, 2) AS a
            WHERE i % 2 = 1 AND (n + i) % 10 <> 0 AND (a = 1 OR n % 3 = 0)""",
        f"""INSERT INTO submissions (id, assignment_id, enrollment_id, student_id, number, text, file_ids, status,
                                     submitted_at, late_days, points, penalty_percent, final_points,
                                     final_percentage, created_at, updated_at)
            SELECT gen_random_uuid(), md5('gb-item-' || i)::uuid, md5('gb-enrollment-' || n)::uuid,
                   md5('gb-student-' || n)::uuid, 1, 'My work', '[]',
                   CASE WHEN (n + i) % 10 = 1 THEN 'submitted' ELSE 'graded' END, now(), 0,
                   CASE WHEN (n + i) % 10 = 1 THEN NULL ELSE (n + i) % 11 END,
                   CASE WHEN (n + i) % 10 = 1 THEN NULL ELSE 0 END,
                   CASE WHEN (n + i) % 10 = 1 THEN NULL ELSE (n + i) % 11 END,
                   CASE WHEN (n + i) % 10 = 1 THEN NULL ELSE ((n + i) % 11) * 10 END, now(), now()
            FROM {students}, {items}
            WHERE i % 2 = 0 AND (n + i) % 10 <> 0""",
    ]


async def fill_gradebook(dsn: str, volume: GradebookVolume) -> None:
    """Insert the gradebook course into a migrated database, then VACUUM ANALYZE."""
    conn = await asyncpg.connect(dsn)
    try:
        for statement in _gradebook_statements(volume):
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
