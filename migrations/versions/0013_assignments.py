"""assignments: work students hand in, and its submissions and grades

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _audit_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("course_id", GUID(length=16), nullable=False),
        sa.Column("lesson_id", GUID(length=16), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("submission_types", sa.JSON(), nullable=False),
        sa.Column("allowed_extensions", sa.JSON(), nullable=False),
        sa.Column("max_points", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("passing_percentage", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("weight", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("available_from", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("due_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("accept_late", sa.Boolean(), nullable=False),
        sa.Column("penalty_percent_per_day", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("max_late_days", sa.Integer(), nullable=False),
        sa.Column("max_submissions", sa.Integer(), nullable=False),
        sa.Column("rubric", sa.JSON(), nullable=False),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        *_audit_columns(),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_assignments_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_assignments_lesson_id_lessons"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("lesson_id", name=op.f("uq_assignments_lesson_id")),
    )
    op.create_index("ix_assignments_course_created", "assignments", ["course_id", "created_at", "id"], unique=False)
    op.create_table(
        "submissions",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("assignment_id", GUID(length=16), nullable=False),
        sa.Column("enrollment_id", GUID(length=16), nullable=False),
        sa.Column("student_id", GUID(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("file_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("late_days", sa.Integer(), nullable=False),
        sa.Column("points", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("penalty_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("final_points", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("final_percentage", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("rubric_scores", sa.JSON(), nullable=True),
        sa.Column("graded_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("graded_by", GUID(length=16), nullable=True),
        *_audit_columns(),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_submissions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_submissions_enrollment_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_submissions_student_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["graded_by"], ["users.id"], name=op.f("fk_submissions_graded_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
    )
    op.create_index(
        "uq_submissions_number",
        "submissions",
        ["enrollment_id", "assignment_id", "number"],
        unique=True,
        postgresql_include=["status", "final_percentage"],
    )
    op.create_index(
        "ix_submissions_assignment_submitted", "submissions", ["assignment_id", "submitted_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_submissions_assignment_submitted", table_name="submissions")
    op.drop_index("uq_submissions_number", table_name="submissions")
    op.drop_table("submissions")
    op.drop_index("ix_assignments_course_created", table_name="assignments")
    op.drop_table("assignments")
