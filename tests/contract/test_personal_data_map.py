"""The personal-data map covers the whole schema (API §15.3): every table is either mapped (how a
person's rows are found, exported and erased) or said to hold nobody, every column that refers to
a user is accounted for, and every column that looks like it holds someone's data is exported and
erased or kept for a stated reason. A new table or column fails here until the map says what to do."""

from __future__ import annotations

import re

import pytest
from advanced_alchemy.base import orm_registry
from sqlalchemy import Table

import adapters.sql.models  # noqa: F401  (registers every table)
from adapters.sql.personal_data import HOLDS, HOLDS_NOBODY, NOBODY_IN

TABLES: dict[str, Table] = dict(orm_registry.metadata.tables)
# Names that suggest a person's data: identity, secrets, their words, where they are.
PERSONAL = re.compile(
    r"(^|_)(email|name|password|secret|hash|totp|token|review|notes|feedback|answers|text|body|subject|reason|"
    r"address|phone|birth|ip|agent|filename)(_|$)"
)


def user_columns(table: Table) -> set[str]:
    """Columns that hold a user's id: foreign keys to users, and ids of people kept without one."""
    found = {c.name for c in table.columns if any(fk.column.table.name == "users" for fk in c.foreign_keys)}
    return found | {c.name for c in table.columns if c.name in {"actor_id", "requested_by"}}


def test_every_table_is_mapped_or_said_to_hold_nobody() -> None:
    mapped, nobody = set(HOLDS), set(HOLDS_NOBODY)
    assert not mapped & nobody, mapped & nobody
    assert not (mapped | nobody) - set(TABLES), (mapped | nobody) - set(TABLES)  # no stale entries
    unmapped = set(TABLES) - mapped - nobody
    assert not unmapped, f"add these tables to HOLDS or HOLDS_NOBODY in adapters/sql/personal_data.py: {unmapped}"


@pytest.mark.parametrize("name", sorted(HOLDS))
def test_a_mapped_table_accounts_for_its_people_and_personal_columns(name: str) -> None:
    holds, table = HOLDS[name], TABLES[name]
    columns = set(table.columns.keys())
    named = {holds.owner, *holds.secret, *holds.scrub, *holds.kept, *holds.others}
    assert named <= columns, f"{name}: the map names columns it does not have: {named - columns}"
    if holds.through is not None:
        other, column = holds.through
        assert column in TABLES[other].columns
    people = user_columns(table) - {holds.owner}
    assert people <= holds.others, f"{name}: columns holding a user's id the map does not account for: {people}"
    if holds.erase == "delete":
        return  # the rows go whole
    loose = {
        c for c in columns if PERSONAL.search(c) and c not in holds.scrub and c not in holds.kept and c != holds.owner
    }
    # A secret column that erasure keeps would survive the person: only scrubbed secrets may stay.
    assert not loose, f"{name}: personal-looking columns neither scrubbed on erasure nor kept with a reason: {loose}"


@pytest.mark.parametrize("name", sorted(HOLDS_NOBODY))
def test_a_table_that_holds_nobody_refers_to_no_user_and_holds_no_personal_column(name: str) -> None:
    table = TABLES[name]
    assert not user_columns(table), f"{name} refers to users: map it in HOLDS"
    personal = {c.name for c in table.columns if PERSONAL.search(c.name) and (name, c.name) not in NOBODY_IN}
    assert not personal, f"{name}: personal-looking columns; map the table, or say why in NOBODY_IN: {personal}"
