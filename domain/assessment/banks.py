"""Question banks (API §12): questions kept apart from any quiz, which quizzes draw from at random.
Every bank route is for the course's managers."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.assessment.model import Question, QuestionBank
from domain.assessment.ports import AssessmentUnitOfWork, AssessmentUnitOfWorkFactory, BankSummary
from domain.assessment.quizzes import (
    BANK_NOT_FOUND,
    NOT_AUTHORIZED_MANAGE,
    QUESTION_NOT_FOUND,
    NewQuestion,
    QuestionChanges,
    add_question,
    change_question,
)
from domain.catalog import rules as catalog_rules
from domain.catalog.services import COURSE_NOT_FOUND
from domain.identity.model import User
from domain.shared.changes import apply as apply_changes
from domain.shared.changes import given as changes_given
from domain.shared.clock import Clock
from domain.shared.errors import Conflict, Forbidden, NotFound
from domain.shared.ids import new_id
from domain.shared.pagination import Page, PageParams
from domain.shared.unset import UNSET, Unset

BANK_IN_USE = "Question bank is used by a quiz"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewBank:
    name: str
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BankChanges:
    name: str | Unset | None = UNSET
    description: str | Unset | None = UNSET


@dataclass(slots=True)
class QuestionBankService:
    uow: AssessmentUnitOfWorkFactory
    clock: Clock

    # ----- banks -----

    async def create_bank(
        self, actor: User, course_id: UUID, new: NewBank, *, bank_id: UUID | None = None
    ) -> BankSummary:
        """`bank_id`, when given, names the bank: a retried create finds the bank it made."""
        async with self.uow() as uow:
            await self._managed_course(uow, actor, course_id)
            made = await uow.banks.get(bank_id) if bank_id is not None else None
            if made is not None and made.course_id == course_id:
                return BankSummary(made, await uow.banks.question_count(made.id))
            now = self.clock.now()
            bank = QuestionBank(
                id=bank_id or new_id(),
                course_id=course_id,
                name=new.name,
                description=new.description,
                created_at=now,
                updated_at=now,
            )
            await uow.banks.add(bank)
            await uow.commit()
        return BankSummary(bank, 0)

    async def list_banks(self, actor: User, course_id: UUID, params: PageParams) -> Page[BankSummary]:
        async with self.uow() as uow:
            await self._managed_course(uow, actor, course_id, lock=False)
            return await uow.banks.page(course_id, params)

    async def get_bank(self, actor: User, course_id: UUID, bank_id: UUID) -> BankSummary:
        async with self.uow() as uow:
            bank = await self._managed_bank(uow, actor, course_id, bank_id, lock=False)
            return BankSummary(bank, await uow.banks.question_count(bank_id))

    async def update_bank(self, actor: User, course_id: UUID, bank_id: UUID, changes: BankChanges) -> BankSummary:
        async with self.uow() as uow:
            bank = await self._managed_bank(uow, actor, course_id, bank_id)
            if apply_changes(bank, changes_given(changes, not_null=("name",)), self.clock.now()):
                await uow.banks.save(bank)
                await uow.commit()
            return BankSummary(bank, await uow.banks.question_count(bank_id))

    async def delete_bank(self, actor: User, course_id: UUID, bank_id: UUID) -> None:
        """A bank a quiz draws from stays (`409`): attempts are graded with its questions."""
        async with self.uow() as uow:
            await self._managed_bank(uow, actor, course_id, bank_id)
            if await uow.banks.used_by_quiz(bank_id):
                raise Conflict(BANK_IN_USE)
            await uow.banks.delete(bank_id)
            await uow.commit()

    # ----- a bank's questions -----

    async def questions(self, actor: User, course_id: UUID, bank_id: UUID, params: PageParams) -> Page[Question]:
        async with self.uow() as uow:
            await self._managed_bank(uow, actor, course_id, bank_id, lock=False)
            return await uow.questions.of_bank(bank_id, params)

    async def get_question(self, actor: User, course_id: UUID, bank_id: UUID, question_id: UUID) -> Question:
        async with self.uow() as uow:
            await self._managed_bank(uow, actor, course_id, bank_id, lock=False)
            return await self._question(uow, bank_id, question_id)

    async def create_question(
        self, actor: User, course_id: UUID, bank_id: UUID, new: NewQuestion, *, question_id: UUID | None = None
    ) -> Question:
        """`question_id`, when given, names the question (as `create_bank`'s `bank_id` does)."""
        async with self.uow() as uow:
            await self._managed_bank(uow, actor, course_id, bank_id)
            question = await add_question(uow, new, question_id=question_id, now=self.clock.now(), bank_id=bank_id)
            await uow.commit()
        return question

    async def update_question(
        self, actor: User, course_id: UUID, bank_id: UUID, question_id: UUID, changes: QuestionChanges
    ) -> Question:
        async with self.uow() as uow:
            await self._managed_bank(uow, actor, course_id, bank_id)
            question = await self._question(uow, bank_id, question_id)
            if change_question(question, changes, self.clock.now()):
                await uow.questions.save(question)
                await uow.commit()
        return question

    async def delete_question(self, actor: User, course_id: UUID, bank_id: UUID, question_id: UUID) -> None:
        async with self.uow() as uow:
            await self._managed_bank(uow, actor, course_id, bank_id)
            await self._question(uow, bank_id, question_id)
            await uow.questions.delete(question_id)
            await uow.commit()

    # ----- helpers -----

    async def _managed_course(
        self, uow: AssessmentUnitOfWork, actor: User, course_id: UUID, *, lock: bool = True
    ) -> None:
        """After the 404 and the manager check; the course is locked for writes, as quiz writes lock it."""
        course = await uow.courses.get(course_id, lock=lock)
        if course is None:
            raise NotFound(COURSE_NOT_FOUND)
        if not catalog_rules.can_manage(actor, course):
            raise Forbidden(NOT_AUTHORIZED_MANAGE)

    async def _managed_bank(
        self, uow: AssessmentUnitOfWork, actor: User, course_id: UUID, bank_id: UUID, *, lock: bool = True
    ) -> QuestionBank:
        await self._managed_course(uow, actor, course_id, lock=lock)
        bank = await uow.banks.get(bank_id)
        if bank is None or bank.course_id != course_id:
            raise NotFound(BANK_NOT_FOUND)
        return bank

    async def _question(self, uow: AssessmentUnitOfWork, bank_id: UUID, question_id: UUID) -> Question:
        question = await uow.questions.get(question_id)
        if question is None or question.bank_id != bank_id:
            raise NotFound(QUESTION_NOT_FOUND)
        return question
