"""Suites that need what only the production parts have: concurrent writers on PostgreSQL, and
state shared between processes through Redis."""

from __future__ import annotations

import pytest


@pytest.fixture
def backend() -> str:
    return "postgres"
