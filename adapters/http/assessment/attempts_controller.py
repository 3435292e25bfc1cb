"""`/api/v1/quizzes/{quiz_id}/attempts`: starting, taking, submitting and reading attempts (API §5.8)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from adapters.http.assessment.schemas import (
    AttemptResponse,
    AttemptResultResponse,
    AttemptStartResponse,
    AttemptSubmitRequest,
    QuestionPublicResponse,
    QuizTakeResponse,
    TakeQuiz,
)
from adapters.http.bodies import decimal_string, input_of
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.representation import Representation, read_through
from adapters.http.security import BEARER, UuidPath, attempts_of, authenticated, parse_uuid, quizzes_of
from domain.assessment.model import Answer
from domain.assessment.quizzes import questions_key
from domain.identity.model import Principal, Role
from domain.shared.pagination import PageParams

_BASE = msgspec.json.Decoder(list[QuestionPublicResponse])


class AttemptsController(Controller):
    path = "/quizzes/{quiz_id:str}/attempts"
    tags = ["attempts"]
    guards = [authenticated]
    security = BEARER

    @post("/", operation_id="start_attempt", status_code=201, responses=errors(401, 403, 404, 422, 429))
    async def start(
        self, *, request: Request[Any, Any, Any], quiz_id: UuidPath, principal: NamedDependency[Principal]
    ) -> AttemptStartResponse:
        """Start an attempt (enrolled students): one in progress at a time, within `max_attempts`.
        An attempt past its time limit is graded with zero on the way."""
        attempt = await attempts_of(request).start(principal.user, parse_uuid("quiz_id", quiz_id))
        return AttemptStartResponse.of(attempt)

    @get("/start", operation_id="get_quiz_to_take", responses=errors(401, 403, 404, 422, 429))
    async def take(
        self, *, request: Request[Any, Any, Any], quiz_id: UuidPath, principal: NamedDependency[Principal]
    ) -> QuizTakeResponse:
        """The questions to answer, without answers, shuffled on every call as the quiz says: the
        quiz's own, then those the caller's attempt in progress drew from its banks."""
        service = attempts_of(request)
        quiz = await service.take_access(principal.user, parse_uuid("quiz_id", quiz_id))  # before the cache

        async def load() -> tuple[Representation, bool]:
            questions = await service.questions(quiz.id)
            return Representation.of([QuestionPublicResponse.of(q) for q in questions]), True

        cache = quizzes_of(request)
        base = await read_through(cache.cache, questions_key(quiz.id), "take", cache.cache_ttl, load)
        # The questions the caller's attempt drew (API §12) are theirs alone: never cached.
        drawn = [QuestionPublicResponse.of(q) for q in await service.drawn_questions(principal.user, quiz)]
        questions = service.arrange(quiz, [*_BASE.decode(base.body), *drawn])  # after the cache, on every call
        return QuizTakeResponse(
            quiz=TakeQuiz(
                id=quiz.id,
                title=quiz.title,
                time_limit_minutes=quiz.time_limit_minutes,
                total_questions=len(questions),
                total_points=decimal_string(sum((Decimal(q.points) for q in questions), Decimal("0.00"))),
            ),
            questions=questions,
        )

    @get("/my-attempts", operation_id="list_my_attempts", responses=errors(401, 403, 404, 422, 429))
    async def my_attempts(
        self,
        *,
        request: Request[Any, Any, Any],
        quiz_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[AttemptResponse]]:
        """The caller's attempts at the quiz, by number."""
        page = await attempts_of(request).my_attempts(principal.user, parse_uuid("quiz_id", quiz_id), paging)
        return page_response(request, page, AttemptResponse.of)

    @post(
        "/{attempt_id:str}/submit",
        operation_id="submit_attempt",
        status_code=200,
        responses=errors(400, 401, 403, 404, 422, 429),
    )
    async def submit(
        self,
        *,
        request: Request[Any, Any, Any],
        quiz_id: UuidPath,
        attempt_id: UuidPath,
        data: JSONBody[AttemptSubmitRequest],
        principal: NamedDependency[Principal],
    ) -> AttemptResultResponse:
        """Submit answers: graded at once. Passing completes the quiz's lesson (and possibly the course)."""
        answers = [input_of(answer, Answer) for answer in data.answers]
        attempt, quiz = await attempts_of(request).submit(
            principal.user, parse_uuid("quiz_id", quiz_id), parse_uuid("attempt_id", attempt_id), answers
        )
        return AttemptResultResponse.of_graded(attempt, quiz)

    @get("/{attempt_id:str}", operation_id="get_attempt", responses=errors(401, 403, 404, 422, 429))
    async def get_attempt(
        self,
        *,
        request: Request[Any, Any, Any],
        quiz_id: UuidPath,
        attempt_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> AttemptResultResponse:
        """One of the caller's attempts, with its graded answers; the course's managers read any
        student's attempt (graders read the essays)."""
        attempt, quiz = await attempts_of(request).get_attempt(
            principal.user, parse_uuid("quiz_id", quiz_id), parse_uuid("attempt_id", attempt_id)
        )
        # Anyone but a student got here as a manager of the quiz's course.
        return AttemptResultResponse.of_graded(attempt, quiz, reveal=principal.user.role is not Role.STUDENT)
