"""Opening the configured database and warehouse from a command or a job."""

from __future__ import annotations

from bcone.core.db import Database
from bcone.core.settings import Settings, get_settings


def open_database(settings: Settings | None = None) -> Database:
    """The OLTP database the settings point at."""
    settings = settings or get_settings()
    return Database(settings.effective_database_url)
