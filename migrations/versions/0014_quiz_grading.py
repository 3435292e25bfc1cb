"""quiz grading: essays graded by hand, and a quiz's due date and weight in the gradebook

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Constant defaults: PostgreSQL adds them without rewriting the table; old code keeps working.
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("essay_grading", sa.String(length=20), server_default="zero", nullable=False))
        batch_op.add_column(sa.Column("due_at", DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("weight", sa.Numeric(precision=12, scale=2), server_default="1.00", nullable=False)
        )
    # The gradebook reads an enrollment's attempts from this index alone.
    op.create_index(
        "ix_quiz_attempts_enrollment_grades",
        "quiz_attempts",
        ["enrollment_id", "quiz_id"],
        postgresql_include=["status", "percentage"],
    )


def downgrade() -> None:
    op.drop_index("ix_quiz_attempts_enrollment_grades", table_name="quiz_attempts")
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_column("weight")
        batch_op.drop_column("due_at")
        batch_op.drop_column("essay_grading")
