"""The question bank repository on one AsyncSession (API §12)."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql.assessment_repositories import QUESTIONS
from adapters.sql.mappers import TableColumns, entity_from_row, row_values
from adapters.sql.models import QUIZ_DRAWS, QuestionBankRow
from adapters.sql.paging import page_in
from domain.assessment.model import QuestionBank
from domain.assessment.ports import BankSummary
from domain.shared.pagination import Page, PageParams

BANKS = cast(Table, QuestionBankRow.__table__)

_SIZE = select(func.count()).where(QUESTIONS.c.bank_id == BANKS.c.id).scalar_subquery().label("question_count")


def _summary(row: Any) -> BankSummary:
    return BankSummary(entity_from_row(QuestionBank, TableColumns(row, BANKS)), int(row.question_count))


class SqlQuestionBankRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, bank_id: UUID) -> QuestionBank | None:
        row = (await self._s.execute(select(BANKS).where(BANKS.c.id == bank_id))).first()
        return entity_from_row(QuestionBank, row) if row else None

    async def add(self, bank: QuestionBank) -> None:
        await self._s.execute(insert(BANKS).values(**row_values(bank)))

    async def save(self, bank: QuestionBank) -> None:
        values = row_values(bank)
        del values["id"], values["course_id"], values["created_at"]
        await self._s.execute(update(BANKS).where(BANKS.c.id == bank.id).values(**values))

    async def delete(self, bank_id: UUID) -> None:
        await self._s.execute(delete(BANKS).where(BANKS.c.id == bank_id))  # its questions cascade

    async def page(self, course_id: UUID, params: PageParams) -> Page[BankSummary]:
        query = select(BANKS, _SIZE).where(BANKS.c.course_id == course_id)
        return await page_in(self._s, query.order_by(BANKS.c.created_at.desc(), BANKS.c.id.desc()), params, _summary)

    async def question_count(self, bank_id: UUID) -> int:
        query = select(func.count()).select_from(QUESTIONS).where(QUESTIONS.c.bank_id == bank_id)
        return int((await self._s.execute(query)).scalar_one())

    async def of_course(self, course_id: UUID, bank_ids: list[UUID]) -> dict[UUID, BankSummary]:
        if not bank_ids:
            return {}
        query = select(BANKS, _SIZE).where(BANKS.c.course_id == course_id, BANKS.c.id.in_(bank_ids))
        return {(summary := _summary(row)).bank.id: summary for row in await self._s.execute(query)}

    async def used_by_quiz(self, bank_id: UUID) -> bool:
        return bool((await self._s.execute(select(exists().where(QUIZ_DRAWS.c.bank_id == bank_id)))).scalar())
