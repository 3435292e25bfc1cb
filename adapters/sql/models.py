"""Table definitions. Keys are UUIDv7; audit timestamps are timezone-aware UTC."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base, orm_registry
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

# Free-form JSON objects: JSONB on PostgreSQL, JSON text elsewhere.
JsonObject = JSON().with_variant(JSONB(), "postgresql")


# Totals the writes keep, for the big unfiltered lists (API §3: an exact total without counting
# the rows): `users`, `courses`, `courses:published`, `webhook_deliveries`. Triggers (migration
# 0009) keep them in the transaction of every insert, update and delete of the counted table.
ROW_COUNTS = Table(
    "row_counts",
    orm_registry.metadata,
    Column("name", String(64), primary_key=True),
    Column("n", BigInteger, nullable=False),
)


# The courses a course requires (API §12), in the order they were given; both sides go with their
# course. Found from either side: by the course (the primary key) and by the required one.
COURSE_PREREQUISITES = Table(
    "course_prerequisites",
    orm_registry.metadata,
    Column("course_id", GUID(length=16), ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("required_id", GUID(length=16), ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_course_prerequisites_required", "required_id"),
)


class UserRow(UUIDv7AuditBase):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    mfa_method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    email_verified_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    tokens_valid_after: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    locked_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    __table_args__ = (Index("ix_users_created_at", "created_at", "id"),)


class RefreshSessionRow(UUIDv7AuditBase):
    """One refresh token; `id` is the token's `jti`."""

    __tablename__ = "refresh_sessions"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid: Mapped[UUID] = mapped_column(index=True)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class UserIdentityRow(UUIDv7AuditBase):
    """A user's account at an identity provider (API §10.3): one per (provider, subject)."""

    __tablename__ = "user_identities"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_user_identities_provider_subject"),
        Index("ix_user_identities_user_created", "user_id", "created_at", "id"),
    )


class ApiKeyRow(UUIDv7AuditBase):
    """An API key (API §10.4): found by its public prefix, checked by the hash of its secret."""

    __tablename__ = "api_keys"

    owner_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(8), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_used_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_api_keys_owner_created", "owner_id", "created_at", "id"),
        Index("ix_api_keys_created", "created_at", "id"),
    )


class ConsumedTokenRow(UUIDv7Base):
    """A used single-use token (`id` is its `jti`); the primary key makes reuse impossible."""

    __tablename__ = "consumed_tokens"

    consumed_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class RecoveryCodeRow(UUIDv7AuditBase):
    __tablename__ = "recovery_codes"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


# The document course text search runs over (PostgreSQL full-text search): a stored generated
# column, `search_document`, with a GIN index (migration 0009). It exists on PostgreSQL only, so
# it is not a column of the model: queries name it, and nothing else reads or writes it. Stored,
# a filter on it costs a comparison per row, not a `to_tsvector` per row.
COURSE_SEARCH_CONFIG = "english"
COURSE_SEARCH_SOURCE = f"to_tsvector('{COURSE_SEARCH_CONFIG}', title || ' ' || coalesce(description, ''))"
COURSE_SEARCH_DOCUMENT = "search_document"


class CourseRow(UUIDv7AuditBase):
    __tablename__ = "courses"

    title: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    instructor_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    difficulty_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    thumbnail_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    estimated_duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    custom_metadata: Mapped[dict[str, Any] | None] = mapped_column(JsonObject, nullable=True)
    sequential: Mapped[bool] = mapped_column(Boolean, server_default=false())  # lessons open in order
    # API §14: null or zero is free; three decimals hold every currency's minor unit (BHD's).
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 3), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), server_default="USD")

    # The catalog's orders and filters, each served by an index: newest first (`created_at`, `id`),
    # the published catalog by itself and by category and difficulty (partial indexes, which a
    # query saying `is_published = true` uses), an instructor's own courses, and text search.
    __table_args__ = (
        Index(
            "ix_courses_published_recent",
            "created_at",
            "id",
            postgresql_where=text("is_published = true"),
            sqlite_where=text("is_published = 1"),
        ),
        Index(
            "ix_courses_published_category",
            "category",
            "difficulty_level",
            "created_at",
            "id",
            postgresql_where=text("is_published = true"),
            sqlite_where=text("is_published = 1"),
        ),
        Index(
            "ix_courses_published_difficulty",
            "difficulty_level",
            "created_at",
            "id",
            postgresql_where=text("is_published = true"),
            sqlite_where=text("is_published = 1"),
        ),
        Index("ix_courses_instructor_created", "instructor_id", "created_at", "id"),
        Index("ix_courses_created_at", "created_at", "id"),
        Index("ix_courses_category", "category", "difficulty_level", "created_at", "id"),
        Index("ix_courses_difficulty", "difficulty_level", "created_at", "id"),
        Index("ix_courses_search", text(COURSE_SEARCH_DOCUMENT), postgresql_using="gin").ddl_if(dialect="postgresql"),
    )


