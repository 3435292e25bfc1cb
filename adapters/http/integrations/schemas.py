"""Bodies of the webhook delivery routes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from adapters.http.bodies import DecimalString, MoneyString, response_of
from adapters.http.document import webhook_event
from domain.commerce.model import OrderStatus
from domain.integrations.model import Delivery, DeliveryStatus, EventType
from domain.learning.model import EnrollmentStatus


class WebhookDeliveryResponse(msgspec.Struct, kw_only=True):
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

    @classmethod
    def of(cls, delivery: Delivery) -> WebhookDeliveryResponse:
        return response_of(cls, delivery)


# ----- the payloads webhook receivers get (API §9.1), for the document's `webhooks` -----
# Every member is always sent. A test validates the payloads of real deliveries against these.


@webhook_event(EventType.ENROLLMENT_CREATED, "A student enrolled in a course (not sent again on a re-enroll).")
class EnrollmentCreatedData(msgspec.Struct, kw_only=True):
    enrollment_id: UUID
    student_id: UUID
    course_id: UUID
    status: EnrollmentStatus
    enrolled_at: datetime


@webhook_event(EventType.ENROLLMENT_COMPLETED, "An enrollment moved from `active` to `completed`.")
class EnrollmentCompletedData(msgspec.Struct, kw_only=True):
    enrollment_id: UUID
    student_id: UUID
    course_id: UUID
    completed_at: datetime


@webhook_event(EventType.COURSE_PUBLISHED, "A draft course was published.")
class CoursePublishedData(msgspec.Struct, kw_only=True):
    course_id: UUID
    instructor_id: UUID
    published_at: datetime


@webhook_event(
    EventType.LESSON_PUBLISHED,
    "Lessons opened to the course's students: a lesson made in a published course (one id), or a course "
    "with lessons and enrollments published again (all of them).",
)
class LessonPublishedData(msgspec.Struct, kw_only=True):
    course_id: UUID
    lesson_ids: list[UUID]
    published_at: datetime


@webhook_event(
    EventType.QUIZ_SUBMITTED,
    "An attempt was submitted and graded at once (not on expiry; an attempt whose essays wait for a grader "
    "sends `attempt.pending_review` instead).",
)
class QuizSubmittedData(msgspec.Struct, kw_only=True):
    attempt_id: UUID
    quiz_id: UUID
    enrollment_id: UUID
    student_id: UUID
    percentage: DecimalString
    is_passed: bool
    submitted_at: datetime


@webhook_event(EventType.ASSIGNMENT_SUBMITTED, "A student handed work in to an assignment.")
class AssignmentSubmittedData(msgspec.Struct, kw_only=True):
    submission_id: UUID
    assignment_id: UUID
    enrollment_id: UUID
    student_id: UUID
    course_id: UUID
    is_late: bool
    submitted_at: datetime


@webhook_event(EventType.SUBMISSION_GRADED, "A submission was graded (each grading, a re-grade included).")
class SubmissionGradedData(msgspec.Struct, kw_only=True):
    submission_id: UUID
    assignment_id: UUID
    student_id: UUID
    final_percentage: DecimalString
    graded_at: datetime


@webhook_event(EventType.ATTEMPT_PENDING_REVIEW, "An attempt was submitted with essays for a grader to mark.")
class AttemptPendingReviewData(msgspec.Struct, kw_only=True):
    attempt_id: UUID
    quiz_id: UUID
    enrollment_id: UUID
    student_id: UUID
    course_id: UUID
    submitted_at: datetime


@webhook_event(
    EventType.ATTEMPT_GRADED, "An attempt's essays were graded by hand and the attempt decided (again on a re-grade)."
)
class AttemptGradedData(msgspec.Struct, kw_only=True):
    attempt_id: UUID
    quiz_id: UUID
    enrollment_id: UUID
    student_id: UUID
    score: DecimalString
    percentage: DecimalString
    is_passed: bool
    graded_at: datetime


@webhook_event(
    EventType.ASSIGNMENT_DUE_SOON,
    "A student enrolled in the course who has not handed the assignment in was reminded, once, within the "
    "day before it is due (one event per student).",
)
class AssignmentDueSoonData(msgspec.Struct, kw_only=True):
    assignment_id: UUID
    course_id: UUID
    student_id: UUID
    title: str
    due_at: datetime


@webhook_event(EventType.ACCOUNT_LOCKED, "An account was locked after repeated failed sign-ins (API §10.1).")
class AccountLockedData(msgspec.Struct, kw_only=True):
    user_id: UUID
    locked_until: datetime
    locked_at: datetime


class _OrderData(msgspec.Struct, kw_only=True):
    order_id: UUID
    course_id: UUID
    buyer_id: UUID
    status: OrderStatus
    amount: MoneyString
    discount: MoneyString
    total: MoneyString
    currency: str
    coupon_code: str | None
    paid_at: datetime | None
    refunded_at: datetime | None


@webhook_event(
    EventType.ORDER_PAID,
    "An order was paid (confirmed by the provider, marked by an admin, or free with a coupon); the "
    "buyer is enrolled in the same transaction (API §14).",
)
class OrderPaidData(_OrderData, kw_only=True):
    pass


@webhook_event(EventType.ORDER_REFUNDED, "A paid order was refunded; the buyer's enrollment is now `dropped`.")
class OrderRefundedData(_OrderData, kw_only=True):
    pass


class _CertificateData(msgspec.Struct, kw_only=True):
    certificate_id: UUID
    certificate_number: str
    enrollment_id: UUID
    student_id: UUID
    course_id: UUID


@webhook_event(EventType.CERTIFICATE_ISSUED, "A certificate was issued (with the completion of its enrollment).")
class CertificateIssuedData(_CertificateData, kw_only=True):
    issued_at: datetime


@webhook_event(EventType.CERTIFICATE_REVOKED, "A certificate was revoked (sent the first time only).")
class CertificateRevokedData(_CertificateData, kw_only=True):
    revoked_at: datetime


@webhook_event(
    EventType.USER_ERASED,
    "A person was erased (API §15.3): systems that copied their data should delete it. Only the id is "
    "left, on the records that keep it (grades, orders, certificates, audit lines).",
)
class UserErasedData(msgspec.Struct, kw_only=True):
    user_id: UUID
    erased_at: datetime
