"""Where the schema holds people (API §15.3): every table is listed here, either with how one
person's rows are found, exported and erased, or with why it holds nobody. A test walks the
schema and fails on a table or a personal column this map does not account for, so a new feature
cannot forget export and erasure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import msgspec
from advanced_alchemy.base import orm_registry
from sqlalchemy import ColumnElement, Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.credentials.services import pdf_key
from domain.privacy.model import ERASED_NAME, PersonalRecords, StoredObject, erased_email

Row = Mapping[str, Any]


def _stored_file(row: Row) -> StoredObject:
    return StoredObject(row["storage_key"], f"files/{row['id']}-{row['original_filename']}")


def _certificate_pdf(row: Row) -> StoredObject:
    return StoredObject(pdf_key(row["id"]), f"certificates/{row['certificate_number']}.pdf", certificate_id=row["id"])


def _export_zip(row: Row) -> StoredObject | None:
    return StoredObject(row["storage_key"], "") if row["storage_key"] else None


@dataclass(frozen=True, slots=True)
class Holds:
    """A table that holds people: `owner` is the column with the person's id (or, with
    `through`, the id of a row of another table whose column names the person).

    Erasure either deletes the person's rows, or keeps them (grades, aggregates, audit lines and
    orders stay, under the id alone) and sets `scrub`'s columns (a callable gets the person's id
    and the time). `secret` columns are never exported; `kept` names personal-looking columns a
    kept row keeps, and why; `others` are columns with another person's id (a grader, a creator).
    `stored` is the row's object in storage: exported unless nameless, deleted on erasure.
    """

    owner: str
    erase: Literal["delete", "keep"]
    through: tuple[str, str] | None = None
    subject: str | None = None  # rows whose subject is the person (subject_type, subject_id) too
    secret: frozenset[str] = frozenset()
    scrub: Mapping[str, Any] = field(default_factory=dict)
    kept: Mapping[str, str] = field(default_factory=dict)
    others: frozenset[str] = frozenset()
    stored: Callable[[Row], StoredObject | None] | None = None
    export_as: str | None = None  # the member's name in the export (default: the table's)
    exported: bool = True


GRADED_WORK = "the graded work stays with its grade, under the id alone"
HOLDS: dict[str, Holds] = {
    "users": Holds(
        owner="id",
        erase="keep",
        export_as="profile",
        secret=frozenset({"password_hash", "totp_secret", "totp_last_step", "sa_orm_sentinel"}),
        scrub={
            "email": lambda user_id, _now: erased_email(user_id),
            "full_name": ERASED_NAME,
            "password_hash": None,
            "is_active": False,
            "mfa_method": None,
            "totp_secret": None,
            "totp_last_step": None,
            "email_verified_at": None,
            "locked_until": None,
            "tokens_valid_after": lambda _user_id, now: now,
            "updated_at": lambda _user_id, now: now,
        },
    ),
    "refresh_sessions": Holds(owner="user_id", erase="delete", secret=frozenset({"sa_orm_sentinel"})),
    "user_identities": Holds(owner="user_id", erase="delete", secret=frozenset({"sa_orm_sentinel"})),
    "api_keys": Holds(owner="owner_id", erase="delete", secret=frozenset({"secret_hash", "sa_orm_sentinel"})),
    "recovery_codes": Holds(
        owner="user_id", erase="delete", exported=False, secret=frozenset({"code_hash", "sa_orm_sentinel"})
    ),
    "enrollments": Holds(
        owner="student_id",
        erase="keep",
        secret=frozenset({"sa_orm_sentinel"}),
        scrub={"review": None},  # their words; the rating stays in the course's average
    ),
    "lesson_progress": Holds(
        owner="enrollment_id",
        through=("enrollments", "student_id"),
        erase="keep",
        secret=frozenset({"sa_orm_sentinel"}),
        scrub={"notes": None},
    ),
    "quiz_attempts": Holds(
        owner="student_id", erase="keep", secret=frozenset({"sa_orm_sentinel"}), kept={"answers": GRADED_WORK}
    ),
    "submissions": Holds(
        owner="student_id",
        erase="keep",
        others=frozenset({"graded_by"}),
        secret=frozenset({"sa_orm_sentinel"}),
        kept={"text": GRADED_WORK, "feedback": "the grader's words about the graded work"},
    ),
    "assignment_reminders": Holds(owner="student_id", erase="keep"),
    "certificates": Holds(
        owner="student_id",
        erase="keep",  # verifiable by number after erasure; the PDF is rendered again with the erased name
        secret=frozenset({"sa_orm_sentinel"}),
        stored=_certificate_pdf,
    ),
    "files": Holds(
        owner="uploader_id",
        erase="delete",
        secret=frozenset({"storage_key", "storage_provider", "sa_orm_sentinel"}),
        stored=_stored_file,
    ),
    "notifications": Holds(owner="user_id", erase="delete", secret=frozenset({"sa_orm_sentinel"})),
    "notification_preferences": Holds(owner="user_id", erase="delete"),
    "orders": Holds(
        owner="buyer_id",
        erase="keep",  # the accounts keep every sale
        secret=frozenset({"client_secret"}),
        scrub={"client_secret": None, "checkout_url": None},
        kept={"refund_reason": "the accounts keep why a sale was refunded"},
    ),
    "audit_log": Holds(
        owner="actor_id",
        subject="user",
        erase="keep",  # ids and codes only (audit_entry's details), kept as the record of what was done
        secret=frozenset({"sa_orm_sentinel"}),
        kept={"subject_id": "an id", "subject_type": "what kind of thing the line is about"},
    ),
    "data_exports": Holds(
        owner="user_id",
        erase="delete",
        exported=False,
        others=frozenset({"requested_by"}),
        secret=frozenset({"storage_key"}),
        stored=_export_zip,
    ),
    "courses": Holds(
        owner="instructor_id",
        erase="keep",  # a course outlives its author's account
        secret=frozenset({"sa_orm_sentinel"}),
        export_as="courses_taught",
    ),
    "coupons": Holds(owner="created_by", erase="keep", export_as="coupons_created"),
}

# Tables that hold nobody, and why.
HOLDS_NOBODY: dict[str, str] = {
    "lessons": "course content",
    "quizzes": "course content",
    "questions": "course content (question_text is the author's question, not a learner's)",
    "quiz_draws": "course content",
    "question_banks": "course content",
    "assignments": "course content",
    "course_prerequisites": "course structure",
    "credential_status_entries": "a certificate's place in the status list; the certificate row is covered",
    "consumed_tokens": "ids of used single-use tokens, expiring",
    "outbox_events": "event payloads hold ids only, and are pruned after the webhook retention",
    "webhook_deliveries": "delivery bookkeeping of events (ids, statuses, receivers' URLs)",
    "payment_events": "the payment provider's event ids",
    "row_counts": "counters",
    "xapi_statements": "statements name their actor by user id only (never an email or a name), and are pruned "
    "after the webhook retention once sent",
}


# Columns whose names look personal but hold nobody's data, and why (the schema test asks).
NOBODY_IN: dict[tuple[str, str], str] = {
    ("question_banks", "name"): "a question bank's title",
    ("quizzes", "show_correct_answers"): "a quiz setting",
    ("questions", "question_text"): "the author's question, not a learner's words",
    ("row_counts", "name"): "a counter's name",
}


def _json(value: Any) -> Any:
    return msgspec.to_builtins(value)


class SqlPersonalData:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def _table(self, name: str) -> Table:
        return orm_registry.metadata.tables[name]

    def _mine(self, name: str, holds: Holds, user_id: UUID) -> ColumnElement[bool]:
        table = self._table(name)
        condition: ColumnElement[bool]
        if holds.through is not None:
            other, column = holds.through
            linked = self._table(other)
            condition = table.c[holds.owner].in_(select(linked.c.id).where(linked.c[column] == user_id))
        else:
            condition = table.c[holds.owner] == user_id
        if holds.subject is not None:
            condition = or_(condition, (table.c.subject_type == holds.subject) & (table.c.subject_id == user_id))
        return condition

    async def _rows(self, name: str, holds: Holds, user_id: UUID) -> list[Row]:
        table = self._table(name)
        query = select(table).where(self._mine(name, holds, user_id))
        return [dict(row._mapping) for row in await self._s.execute(query)]

    async def of_person(self, user_id: UUID) -> PersonalRecords:
        tables: dict[str, list[dict[str, Any]]] = {}
        objects: list[StoredObject] = []
        for name, holds in HOLDS.items():
            rows = await self._rows(name, holds, user_id)
            if holds.stored is not None:
                found = (holds.stored(row) for row in rows)
                objects.extend(o for o in found if o is not None and o.name)
            if holds.exported:
                tables[holds.export_as or name] = [
                    {k: _json(v) for k, v in row.items() if k not in holds.secret} for row in rows
                ]
        return PersonalRecords(tables=tables, objects=objects)

    async def erase(self, user_id: UUID, now: datetime) -> list[StoredObject]:
        objects: list[StoredObject] = []
        # Rows that depend on others go first (lesson progress through its enrollment).
        for name, holds in sorted(HOLDS.items(), key=lambda item: item[1].through is None):
            table = self._table(name)
            condition = self._mine(name, holds, user_id)
            if holds.stored is not None:
                found = (holds.stored(row) for row in await self._rows(name, holds, user_id))
                objects.extend(o for o in found if o is not None)
            if holds.erase == "delete":
                await self._s.execute(delete(table).where(condition))
            elif holds.scrub:
                values = {
                    column: value(user_id, now) if callable(value) else value for column, value in holds.scrub.items()
                }
                await self._s.execute(update(table).where(condition).values(**values))
        return objects
