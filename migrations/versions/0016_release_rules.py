"""release rules: lessons open on a date, some days after enrolling, or in order

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Constant defaults: PostgreSQL adds them without rewriting the table, and SQLite in place
    # (a batch would copy the table and lose the triggers that keep its row counts); old code keeps
    # working.
    op.add_column("courses", sa.Column("sequential", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("lessons", sa.Column("available_from", DateTimeUTC(timezone=True), nullable=True))
    op.add_column("lessons", sa.Column("available_after_days", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    # In place on SQLite too (3.35 and later), so the counting triggers stay.
    op.drop_column("lessons", "available_after_days")
    op.drop_column("lessons", "available_from")
    op.drop_column("courses", "sequential")
