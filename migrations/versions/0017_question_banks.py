"""question banks: questions kept apart from any quiz, drawn at random into each attempt

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "question_banks",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("course_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_question_banks_course_id_courses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_banks")),
    )
    op.create_index("ix_question_banks_course_created", "question_banks", ["course_id", "created_at", "id"])
    # A question belongs to a quiz or to a bank. SQLite rebuilds the table (no triggers on it).
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.alter_column("quiz_id", existing_type=GUID(length=16), nullable=True)
        batch_op.add_column(sa.Column("bank_id", GUID(length=16), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_questions_bank_id_question_banks"), "question_banks", ["bank_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index("ix_questions_bank_position", ["bank_id", "order_index", "id"])
        batch_op.create_check_constraint(op.f("ck_questions_one_owner"), "(quiz_id IS NULL) != (bank_id IS NULL)")
    # A quiz's draws, in order; a bank a quiz draws from is not deleted (no cascade).
    op.create_table(
        "quiz_draws",
        sa.Column("quiz_id", GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("bank_id", GUID(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("points_each", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.ForeignKeyConstraint(["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_draws_quiz_id_quizzes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["bank_id"], ["question_banks.id"], name=op.f("fk_quiz_draws_bank_id_question_banks")),
        sa.PrimaryKeyConstraint("quiz_id", "position", name=op.f("pk_quiz_draws")),
    )
    op.create_index("ix_quiz_draws_bank", "quiz_draws", ["bank_id"])
    # The questions an attempt drew, with the points each is worth in it.
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drawn", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_column("drawn")
    op.drop_index("ix_quiz_draws_bank", table_name="quiz_draws")
    op.drop_table("quiz_draws")
    op.execute("DELETE FROM questions WHERE bank_id IS NOT NULL")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_questions_one_owner"), type_="check")
        batch_op.drop_index("ix_questions_bank_position")
        batch_op.drop_constraint(op.f("fk_questions_bank_id_question_banks"), type_="foreignkey")
        batch_op.drop_column("bank_id")
        batch_op.alter_column("quiz_id", existing_type=GUID(length=16), nullable=False)
    op.drop_index("ix_question_banks_course_created", table_name="question_banks")
    op.drop_table("question_banks")
