"""single sign-on: accounts at identity providers, and users without a password

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

# SQLite rebuilds `users` to drop NOT NULL, and a rebuilt table loses its triggers: the ones
# that keep its count (migration 0009) are made again.
SQLITE_USER_TRIGGERS = [
    f"""CREATE TRIGGER users_counted_{event} AFTER {event.upper()} ON users BEGIN
  UPDATE row_counts SET n = n {sign} 1 WHERE name = 'users';
END"""
    for event, sign in (("insert", "+"), ("delete", "-"))
]

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_identities",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_identities_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
        sa.UniqueConstraint("provider", "subject", name="uq_user_identities_provider_subject"),
    )
    op.create_index("ix_user_identities_user_created", "user_identities", ["user_id", "created_at", "id"], unique=False)
    # Dropping NOT NULL is a catalog change on PostgreSQL (no rewrite); SQLite copies the table.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=True)
    _count_users_again()


def downgrade() -> None:
    # Accounts without a password get an unusable one: no password verifies against it.
    op.execute("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("password_hash", existing_type=sa.String(length=255), nullable=False)
    _count_users_again()
    op.drop_index("ix_user_identities_user_created", table_name="user_identities")
    op.drop_table("user_identities")


def _count_users_again() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS users_counted_{event}")
        for statement in SQLITE_USER_TRIGGERS:
            op.execute(statement)
