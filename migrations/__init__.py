"""Alembic migrations (async env, batch mode for SQLite)."""
