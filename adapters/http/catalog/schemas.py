"""Request and response bodies of the course and lesson routes (API §6.3)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from adapters.http.bodies import MoneyString, Timestamp, refuses_null
from adapters.http.openapi import CourseRefResponse, LockResponse
from adapters.http.validation import describe_pattern
from domain.catalog.model import Course, DifficultyLevel, Lesson, LessonType
from domain.catalog.release import Lock
from domain.catalog.rules import SLUG_PATTERN

INT32_MAX = 2_147_483_647

Title = Annotated[str, Meta(min_length=3, max_length=255, examples=["Intro to Python"])]
Slug = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=255,
        pattern=describe_pattern(SLUG_PATTERN, "Must be lower-case letters and digits joined by single hyphens"),
        description="Lower-case letters, digits and single hyphens. Derived from the title when absent.",
        examples=["intro-to-python"],
    ),
]
Category = Annotated[str, Meta(max_length=100, examples=["Backend"])]
Url = Annotated[str, Meta(max_length=2048, examples=["https://cdn.example.com/python.png"])]
VideoUrl = Annotated[
    str, Meta(max_length=2048, description="An absolute http(s) URL", examples=["https://videos.example.com/intro"])
]
Minutes = Annotated[int, Meta(ge=1, le=INT32_MAX, examples=[120])]
Position = Annotated[int, Meta(ge=1, le=INT32_MAX, description="1-based position in the course", examples=[1])]
Metadata = Annotated[dict[str, Any], Meta(description="Free-form JSON object; stored, not echoed")]
Sequential = Annotated[
    bool, Meta(description="Each lesson opens once the lesson before it (by `order_index`) is completed")
]
AvailableFrom = Annotated[Timestamp, Meta(description="The lesson opens at this time")]
Price = Annotated[
    Decimal,
    Meta(
        description="In `currency`, with no more decimals than it has (2 for USD, none for JPY); `null` or `0` is free",
        examples=["49.00"],
    ),
]
Currency = Annotated[
    str,
    Meta(
        pattern=describe_pattern(r"^[A-Z]{3}$", "Must be an ISO 4217 code"),
        description="ISO 4217 code; default `LMS_DEFAULT_CURRENCY`",
        examples=["USD"],
    ),
]
AfterDays = Annotated[
    int, Meta(ge=0, le=3650, description="The lesson opens this many days after the student enrolled", examples=[7])
]


class CourseCreate(msgspec.Struct, kw_only=True):
    title: Title
    slug: Slug | None = None
    description: str | None = None
    category: Category | None = None
    difficulty_level: DifficultyLevel | None = None
    thumbnail_url: Url | None = None
    estimated_duration_minutes: Minutes | None = None
    metadata: Metadata | None = None
    sequential: Sequential = False
    price: Price | None = None
    currency: Currency | None = None


@refuses_null("title", "is_published", "sequential", "currency")
class CourseUpdate(msgspec.Struct, kw_only=True):
    """Absent members are left alone; `null` clears a nullable one (a non-nullable one answers 400).
    Slugs never change."""

    title: Title | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET
    category: Category | UnsetType | None = UNSET
    difficulty_level: DifficultyLevel | UnsetType | None = UNSET
    thumbnail_url: Url | UnsetType | None = UNSET
    estimated_duration_minutes: Minutes | UnsetType | None = UNSET
    metadata: Metadata | UnsetType | None = UNSET
    is_published: bool | UnsetType | None = UNSET
    sequential: Sequential | UnsetType | None = UNSET
    price: Price | UnsetType | None = UNSET
    currency: Currency | UnsetType | None = UNSET


class CourseResponse(msgspec.Struct, kw_only=True):
    id: UUID
    title: str
    slug: str
    description: str | None
    instructor_id: UUID
    category: str | None
    difficulty_level: DifficultyLevel | None
    is_published: bool
    thumbnail_url: str | None
    estimated_duration_minutes: int | None
    created_at: datetime
    updated_at: datetime
    prerequisites: list[CourseRefResponse]
    sequential: bool
    price: MoneyString | None
    currency: str

    @classmethod
    def of(cls, course: Course) -> CourseResponse:
        return cls(
            id=course.id,
            title=course.title,
            slug=course.slug,
            description=course.description,
            instructor_id=course.instructor_id,
            category=course.category,
            difficulty_level=course.difficulty_level,
            is_published=course.is_published,
            thumbnail_url=course.thumbnail_url,
            estimated_duration_minutes=course.estimated_duration_minutes,
            created_at=course.created_at,
            updated_at=course.updated_at,
            prerequisites=[CourseRefResponse(id=r.id, title=r.title, slug=r.slug) for r in course.prerequisites],
            sequential=course.sequential,
            price=str(course.price) if course.price is not None else None,
            currency=course.currency,
        )


class PrerequisitesBody(msgspec.Struct, kw_only=True):
    """The courses a course requires (API §12): completed enrollments in each before enrolling."""

    course_ids: Annotated[list[UUID], Meta(max_length=20)]


class LessonCreate(msgspec.Struct, kw_only=True):
    title: Title
    lesson_type: LessonType
    slug: Slug | None = None
    description: str | None = None
    content: str | None = None
    order_index: Position | None = None
    parent_lesson_id: UUID | None = None
    duration_minutes: Minutes | None = None
    video_url: VideoUrl | None = None
    video_link: Annotated[VideoUrl | None, Meta(description="Alias of `video_url`")] = None
    is_preview: bool = False
    metadata: Metadata | None = None
    available_from: AvailableFrom | None = None
    available_after_days: AfterDays = 0


@refuses_null("title", "lesson_type", "order_index", "is_preview", "available_after_days")
class LessonUpdate(msgspec.Struct, kw_only=True):
    """Absent members are left alone; `null` clears a nullable one (a non-nullable one answers 400).
    Slugs never change."""

    title: Title | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET
    content: str | UnsetType | None = UNSET
    lesson_type: LessonType | UnsetType | None = UNSET
    order_index: Position | UnsetType | None = UNSET
    parent_lesson_id: UUID | UnsetType | None = UNSET
    duration_minutes: Minutes | UnsetType | None = UNSET
    video_url: VideoUrl | UnsetType | None = UNSET
    video_link: Annotated[VideoUrl | UnsetType | None, Meta(description="Alias of `video_url`")] = UNSET
    is_preview: bool | UnsetType | None = UNSET
    metadata: Metadata | UnsetType | None = UNSET
    available_from: AvailableFrom | UnsetType | None = UNSET
    available_after_days: AfterDays | UnsetType | None = UNSET


class LessonReorderRequest(msgspec.Struct, kw_only=True):
    lesson_ids: Annotated[
        list[UUID], Meta(max_length=10_000, description="Every lesson of the course exactly once, in the new order")
    ]


class LessonResponse(msgspec.Struct, kw_only=True):
    id: UUID
    course_id: UUID
    title: str
    slug: str
    description: str | None
    content: str | None
    lesson_type: LessonType
    order_index: int
    parent_lesson_id: UUID | None
    duration_minutes: int | None
    video_url: str | None
    is_preview: bool
    created_at: datetime
    updated_at: datetime
    available_from: datetime | None
    available_after_days: int
    lock: Annotated[
        LockResponse | None,
        Meta(description="Why the lesson is closed to the caller (its `content` and `video_url` are then null)"),
    ]

    @classmethod
    def of(cls, lesson: Lesson, lock: Lock | None = None) -> LessonResponse:
        """The lesson as a viewer sees it: a locked lesson withholds its content and video."""
        return cls(
            id=lesson.id,
            course_id=lesson.course_id,
            title=lesson.title,
            slug=lesson.slug,
            description=lesson.description,
            content=lesson.content if lock is None else None,
            lesson_type=lesson.lesson_type,
            order_index=lesson.order_index,
            parent_lesson_id=lesson.parent_lesson_id,
            duration_minutes=lesson.duration_minutes,
            video_url=lesson.video_url if lock is None else None,
            is_preview=lesson.is_preview,
            created_at=lesson.created_at,
            updated_at=lesson.updated_at,
            available_from=lesson.available_from,
            available_after_days=lesson.available_after_days,
            lock=LockResponse.of(lock),
        )
