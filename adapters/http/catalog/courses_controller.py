"""`/api/v1/courses`: the catalog, a course's lessons, and their management (API §5.4, §5.5)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from adapters.http.asgi import Scope
from adapters.http.bodies import changes_of, input_of
from adapters.http.catalog.schemas import (
    CourseCreate,
    CourseResponse,
    CourseUpdate,
    LessonCreate,
    LessonReorderRequest,
    LessonResponse,
    PrerequisitesBody,
)
from adapters.http.idempotency import stable_id
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_link, page_of
from adapters.http.representation import (
    ETAG,
    NOT_MODIFIED,
    IfMatch,
    IfNoneMatch,
    Representation,
    if_match,
    query_key,
    read_through,
    respond,
)
from adapters.http.security import (
    BEARER,
    OPTIONAL_BEARER,
    UuidPath,
    authenticated,
    catalog_of,
    optional_viewer,
    parse_uuid,
    require_roles,
)
from domain.catalog import rules
from domain.catalog.model import DifficultyLevel
from domain.catalog.services import (
    COURSE_LIST,
    INSUFFICIENT_PERMISSIONS,
    CourseChanges,
    NewCourse,
    NewLesson,
    course_key,
    lessons_key,
)
from domain.identity.model import Principal, Role
from domain.shared.pagination import PageParams, page_of_list
from domain.shared.unset import UNSET

# Entries hold what an anonymous visitor may see; that is all a shared entry may ever hold.
PUBLIC = "public"
# A lesson locked to outsiders, as its encoded representation spells it (JSON escapes any quote
# inside a string, so no value can spell it): such an entry is not every signed-in caller's view.
LOCKED = b'"lock":{'

instructor_or_admin = require_roles(Role.INSTRUCTOR, Role.ADMIN, detail=INSUFFICIENT_PERMISSIONS)


# Query parameters the catalog lists understand. A request with any other one is answered
# uncached: its `Link` header would repeat it, so every invented parameter would be a new entry.
LIST_PARAMETERS = frozenset({"page", "page_size", "cursor", "category", "difficulty_level", "mine", "q"})


def list_key(request: Request[Any, Any, Any]) -> str | None:
    """Everything besides the scope that shapes a list response: the path and the whole query;
    None when not cacheable."""
    return query_key(request.scope, LIST_PARAMETERS, f"{PUBLIC}:")


_COURSE_PATH = re.compile(r"/api/v1/courses/([0-9A-Fa-f-]{32,36})(/lessons)?/?")


def public_cache_key(scope: Scope) -> tuple[str, str] | None:
    """The cache entry an anonymous GET reads, from its path and query alone (the rate limiter
    reads it with the count): the catalog list, a course, a course's lessons. It must name exactly
    what the handlers below pass to `read_through`."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    path = scope["path"]
    if path in ("/api/v1/courses", "/api/v1/courses/"):
        key = query_key(scope, LIST_PARAMETERS, f"{PUBLIC}:")
        return (COURSE_LIST, key) if key is not None else None
    match = _COURSE_PATH.fullmatch(path)
    if match is None:
        return None
    try:
        cid = UUID(match.group(1))
    except ValueError:
        return None
    if match.group(2) is None:
        return course_key(cid), PUBLIC
    key = query_key(scope, LIST_PARAMETERS, f"{PUBLIC}:")
    return (lessons_key(cid), key) if key is not None else None


async def _course(
    request: Request[Any, Any, Any], course: UUID | str, if_none_match: str | None
) -> Response[CourseResponse]:
    """The course read (C3), by id or by slug (`str`): one cache entry and one `ETag` for both."""
    catalog = catalog_of(request)
    viewer = await optional_viewer(request)  # who asks is settled before the cache is read
    cid = course if isinstance(course, UUID) else await catalog.course_id_of(course)

    async def load() -> tuple[Representation, bool]:
        course = await catalog.get_course(viewer, cid)
        # Only a published course is shared: it is visible to everyone, so an entry found in
        # this namespace (which unpublishing invalidates) passes every viewer's check.
        return Representation.of(CourseResponse.of(course)), course.is_published

    return respond(
        await read_through(catalog.cache, course_key(cid), PUBLIC, catalog.cache_ttl, load, scope=request.scope),
        if_none_match=if_none_match,
    )


