"""Explicit mapping between rows and domain entities."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from adapters.sql.models import RecoveryCodeRow, RefreshSessionRow, UserRow
from domain.catalog.model import Course, CourseRef, DifficultyLevel, Lesson, LessonType
from domain.identity.model import ApiKey, LinkedIdentity, MfaMethod, RecoveryCode, RefreshSession, Role, User
from domain.integrations.model import Delivery, DeliveryStatus
from domain.learning.model import Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus
from domain.shared import money
from domain.shared.decimals import two_places

E = TypeVar("E")


class TableColumns:
    """One table's (or subquery's) columns of a joined row, by name, where the joined sides share
    names (`id`, `title`, …): for the `*_from_row` mappers."""

    def __init__(self, row: Any, table: Any) -> None:
        self._mapping = row._mapping
        self._table = table

    def __getattr__(self, name: str) -> Any:
        if name not in self._table.c:
            raise AttributeError(name)  # a member the table does not have (`getattr` defaults)
        return self._mapping[self._table.c[name]]


def decimal_of(value: Any) -> Decimal:
    """A number the database computed (a Decimal, a float from SQLite, None for an empty
    aggregate) as a decimal with 2 places."""
    if isinstance(value, Decimal):  # PostgreSQL's numerics: no round trip through text
        return two_places(value)
    return two_places(Decimal(str(value if value is not None else 0)))


def user_from_row(row: UserRow | Any) -> User:
    """From an ORM row or a Core row of the users table (same attribute names)."""
    return User(
        id=row.id,
        email=row.email,
        full_name=row.full_name,
        role=Role(row.role),
        password_hash=row.password_hash,
        is_active=row.is_active,
        mfa_method=MfaMethod(row.mfa_method) if row.mfa_method else None,
        totp_secret=row.totp_secret,
        totp_last_step=row.totp_last_step,
        email_verified_at=row.email_verified_at,
        tokens_valid_after=row.tokens_valid_after,
        locked_until=row.locked_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def user_values(user: User) -> dict[str, object]:
    """Column values of a user, for INSERT and UPDATE."""
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role.value,
        "password_hash": user.password_hash,
        "is_active": user.is_active,
        "mfa_method": user.mfa_method.value if user.mfa_method else None,
        "totp_secret": user.totp_secret,
        "totp_last_step": user.totp_last_step,
        "email_verified_at": user.email_verified_at,
        "tokens_valid_after": user.tokens_valid_after,
        "locked_until": user.locked_until,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def api_key_from_row(row: Any, prefix: str = "") -> ApiKey:
    """From an ORM row (no prefix) or a joined Core row (`key_` before each column)."""

    def value(name: str) -> Any:
        return getattr(row, prefix + name)

    return ApiKey(
        id=value("id"),
        owner_id=value("owner_id"),
        name=value("name"),
        prefix=value("prefix"),
        secret_hash=value("secret_hash"),
        scopes=tuple(value("scopes")),
        created_at=value("created_at"),
        expires_at=value("expires_at"),
        last_used_at=value("last_used_at"),
        revoked_at=value("revoked_at"),
    )


def identity_from_row(row: Any) -> LinkedIdentity:
    return LinkedIdentity(
        id=row.id,
        user_id=row.user_id,
        provider=row.provider,
        subject=row.subject,
        email=row.email,
        linked_at=row.created_at,
    )


def session_from_row(row: RefreshSessionRow) -> RefreshSession:
    return RefreshSession(
        jti=row.id,
        user_id=row.user_id,
        sid=row.sid,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
    )


def recovery_from_row(row: RecoveryCodeRow) -> RecoveryCode:
    return RecoveryCode(id=row.id, user_id=row.user_id, code_hash=row.code_hash, used_at=row.used_at)


def course_from_row(row: Any) -> Course:
    """From a Core row of the courses table."""
    return Course(
        id=row.id,
        title=row.title,
        slug=row.slug,
        description=row.description,
        instructor_id=row.instructor_id,
        category=row.category,
        difficulty_level=DifficultyLevel(row.difficulty_level) if row.difficulty_level else None,
        is_published=row.is_published,
        thumbnail_url=row.thumbnail_url,
        estimated_duration_minutes=row.estimated_duration_minutes,
        metadata=row.custom_metadata,
        created_at=row.created_at,
        updated_at=row.updated_at,
        prerequisites=course_refs(getattr(row, "prerequisites", None)),
        sequential=row.sequential,
        price=money.rounded(row.price, row.currency) if row.price is not None else None,
        currency=row.currency,
    )


_COURSE_REFS = msgspec.json.Decoder(list[tuple[int, str, str, str]])


def course_refs(stored: str | None) -> list[CourseRef]:
    """The JSON array of `[position, id hex, title, slug]` a course read aggregates, in position
    order (aggregates keep no order on every backend)."""
    if not stored:
        return []
    refs = sorted(_COURSE_REFS.decode(stored))
    return [CourseRef(UUID(hex=hex_id), title, slug) for _, hex_id, title, slug in refs]


def catalog_values(entity: Course | Lesson) -> dict[str, object]:
    """Column values of a course or lesson, for INSERT and UPDATE: the fields by name (enums are
    strings), with `metadata` stored in `custom_metadata` (the ORM reserves the name)."""
    values = row_values(entity)
    values["custom_metadata"] = values.pop("metadata")
    values.pop("prerequisites", None)  # a course's: their own table
    return values


def lesson_from_row(row: Any) -> Lesson:
    """From a Core row of the lessons table."""
    return Lesson(
        id=row.id,
        course_id=row.course_id,
        title=row.title,
        slug=row.slug,
        description=row.description,
        content=row.content,
        lesson_type=LessonType(row.lesson_type),
        order_index=row.order_index,
        parent_lesson_id=row.parent_lesson_id,
        duration_minutes=row.duration_minutes,
        video_url=row.video_url,
        is_preview=row.is_preview,
        metadata=row.custom_metadata,
        created_at=row.created_at,
        updated_at=row.updated_at,
        available_from=row.available_from,
        available_after_days=row.available_after_days,
    )


def row_values(entity: Any) -> dict[str, object]:
    """Column values of an entity whose fields are named as its table's columns (enums are strings)."""
    return {f.name: getattr(entity, f.name) for f in dataclasses.fields(entity)}


def entity_from_row(cls: type[E], row: Any, **convert: Any) -> E:
    """An entity from a row with its fields' names; `convert` turns some columns into field values."""
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for name, to_value in convert.items():
        values[name] = to_value(values[name])
    return cls(**values)


def enrollment_from_row(row: Any) -> Enrollment:
    return entity_from_row(Enrollment, row, status=EnrollmentStatus)


def progress_from_row(row: Any) -> LessonProgress:
    return entity_from_row(LessonProgress, row, status=ProgressStatus)


def delivery_from_row(row: Any) -> Delivery:
    return entity_from_row(Delivery, row, status=DeliveryStatus)
