"""Catalog use cases: courses and lessons, their visibility, and what each write invalidates."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.catalog import rules
from domain.catalog.model import Course, CourseFilter, DifficultyLevel, Lesson, LessonType
from domain.catalog.ports import (
    AfterCommit,
    CatalogReader,
    CatalogUnitOfWork,
    CatalogUnitOfWorkFactory,
    CourseContentListener,
    LessonGuard,
)
from domain.catalog.release import MANAGING, Lock, LockReason, Standing, has_rule, lock_of, release_of
from domain.identity.model import Role, User
from domain.integrations.audit import audit_entry
from domain.integrations.model import COURSE_PUBLISHED, LESSON_PUBLISHED, DomainEvent
from domain.shared import money
from domain.shared.caching import invalidate
from domain.shared.changes import apply as apply_changes
from domain.shared.changes import given as changes_given
from domain.shared.clock import Clock, iso
from domain.shared.errors import (
    VALIDATION_FAILED,
    Conflict,
    FieldError,
    FieldsInvalid,
    Forbidden,
    InvalidInput,
    NotFound,
)
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams
from domain.shared.ports import Cache
from domain.shared.unset import UNSET, Unset

log = logging.getLogger("lms.catalog")

COURSE_NOT_FOUND = "Course not found"
LESSON_NOT_FOUND = "Lesson not found"
PARENT_NOT_FOUND = "Parent lesson not found"
INSUFFICIENT_PERMISSIONS = "Insufficient permissions"
NOT_AUTHORIZED_COURSE = "Not authorized to access this course"
NOT_AUTHORIZED_MANAGE_COURSE = "Not authorized to manage this course"
NOT_AUTHORIZED_VIEW_LESSONS = "Not authorized to view lessons for this course"
NOT_AUTHORIZED_VIEW_LESSON = "Not authorized to view this lesson"
NOT_AUTHORIZED_MANAGE_LESSONS = "Not authorized to manage lessons for this course"
REQUIRES_ITSELF = "A course cannot require itself"
PREREQUISITE_CYCLE = "Prerequisites cannot form a cycle"
ONLY_ADMINS_FORCE = "Only admins can force the deletion of a course"
SLUG_TAKEN = "Course slug already exists"
SLUG_TOO_SHORT = "The slug derived from the title is shorter than 3 characters; send a slug"
HAS_ENROLLMENTS = "Course has enrollments; unpublish it instead (admins may delete it with force=true)"
ORDER_CONFLICT = "Lesson already exists or order index conflicts"
PARENT_OTHER_COURSE = "Parent lesson must belong to the same course"
PARENT_SELF = "Lesson cannot be its own parent"
PARENT_CYCLE = "Parent lesson creates a cycle"
REORDER_MISMATCH = "lesson_ids must list every lesson of the course exactly once"

# Attempts at a free derived slug when other requests keep taking the chosen one first.
_SLUG_ATTEMPTS = 10

# Cache namespaces. Each write invalidates exactly the namespaces whose content it changes.
COURSE_LIST = "courses"


def course_key(course_id: UUID) -> str:
    return f"course:{course_id}"


def lessons_key(course_id: UUID) -> str:
    return f"lessons:{course_id}"


COURSE = "course"  # the audit log's subject type


async def _nothing() -> None:
    return None


def _lessons_published(course_id: UUID, lesson_ids: list[UUID], now: datetime) -> DomainEvent:
    """`lesson.published`: lessons opened to the course's students (API §13)."""
    data = {"course_id": str(course_id), "lesson_ids": [str(i) for i in lesson_ids], "published_at": iso(now)}
    return DomainEvent(type=LESSON_PUBLISHED, occurred_at=now, data=data)


@dataclass(frozen=True, slots=True)
class LessonListing:
    """A page of lessons as one viewer sees them, and whether that view may be shared."""

    course: Course
    page: Page[Lesson]
    locks: dict[UUID, Lock | None]
    shared: bool  # the view of every viewer alike: a shared cache entry may hold it


