"""notified events: the outbox's second consumer, the inbox, marks the events it has turned into
notifications

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events recorded before notifications existed need none: they count as notified.
    op.add_column("outbox_events", sa.Column("notified_at", DateTimeUTC(timezone=True), nullable=True))
    op.execute("UPDATE outbox_events SET notified_at = occurred_at")
    op.create_index(
        "ix_outbox_events_unnotified",
        "outbox_events",
        ["id"],
        postgresql_where=sa.text("notified_at IS NULL"),
        sqlite_where=sa.text("notified_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_events_unnotified", table_name="outbox_events")
    op.drop_column("outbox_events", "notified_at")
