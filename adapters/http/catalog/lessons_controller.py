"""`/api/v1/lessons/{lesson_id}`: one lesson, read and managed (API §5.5)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch
from litestar.di import NamedDependency
from litestar.params import JSONBody

from adapters.http.bodies import changes_of
from adapters.http.catalog.schemas import LessonResponse, LessonUpdate
from adapters.http.openapi import errors
from adapters.http.representation import ETAG, NOT_MODIFIED, IfMatch, IfNoneMatch, Representation, if_match, respond
from adapters.http.security import (
    BEARER,
    OPTIONAL_BEARER,
    UuidPath,
    authenticated,
    catalog_of,
    optional_viewer,
    parse_uuid,
)
from domain.catalog.services import LessonChanges
from domain.identity.model import Principal
from domain.shared.unset import UNSET


class LessonsController(Controller):
    path = "/lessons"
    tags = ["lessons"]

    @get(
        "/{lesson_id:str}",
        response_headers=ETAG,
        operation_id="get_lesson",
        security=OPTIONAL_BEARER,
        responses={**errors(403, 404, 422, 429), **NOT_MODIFIED},
    )
    async def get_lesson(
        self,
        *,
        request: Request[Any, Any, Any],
        if_none_match: IfNoneMatch = None,
        lesson_id: UuidPath,
    ) -> Response[LessonResponse]:
        """One lesson. Lessons of a published course are open to everyone (`is_preview` does not open
        a draft's lessons), except what release rules hold back: `lock` says why, and a locked
        lesson's `content` and `video_url` are null."""
        catalog = catalog_of(request)
        lesson, lock = await catalog.get_lesson(await optional_viewer(request), parse_uuid("lesson_id", lesson_id))
        return respond(Representation.of(LessonResponse.of(lesson, lock)), if_none_match=if_none_match)

    @patch(
        "/{lesson_id:str}",
        response_headers=ETAG,
        operation_id="update_lesson",
        guards=[authenticated],
        security=BEARER,
        responses=errors(400, 401, 403, 404, 409, 412, 422, 429),
    )
    async def update_lesson(
        self,
        *,
        request: Request[Any, Any, Any],
        if_match_tag: IfMatch = None,
        lesson_id: UuidPath,
        data: JSONBody[LessonUpdate],
        principal: NamedDependency[Principal],
    ) -> Response[LessonResponse]:
        """Change a lesson (managers of its course). Changing `lesson_type` away from `video` without
        sending `video_url` clears the URL. Send `If-Match` to refuse the change if the lesson changed."""
        catalog = catalog_of(request)
        video_url = data.video_url if data.video_url is not msgspec.UNSET else data.video_link
        changes = changes_of(data, LessonChanges, video_url=video_url, video_link=UNSET)
        lesson = await catalog.update_lesson(
            principal.user, parse_uuid("lesson_id", lesson_id), changes, if_match(if_match_tag, LessonResponse.of)
        )
        return respond(Representation.of(LessonResponse.of(lesson)))

    @delete(
        "/{lesson_id:str}",
        operation_id="delete_lesson",
        guards=[authenticated],
        security=BEARER,
        responses=errors(401, 403, 404, 412, 422, 429),
    )
    async def delete_lesson(
        self,
        *,
        request: Request[Any, Any, Any],
        if_match_tag: IfMatch = None,
        lesson_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> None:
        """Delete a lesson (managers of its course). Its children lose their parent and the lessons
        after it move up one position."""
        catalog = catalog_of(request)
        await catalog.delete_lesson(
            principal.user, parse_uuid("lesson_id", lesson_id), if_match(if_match_tag, LessonResponse.of)
        )
