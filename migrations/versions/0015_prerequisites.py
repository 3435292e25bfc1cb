"""prerequisites: the courses a course requires, in the order they were given

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_prerequisites",
        sa.Column("course_id", GUID(length=16), nullable=False),
        sa.Column("required_id", GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_prerequisites_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["required_id"],
            ["courses.id"],
            name=op.f("fk_course_prerequisites_required_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "required_id", name=op.f("pk_course_prerequisites")),
    )
    op.create_index("ix_course_prerequisites_required", "course_prerequisites", ["required_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_course_prerequisites_required", table_name="course_prerequisites")
    op.drop_table("course_prerequisites")
