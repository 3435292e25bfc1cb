"""`/api/v1/courses/{course_id}/question-banks`: a course's question banks and their questions,
which quizzes draw from (API §12). Every route is for the course's managers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from adapters.http.assessment.schemas import (
    QuestionBankCreate,
    QuestionBankResponse,
    QuestionBankUpdate,
    QuestionCreate,
    QuestionResponse,
    QuestionUpdate,
)
from adapters.http.bodies import changes_of, input_of
from adapters.http.idempotency import stable_id
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import SIGNED_IN, UuidPath, banks_of, parse_uuid
from domain.assessment.banks import BankChanges, NewBank
from domain.identity.model import Principal
from domain.shared.pagination import PageParams


def _ids(course_id: str, bank_id: str) -> tuple[Any, Any]:
    return parse_uuid("course_id", course_id), parse_uuid("bank_id", bank_id)


BANK = "/{bank_id:str}"
QUESTION = "/{bank_id:str}/questions/{question_id:str}"


class QuestionBanksController(Controller):
    path = "/courses/{course_id:str}/question-banks"
    tags = ["question-banks"]

    @post(
        "/",
        operation_id="create_question_bank",
        status_code=201,
        **SIGNED_IN,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def create_bank(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        data: JSONBody[QuestionBankCreate],
        principal: NamedDependency[Principal],
    ) -> QuestionBankResponse:
        """Make a question bank for the course's quizzes to draw from."""
        bank = await banks_of(request).create_bank(
            principal.user,
            parse_uuid("course_id", course_id),
            input_of(data, NewBank),
            bank_id=stable_id(request.scope),
        )
        return QuestionBankResponse.of(bank)

    @get("/", operation_id="list_question_banks", **SIGNED_IN, responses=errors(401, 403, 404, 422, 429))
    async def list_banks(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[QuestionBankResponse]]:
        """The course's question banks, newest first, with their question counts."""
        page = await banks_of(request).list_banks(principal.user, parse_uuid("course_id", course_id), paging)
        return page_response(request, page, QuestionBankResponse.of)

    @get(BANK, operation_id="get_question_bank", **SIGNED_IN, responses=errors(401, 403, 404, 422, 429))
    async def get_bank(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        bank_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> QuestionBankResponse:
        """One question bank."""
        return QuestionBankResponse.of(await banks_of(request).get_bank(principal.user, *_ids(course_id, bank_id)))

    @patch(BANK, operation_id="update_question_bank", **SIGNED_IN, responses=errors(400, 401, 403, 404, 422, 429))
    async def update_bank(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        bank_id: UuidPath,
        data: JSONBody[QuestionBankUpdate],
        principal: NamedDependency[Principal],
    ) -> QuestionBankResponse:
        """Rename or describe a question bank."""
        bank = await banks_of(request).update_bank(
            principal.user, *_ids(course_id, bank_id), changes_of(data, BankChanges)
        )
        return QuestionBankResponse.of(bank)

    @delete(BANK, operation_id="delete_question_bank", **SIGNED_IN, responses=errors(401, 403, 404, 409, 422, 429))
    async def delete_bank(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        bank_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> None:
        """Delete a question bank and its questions; a bank a quiz draws from stays (409)."""
        await banks_of(request).delete_bank(principal.user, *_ids(course_id, bank_id))

    # ----- a bank's questions -----

    @post(
        "/{bank_id:str}/questions",
        operation_id="create_bank_question",
        status_code=201,
        **SIGNED_IN,
        responses=errors(400, 401, 403, 404, 422, 429),
    )
    async def create_question(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        bank_id: UuidPath,
        data: JSONBody[QuestionCreate],
        principal: NamedDependency[Principal],
    ) -> QuestionResponse:
        """Add a question to the bank, with the rules of a quiz's questions."""
        question = await banks_of(request).create_question(
            principal.user, *_ids(course_id, bank_id), data.as_input(), question_id=stable_id(request.scope)
        )
        return QuestionResponse.of(question)

    @get(
        "/{bank_id:str}/questions",
        operation_id="list_bank_questions",
        **SIGNED_IN,
        responses=errors(401, 403, 404, 422, 429),
    )
    async def list_questions(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        bank_id: UuidPath,
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[QuestionResponse]]:
        """The bank's questions by position, with their answers."""
        page = await banks_of(request).questions(principal.user, *_ids(course_id, bank_id), paging)
        return page_response(request, page, QuestionResponse.of)

    @get(QUESTION, operation_id="get_bank_question", **SIGNED_IN, responses=errors(401, 403, 404, 422, 429))
    async def get_question(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        bank_id: UuidPath,
        question_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> QuestionResponse:
        """One question of the bank."""
        question = await banks_of(request).get_question(
            principal.user, *_ids(course_id, bank_id), parse_uuid("question_id", question_id)
        )
        return QuestionResponse.of(question)

    @patch(QUESTION, operation_id="update_bank_question", **SIGNED_IN, responses=errors(400, 401, 403, 404, 422, 429))
    async def update_question(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        bank_id: UuidPath,
        question_id: UuidPath,
        data: JSONBody[QuestionUpdate],
        principal: NamedDependency[Principal],
    ) -> QuestionResponse:
        """Change a question of the bank; the merged question is validated again."""
        question = await banks_of(request).update_question(
            principal.user, *_ids(course_id, bank_id), parse_uuid("question_id", question_id), data.as_changes()
        )
        return QuestionResponse.of(question)

    @delete(QUESTION, operation_id="delete_bank_question", **SIGNED_IN, responses=errors(401, 403, 404, 422, 429))
    async def delete_question(
        self,
        *,
        request: Request[Any, Any, Any],
        course_id: UuidPath,
        bank_id: UuidPath,
        question_id: UuidPath,
        principal: NamedDependency[Principal],
    ) -> None:
        """Delete a question of the bank (attempts that drew it keep their graded answers)."""
        await banks_of(request).delete_question(
            principal.user, *_ids(course_id, bank_id), parse_uuid("question_id", question_id)
        )
