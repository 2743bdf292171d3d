"""A person sees their own writes, even when pages read a lagging replica (``DATABASE_READ_URL``).

After a request that committed a write (a claim, a resolve, a reply…), the primary's WAL position
goes in a cookie of its own (``vigie_own_lsn``, for ``MAX_AGE`` seconds); each later request of
theirs starts by handing it to `models.db.track_own_writes`: while the replica has not replayed that
position, the request's page reads (``db.pages``) go to the primary. Only responses to requests that
wrote set it, and nothing removes it but its age: not the session cookie, which every response
sends back as its request saw it (a tick started before a claim's answer and ended after it would
have dropped the position the claim had just set), nor a request that found an older position
replayed. Without a replica nothing is tracked; without the cookie a request costs nothing more;
with it, one short query on the replica (its replayed position); a write costs one query on the
primary (its position) at the request's end. The value only decides where this person's own reads
go: a forged one sends them to the primary, nothing else.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request

from dashboard.context import current
from models import db as database
from models.replica import primary_position

COOKIE = "vigie_own_lsn"
MAX_AGE = 120  # seconds: far beyond a healthy replica's lag; past it, reads go to the replica again
log = logging.getLogger("vigie.web")


def _position() -> int | None:
    raw = request.cookies.get(COOKIE, "")
    return int(raw) if raw.isdigit() and len(raw) < 20 else None


def install(server: Flask) -> None:
    def _start() -> None:
        if current().db.replica_engine is None:
            database.stop_tracking()
            return
        database.track_own_writes(_position())

    def _end(response: Response) -> Response:
        state = database.current_own_writes()
        database.stop_tracking()
        if state is None or not state.wrote:
            return response
        try:
            reached = primary_position(current().db)
        except Exception:  # the write is committed: its answer goes out; only the tracking is lost
            log.warning("own writes: the primary's position could not be read", exc_info=True)
            return response
        if reached is None:
            return response
        position = max(reached, state.wait_for or 0)  # two writes answered out of order: the later position
        response.set_cookie(COOKIE, str(position), max_age=MAX_AGE, httponly=True, samesite="Lax",
                            secure=server.config.get("SESSION_COOKIE_SECURE", False))
        return response

    server.before_request(_start)
    server.after_request(_end)
    server.teardown_request(lambda _exc: database.stop_tracking())  # an error answered: nothing kept
