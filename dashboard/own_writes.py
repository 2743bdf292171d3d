"""A person sees their own writes, even when pages read a lagging replica (``DATABASE_READ_URL``).

After a request that committed a write (a claim, a resolve, a reply…), the primary's WAL position
is kept in the person's session (``own_lsn``); each later request of theirs starts by handing it
to `models.db.track_own_writes`: while the replica has not replayed that position, the request's
page reads (``db.pages``) go to the primary. Once a request finds the replica caught up, the
position is dropped. Without a replica nothing is tracked; without a pending position a request
costs nothing more; a write costs one query on the primary (its position) at the request's end.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, session

from dashboard.context import current
from models import db as database
from models.replica import primary_position

KEY = "own_lsn"
log = logging.getLogger("vigie.web")


def install(server: Flask) -> None:
    def _start() -> None:
        if current().db.replica_engine is None:
            database.stop_tracking()
            return
        database.track_own_writes(session.get(KEY))

    def _end(response: Response) -> Response:
        state = database.current_own_writes()
        database.stop_tracking()
        if state is None:
            return response
        if state.wrote:
            try:
                session[KEY] = primary_position(current().db)
            except Exception:  # the write is committed: its answer goes out; only the tracking is lost
                log.warning("own writes: the primary's position could not be read", exc_info=True)
        elif state.caught_up and KEY in session:
            session.pop(KEY)
        return response

    server.before_request(_start)
    server.after_request(_end)
    server.teardown_request(lambda _exc: database.stop_tracking())  # an error answered: nothing kept