class LessonRow(UUIDv7AuditBase):
    __tablename__ = "lessons"

    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    lesson_type: Mapped[str] = mapped_column(String(20))
    order_index: Mapped[int] = mapped_column(Integer)
    parent_lesson_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"), nullable=True, index=True
    )
    duration_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    video_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    is_preview: Mapped[bool] = mapped_column(Boolean, default=False)
    custom_metadata: Mapped[dict[str, Any] | None] = mapped_column(JsonObject, nullable=True)
    # Release rules (API §12): opens on a date, and/or some days after the student enrolled.
    available_from: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    available_after_days: Mapped[int] = mapped_column(Integer, server_default="0")

    # One lesson per position in a course; it also serves the by-position listing.
    __table_args__ = (UniqueConstraint("course_id", "order_index", name="uq_lessons_course_position"),)


class EnrollmentRow(UUIDv7AuditBase):
    """A student's place in a course, with the progress figures recomputed after every change."""

    __tablename__ = "enrollments"

    student_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="active")
    enrolled_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    completed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    progress_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.00"))
    completed_lessons_count: Mapped[int] = mapped_column(Integer, default=0)
    total_lessons_count: Mapped[int] = mapped_column(Integer, default=0)
    total_time_spent_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    last_accessed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    certificate_issued_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    review: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        UniqueConstraint("student_id", "course_id", name="uq_enrollments_student_course"),
        # "My courses" and a course's enrollments, newest first.
        Index("ix_enrollments_student_enrolled", "student_id", "enrolled_at", "id"),
        Index("ix_enrollments_course_enrolled", "course_id", "enrolled_at", "id"),
    )


class LessonProgressRow(UUIDv7AuditBase):
    """One student's progress through one lesson; goes with the lesson and with the enrollment."""

    __tablename__ = "lesson_progress"

    enrollment_id: Mapped[UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    lesson_id: Mapped[UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    completed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    time_spent_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    last_position_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.00"))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id", name="uq_lesson_progress_enrollment_lesson"),)


class OutboxEventRow(UUIDv7Base):
    """A domain event, written in the transaction of the change that caused it; `id` is the event id.

    `relayed_at` is set when the relay has turned it into one delivery per webhook target, and
    `notified_at` when it has made its notifications (API §13).
    """

    __tablename__ = "outbox_events"

    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonObject)
    relayed_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    notified_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    # When its xAPI statement was staged (API §15.1); only staged events are purged while an LRS
    # is configured.
    xapi_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    __table_args__ = (
        Index(
            "ix_outbox_events_unstaged",
            "id",
            postgresql_where=text("xapi_at IS NULL"),
            sqlite_where=text("xapi_at IS NULL"),
        ),
        Index(
            "ix_outbox_events_unnotified",
            "id",
            postgresql_where=text("notified_at IS NULL"),
            sqlite_where=text("notified_at IS NULL"),
        ),
        Index(
            "ix_outbox_events_unrelayed",
            "id",
            postgresql_where=text("relayed_at IS NULL"),
            sqlite_where=text("relayed_at IS NULL"),
        ),
        Index("ix_outbox_events_relayed", "relayed_at"),  # the retention purge
    )


