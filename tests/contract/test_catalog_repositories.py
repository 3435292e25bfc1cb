"""Catalog repositories and reads on SQLite and PostgreSQL: the same assertions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from adapters.sql.catalog_repositories import SqlCatalogReader
from adapters.sql.engine import create_engine
from adapters.sql.models import COURSE_SEARCH_DOCUMENT
from adapters.sql.prepared import PreparedReads
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from domain.catalog.model import Course, CourseFilter, Lesson, LessonType
from domain.identity.model import Role, User
from domain.shared.errors import Conflict
from domain.shared.ids import new_id
from domain.shared.pagination import PageParams
from tests.contract.test_identity_repositories import add as add_user
from tests.contract.test_identity_repositories import make_user
from tests.support.databases import PostgresDatabases

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.fixture
async def owner(uow_factory: SqlUnitOfWorkFactory) -> User:
    user = make_user("owner@example.com")
    user.role = Role.INSTRUCTOR
    await add_user(uow_factory, user)
    return user


def make_course(owner: User, slug: str, *, published: bool = True, n: int = 0, **fields: str) -> Course:
    at = NOW + timedelta(seconds=n)
    return Course(
        id=new_id(),
        title=fields.get("title", f"Course {slug}"),
        slug=slug,
        description=fields.get("description"),
        instructor_id=owner.id,
        is_published=published,
        metadata={"k": [1, 2]},
        created_at=at,
        updated_at=at,
    )


def make_lesson(course: Course, position: int, parent: Lesson | None = None) -> Lesson:
    return Lesson(
        id=new_id(),
        course_id=course.id,
        title=f"Lesson {position}",
        slug=f"lesson-{position}",
        lesson_type=LessonType.TEXT,
        order_index=position,
        parent_lesson_id=parent.id if parent else None,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_courses_round_trip_and_slugs_conflict(uow_factory: SqlUnitOfWorkFactory, owner: User) -> None:
    course = make_course(owner, "intro")
    async with uow_factory() as uow:
        await uow.courses.add(course)
        await uow.courses.add(make_course(owner, "intro-2"))
        await uow.courses.add(make_course(owner, "intro-duction"))
        await uow.courses.add(make_course(owner, "intro_x"))  # `_` is not a LIKE wildcard here
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.courses.get(course.id) == course
        assert await uow.courses.slugs_like("intro") == {"intro", "intro-2", "intro-duction"}
        assert not await uow.courses.has_enrollments(course.id)
    async with uow_factory() as uow:
        with pytest.raises(Conflict, match="Course slug already exists"):
            await uow.courses.add(make_course(owner, "intro"))


async def test_positions_are_unique_and_close_up(uow_factory: SqlUnitOfWorkFactory, owner: User) -> None:
    course = make_course(owner, "positions")
    lessons = [make_lesson(course, n) for n in range(1, 6)]
    child = make_lesson(course, 6, parent=lessons[1])
    async with uow_factory() as uow:
        await uow.courses.add(course)
        for lesson in [*lessons, child]:
            await uow.lessons.add(lesson)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(Conflict, match="order index conflicts"):
            await uow.lessons.add(make_lesson(course, 3))
    async with uow_factory() as uow:
        assert await uow.lessons.max_position(course.id) == 6
        await uow.lessons.remove(lessons[1])
        await uow.commit()
    async with uow_factory() as uow:
        remaining = await uow.lessons.of_course(course.id)
        assert [(x.title, x.order_index) for x in remaining] == [
            ("Lesson 1", 1), ("Lesson 3", 2), ("Lesson 4", 3), ("Lesson 5", 4), ("Lesson 6", 5),
        ]  # fmt: skip
        assert remaining[-1].parent_lesson_id is None
        order = [x.id for x in reversed(remaining)]
        await uow.lessons.set_positions(
            {lesson_id: n for n, lesson_id in enumerate(order, 1)}, NOW + timedelta(hours=1)
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert [x.id for x in await uow.lessons.of_course(course.id)] == order


async def test_reader_pages_filters_and_search(
    prepared_reads: PreparedReads, uow_factory: SqlUnitOfWorkFactory, owner: User
) -> None:
    reader = SqlCatalogReader(prepared_reads)
    courses = [
        make_course(owner, "py", n=1, title="Python services", description="queues and caches"),
        make_course(owner, "rs", n=2, title="Rust services", description="ownership"),
        make_course(owner, "draft", n=3, published=False, title="Python draft"),
    ]
    async with uow_factory() as uow:
        for course in courses:
            await uow.courses.add(course)
        await uow.commit()
    public = CourseFilter(published_only=True)
    page = await reader.courses(public, PageParams(page=1, page_size=1))
    assert ([c.slug for c in page.items], page.total, page.total_pages) == (["rs"], 2, 2)
    beyond = await reader.courses(public, PageParams(page=5, page_size=1))
    assert (beyond.items, beyond.total) == ([], 2)
    everything = await reader.courses(CourseFilter(published_only=False), PageParams())
    assert [c.slug for c in everything.items] == ["draft", "rs", "py"]
    search = CourseFilter(published_only=True, text="python caches")
    assert [c.slug for c in (await reader.courses(search, PageParams())).items] == ["py"]
    assert (await reader.courses(CourseFilter(published_only=False, text="python"), PageParams())).total == 2


async def test_postgres_text_search_uses_its_index(postgres_databases: PostgresDatabases) -> None:
    """The index exists on PostgreSQL only (SQLite's fallback is the substring match above)."""
    url = await postgres_databases.create()
    engine = create_engine(url)
    query = f"EXPLAIN SELECT id FROM courses WHERE {COURSE_SEARCH_DOCUMENT} @@ websearch_to_tsquery('english', 'x')"
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(row[0] for row in await conn.execute(text(query)))
    finally:
        await engine.dispose()
        await postgres_databases.drop(url)
    assert "ix_courses_search" in plan


@pytest.mark.parametrize("sorted_matches", [5_000, 0])
async def test_cursor_pages_continue_after_ties_in_order(
    prepared_reads: PreparedReads,
    uow_factory: SqlUnitOfWorkFactory,
    owner: User,
    sorted_matches: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A keyset page continues after the last row's whole sort key (`created_at`, `id`): courses
    created in the same instant are neither skipped nor repeated, and the pages the cursors walk
    are the pages the offsets give, searched too (on PostgreSQL both ways of reading a search:
    sorting its few matches, or walking the date index for many)."""
    monkeypatch.setattr("adapters.sql.catalog_repositories._SORTED_MATCHES", sorted_matches)
    async with uow_factory() as uow:
        for n in range(9):
            await uow.courses.add(make_course(owner, f"tie-{n}", n=n // 4, published=n != 4))
        await uow.commit()
    reader = SqlCatalogReader(prepared_reads)
    scopes = [
        CourseFilter(published_only=True),
        CourseFilter(published_only=False),
        CourseFilter(published_only=True, text="course"),
        CourseFilter(published_only=False, text="course"),
    ]
    for scope in scopes:
        by_offset = []
        for number in (1, 2, 3, 4, 5):
            by_offset.append([c.slug for c in (await reader.courses(scope, PageParams(number, 2))).items])
        walked, params = [], PageParams(page_size=2)
        while True:
            page = await reader.courses(scope, params)
            walked.append([c.slug for c in page.items])
            assert page.total == (8 if scope.published_only else 9)
            assert page.page == (1 if params.after is None else None)
            if page.next_key is None:
                break
            params = PageParams(page_size=2, after=page.next_key)
        assert walked == [slugs for slugs in by_offset if slugs]
        assert len({slug for slugs in walked for slug in slugs}) == page.total
