"""Notifications made from outbox events (API §13): the outbox's second consumer. Each event is
turned into its users' notifications in the transaction that marks it notified, and a notification
is stored once per (event, user), so an event is never lost and never doubled in an inbox."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from uuid import UUID

from domain.integrations.model import DomainEvent
from domain.notifications.live import COURSE_FEED_TYPES, of_notification
from domain.notifications.model import Channel, Notification, NotificationType, kind_of
from domain.notifications.ports import Fed, NotificationFeed, RecipientReader
from domain.shared.clock import Clock
from domain.shared.ids import new_id
from domain.shared.live import course_channel, message, user_channel
from domain.shared.ports import LiveFeed, NoLiveFeed

# Who hears of each kind: the student the event names, or the owner of the event's course.
_TO_STUDENT = {
    NotificationType.ENROLLMENT_COMPLETED,
    NotificationType.CERTIFICATE_ISSUED,
    NotificationType.SUBMISSION_GRADED,
    NotificationType.ATTEMPT_GRADED,
    NotificationType.ASSIGNMENT_DUE_SOON,
}
_TO_OWNER = {NotificationType.ASSIGNMENT_SUBMITTED, NotificationType.ATTEMPT_PENDING_REVIEW}
_TO_ENROLLED = {NotificationType.LESSON_PUBLISHED}
_TO_USER = {NotificationType.ACCOUNT_LOCKED}


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def _percent(value: object) -> str:
    try:
        return f"{Decimal(str(value)):.2f} %"
    except (InvalidOperation, ValueError):
        return "—"


def _course_by(found: dict[UUID, UUID], data: dict[str, object]) -> UUID | None:
    for key in ("enrollment_id", "assignment_id"):
        if (named := _uuid(data.get(key))) is not None and named in found:
            return found[named]
    return None


def text_of(kind: NotificationType, data: dict[str, object], course: str | None) -> tuple[str, str]:
    """The title and body a notification of this kind shows."""
    named = f"“{course}”" if course else "your course"
    match kind:
        case NotificationType.ENROLLMENT_COMPLETED:
            return "Course completed", f"You completed {named}."
        case NotificationType.CERTIFICATE_ISSUED:
            return "Certificate issued", f"Your certificate for {named} is ready."
        case NotificationType.SUBMISSION_GRADED:
            return "Submission graded", f"Your submission was graded: {_percent(data.get('final_percentage'))}."
        case NotificationType.ATTEMPT_GRADED:
            return "Quiz graded", f"Your quiz attempt was graded: {_percent(data.get('percentage'))}."
        case NotificationType.ASSIGNMENT_SUBMITTED:
            return "New submission", f"A student handed in work in {named}."
        case NotificationType.ATTEMPT_PENDING_REVIEW:
            return "Answers to grade", f"A quiz attempt in {named} waits for grading."
        case NotificationType.LESSON_PUBLISHED:
            return "New lesson", f"A new lesson is open in {named}."
        case NotificationType.ASSIGNMENT_DUE_SOON:
            return "Assignment due soon", f"“{data.get('title', 'An assignment')}” in {named} is due within a day."
        case NotificationType.ACCOUNT_LOCKED:
            return "Account locked", "Your account was locked after repeated failed sign-ins."
    return kind.value, kind.value  # pragma: no cover (every kind is matched above)


@dataclass(slots=True)
class NotificationRelay:
    feed: NotificationFeed
    reader: RecipientReader
    clock: Clock
    live: LiveFeed = field(default_factory=NoLiveFeed)
    batch: int = 100

    async def notify_once(self) -> int:
        """Turn every event not notified yet into its notifications, and tell the connected
        clients once each batch is committed. Safe in several processes at once: events are
        claimed, never shared. Returns how many events were handled."""
        handled = 0
        while True:
            fed = await self.feed.feed(self.clock.now(), self.batch, self.compose)
            await self.tell(fed)
            handled += len(fed.events)
            if len(fed.events) < self.batch:
                return handled

    async def tell(self, fed: Fed) -> None:
        """Each new notification to its user's channel; each course event to its course's feed."""
        for notification in fed.stored:
            self.live.publish(user_channel(notification.user_id), of_notification(notification))
        feed = [event for event in fed.events if event.type in COURSE_FEED_TYPES]
        if not feed:
            return
        named = {event.id: c for event in feed if (c := _uuid(event.data.get("course_id")))}
        enrollments = {e for event in feed if event.id not in named and (e := _uuid(event.data.get("enrollment_id")))}
        assignments = {a for event in feed if event.id not in named and (a := _uuid(event.data.get("assignment_id")))}
        found = await self.reader.courses_of(enrollments, assignments)
        for event in feed:
            course_id = named.get(event.id) or _course_by(found, event.data)
            if course_id is not None:
                said = message(event.id, event.type, event.occurred_at, event.data)
                self.live.publish(course_channel(course_id), said)

    async def compose(self, events: list[DomainEvent]) -> list[Notification]:
        """The notifications of a batch of events, for the users concerned who have not switched
        the kind off in the app."""
        kinds = [(event, kind) for event in events if (kind := kind_of(event.type)) is not None]
        courses = await self.reader.courses({c for e, _ in kinds if (c := _uuid(e.data.get("course_id")))})
        enrolled_in = {c for e, k in kinds if k in _TO_ENROLLED and (c := _uuid(e.data.get("course_id")))}
        enrolled = await self.reader.enrolled(enrolled_in)
        made: list[Notification] = []
        for event, kind in kinds:
            course_id = _uuid(event.data.get("course_id"))
            course = courses.get(course_id) if course_id else None
            recipients: Iterable[UUID | None]
            if kind in _TO_STUDENT:
                recipients = [_uuid(event.data.get("student_id"))]
            elif kind in _TO_OWNER:
                recipients = [course.instructor_id if course else None]
            elif kind in _TO_ENROLLED:  # enrolled by the time it happened, however late it is relayed
                students = enrolled.get(course_id, []) if course_id else []
                recipients = [student for student, since in students if since <= event.occurred_at]
            elif kind in _TO_USER:
                recipients = [_uuid(event.data.get("user_id"))]
            else:
                recipients = []
            title, body = text_of(kind, event.data, course.title if course else None)
            made.extend(
                Notification(
                    id=new_id(),
                    user_id=user_id,
                    event_id=event.id,
                    type=kind,
                    title=title,
                    body=body,
                    data=event.data,
                    created_at=event.occurred_at,
                )
                for user_id in dict.fromkeys(recipients)
                if user_id is not None
            )
        off = await self.reader.switched_off(Channel.IN_APP, {(n.user_id, n.type) for n in made})
        return [n for n in made if (n.user_id, n.type) not in off]
