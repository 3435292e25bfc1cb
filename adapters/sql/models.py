"""Table definitions. Keys are UUIDv7; audit timestamps are timezone-aware UTC."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

# Free-form JSON objects: JSONB on PostgreSQL, JSON text elsewhere.
JsonObject = JSON().with_variant(JSONB(), "postgresql")


class UserRow(UUIDv7AuditBase):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    mfa_method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    email_verified_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    tokens_valid_after: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    __table_args__ = (Index("ix_users_created_at", "created_at"),)


class RefreshSessionRow(UUIDv7AuditBase):
    """One refresh token; `id` is the token's `jti`."""

    __tablename__ = "refresh_sessions"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid: Mapped[UUID] = mapped_column(index=True)
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


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


# The document that course text search runs over (PostgreSQL full-text search). The GIN index and
# the query must spell the same expression for the planner to use the index.
COURSE_SEARCH_CONFIG = "english"
COURSE_SEARCH_DOCUMENT = f"to_tsvector('{COURSE_SEARCH_CONFIG}', title || ' ' || coalesce(description, ''))"


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

    __table_args__ = (
        Index("ix_courses_published_created", "is_published", "created_at"),
        Index("ix_courses_instructor_created", "instructor_id", "created_at"),
        Index("ix_courses_created_at", "created_at"),
        Index("ix_courses_category", "category"),
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

    # One lesson per position in a course; it also serves the by-position listing.
    __table_args__ = (UniqueConstraint("course_id", "order_index", name="uq_lessons_course_position"),)


class EnrollmentRow(UUIDv7AuditBase):
    """A student's place in a course. The pair is unique; the catalog reads it to refuse deleting a
    course that has students."""

    __tablename__ = "enrollments"

    student_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")

    __table_args__ = (UniqueConstraint("student_id", "course_id", name="uq_enrollments_student_course"),)
