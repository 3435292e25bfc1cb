"""Live updates (API §13): what a connected client receives, on which channel, and who may follow a
course's feed. The transports (WebSocket, Server-Sent Events) and the fan-out between processes are
adapters; the rules are here.

Channels (named in `domain.shared.live`): `user:<id>` carries a user's new notifications and the
control messages that end their connections; `course:<id>` carries a course's events for its
managers. A message is `{id, type, created_at, data}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.catalog.rules import can_manage
from domain.identity.model import User
from domain.notifications.model import Notification
from domain.notifications.ports import RecipientReader
from domain.shared.live import course_of_channel, message

# The events a course's feed carries (API §9.1 types); learning adds `progress.updated` itself.
COURSE_FEED_TYPES = frozenset(
    {"enrollment.created", "enrollment.completed", "quiz.submitted", "assignment.submitted", "submission.graded"}
)


def of_notification(notification: Notification) -> dict[str, Any]:
    return message(notification.id, notification.type.value, notification.created_at, notification.data)


@dataclass(slots=True)
class CourseFeeds:
    """Who may follow a course's live feed: its managers (the instructor who owns it, admins)."""

    reader: RecipientReader

    async def may_follow(self, user: User, channel: str) -> bool:
        course_id = course_of_channel(channel)
        if course_id is None:
            return False
        course = (await self.reader.courses({course_id})).get(course_id)
        return course is not None and can_manage(user, course)
