"""verifiable credentials: each certificate's index in the revocation status list

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credential_status_entries",
        sa.Column("status_index", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("certificate_id", GUID(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_credential_status_entries_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("status_index", name=op.f("pk_credential_status_entries")),
        sa.UniqueConstraint("certificate_id", name=op.f("uq_credential_status_entries_certificate_id")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("credential_status_entries")
