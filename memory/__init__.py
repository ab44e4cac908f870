"""Storyloom's memory: SQL models, migrations runner, repositories and the asset store."""

from memory.db import Database, open_database
from memory.store import AssetStore

__all__ = ["AssetStore", "Database", "open_database"]
