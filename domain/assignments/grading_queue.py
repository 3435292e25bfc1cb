"""The grading queue of a course (API §11.2): everything waiting for a human, oldest first —
essay answers of `pending_review` attempts and submissions not yet graded."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.assignments.ports import AssignmentsUnitOfWorkFactory, QueueItem
from domain.catalog import rules as catalog_rules
from domain.catalog.services import COURSE_NOT_FOUND
from domain.identity.model import User
from domain.shared.errors import Forbidden, NotFound
from domain.shared.pagination import Page, PageParams

NOT_AUTHORIZED = "Not authorized to grade work for this course"


@dataclass(slots=True)
class GradingQueue:
    uow: AssignmentsUnitOfWorkFactory

    async def waiting(self, actor: User, course_id: UUID, params: PageParams) -> Page[QueueItem]:
        async with self.uow() as uow:
            course = await uow.courses.get(course_id)
            if course is None:
                raise NotFound(COURSE_NOT_FOUND)
            if not catalog_rules.can_manage(actor, course):
                raise Forbidden(NOT_AUTHORIZED)
            return await uow.submissions.waiting(course_id, params)
