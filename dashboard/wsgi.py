"""WSGI entry point for production: `gunicorn -w 4 'dashboard.wsgi:server'`.

Each worker reads the settings once, with every source's options checked (a bad option
stops the worker at start, naming the file, the source and the key, as `vigie serve` does),
and opens the database, refusing one whose schema is not at the head revision (gunicorn then
stops with that one line: schema changes are `vigie db upgrade`'s, never a web worker's); no
scheduler runs here (`vigie collect` is the only scheduler process).
"""

from __future__ import annotations

from gunicorn.errors import AppImportError

from collectors.sources import load_checked_settings
from dashboard.app import create_app, settle
from models.db import open_database
from models.migrate import SchemaNotCurrent, require_head

_settings = load_checked_settings()
_db = open_database(_settings.database_url, _settings.archive.retention, _settings.archive.supervision,
                    read_url=_settings.database_read_url)
try:
    require_head(_db.engine)
except SchemaNotCurrent as exc:
    _db.dispose()
    # gunicorn prints an AppImportError's message alone and halts (exit 4) instead of respawning workers
    raise AppImportError(str(exc)) from None
app = create_app(_settings, _db)
server = app.server
# Dash sets itself up (its callbacks, scripts and page router) on a worker's first request, without a
# lock: gunicorn's threads serving a new worker's first requests at once raced it (`make load` saw 500s:
# "dictionary changed size during iteration", a Dash script path "not valid"). `settle` makes one
# request before the worker serves anyone, then keeps what was built out of the garbage collector's
# full passes.
settle(app)
