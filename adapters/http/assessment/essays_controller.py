"""`/api/v1/attempts/{attempt_id}/answers/{question_id}/grade`: essays graded by hand (API §11.2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from msgspec import Meta

from adapters.http.assessment.schemas import AttemptResultResponse
from adapters.http.openapi import errors
from adapters.http.security import BEARER, UuidPath, authenticated, essays_of, parse_uuid
from domain.identity.model import Principal


class AnswerGrade(msgspec.Struct, kw_only=True):
    points: Annotated[Decimal, Meta(description="0 up to the question's points", examples=["4.50"])]
    feedback: Annotated[str, Meta(max_length=20_000)] | None = None


class EssaysController(Controller):
    path = "/attempts/{attempt_id:str}/answers/{question_id:str}"
    tags = ["attempts"]
    guards = [authenticated]
    security = BEARER

    @post("/grade", operation_id="grade_answer", status_code=200, responses=errors(401, 403, 404, 409, 422, 429))
    async def grade(
        self,
        *,
        request: Request[Any, Any, Any],
        attempt_id: UuidPath,
        question_id: UuidPath,
        data: JSONBody[AnswerGrade],
        principal: NamedDependency[Principal],
    ) -> AttemptResultResponse:
        """Grade one essay answer (the course's managers); grading it again replaces the points.
        When no essay of the attempt waits any more, the attempt is graded and a pass completes
        its lesson."""
        attempt, quiz = await essays_of(request).grade_answer(
            principal.user,
            parse_uuid("attempt_id", attempt_id),
            parse_uuid("question_id", question_id),
            data.points,
            data.feedback,
        )
        return AttemptResultResponse.of_graded(attempt, quiz, reveal=True)
