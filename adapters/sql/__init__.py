"""Persistence on SQLAlchemy 2 async with advanced-alchemy models; SQLite or PostgreSQL by URL."""
