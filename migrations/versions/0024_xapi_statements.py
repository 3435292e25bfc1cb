"""xAPI statements: staged from the outbox, sent to the LRS

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("xapi_at", DateTimeUTC(timezone=True), nullable=True))
    # Events from before are not statements: an LRS configured later starts from its own time.
    op.execute("UPDATE outbox_events SET xapi_at = occurred_at")
    op.create_index(
        "ix_outbox_events_unstaged",
        "outbox_events",
        ["id"],
        postgresql_where=sa.text("xapi_at IS NULL"),
        sqlite_where=sa.text("xapi_at IS NULL"),
    )
    op.create_table(
        "xapi_statements",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("claim_id", GUID(length=16), nullable=True),
        sa.Column("claimed_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_statements")),
    )
    op.create_index("ix_xapi_statements_due", "xapi_statements", ["status", "next_attempt_at"])
    op.create_index("ix_xapi_statements_claim", "xapi_statements", ["claim_id"])
    op.create_index("ix_xapi_statements_sent", "xapi_statements", ["sent_at"])


def downgrade() -> None:
    op.drop_table("xapi_statements")
    op.drop_index("ix_outbox_events_unstaged", table_name="outbox_events")
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("xapi_at")
