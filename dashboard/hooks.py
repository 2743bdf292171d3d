"""``POST /hooks/<source name>``: deliveries to push sources, e.g. signed JSON batches for webhook
sources (`collectors/sources/webhook.py`).

The route serves every enabled source whose registered kind is a push source
(`collectors.types.PushSource`, found in `collectors.sources.REGISTRY`). It is authenticated by
the source's own check of the request (the webhook's HMAC signature over the source name, timestamp
and body), not by the dashboard's
login guard (the senders are machines holding the source's shared secret): the guard must let
``/hooks/`` through. Checks run cheapest first, and nothing is parsed before the delivery is
verified: 404 (no such enabled push source), 413 (body too large), 401 (signature, timestamp),
400 (not JSON, no list of items), then the one ingest entry point stores the batch in one write
transaction (`collectors.ingest.ingest`: duplicates skipped, unreadable items kept in
`rejected_items`). Answers are JSON; they never hold the secret nor echo the body.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

from collectors.ingest import RunReport, build_push_source, ingest, note_error, push_config, record_health, source_row
from collectors.mapping import decode_json
from collectors.pipeline import Enricher
from collectors.types import CollectorError, PushSource, Unauthorized
from config.settings import Settings, SourceConfig
from dashboard.context import current
from models.db import Database

log = logging.getLogger("vigie.hooks")
EXTENSION = "vigie.hooks"
REFUSAL_NOTE_SECONDS = 60.0  # unsigned requests write the source's health at most this often


@dataclass
class _Hooks:
    """Per-app state, built lazily on the first delivery: the enricher (lexicons compiled once),
    the push sources (their config checked once) and their row ids."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    enricher: Enricher | None = None
    sources: dict[str, tuple[PushSource, int]] = field(default_factory=dict)
    refusal_noted: dict[str, float] = field(default_factory=dict)
    v1_accepted: dict[str, int] = field(default_factory=dict)  # per source, since this process started

    def source(self, db: Database, cfg: SourceConfig) -> tuple[PushSource, int]:
        with self.lock:
            if cfg.name not in self.sources:
                self.sources[cfg.name] = (build_push_source(cfg), source_row(db, cfg.name, cfg.kind)[0])
            return self.sources[cfg.name]

    def get_enricher(self, settings: Settings) -> Enricher:
        with self.lock:
            if self.enricher is None:
                self.enricher = Enricher(settings)
            return self.enricher

    def should_note_refusal(self, name: str) -> bool:
        with self.lock:
            now = time.monotonic()
            if now - self.refusal_noted.get(name, -REFUSAL_NOTE_SECONDS) < REFUSAL_NOTE_SECONDS:
                return False
            self.refusal_noted[name] = now
            return True

    def count_v1(self, name: str) -> int:
        with self.lock:
            self.v1_accepted[name] = self.v1_accepted.get(name, 0) + 1
            return self.v1_accepted[name]


def register_hooks(server: Flask) -> None:
    server.extensions[EXTENSION] = _Hooks()
    server.add_url_rule("/hooks/<name>", "vigie_hook", receive_hook, methods=["POST"])


def _answer(status: int, **fields: Any) -> Response:
    response = jsonify(fields)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _health(db: Database, name: str, report: RunReport) -> None:
    try:
        record_health(db, name, report)
    except Exception:  # health is for operators; the answer to the sender must still go out
        log.exception("hook %s: could not record its health", name)


def receive_hook(name: str) -> Response:
    ctx = current()
    hooks: _Hooks = current_app.extensions[EXTENSION]
    cfg = push_config(ctx.settings, name)
    if cfg is None:
        return _answer(404, error="no enabled webhook source of that name")
    try:
        source, source_id = hooks.source(ctx.db, cfg)
    except CollectorError as exc:  # options are checked at start; a missing credential or row can still fail
        log.error("hook %s: misconfigured: %s", name, exc.message)
        return _answer(500, error="this webhook source is misconfigured; see the server log")
    request.max_content_length = source.max_body_bytes + 1  # its own limit (checked below), not VIGIE_MAX_REQUEST_BYTES
    if request.content_length is not None and request.content_length > source.max_body_bytes:
        return _answer(413, error=f"body larger than {source.max_body_bytes} bytes")
    body = request.stream.read(source.max_body_bytes + 1)  # no Content-Length (chunked): read one byte more
    if len(body) > source.max_body_bytes:
        return _answer(413, error=f"body larger than {source.max_body_bytes} bytes")
    now = datetime.now(UTC)
    try:
        warning = source.verify(request.headers, body, now)
    except Unauthorized as exc:
        log.warning("hook %s: refused a delivery from %s: %s", name, request.remote_addr, exc)
        if hooks.should_note_refusal(name):  # shown as the last error; not a failure of the source:
            _note_refusal(ctx.db, name, f"delivery refused (401): {exc}")  # anyone can send unsigned requests
        return _answer(401, error=str(exc))
    try:
        decoded = decode_json(body)
    except (ValueError, RecursionError) as exc:
        return _bad_request(ctx.db, name, f"body is not JSON: {exc}")
    try:
        items = source.items(decoded)
    except ValueError as exc:
        return _bad_request(ctx.db, name, f"no list of items: {exc}")
    parsed = source.parse({"items": items, "received_at": now})
    enricher = hooks.get_enricher(ctx.settings)
    try:  # one transaction, no cursor; retried once if a concurrent delivery of the same posts won the race
        report = ingest(ctx.db, source_id, enricher, parsed, now, RunReport(name, pages=1),
                        chunk_size=None, retry_duplicates=True)
    except Exception as exc:  # the sender will retry; the operator needs the reason
        log.exception("hook %s: could not store a batch of %d item(s)", name, len(items))
        _health(ctx.db, name, RunReport(name, error=f"could not store a delivery: {type(exc).__name__}"))
        return _answer(500, error="could not store the batch; retry later")
    _health(ctx.db, name, report)
    if warning is not None:  # after the run's health, so that it shows as the last error
        count = hooks.count_v1(name)
        log.warning("hook %s: %s (%d since this server process started)", name, warning, count)
        _note_refusal(ctx.db, name, f"{count} delivery(ies) since this server process started: {warning}")
    log.info("hook %s: %d item(s): %d stored, %d duplicates, %d rejected",
             name, len(items), report.stored, report.skipped, report.rejected)
    return _answer(200, stored=report.stored, duplicates=report.skipped, rejected=report.rejected,
                   queued=report.queued, copies=report.copies)


def _note_refusal(db: Database, name: str, error: str) -> None:
    try:
        note_error(db, name, error)
    except Exception:  # noting a refusal must never turn the 401 into a 500
        log.exception("hook %s: could not note a refused delivery", name)


def _bad_request(db: Database, name: str, error: str) -> Response:
    log.warning("hook %s: refused a signed delivery: %s", name, error)
    _health(db, name, RunReport(name, error=f"delivery refused (400): {error}"))
    return _answer(400, error=error)
