"""Catalog entities and value objects."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


class DifficultyLevel(enum.StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class LessonType(enum.StrEnum):
    VIDEO = "video"
    TEXT = "text"
    QUIZ = "quiz"
    ASSIGNMENT = "assignment"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class CourseRef:
    """A course as another course names it (a prerequisite, API §12)."""

    id: UUID
    title: str
    slug: str


@dataclass(slots=True, kw_only=True)
class Course:
    id: UUID
    title: str
    slug: str
    description: str | None = None
    instructor_id: UUID
    category: str | None = None
    difficulty_level: DifficultyLevel | None = None
    is_published: bool = False
    thumbnail_url: str | None = None
    estimated_duration_minutes: int | None = None
    metadata: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    prerequisites: list[CourseRef] = field(default_factory=list)  # in the order they were set
    sequential: bool = False  # each lesson opens once the one before it is completed (API §12)
    price: Decimal | None = None  # in `currency`; None or zero: free (API §14)
    currency: str = "USD"

    @property
    def is_paid(self) -> bool:
        return self.price is not None and self.price > 0


@dataclass(slots=True, kw_only=True)
class Lesson:
    id: UUID
    course_id: UUID
    title: str
    slug: str
    description: str | None = None
    content: str | None = None
    lesson_type: LessonType
    order_index: int
    parent_lesson_id: UUID | None = None
    duration_minutes: int | None = None
    video_url: str | None = None
    is_preview: bool = False
    metadata: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    available_from: datetime | None = None  # release rules (API §12)
    available_after_days: int = 0


@dataclass(frozen=True, slots=True)
class CourseFilter:
    """What a course list shows: the viewer's scope (from the visibility rules) plus the filters."""

    published_only: bool
    instructor_id: UUID | None = None
    category: str | None = None
    difficulty_level: DifficultyLevel | None = None
    text: str | None = None
