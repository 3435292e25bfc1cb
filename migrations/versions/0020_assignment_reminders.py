"""assignment reminders: which students were told an assignment is due soon, once each

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_reminders",
        sa.Column("assignment_id", GUID(length=16), nullable=False),
        sa.Column("student_id", GUID(length=16), nullable=False),
        sa.Column("reminded_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_assignment_reminders_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_assignment_reminders_student_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("assignment_id", "student_id", name=op.f("pk_assignment_reminders")),
    )


def downgrade() -> None:
    op.drop_table("assignment_reminders")
