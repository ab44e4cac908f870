"""Alembic migrations of Storyloom's memory (run them with `memory.db.upgrade`)."""