class CoursesController(Controller):
    path = "/courses"
    tags = ["courses"]

    @get(
        "/",
        response_headers=ETAG,
        operation_id="list_courses",
        security=OPTIONAL_BEARER,
        responses={**errors(422, 429), **NOT_MODIFIED},
    )
    async def list_courses(
        self,
        *,
        request: Request[Any, Any, Any],
        if_none_match: IfNoneMatch = None,
        paging: NamedDependency[PageParams],
        category: Annotated[
            str | None, QueryParameter(max_length=100, description="Exact, case-sensitive category")
        ] = None,
        difficulty_level: Annotated[DifficultyLevel | None, QueryParameter(description="Difficulty level")] = None,
        mine: Annotated[
            bool, QueryParameter(description="Instructors and admins: only their own courses, drafts included")
        ] = False,
        q: Annotated[
            str | None,
            QueryParameter(
                max_length=200,
                description="Text search over title and description (every word must match)",
            ),
        ] = None,
    ) -> Response[PageResponse[CourseResponse]]:
        """The catalog, newest first. Anonymous visitors and students see published courses;
        instructors add `mine=true` for their own (drafts included); admins see every course."""
        catalog = catalog_of(request)
        viewer = await optional_viewer(request)
        scope = rules.course_filter(
            viewer,
            mine=mine,
            category=category,
            difficulty_level=difficulty_level,
            text=(q.strip() or None) if q else None,
        )

        async def load() -> tuple[Representation, bool]:
            page = await catalog.list_courses(scope, paging)
            return Representation.of(page_of(page, CourseResponse.of, request), page_link(request, page)), True

        if rules.is_public(scope):
            return respond(
                await read_through(
                    catalog.cache, COURSE_LIST, list_key(request), catalog.cache_ttl, load, scope=request.scope
                ),
                if_none_match=if_none_match,
            )
        representation, _ = await load()
        return respond(representation, if_none_match=if_none_match)

    @post(
        "/",
        response_headers=ETAG,
        operation_id="create_course",
        status_code=201,
        guards=[authenticated, instructor_or_admin],
        security=BEARER,
        responses=errors(401, 403, 409, 422, 429),
    )
    async def create_course(
        self,
        *,
        request: Request[Any, Any, Any],
        data: JSONBody[CourseCreate],
        principal: NamedDependency[Principal],
    ) -> Response[CourseResponse]:
        """Create a draft course owned by the caller. The slug is derived from the title when absent
        (transliterated to ASCII; `-2`, `-3`, … appended if taken); a given slug that is taken is a 409."""
        catalog = catalog_of(request)
        course = await catalog.create_course(
            principal.user, input_of(data, NewCourse), course_id=stable_id(request.scope)
        )
        response = respond(Representation.of(CourseResponse.of(course)), 201)
        response.headers["Location"] = f"/api/v1/courses/{course.id}"
        return response

    @get(
        "/{course_id:str}",
        response_headers=ETAG,
        operation_id="get_course",
        security=OPTIONAL_BEARER,
        responses={**errors(403, 404, 422, 429), **NOT_MODIFIED},
    )
    async def get_course(
        self,
        *,
        request: Request[Any, Any, Any],
        if_none_match: IfNoneMatch = None,
        course_id: UuidPath,
    ) -> Response[CourseResponse]:
        """One course. A draft is visible only to its managers (owner and admins)."""
        return await _course(request, parse_uuid("course_id", course_id), if_none_match)

    @get(
        "/slug/{slug:str}",
        response_headers=ETAG,
        operation_id="get_course_by_slug",
        security=OPTIONAL_BEARER,
        responses={**errors(403, 404, 422, 429), **NOT_MODIFIED},
    )
    async def get_course_by_slug(
        self,
        *,
        request: Request[Any, Any, Any],
        if_none_match: IfNoneMatch = None,
        slug: Annotated[str, PathParameter(max_length=255, description="The course's slug")],
    ) -> Response[CourseResponse]:
        """One course by its slug: the same body, visibility, caching and `ETag` as the read by id."""
        return await _course(request, slug, if_none_match)

    @put(
        "/{course_id:str}/prerequisites",
        operation_id="set_course_prerequisites",
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def set_prerequisites(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        data: JSONBody[PrerequisitesBody],
        principal: NamedDependency[Principal],
    ) -> PrerequisitesBody:
        """Replace the courses this one requires (managers): a student enrolls only with a completed
        enrollment in each. A course cannot require itself, and the requirements cannot form a cycle."""
        required = await catalog_of(request).set_prerequisites(
            principal.user, parse_uuid("course_id", course_id), data.course_ids
        )
        return PrerequisitesBody(course_ids=required)

    @patch(
        "/{course_id:str}",
        response_headers=ETAG,
        operation_id="update_course",
        guards=[authenticated],
        security=BEARER,
        responses=errors(400, 401, 403, 404, 412, 422, 429),
    )
    async def update_course(
        self,
        *,
        request: Request[Any, Any, Any],
        if_match_tag: IfMatch = None,
        course_id: UuidPath,
        data: JSONBody[CourseUpdate],
        principal: NamedDependency[Principal],
    ) -> Response[CourseResponse]:
        """Change a course (managers). `is_published` publishes or unpublishes it. Send
        `If-Match` with the ETag you read to refuse the change if someone else changed it first."""
        catalog = catalog_of(request)
        changes = changes_of(data, CourseChanges)
        course = await catalog.update_course(
            principal.user,
            parse_uuid("course_id", course_id),
            changes,
            if_match(if_match_tag, CourseResponse.of),
        )
        return respond(Representation.of(CourseResponse.of(course)))

    @post(
        "/{course_id:str}/publish",
        response_headers=ETAG,
        operation_id="publish_course",
        status_code=200,
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def publish_course(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> Response[CourseResponse]:
        """Publish a course (managers). Publishing a published course changes nothing."""
        catalog = catalog_of(request)
        course = await catalog.publish_course(principal.user, parse_uuid("course_id", course_id))
        return respond(Representation.of(CourseResponse.of(course)))

    @delete(
        "/{course_id:str}",
        operation_id="delete_course",
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 403, 404, 409, 412, 422, 429),
    )
    async def delete_course(
        self,
        *,
        request: Request[Any, Any, Any],
        if_match_tag: IfMatch = None,
        course_id: UuidPath,
        principal: NamedDependency[Principal],
        force: Annotated[bool, QueryParameter(description="Admins: delete even when students are enrolled")] = False,
    ) -> None:
        """Delete a course and everything under it (managers). A course with enrollments is refused
        with 409 (unpublish it instead) unless an admin sends `force=true`."""
        catalog = catalog_of(request)
        await catalog.delete_course(
            principal.user,
            parse_uuid("course_id", course_id),
            force=force,
            precondition=if_match(if_match_tag, CourseResponse.of),
        )

    @get(
        "/{course_id:str}/lessons",
        response_headers=ETAG,
        operation_id="list_course_lessons",
        security=OPTIONAL_BEARER,
        responses={**errors(403, 404, 422, 429), **NOT_MODIFIED},
    )
    async def list_lessons(
        self,
        *,
        request: Request[Any, Any, Any],
        if_none_match: IfNoneMatch = None,
        course_id: UuidPath,
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[LessonResponse]]:
        """A course's lessons by position. A draft's lessons are visible only to its managers. Each
        lesson's `lock` is the caller's own: what release rules hold back from them (a locked
        lesson's `content` and `video_url` are null)."""
        catalog = catalog_of(request)
        cid = parse_uuid("course_id", course_id)
        viewer = await optional_viewer(request)  # who asks is settled before the cache is read
        own = False

        async def load() -> tuple[Representation, bool]:
            nonlocal own
            own = True
            listing = await catalog.list_lessons(viewer, cid, paging)
            page, locks = listing.page, listing.locks
            body = page_of(page, lambda lesson: LessonResponse.of(lesson, locks.get(lesson.id)), request)
            # Shared only when every viewer sees it alike (a published course, no viewer's own locks).
            return Representation.of(body, page_link(request, page)), listing.shared

        representation = await read_through(
            catalog.cache, lessons_key(cid), list_key(request), catalog.cache_ttl, load, scope=request.scope
        )
        if viewer is not None and not own and LOCKED in representation.body:
            # The shared entry is the outsiders' view; a signed-in caller may be enrolled or manage.
            representation, _ = await load()
        return respond(representation, if_none_match=if_none_match)

    @post(
        "/{course_id:str}/lessons",
        response_headers=ETAG,
        operation_id="create_lesson",
        status_code=201,
        guards=[authenticated],
        security=BEARER,
        responses=errors(400, 401, 403, 404, 409, 422, 429),
    )
    async def create_lesson(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        data: JSONBody[LessonCreate],
        principal: NamedDependency[Principal],
    ) -> Response[LessonResponse]:
        """Add a lesson (managers). Without `order_index` it goes after the last one."""
        catalog = catalog_of(request)
        lesson = await catalog.create_lesson(
            principal.user,
            parse_uuid("course_id", course_id),
            input_of(
                data,
                NewLesson,
                video_url=data.video_url if data.video_url is not None else data.video_link,
                video_link=UNSET,
            ),
            lesson_id=stable_id(request.scope),
        )
        response = respond(Representation.of(LessonResponse.of(lesson)), 201)
        response.headers["Location"] = f"/api/v1/lessons/{lesson.id}"
        return response

    @patch(
        "/{course_id:str}/lessons/reorder",
        response_headers=ETAG,
        operation_id="reorder_lessons",
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def reorder_lessons(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        data: JSONBody[LessonReorderRequest],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[LessonResponse]]:
        """Give every lesson of the course its position, in one transaction (managers). Answers the
        requested page of the new order; its links point at the lesson list."""
        catalog = catalog_of(request)
        ordered = await catalog.reorder_lessons(principal.user, parse_uuid("course_id", course_id), data.lesson_ids)
        page = page_of_list(ordered, paging, key=lambda lesson: (lesson.order_index,))
        list_path = request.url.path.rstrip("/").removesuffix("/reorder")
        return respond(
            Representation.of(
                page_of(page, LessonResponse.of, request, path=list_path), page_link(request, page, path=list_path)
            )
        )