class WebhookDeliveryRow(UUIDv7AuditBase):
    """One event on its way to one target: the retry schedule's state, readable by operators.

    A sender claims a due delivery by writing a fresh `claim_id` and a lease (`claimed_until`);
    only the holder of the current claim may record the attempt's outcome.
    """

    __tablename__ = "webhook_deliveries"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    target_url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_attempt_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    claim_id: Mapped[UUID | None] = mapped_column(nullable=True)
    claimed_until: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    __table_args__ = (
        UniqueConstraint("event_id", "target_url", name="uq_webhook_deliveries_event_target"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_created", "created_at", "id"),
        Index("ix_webhook_deliveries_status_created", "status", "created_at", "id"),
        Index("ix_webhook_deliveries_event_created", "event_type", "created_at", "id"),
    )


class AuditLogRow(UUIDv7Base):
    """An append-only record of who changed what, written in the transaction of the change.

    Ids are plain columns, not foreign keys: the record outlives what it names.
    """

    __tablename__ = "audit_log"

    occurred_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    actor_id: Mapped[UUID | None] = mapped_column(nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[UUID] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(JsonObject)
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)

    __table_args__ = (
        Index("ix_audit_log_subject", "subject_id", "occurred_at"),
        Index("ix_audit_log_occurred", "occurred_at"),
    )


class QuizRow(UUIDv7AuditBase):
    """One quiz per lesson; it goes with its lesson and its course."""

    __tablename__ = "quizzes"

    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_id: Mapped[UUID] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    quiz_type: Mapped[str] = mapped_column(String(20))
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passing_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    max_attempts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean)
    shuffle_options: Mapped[bool] = mapped_column(Boolean)
    show_correct_answers: Mapped[bool] = mapped_column(Boolean)
    essay_grading: Mapped[str] = mapped_column(String(20), server_default="zero")
    due_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default="1.00")
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_quizzes_course_created", "course_id", "created_at", "id"),)


class QuestionRow(UUIDv7AuditBase):
    """A question of a quiz; `options` keep the order they were given."""

    __tablename__ = "questions"

    quiz_id: Mapped[UUID | None] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), nullable=True)
    bank_id: Mapped[UUID | None] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"), nullable=True)
    question_text: Mapped[str] = mapped_column(Text)
    question_type: Mapped[str] = mapped_column(String(20))
    points: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    order_index: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[str | None] = mapped_column(Text, nullable=True)
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonObject, nullable=True)
    correct_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    custom_metadata: Mapped[dict[str, Any] | None] = mapped_column(JsonObject, nullable=True)

    __table_args__ = (
        Index("ix_questions_quiz_position", "quiz_id", "order_index", "id"),
        Index("ix_questions_bank_position", "bank_id", "order_index", "id"),
        CheckConstraint("(quiz_id IS NULL) != (bank_id IS NULL)", name="one_owner"),  # a quiz's or a bank's
    )


class QuestionBankRow(UUIDv7AuditBase):
    """Questions kept apart from any quiz, for quizzes to draw from (API §12); they go with the course."""

    __tablename__ = "question_banks"

    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_question_banks_course_created", "course_id", "created_at", "id"),)


