"""WSGI entry point for production: `gunicorn -w 4 'dashboard.wsgi:server'`.

Each worker reads the settings once, with every source's options checked (a bad option
stops the worker at start, naming the file, the source and the key, as `vigie serve` does),
and opens the database; no scheduler runs here (`vigie collect` is the only scheduler process).
"""

from __future__ import annotations

from collectors.sources import load_checked_settings
from dashboard.app import create_app
from models.db import open_database

_settings = load_checked_settings()
app = create_app(_settings, open_database(_settings.database_url, _settings.archive.retention,
                                          _settings.archive.supervision))
server = app.server
