"""list costs: totals the writes keep, and indexes for the catalog's orders and filters

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:00:00

On PostgreSQL, course search reads a stored generated `search_document` column with a GIN index
instead of an index on the expression: a filter on it then costs a comparison per row, not a
`to_tsvector` per row, whichever plan the planner picks. Adding it rewrites `courses` once.

`row_counts` holds the totals of the big unfiltered lists (`users`, `courses`,
`courses:published`, `webhook_deliveries`), kept by triggers in the transaction of each insert, update and delete:
statement-level ones with transition tables on PostgreSQL (a bulk insert updates a count once),
row-level ones on SQLite. A later migration that rebuilds a counted table in batch mode on
SQLite drops their triggers and must create them again (`tests/contract/test_row_counts.py` would
catch it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SEARCH = "to_tsvector('english', title || ' ' || coalesce(description, ''))"
# Each list's order ends in `id`, so a page continues after its last row by keyset, through the
# index that serves the list's filter and order: (table, index, columns before, columns now).
REKEYED = [
    ("users", "ix_users_created_at", ["created_at"], ["created_at", "id"]),
    ("courses", "ix_courses_created_at", ["created_at"], ["created_at", "id"]),
    ("courses", "ix_courses_instructor_created", ["instructor_id", "created_at"], ["instructor_id", "created_at", "id"]),
    ("courses", "ix_courses_category", ["category"], ["category", "difficulty_level", "created_at", "id"]),
    ("enrollments", "ix_enrollments_student_enrolled", ["student_id", "enrolled_at"], ["student_id", "enrolled_at", "id"]),
    ("enrollments", "ix_enrollments_course_enrolled", ["course_id", "enrolled_at"], ["course_id", "enrolled_at", "id"]),
    ("webhook_deliveries", "ix_webhook_deliveries_created", ["created_at"], ["created_at", "id"]),
    ("quizzes", "ix_quizzes_course_created", ["course_id", "created_at"], ["course_id", "created_at", "id"]),
    ("questions", "ix_questions_quiz_position", ["quiz_id", "order_index"], ["quiz_id", "order_index", "id"]),
    ("certificates", "ix_certificates_student_issued", ["student_id", "issued_at"], ["student_id", "issued_at", "id"]),
    ("files", "ix_files_uploader_created", ["uploader_id", "created_at"], ["uploader_id", "created_at", "id"]),
]
# The filters with no index before: difficulty alone (all courses), and a delivery's status or type.
ADDED = [
    ("courses", "ix_courses_difficulty", ["difficulty_level", "created_at", "id"]),
    ("webhook_deliveries", "ix_webhook_deliveries_status_created", ["status", "created_at", "id"]),
    ("webhook_deliveries", "ix_webhook_deliveries_event_created", ["event_type", "created_at", "id"]),
]
# The published catalog, newest first: by itself, by category (and difficulty), by difficulty.
PUBLISHED_INDEXES = {
    "ix_courses_published_recent": ["created_at", "id"],
    "ix_courses_published_category": ["category", "difficulty_level", "created_at", "id"],
    "ix_courses_published_difficulty": ["difficulty_level", "created_at", "id"],
}
PUBLISHED = {"postgresql_where": sa.text("is_published = true"), "sqlite_where": sa.text("is_published = 1")}

# Tables counted whole (every row); `courses` is counted whole and published.
COUNTED_WHOLE = ("users", "webhook_deliveries")
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION lms_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  all_delta bigint := 0;
  published_delta bigint := 0;
  all_rows bigint;
  published_rows bigint;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF TG_TABLE_NAME = 'courses' THEN
      SELECT count(*), count(*) FILTER (WHERE is_published) INTO all_rows, published_rows FROM new_rows;
    ELSE
      SELECT count(*), 0 INTO all_rows, published_rows FROM new_rows;
    END IF;
    all_delta := all_delta + all_rows;
    published_delta := published_delta + published_rows;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    IF TG_TABLE_NAME = 'courses' THEN
      SELECT count(*), count(*) FILTER (WHERE is_published) INTO all_rows, published_rows FROM old_rows;
    ELSE
      SELECT count(*), 0 INTO all_rows, published_rows FROM old_rows;
    END IF;
    all_delta := all_delta - all_rows;
    published_delta := published_delta - published_rows;
  END IF;
  IF all_delta <> 0 THEN
    UPDATE row_counts SET n = row_counts.n + all_delta WHERE name = TG_TABLE_NAME;
  END IF;
  IF published_delta <> 0 THEN
    UPDATE row_counts SET n = row_counts.n + published_delta WHERE name = TG_TABLE_NAME || '\\:published';
  END IF;
  RETURN NULL;
END $$""",
    *(
        f"CREATE TRIGGER {table}_counted_{event} AFTER {event.upper()} ON {table} REFERENCING {refs} "
        "FOR EACH STATEMENT EXECUTE FUNCTION lms_count_rows()"
        for table in ("courses", *COUNTED_WHOLE)
        for event, refs in (
            ("insert", "NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        )
        if not (table in COUNTED_WHOLE and event == "update")  # counted whole: updates change nothing
    ),
]

SQLITE_TRIGGERS = [
    *(
        f"""CREATE TRIGGER {table}_counted_{event} AFTER {event.upper()} ON {table} BEGIN
  UPDATE row_counts SET n = n {sign} 1 WHERE name = '{table}';
END"""
        for table in COUNTED_WHOLE
        for event, sign in (("insert", "+"), ("delete", "-"))
    ),
    """CREATE TRIGGER courses_counted_insert AFTER INSERT ON courses BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'courses';
  UPDATE row_counts SET n = n + 1 WHERE name = 'courses:published' AND NEW.is_published;
END""",
    """CREATE TRIGGER courses_counted_delete AFTER DELETE ON courses BEGIN
  UPDATE row_counts SET n = n - 1 WHERE name = 'courses';
  UPDATE row_counts SET n = n - 1 WHERE name = 'courses:published' AND OLD.is_published;
END""",
    """CREATE TRIGGER courses_counted_update AFTER UPDATE OF is_published ON courses
WHEN NEW.is_published IS NOT OLD.is_published BEGIN
  UPDATE row_counts SET n = n + (CASE WHEN NEW.is_published THEN 1 ELSE -1 END) WHERE name = 'courses:published';
END""",
]
TRIGGERS = {
    **{table: (f"{table}_counted_insert", f"{table}_counted_delete") for table in COUNTED_WHOLE},
    "courses": ("courses_counted_insert", "courses_counted_delete", "courses_counted_update"),
}


def upgrade() -> None:
    op.create_table(
        "row_counts",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_row_counts")),
    )
    op.execute(
        """INSERT INTO row_counts (name, n)
           SELECT 'users', count(*) FROM users
           UNION ALL SELECT 'courses', count(*) FROM courses
           UNION ALL SELECT 'courses:published', count(*) FROM courses WHERE is_published
           UNION ALL SELECT 'webhook_deliveries', count(*) FROM webhook_deliveries"""
    )
    op.drop_index("ix_courses_published_created", table_name="courses")
    for table, name, _, columns in REKEYED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
    for name, columns in PUBLISHED_INDEXES.items():
        op.create_index(name, "courses", columns, unique=False, **PUBLISHED)
    for table, name, columns in ADDED:
        op.create_index(name, table, columns, unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_courses_search", table_name="courses")
        op.execute(f"ALTER TABLE courses ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({SEARCH}) STORED")
        op.execute("CREATE INDEX ix_courses_search ON courses USING gin (search_document)")
    # Last: a batch operation that rebuilt a table on SQLite would drop its triggers.
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP INDEX ix_courses_search")
        op.execute("ALTER TABLE courses DROP COLUMN search_document")
        op.execute(f"CREATE INDEX ix_courses_search ON courses USING gin (({SEARCH}))")
    for table, names in TRIGGERS.items():
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS lms_count_rows()")
    for table, name, _ in ADDED:
        op.drop_index(name, table_name=table)
    for name in PUBLISHED_INDEXES:
        op.drop_index(name, table_name="courses")
    for table, name, columns, _ in REKEYED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
    op.create_index("ix_courses_published_created", "courses", ["is_published", "created_at"], unique=False)
    op.drop_table("row_counts")
