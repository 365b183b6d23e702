"""Alembic migrations for checkd's schema (applied at start by checkd.db.migrate)."""
