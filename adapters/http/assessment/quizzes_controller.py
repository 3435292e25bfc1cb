"""`/api/v1/courses/{course_id}/quizzes`: a course's quizzes and their questions (API §5.7)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from adapters.http.assessment.schemas import (
    QuestionCreate,
    QuestionPublicResponse,
    QuestionResponse,
    QuestionUpdate,
    QuizCreate,
    QuizListItem,
    QuizResponse,
    QuizUpdate,
)
from adapters.http.idempotency import stable_id
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_link, page_of, page_response
from adapters.http.representation import Representation, query_key, read_through, respond
from adapters.http.security import (
    OPTIONAL_BEARER,
    SIGNED_IN,
    UuidPath,
    optional_viewer,
    parse_uuid,
    quizzes_of,
)
from domain.assessment.quizzes import questions_key
from domain.identity.model import Principal
from domain.shared.pagination import PageParams

PAGE_PARAMETERS = frozenset({"page", "page_size", "cursor"})


def _ids(course_id: str, quiz_id: str) -> tuple[Any, Any]:
    return parse_uuid("course_id", course_id), parse_uuid("quiz_id", quiz_id)


class QuizzesController(Controller):
    path = "/courses/{course_id:str}/quizzes"
    tags = ["quizzes"]

    @get("/", operation_id="list_course_quizzes", security=OPTIONAL_BEARER, responses=errors(403, 404, 422, 429))
    async def list_quizzes(
        self, *, request: Request[Any, Any, Any], course_id: UuidPath, paging: NamedDependency[PageParams]
    ) -> Response[PageResponse[QuizListItem]]:
        """A course's quizzes, newest first; anyone but its managers sees the published ones only."""
        viewer = await optional_viewer(request)
        page = await quizzes_of(request).list_quizzes(viewer, parse_uuid("course_id", course_id), paging)
        return page_response(request, page, QuizListItem.of)

    @post("/", operation_id="create_quiz", status_code=201, **SIGNED_IN, responses=errors(401, 403, 404, 409, 422, 429))
    async def create_quiz(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        data: JSONBody[QuizCreate],
        principal: NamedDependency[Principal],
    ) -> QuizResponse:
        """Add the quiz of one of the course's lessons (managers); it starts unpublished."""
        quiz = await quizzes_of(request).create_quiz(
            principal.user,
            parse_uuid("course_id", course_id),
            data.as_input(),
            quiz_id=stable_id(request.scope),
        )
        return QuizResponse.of(quiz)

    @get("/{quiz_id:str}", operation_id="get_quiz", security=OPTIONAL_BEARER, responses=errors(403, 404, 422, 429))
    async def get_quiz(
        self, *, request: Request[Any, Any, Any], course_id: UuidPath, quiz_id: UuidPath
    ) -> QuizResponse:
        """One quiz: visible to everyone once it and its course are published, to managers always."""
        viewer = await optional_viewer(request)
        return QuizResponse.of(await quizzes_of(request).get_quiz(viewer, *_ids(course_id, quiz_id)))

    @patch("/{quiz_id:str}", operation_id="update_quiz", **SIGNED_IN, responses=errors(400, 401, 403, 404, 422, 429))
    async def update_quiz(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        quiz_id: UuidPath,
        data: JSONBody[QuizUpdate],
        principal: NamedDependency[Principal],
    ) -> QuizResponse:
        """Change a quiz (managers). `is_published=true` runs the publish checks; `false` unpublishes it,
        which lifts the quiz gate on its lesson."""
        changes = data.as_changes()
        return QuizResponse.of(
            await quizzes_of(request).update_quiz(principal.user, *_ids(course_id, quiz_id), changes)
        )

    @delete("/{quiz_id:str}", operation_id="delete_quiz", **SIGNED_IN, responses=errors(401, 403, 404, 409, 422, 429))
    async def delete_quiz(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        quiz_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> None:
        """Delete a quiz and its questions (managers); refused once anyone has attempted it."""
        await quizzes_of(request).delete_quiz(principal.user, *_ids(course_id, quiz_id))

    @post(
        "/{quiz_id:str}/publish",
        operation_id="publish_quiz",
        status_code=200,
        **SIGNED_IN,
        responses=errors(400, 401, 403, 404, 422, 429),
    )
    async def publish_quiz(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        quiz_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> QuizResponse:
        """Publish a quiz (managers): it needs questions, each valid. Publishing twice changes nothing."""
        return QuizResponse.of(await quizzes_of(request).publish_quiz(principal.user, *_ids(course_id, quiz_id)))

    @get(
        "/{quiz_id:str}/questions",
        operation_id="list_quiz_questions",
        security=OPTIONAL_BEARER,
        responses=errors(403, 404, 422, 429),
    )
    async def public_questions(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        quiz_id: UuidPath,
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[QuestionPublicResponse]]:
        """The quiz's questions by position, without answers or explanations."""
        service = quizzes_of(request)
        viewer = await optional_viewer(request)
        quiz = await service.get_quiz(viewer, *_ids(course_id, quiz_id))  # on every request, before the cache

        async def load() -> tuple[Representation, bool]:
            page = await service.questions_page(quiz.id, paging)
            return Representation.of(page_of(page, QuestionPublicResponse.of, request), page_link(request, page)), True

        key = query_key(request.scope, PAGE_PARAMETERS)
        return respond(await read_through(service.cache, questions_key(quiz.id), key, service.cache_ttl, load))

    @get(
        "/{quiz_id:str}/questions/manage",
        operation_id="list_quiz_questions_for_managers",
        **SIGNED_IN,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def managed_questions(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        quiz_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[QuestionResponse]]:
        """The quiz's questions with their answers and explanations (managers)."""
        page = await quizzes_of(request).managed_questions(principal.user, *_ids(course_id, quiz_id), paging)
        return page_response(request, page, QuestionResponse.of)

    @post(
        "/{quiz_id:str}/questions",
        operation_id="create_question",
        status_code=201,
        **SIGNED_IN,
        responses=errors(400, 401, 403, 404, 422, 429),
    )
    async def create_question(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        quiz_id: UuidPath,
        data: JSONBody[QuestionCreate],
        principal: NamedDependency[Principal],
    ) -> QuestionResponse:
        """Add a question after the last one (managers). Option ids are generated when absent."""
        return QuestionResponse.of(
            await quizzes_of(request).create_question(
                principal.user, *_ids(course_id, quiz_id), data.as_input(), question_id=stable_id(request.scope)
            )
        )

    @patch(
        "/{quiz_id:str}/questions/{question_id:str}",
        operation_id="update_question",
        **SIGNED_IN,
        responses=errors(400, 401, 403, 404, 422, 429),
    )
    async def update_question(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        quiz_id: UuidPath,
        question_id: UuidPath,
        data: JSONBody[QuestionUpdate],
        principal: NamedDependency[Principal],
    ) -> QuestionResponse:
        """Change a question (managers); the merged question is validated again."""
        question = await quizzes_of(request).update_question(
            principal.user, *_ids(course_id, quiz_id), parse_uuid("question_id", question_id), data.as_changes()
        )
        return QuestionResponse.of(question)

    @delete(
        "/{quiz_id:str}/questions/{question_id:str}",
        operation_id="delete_question",
        **SIGNED_IN,
        responses=errors(401, 403, 404, 409, 422, 429),
    )
    async def delete_question(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        quiz_id: UuidPath,
        question_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> None:
        """Delete a question (managers) of an unpublished quiz; positions keep their gaps."""
        await quizzes_of(request).delete_question(
            principal.user, *_ids(course_id, quiz_id), parse_uuid("question_id", question_id)
        )
