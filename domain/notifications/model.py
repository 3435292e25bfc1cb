"""Notifications and notification preferences (API §13)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


class NotificationType(enum.StrEnum):
    """What a notification tells; the event type it was made from, and a key of the preferences."""

    ENROLLMENT_COMPLETED = "enrollment.completed"
    CERTIFICATE_ISSUED = "certificate.issued"
    SUBMISSION_GRADED = "submission.graded"
    ATTEMPT_GRADED = "attempt.graded"
    ASSIGNMENT_SUBMITTED = "assignment.submitted"
    ATTEMPT_PENDING_REVIEW = "attempt.pending_review"
    LESSON_PUBLISHED = "lesson.published"
    ASSIGNMENT_DUE_SOON = "assignment.due_soon"
    ACCOUNT_LOCKED = "account.locked"


class Channel(enum.StrEnum):
    EMAIL = "email"
    IN_APP = "in_app"


UNKNOWN_TYPE = "Unknown notification type: {}"


@dataclass(slots=True, kw_only=True)
class Notification:
    """One user's notice of one event: made once per (event, user)."""

    id: UUID
    user_id: UUID
    event_id: UUID
    type: NotificationType
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Preferences:
    """Which kinds a user receives, per channel: what is not switched off is on (the defaults are
    all true). Security emails are sent whatever these say."""

    off: frozenset[tuple[Channel, NotificationType]] = field(default_factory=frozenset)

    def wants(self, channel: Channel, kind: NotificationType) -> bool:
        return (channel, kind) not in self.off

    def as_maps(self) -> dict[Channel, dict[NotificationType, bool]]:
        """Every channel with every kind, as the API shows them."""
        return {channel: {kind: self.wants(channel, kind) for kind in NotificationType} for channel in Channel}

    @classmethod
    def of_maps(cls, maps: dict[Channel, dict[str, bool]]) -> Preferences:
        """From the API's maps (a kind left out is on); an unknown kind is refused by the caller
        first (`kind_of`)."""
        return cls(
            frozenset(
                (channel, NotificationType(kind))
                for channel, kinds in maps.items()
                for kind, on in kinds.items()
                if not on
            )
        )


def kind_of(name: str) -> NotificationType | None:
    try:
        return NotificationType(name)
    except ValueError:
        return None
