"""Domain events, audit entries and webhook deliveries."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.shared.ids import new_id


class EventType(enum.StrEnum):
    """The event types (API §9.1)."""

    ENROLLMENT_CREATED = "enrollment.created"
    ENROLLMENT_COMPLETED = "enrollment.completed"
    COURSE_PUBLISHED = "course.published"
    QUIZ_SUBMITTED = "quiz.submitted"
    CERTIFICATE_ISSUED = "certificate.issued"
    CERTIFICATE_REVOKED = "certificate.revoked"
    ASSIGNMENT_SUBMITTED = "assignment.submitted"
    SUBMISSION_GRADED = "submission.graded"
    ATTEMPT_PENDING_REVIEW = "attempt.pending_review"
    ATTEMPT_GRADED = "attempt.graded"
    LESSON_PUBLISHED = "lesson.published"
    ASSIGNMENT_DUE_SOON = "assignment.due_soon"
    ACCOUNT_LOCKED = "account.locked"
    ORDER_PAID = "order.paid"
    ORDER_REFUNDED = "order.refunded"
    USER_ERASED = "user.erased"


ENROLLMENT_CREATED = EventType.ENROLLMENT_CREATED
ENROLLMENT_COMPLETED = EventType.ENROLLMENT_COMPLETED
COURSE_PUBLISHED = EventType.COURSE_PUBLISHED
QUIZ_SUBMITTED = EventType.QUIZ_SUBMITTED
CERTIFICATE_ISSUED = EventType.CERTIFICATE_ISSUED
CERTIFICATE_REVOKED = EventType.CERTIFICATE_REVOKED
ASSIGNMENT_SUBMITTED = EventType.ASSIGNMENT_SUBMITTED
SUBMISSION_GRADED = EventType.SUBMISSION_GRADED
ATTEMPT_PENDING_REVIEW = EventType.ATTEMPT_PENDING_REVIEW
ATTEMPT_GRADED = EventType.ATTEMPT_GRADED
LESSON_PUBLISHED = EventType.LESSON_PUBLISHED
ASSIGNMENT_DUE_SOON = EventType.ASSIGNMENT_DUE_SOON
ACCOUNT_LOCKED = EventType.ACCOUNT_LOCKED
ORDER_PAID = EventType.ORDER_PAID
ORDER_REFUNDED = EventType.ORDER_REFUNDED
USER_ERASED = EventType.USER_ERASED

# Learning records (API §15.1): recorded only while an LRS is configured, for the xAPI statements
# they become; never delivered to webhooks (not part of §9.1).
LESSON_PROGRESSED = "lesson.progressed"
LESSON_COMPLETED = "lesson.completed"
ATTEMPT_STARTED = "attempt.started"
LEARNING_RECORDS = frozenset({LESSON_PROGRESSED, LESSON_COMPLETED, ATTEMPT_STARTED})


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Something that happened, recorded in the transaction of the change. `data` holds JSON values
    (ids and times as strings, API §1.3), exactly as receivers will see them."""

    type: str
    occurred_at: datetime
    data: dict[str, Any]
    id: UUID = field(default_factory=new_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """Who did what to which subject, and when; `details` names the other ids involved."""

    action: str
    subject_type: str
    subject_id: UUID
    actor_id: UUID | None
    occurred_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    id: UUID = field(default_factory=new_id)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(slots=True, kw_only=True)
class Delivery:
    """One event on its way to one target."""

    id: UUID
    event_id: UUID
    event_type: str
    target_url: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedDelivery:
    """A due delivery claimed for one attempt, with the event to send (API §9.2's body members)."""

    id: UUID
    claim_id: UUID
    target_url: str
    attempts: int  # attempts made before this one
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    status: DeliveryStatus | None = None
    event_type: EventType | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a target answered: a status code, or an error (timeout, refused connection, …)."""

    status_code: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