CoursePrecondition = Callable[[Course], None]
LessonPrecondition = Callable[[Lesson], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCourse:
    title: str
    slug: str | None = None
    description: str | None = None
    category: str | None = None
    difficulty_level: DifficultyLevel | None = None
    thumbnail_url: str | None = None
    estimated_duration_minutes: int | None = None
    metadata: dict[str, Any] | None = None
    sequential: bool = False
    price: Decimal | None = None
    currency: str | None = None  # None: the service's default


@dataclass(frozen=True, slots=True, kw_only=True)
class CourseChanges:
    """A partial update: UNSET leaves a field alone, None clears it (where allowed)."""

    title: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    category: str | Unset | None = UNSET
    difficulty_level: DifficultyLevel | Unset | None = UNSET
    thumbnail_url: str | Unset | None = UNSET
    estimated_duration_minutes: int | Unset | None = UNSET
    metadata: dict[str, Any] | Unset | None = UNSET
    is_published: bool | Unset | None = UNSET
    sequential: bool | Unset | None = UNSET
    price: Decimal | Unset | None = UNSET
    currency: str | Unset | None = UNSET


@dataclass(frozen=True, slots=True, kw_only=True)
class NewLesson:
    title: str
    lesson_type: LessonType
    slug: str | None = None
    description: str | None = None
    content: str | None = None
    order_index: int | None = None
    parent_lesson_id: UUID | None = None
    duration_minutes: int | None = None
    video_url: str | None = None
    is_preview: bool = False
    metadata: dict[str, Any] | None = None
    available_from: datetime | None = None
    available_after_days: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class LessonChanges:
    title: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    content: str | Unset | None = UNSET
    lesson_type: LessonType | Unset | None = UNSET
    order_index: int | Unset | None = UNSET
    parent_lesson_id: UUID | Unset | None = UNSET
    duration_minutes: int | Unset | None = UNSET
    video_url: str | Unset | None = UNSET
    is_preview: bool | Unset | None = UNSET
    metadata: dict[str, Any] | Unset | None = UNSET
    available_from: datetime | Unset | None = UNSET
    available_after_days: int | Unset | None = UNSET


_COURSE_NOT_NULL = ("title", "is_published", "sequential", "currency")


def _priced(values: dict[str, Any], course: Course) -> None:
    """A changed price or currency, checked together (a price must fit its currency's minor unit)."""
    if "price" not in values and "currency" not in values:
        return
    currency = money.currency_code(values.get("currency", course.currency))
    values["currency"] = currency
    amount = values.get("price", course.price)
    if amount is not None:
        values["price"] = money.price(amount, currency)


_LESSON_NOT_NULL = ("title", "lesson_type", "order_index", "is_preview", "available_after_days")


@dataclass(slots=True)
class CatalogService:
    uow: CatalogUnitOfWorkFactory
    reader: CatalogReader
    cache: Cache
    clock: Clock
    cache_ttl: float = 120.0  # how long a shared read may be served from the cache; 0: never
    content: CourseContentListener | None = None  # who recomputes figures when lessons come and go
    lesson_guards: list[LessonGuard] = field(default_factory=list)  # who keeps a lesson from deletion
    default_currency: str = "USD"  # of a course created without one (API §14)

    # ----- courses -----

    async def list_courses(self, scope: CourseFilter, params: PageParams) -> Page[Course]:
        return await self.reader.courses(scope, params)

    async def get_course(self, viewer: User | None, course_id: UUID) -> Course:
        return await self._visible_course(viewer, course_id, NOT_AUTHORIZED_COURSE)

    async def course_id_of(self, slug: str) -> UUID:
        """The course a slug names (API §12: the course read by slug answers as the read by id)."""
        found = await self.reader.course_id_of(slug)
        if found is None:
            raise NotFound(COURSE_NOT_FOUND)
        return found

    async def create_course(self, actor: User, new: NewCourse, *, course_id: UUID | None = None) -> Course:
        """`course_id`, when given, names the course: a retry of a create whose answer was lost
        (the same caller's idempotency key) finds the course it made instead of a second one."""
        if actor.role not in (Role.INSTRUCTOR, Role.ADMIN):
            raise Forbidden(INSUFFICIENT_PERMISSIONS)
        thumbnail_url = rules.clean_http_url(new.thumbnail_url, rules.THUMBNAIL_URL_INVALID)
        currency = money.currency_code(new.currency or self.default_currency)
        amount = money.price(new.price, currency) if new.price is not None else None
        derived = new.slug is None
        base = new.slug if new.slug is not None else rules.slugify(new.title)
        if len(base) < rules.SLUG_MIN:
            raise FieldsInvalid(VALIDATION_FAILED, [FieldError("body.slug", SLUG_TOO_SHORT)])
        attempts = 0
        while True:
            now = self.clock.now()
            async with self.uow() as uow:
                made = await uow.courses.get(course_id) if course_id is not None else None
                if made is not None and made.instructor_id == actor.id:
                    return made
                slug = rules.unique_slug(base, await uow.courses.slugs_like(base)) if derived else base
                course = Course(
                    id=course_id or new_id(),
                    title=new.title,
                    slug=slug,
                    description=new.description,
                    instructor_id=actor.id,
                    category=new.category,
                    difficulty_level=new.difficulty_level,
                    is_published=False,
                    thumbnail_url=thumbnail_url,
                    estimated_duration_minutes=new.estimated_duration_minutes,
                    metadata=new.metadata,
                    created_at=now,
                    updated_at=now,
                    sequential=new.sequential,
                    price=amount,
                    currency=currency,
                )
                try:
                    await uow.courses.add(course)
                except Conflict:
                    attempts += 1
                    if not derived or attempts == _SLUG_ATTEMPTS:
                        raise
                    continue  # another request took the derived slug first: choose again
                await uow.commit()
            # A draft is in no shared (public) cache entry: nothing to invalidate.
            return course

    async def update_course(
        self,
        actor: User,
        course_id: UUID,
        changes: CourseChanges,
        precondition: CoursePrecondition | None = None,
    ) -> Course:
        async with self.uow() as uow:
            course = await self._managed_course(uow, actor, course_id, NOT_AUTHORIZED_MANAGE_COURSE)
            course.prerequisites = await uow.courses.prerequisites(course_id)  # in its representation
            values = changes_given(changes, not_null=_COURSE_NOT_NULL)
            if isinstance(values.get("thumbnail_url"), str):
                values["thumbnail_url"] = rules.clean_http_url(values["thumbnail_url"], rules.THUMBNAIL_URL_INVALID)
            _priced(values, course)
            if precondition is not None:
                precondition(course)
            was_published = course.is_published
            relocked = values.get("sequential", course.sequential) != course.sequential  # its lessons' locks
            now = self.clock.now()
            changed = apply_changes(course, values, now)
            dependents: list[tuple[UUID, bool]] = []
            if changed:
                await uow.courses.save(course)
                if was_published != course.is_published:
                    await self._record_publication(uow, actor, course, now)
                if "title" in values:  # courses that require it show its title
                    dependents = await uow.courses.dependents(course_id)
                await uow.commit()
        if changed:
            await self._course_changed(course, was_published, dependents, relocked=relocked)
        return course

    async def set_prerequisites(self, actor: User, course_id: UUID, required: list[UUID]) -> list[UUID]:
        """API §12: the courses a course requires, replacing the earlier list (repeats count once).
        Changes of the prerequisite graph are serialised, so two changes cannot close a cycle."""
        wanted = list(dict.fromkeys(required))
        async with self.uow() as uow:
            course = await self._managed_course(uow, actor, course_id, NOT_AUTHORIZED_MANAGE_COURSE)
            if course_id in wanted:
                raise InvalidInput(REQUIRES_ITSELF)
            if wanted and len(await uow.courses.existing(wanted)) != len(wanted):
                raise NotFound(COURSE_NOT_FOUND)
            await uow.courses.lock_prerequisites()
            if wanted and await uow.courses.reaches(wanted, course_id):
                raise InvalidInput(PREREQUISITE_CYCLE)
            await uow.courses.set_prerequisites(course_id, wanted)
            await uow.commit()
        await self._course_changed(course, course.is_published)
        return wanted

    async def publish_course(self, actor: User, course_id: UUID) -> Course:
        """Idempotent: publishing a published course changes nothing."""
        return await self.update_course(actor, course_id, CourseChanges(is_published=True))

    async def delete_course(
        self,
        actor: User,
        course_id: UUID,
        *,
        force: bool = False,
        precondition: CoursePrecondition | None = None,
    ) -> None:
        async with self.uow() as uow:
            course = await self._managed_course(uow, actor, course_id, NOT_AUTHORIZED_MANAGE_COURSE)
            if force and actor.role is not Role.ADMIN:
                raise Forbidden(ONLY_ADMINS_FORCE)
            course.prerequisites = await uow.courses.prerequisites(course_id)  # in its representation
            if precondition is not None:
                precondition(course)
            if not force and await uow.courses.has_enrollments(course_id):
                raise Conflict(HAS_ENROLLMENTS)
            dependents = await uow.courses.dependents(course_id)  # they no longer require it
            await uow.courses.delete(course_id)
            now = self.clock.now()
            await uow.audit.add(
                audit_entry("course_deleted", COURSE, course_id, actor, now, force="true" if force else None)
            )
            await uow.commit()
        listed = course.is_published or any(published for _, published in dependents)
        await self._invalidate(
            course_key(course_id),
            lessons_key(course_id),
            *(course_key(d) for d, _ in dependents),
            *((COURSE_LIST,) if listed else ()),
        )

    # ----- lessons -----

    async def list_lessons(self, viewer: User | None, course_id: UUID, params: PageParams) -> LessonListing:
        """The page with each lesson's lock for this viewer (API §12). An outsider's view needs no
        more reads; a signed-in viewer's is read (one statement) only where outsiders meet a lock."""
        course = await self._visible_course(viewer, course_id, NOT_AUTHORIZED_VIEW_LESSONS)
        page = await self.reader.lessons(course_id, params)
        now = self.clock.now()
        first_page = params.offset == 0 and params.after is None
        # An outsider's view: the course's first lesson opens a sequential course, and only the
        # first page holds it.
        outsider = Standing(first_order=page.items[0].order_index if first_page and page.items else 0)
        managing = rules.can_manage(viewer, course)
        standing = MANAGING if managing else outsider

        def locks_for(standing: Standing) -> dict[UUID, Lock | None]:
            return {
                lesson.id: lock_of(release_of(lesson), sequential=course.sequential, standing=standing, now=now)
                for lesson in page.items
            }

        outsiders = locks_for(outsider)
        ruled = any(lock is not None for lock in outsiders.values())
        if ruled and viewer is not None and not managing:
            standing = await self.reader.standing(course_id, viewer.id)
        locks = locks_for(standing) if ruled and standing is not outsider else outsiders
        # A shared entry holds the outsiders' view, the same for every viewer when no lesson of the
        # page is locked to outsiders, and never one that a date ahead will change.
        scheduled = any(lock is not None and lock.reason is LockReason.SCHEDULED for lock in locks.values())
        shared = course.is_published and (locks is outsiders) and not scheduled
        return LessonListing(course, page, locks, shared)

    async def _visible_course(self, viewer: User | None, course_id: UUID, forbidden: str) -> Course:
        course = await self.reader.course(course_id)
        if course is None:
            raise NotFound(COURSE_NOT_FOUND)
        if not rules.can_view(viewer, course):
            raise Forbidden(forbidden)
        return course

    async def get_lesson(self, viewer: User | None, lesson_id: UUID) -> tuple[Lesson, Lock | None]:
        """The lesson with its lock for this viewer (API §12)."""
        found = await self.reader.lesson(lesson_id)
        if found is None:
            raise NotFound(LESSON_NOT_FOUND)
        lesson, course = found
        if not rules.can_view(viewer, course):
            raise Forbidden(NOT_AUTHORIZED_VIEW_LESSON)
        release, now = release_of(lesson), self.clock.now()
        if rules.can_manage(viewer, course) or not has_rule(release, sequential=course.sequential, now=now):
            return lesson, None
        standing = await self.reader.standing(course.id, viewer.id if viewer is not None else None)
        return lesson, lock_of(release, sequential=course.sequential, standing=standing, now=now)

    async def create_lesson(
        self, actor: User, course_id: UUID, new: NewLesson, *, lesson_id: UUID | None = None
    ) -> Lesson:
        """`lesson_id`, when given, names the lesson (as `create_course`'s `course_id` does)."""
        async with self.uow() as uow:
            course = await self._managed_course(uow, actor, course_id, NOT_AUTHORIZED_MANAGE_LESSONS)
            made = await uow.lessons.get(lesson_id) if lesson_id is not None else None
            if made is not None and made.course_id == course_id:
                return made
            if new.parent_lesson_id is not None:
                await self._parent_in_course(uow, new.parent_lesson_id, course_id)
            video_url = rules.clean_video_url(new.video_url)
            if video_url is not None and new.lesson_type is not LessonType.VIDEO:
                raise InvalidInput(rules.VIDEO_URL_NOT_ALLOWED)
            order_index = new.order_index
            if order_index is None:
                order_index = rules.next_position(await uow.lessons.max_position(course_id))
            now = self.clock.now()
            lesson = Lesson(
                id=lesson_id or new_id(),
                course_id=course_id,
                title=new.title,
                slug=new.slug if new.slug is not None else rules.lesson_slug(new.title),
                description=new.description,
                content=new.content,
                lesson_type=new.lesson_type,
                order_index=order_index,
                parent_lesson_id=new.parent_lesson_id,
                duration_minutes=new.duration_minutes,
                video_url=video_url,
                is_preview=new.is_preview,
                metadata=new.metadata,
                created_at=now,
                updated_at=now,
                available_from=new.available_from,
                available_after_days=new.available_after_days,
            )
            after_commit = await self._lessons_change(uow, course, lambda: uow.lessons.add(lesson), now)
            if course.is_published:
                await uow.outbox.add(_lessons_published(course_id, [lesson.id], now))
            await uow.commit()
        await self._invalidate(lessons_key(course_id))
        await after_commit()
        return lesson

    async def update_lesson(
        self,
        actor: User,
        lesson_id: UUID,
        changes: LessonChanges,
        precondition: LessonPrecondition | None = None,
    ) -> Lesson:
        async with self.uow() as uow:
            _, lesson = await self._managed_lesson(uow, actor, lesson_id)
            given = changes_given(changes, not_null=_LESSON_NOT_NULL)
            if precondition is not None:
                precondition(lesson)
            parent_id = given.get("parent_lesson_id")
            if parent_id is not None:
                await self._check_new_parent(uow, lesson, parent_id)
            lesson_type = given.get("lesson_type", lesson.lesson_type)
            if "video_url" in given:
                given["video_url"] = rules.clean_video_url(given["video_url"])
            elif lesson_type is not LessonType.VIDEO:
                given["video_url"] = None  # moving away from video clears the URL
            if given.get("video_url", lesson.video_url) is not None and lesson_type is not LessonType.VIDEO:
                raise InvalidInput(rules.VIDEO_URL_NOT_ALLOWED)
            changed = apply_changes(lesson, given, self.clock.now())
            if changed:
                await uow.lessons.save(lesson)
                await uow.commit()
        if changed:
            await self._invalidate(lessons_key(lesson.course_id))
        return lesson

    async def delete_lesson(self, actor: User, lesson_id: UUID, precondition: LessonPrecondition | None = None) -> None:
        async with self.uow() as uow:
            course, lesson = await self._managed_lesson(uow, actor, lesson_id)
            if precondition is not None:
                precondition(lesson)
            for guard in self.lesson_guards:
                if (refusal := await guard.removal_refused(uow, lesson.id)) is not None:
                    raise Conflict(refusal)
            after_commit = await self._lessons_change(uow, course, lambda: uow.lessons.remove(lesson), self.clock.now())
            await uow.commit()
        await self._invalidate(lessons_key(lesson.course_id))
        await after_commit()

    async def reorder_lessons(self, actor: User, course_id: UUID, lesson_ids: list[UUID]) -> list[Lesson]:
        """Positions 1..n in the order given, atomically; returns every lesson in the new order."""
        async with self.uow() as uow:
            await self._managed_course(uow, actor, course_id, NOT_AUTHORIZED_MANAGE_LESSONS)
            lessons = {lesson.id: lesson for lesson in await uow.lessons.of_course(course_id)}
            if not rules.is_permutation(lesson_ids, lessons):
                raise FieldsInvalid(REORDER_MISMATCH, [FieldError("body.lesson_ids", REORDER_MISMATCH)])
            ordered = [lessons[lesson_id] for lesson_id in lesson_ids]
            moves = {lesson.id: n for n, lesson in enumerate(ordered, 1) if lesson.order_index != n}
            if moves:
                now = self.clock.now()
                await uow.lessons.set_positions(moves, now)
                await uow.commit()
                for lesson in ordered:
                    apply_changes(lesson, {"order_index": moves.get(lesson.id, lesson.order_index)}, now)
        if moves:
            await self._invalidate(lessons_key(course_id))
        return ordered

    # ----- helpers -----

    async def _managed_course(self, uow: CatalogUnitOfWork, actor: User, course_id: UUID, forbidden: str) -> Course:
        """The course, locked for this unit of work, after the 404 and the manager check."""
        course = await uow.courses.get(course_id, lock=True)
        if course is None:
            raise NotFound(COURSE_NOT_FOUND)
        if not rules.can_manage(actor, course):
            raise Forbidden(forbidden)
        return course

    async def _managed_lesson(self, uow: CatalogUnitOfWork, actor: User, lesson_id: UUID) -> tuple[Course, Lesson]:
        """The lesson and its course, read under the course's lock, after the 404 and the manager check."""
        course = await uow.courses.of_lesson(lesson_id, lock=True)
        if course is None:
            raise NotFound(LESSON_NOT_FOUND)
        if not rules.can_manage(actor, course):
            raise Forbidden(NOT_AUTHORIZED_MANAGE_LESSONS)
        lesson = await uow.lessons.get(lesson_id)
        if lesson is None:  # deleted by a writer that held the lock before us
            raise NotFound(LESSON_NOT_FOUND)
        return course, lesson

    async def _lessons_change(
        self, uow: CatalogUnitOfWork, course: Course, change: Callable[[], Awaitable[None]], now: datetime
    ) -> AfterCommit:
        """Add or remove a lesson between the content listener's two calls."""
        if self.content is None:
            await change()
            return _nothing
        await self.content.lessons_changing(uow, course.id)
        await change()
        return await self.content.lessons_changed(uow, course, now)

    async def _record_publication(self, uow: CatalogUnitOfWork, actor: User, course: Course, now: datetime) -> None:
        if course.is_published:
            # A course published again may have students waiting for its lessons (API §13); a
            # course published for the first time has none, and `course.published` says it all.
            if await uow.courses.has_enrollments(course.id):
                lessons = await uow.lessons.of_course(course.id)
                if lessons:
                    await uow.outbox.add(_lessons_published(course.id, [lesson.id for lesson in lessons], now))
            await uow.outbox.add(
                DomainEvent(
                    type=COURSE_PUBLISHED,
                    occurred_at=now,
                    data={
                        "course_id": str(course.id),
                        "instructor_id": str(course.instructor_id),
                        "published_at": iso(now),
                    },
                )
            )
        await uow.audit.add(
            audit_entry(
                "course_published" if course.is_published else "course_unpublished", COURSE, course.id, actor, now
            )
        )

    async def _parent_in_course(self, uow: CatalogUnitOfWork, parent_id: UUID, course_id: UUID) -> Lesson:
        parent = await uow.lessons.get(parent_id)
        if parent is None:
            raise NotFound(PARENT_NOT_FOUND)
        if parent.course_id != course_id:
            raise InvalidInput(PARENT_OTHER_COURSE)
        return parent

    async def _check_new_parent(self, uow: CatalogUnitOfWork, lesson: Lesson, parent_id: UUID) -> None:
        if parent_id == lesson.id:
            raise InvalidInput(PARENT_SELF)
        await self._parent_in_course(uow, parent_id, lesson.course_id)
        parent_of = {other.id: other.parent_lesson_id for other in await uow.lessons.of_course(lesson.course_id)}
        if rules.creates_cycle(lesson.id, parent_id, parent_of):
            raise InvalidInput(PARENT_CYCLE)

    async def _course_changed(
        self,
        course: Course,
        was_published: bool,
        dependents: list[tuple[UUID, bool]] | None = None,
        *,
        relocked: bool = False,
    ) -> None:
        """`dependents`: the courses that name this one among their prerequisites (and so show it)."""
        namespaces = [course_key(course.id), *(course_key(d) for d, _ in dependents or [])]
        if was_published or course.is_published or any(published for _, published in dependents or []):
            namespaces.append(COURSE_LIST)  # it is, or was, in the public list
        if was_published != course.is_published or relocked:
            namespaces.append(lessons_key(course.id))  # its lessons opened or closed
        await self._invalidate(*namespaces)

    async def _invalidate(self, *namespaces: str) -> None:
        await invalidate(self.cache, *namespaces)