# A quiz's draws, in order. A bank a quiz draws from is not deleted: no cascade from the bank.
QUIZ_DRAWS = Table(
    "quiz_draws",
    orm_registry.metadata,
    Column("quiz_id", GUID(length=16), ForeignKey("quizzes.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("bank_id", GUID(length=16), ForeignKey("question_banks.id"), nullable=False),
    Column("count", Integer, nullable=False),
    Column("points_each", Numeric(10, 2), nullable=True),
    Index("ix_quiz_draws_bank", "bank_id"),
)


class QuizAttemptRow(UUIDv7AuditBase):
    """A student's attempt at a quiz. Numbers are unique per (enrollment, quiz), and at most one
    attempt per (enrollment, quiz) is in progress (a partial unique index)."""

    __tablename__ = "quiz_attempts"

    enrollment_id: Mapped[UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    quiz_id: Mapped[UUID] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    attempt_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    submitted_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    graded_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    max_score: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    is_passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    time_taken_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answers: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonObject, nullable=True)
    # The questions drawn from banks for this attempt, each with its points in it (API §12).
    drawn: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonObject, nullable=True)

    __table_args__ = (
        UniqueConstraint("enrollment_id", "quiz_id", "attempt_number", name="uq_quiz_attempts_number"),
        # What the gradebook reads of an enrollment's attempts, from the index alone.
        Index(
            "ix_quiz_attempts_enrollment_grades",
            "enrollment_id",
            "quiz_id",
            postgresql_include=["status", "percentage"],
        ),
        Index("ix_quiz_attempts_student_submitted", "student_id", "submitted_at"),  # a student's analytics
        Index(
            "uq_quiz_attempts_in_progress",
            "enrollment_id",
            "quiz_id",
            unique=True,
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
    )


class AssignmentRow(UUIDv7AuditBase):
    """Work students hand in (API §11.1); at most one per lesson, and it outlives its lesson."""

    __tablename__ = "assignments"

    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"), unique=True, nullable=True
    )
    title: Mapped[str] = mapped_column(String(255))
    instructions: Mapped[str | None] = mapped_column(Text, nullable=True)
    submission_types: Mapped[list[str]] = mapped_column(JSON)
    allowed_extensions: Mapped[list[str]] = mapped_column(JSON)
    max_points: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    passing_percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    available_from: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    due_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    accept_late: Mapped[bool] = mapped_column(Boolean)
    penalty_percent_per_day: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    max_late_days: Mapped[int] = mapped_column(Integer)
    max_submissions: Mapped[int] = mapped_column(Integer)
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_assignments_course_created", "course_id", "created_at", "id"),)


class SubmissionRow(UUIDv7AuditBase):
    """A student's submission to an assignment. Numbers are unique per (enrollment, assignment):
    two submissions racing for the last slot end with one row."""

    __tablename__ = "submissions"

    assignment_id: Mapped[UUID] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    enrollment_id: Mapped[UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    student_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    file_ids: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    late_days: Mapped[int] = mapped_column(Integer)
    points: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    penalty_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    final_points: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    final_percentage: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    feedback: Mapped[str | None] = mapped_column(Text, nullable=True)
    rubric_scores: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    graded_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    graded_by: Mapped[UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    __table_args__ = (
        # Unique, and covering what the gradebook reads of an enrollment's submissions (index only).
        Index(
            "uq_submissions_number",
            "enrollment_id",
            "assignment_id",
            "number",
            unique=True,
            postgresql_include=["status", "final_percentage"],
        ),
        Index("ix_submissions_assignment_submitted", "assignment_id", "submitted_at", "id"),
    )


class CertificateRow(UUIDv7AuditBase):
    """At most one certificate per enrollment; numbers are unique."""

    __tablename__ = "certificates"

    enrollment_id: Mapped[UUID] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True)
    student_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    certificate_number: Mapped[str] = mapped_column(String(32), unique=True)
    completion_date: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    issued_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    is_revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    __table_args__ = (Index("ix_certificates_student_issued", "student_id", "issued_at", "id"),)


class FileRow(UUIDv7Base):
    """An uploaded file: its record; the bytes live in the object store under `storage_key`."""

    __tablename__ = "files"

    uploader_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(64))
    original_filename: Mapped[str] = mapped_column(String(1024))
    storage_key: Mapped[str] = mapped_column(String(1100), unique=True)
    file_type: Mapped[str] = mapped_column(String(20))
    mime_type: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(BigInteger)
    storage_provider: Mapped[str] = mapped_column(String(20))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))

    __table_args__ = (Index("ix_files_uploader_created", "uploader_id", "created_at", "id"),)


