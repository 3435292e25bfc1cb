"""Learning events as xAPI 1.0.3 statements (API §15.1): who (an account, never an email), the
ADL verb, the activity, and the result. A statement's id is derived from its event's id, so that
sending it again can never store a second one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from domain.integrations.model import (
    ATTEMPT_GRADED,
    ATTEMPT_STARTED,
    ENROLLMENT_COMPLETED,
    ENROLLMENT_CREATED,
    LESSON_COMPLETED,
    LESSON_PROGRESSED,
    QUIZ_SUBMITTED,
    SUBMISSION_GRADED,
    DomainEvent,
)
from domain.shared.clock import iso
from domain.xapi.ports import Activity, ActivityNames, Statement

# The namespace of statement ids: uuid5(NAMESPACE, event id).
NAMESPACE = UUID("5b8f3f0e-6c4d-4a53-9b0e-2f7d1c9a4e61")
ADL = "http://adlnet.gov/expapi/verbs/"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"

# Each learning event's verb (None: `passed` or `failed`, by the attempt), the kind of activity it
# is about, and the member of its data naming that activity.
_OBJECTS: dict[str, tuple[str | None, str, str]] = {
    ENROLLMENT_CREATED: ("registered", "course", "course_id"),
    ENROLLMENT_COMPLETED: ("completed", "course", "course_id"),
    LESSON_PROGRESSED: ("progressed", "lesson", "lesson_id"),
    LESSON_COMPLETED: ("completed", "lesson", "lesson_id"),
    ATTEMPT_STARTED: ("attempted", "quiz", "quiz_id"),
    QUIZ_SUBMITTED: (None, "quiz", "quiz_id"),
    ATTEMPT_GRADED: (None, "quiz", "quiz_id"),
    SUBMISSION_GRADED: ("scored", "assignment", "assignment_id"),
}
LEARNING_EVENTS = frozenset(_OBJECTS)
_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "lesson": "http://adlnet.gov/expapi/activities/module",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "assignment": "http://adlnet.gov/expapi/activities/assessment",
}


def statement_id(event_id: UUID) -> UUID:
    return uuid.uuid5(NAMESPACE, str(event_id))


def _scaled(percentage: object) -> float | None:
    try:
        return float(Decimal(str(percentage)) / 100)
    except (InvalidOperation, ValueError, TypeError):
        return None


def _verb(event: DomainEvent) -> str:
    verb = _OBJECTS[event.type][0]
    return verb or ("passed" if event.data.get("is_passed") else "failed")


def _result(event: DomainEvent, verb: str) -> dict[str, Any] | None:
    if verb == "progressed":
        return {"extensions": {PROGRESS: _scaled(event.data.get("completion_percentage")) or 0.0}}
    if verb == "completed":
        return {"completion": True}
    if verb in ("passed", "failed", "scored"):
        member = "final_percentage" if verb == "scored" else "percentage"
        scaled = _scaled(event.data.get(member))
        result: dict[str, Any] = {"completion": True}
        if scaled is not None:
            result["score"] = {"scaled": max(-1.0, min(1.0, scaled))}
        if verb != "scored":
            result["success"] = verb == "passed"
        return result
    return None


@dataclass(frozen=True, slots=True)
class StatementMaker:
    """Makes the statements of learning events. `homepage` is the actor accounts' home page, and
    activities are named `<frontend>/xapi/activities/<kind>/<id>`."""

    names: ActivityNames
    homepage: str
    frontend_url: str
    platform: str = "LMS"

    def _activity(self, kind: str, activity_id: UUID, found: Activity | None) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": f"{self.frontend_url.rstrip('/')}/xapi/activities/{kind}/{activity_id}",
            "definition": {
                "type": _TYPES[kind],
                "name": {"en": found.name if found else f"{kind} {activity_id}"},
            },
        }

    async def statements(self, events: Iterable[DomainEvent]) -> list[Statement]:
        learning = [e for e in events if e.type in LEARNING_EVENTS]
        if not learning:
            return []
        wanted: dict[str, set[UUID]] = {"course": set(), "lesson": set(), "quiz": set(), "assignment": set()}
        for event in learning:
            _, kind, member = _OBJECTS[event.type]
            wanted[kind].add(UUID(str(event.data[member])))
            if "course_id" in event.data:
                wanted["course"].add(UUID(str(event.data["course_id"])))
        found = await self.names.activities(
            courses=wanted["course"], lessons=wanted["lesson"], quizzes=wanted["quiz"], assignments=wanted["assignment"]
        )
        # The parents of activities whose events do not name their course.
        parents = {a.course_id for a in found.values()} - set(found)
        if parents:
            found |= await self.names.activities(courses=parents, lessons=set(), quizzes=set(), assignments=set())
        return [self._statement(event, found) for event in learning]

    def _statement(self, event: DomainEvent, found: dict[UUID, Activity]) -> Statement:
        _, kind, member = _OBJECTS[event.type]
        object_id = UUID(str(event.data[member]))
        verb = _verb(event)
        activity = found.get(object_id)
        statement: Statement = {
            "id": str(statement_id(event.id)),
            "timestamp": iso(event.occurred_at),
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": self.homepage, "name": str(event.data["student_id"])},
            },
            "verb": {"id": ADL + verb, "display": {"en-US": verb}},
            "object": self._activity(kind, object_id, activity),
            "context": {"platform": self.platform},
        }
        if "enrollment_id" in event.data:
            statement["context"]["registration"] = str(event.data["enrollment_id"])
        course_id = UUID(str(event.data["course_id"])) if "course_id" in event.data else None
        if course_id is None and activity is not None:
            course_id = activity.course_id
        if kind != "course" and course_id is not None:
            parent = self._activity("course", course_id, found.get(course_id))
            statement["context"]["contextActivities"] = {"parent": [parent]}
        result = _result(event, verb)
        if result is not None:
            statement["result"] = result
        return statement
