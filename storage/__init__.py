"""Persistence: async SQLAlchemy engine and sessions, ORM models, repositories and migrations.

The database is the single source of truth of the bot; nothing here knows about chat platforms
beyond the plain strings stored in :class:`storage.models.Chat` and :class:`storage.models.Person`.
"""

from storage.engine import DEFAULT_SQLITE_URL, Database

__all__ = ["Database", "DEFAULT_SQLITE_URL"]