class NotificationRow(UUIDv7Base):
    """A user's notice of an event (API §13): one per (event, user), whoever relays it."""

    __tablename__ = "notifications"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[UUID] = mapped_column(GUID(length=16))
    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JsonObject)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    read_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_notifications_event_user"),
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),  # the inbox, newest first
        Index(  # the unread count and the unread-only inbox
            "ix_notifications_user_unread",
            "user_id",
            "created_at",
            "id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )


# Who was told an assignment is due soon (API §13): the key makes it once per student, however many
# schedulers run.
ASSIGNMENT_REMINDERS = Table(
    "assignment_reminders",
    orm_registry.metadata,
    Column("assignment_id", GUID(length=16), ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True),
    Column("student_id", GUID(length=16), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("reminded_at", DateTimeUTC(timezone=True), nullable=False),
)

# The kinds a user switched off, per channel (API §13); what is not here is on.
NOTIFICATION_PREFERENCES = Table(
    "notification_preferences",
    orm_registry.metadata,
    Column("user_id", GUID(length=16), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("off", JSON, nullable=False),  # [[channel, kind], ...]
    Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
)


# Coupons (API §14): `redemptions` counts paid orders; the code is unique however it was typed.
COUPONS = Table(
    "coupons",
    orm_registry.metadata,
    Column("id", GUID(length=16), primary_key=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("percent_off", Numeric(5, 2), nullable=True),
    Column("amount_off", Numeric(12, 3), nullable=True),
    Column("course_id", GUID(length=16), ForeignKey("courses.id", ondelete="CASCADE"), nullable=True),
    Column("max_redemptions", Integer, nullable=True),
    Column("redemptions", Integer, nullable=False, server_default="0"),
    Column("expires_at", DateTimeUTC(timezone=True), nullable=True),
    Column("created_by", GUID(length=16), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTimeUTC(timezone=True), nullable=False),
    Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    Index("ix_coupons_course", "course_id"),
    Index("ix_coupons_created", "created_at", "id"),
)

# Orders (API §14): the figures the buyer was quoted, exact, and the provider's payment.
ORDERS = Table(
    "orders",
    orm_registry.metadata,
    Column("id", GUID(length=16), primary_key=True),
    Column("course_id", GUID(length=16), ForeignKey("courses.id", ondelete="CASCADE"), nullable=False),
    Column("buyer_id", GUID(length=16), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("amount", Numeric(12, 3), nullable=False),
    Column("discount", Numeric(12, 3), nullable=False),
    Column("total", Numeric(12, 3), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("coupon_id", GUID(length=16), ForeignKey("coupons.id", ondelete="SET NULL"), nullable=True),
    Column("coupon_code", String(40), nullable=True),
    Column("provider", String(10), nullable=False),
    Column("reference", String(255), nullable=True),
    Column("client_secret", String(255), nullable=True),
    Column("checkout_url", String(2048), nullable=True),
    Column("paid_at", DateTimeUTC(timezone=True), nullable=True),
    Column("refunded_at", DateTimeUTC(timezone=True), nullable=True),
    Column("refund_reason", Text, nullable=True),
    Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
    Column("created_at", DateTimeUTC(timezone=True), nullable=False),
    Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    CheckConstraint("total >= 0 AND discount >= 0 AND total = amount - discount", name="total"),
    UniqueConstraint("provider", "reference", name="uq_orders_provider_reference"),
    Index("ix_orders_buyer_created", "buyer_id", "created_at", "id"),  # the buyer's orders, newest first
    Index("ix_orders_created", "created_at", "id"),  # every order (admins)
    Index("ix_orders_buyer_course", "buyer_id", "course_id"),
    Index("ix_orders_coupon_status", "coupon_id", "status"),  # a coupon's held redemptions
)

# The provider's events processed (API §14 Y6): a redelivered event is recognised by its id.
PAYMENT_EVENTS = Table(
    "payment_events",
    orm_registry.metadata,
    Column("provider", String(10), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("processed_at", DateTimeUTC(timezone=True), nullable=False),
)


# Each certificate's place in the Bitstring Status List (API §15.2), given when its verifiable
# credential is first made. Numbers are never handed out twice (a sequence on PostgreSQL,
# AUTOINCREMENT on SQLite): a deleted certificate's index is not reused by another credential.
CREDENTIAL_STATUS_ENTRIES = Table(
    "credential_status_entries",
    orm_registry.metadata,
    Column("status_index", Integer, primary_key=True, autoincrement=True),
    Column(
        "certificate_id",
        GUID(length=16),
        ForeignKey("certificates.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sqlite_autoincrement=True,
)


# Exports of a person's data (API §15.3): the ZIP lives in storage under `storage_key`.
DATA_EXPORTS = Table(
    "data_exports",
    orm_registry.metadata,
    Column("id", GUID(length=16), primary_key=True),
    Column("user_id", GUID(length=16), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("requested_by", GUID(length=16), nullable=False),
    Column("status", String(10), nullable=False),
    Column("storage_key", String(200), nullable=True),
    Column("error", String(200), nullable=True),
    Column("created_at", DateTimeUTC(timezone=True), nullable=False),
    Column("ready_at", DateTimeUTC(timezone=True), nullable=True),
    Column("expires_at", DateTimeUTC(timezone=True), nullable=True),
    Column("updated_at", DateTimeUTC(timezone=True), nullable=True),  # what a row lock touches on SQLite
    Index("ix_data_exports_user", "user_id"),
    Index("ix_data_exports_expires", "status", "expires_at"),
)


# xAPI statements waiting for the LRS, or sent (API §15.1): `id` is the statement id, derived
# from its event's. A batch shares one claim and one retry schedule.
XAPI_STATEMENTS = Table(
    "xapi_statements",
    orm_registry.metadata,
    Column("id", GUID(length=16), primary_key=True),
    Column("statement", JSON, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=True),
    Column("claim_id", GUID(length=16), nullable=True),
    Column("claimed_until", DateTimeUTC(timezone=True), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("sent_at", DateTimeUTC(timezone=True), nullable=True),
    Column("created_at", DateTimeUTC(timezone=True), nullable=False),
    Index("ix_xapi_statements_due", "status", "next_attempt_at"),
    Index("ix_xapi_statements_claim", "claim_id"),
    Index("ix_xapi_statements_sent", "sent_at"),
)
