"""Operations' endpoints, registered by `create_app`:

- ``GET /healthz``: the process answers (no database): ``200 {"status": "ok"}``. Public.
- ``GET /readyz``: ``200`` when the database answers, its schema is at the code's head revision
  at least one collector's heartbeat is fresh and none is silent without a clean stop
  (`models.heartbeats.collectors_ready`), and the replica of ``DATABASE_READ_URL``, when set,
  answers as a standby (its lag is reported, in bytes and seconds); ``503`` otherwise. The JSON body names each
  check, ok or not, and why. Public: it says ready or not, and nothing of the data.
- ``GET /metrics``: Prometheus text (`dashboard.metrics`), for a scraper sending
  ``Authorization: Bearer <VIGIE_METRICS_TOKEN>`` or a signed-in admin (the guard checks both).
"""

from __future__ import annotations

import logging
import os

from flask import Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from dashboard.context import current
from dashboard.metrics import metrics_text
from models.ops_queries import readiness
from models.tables import utcnow

log = logging.getLogger("vigie.web")


def healthz() -> Response:
    return jsonify({"status": "ok"})


def readyz() -> Response:
    checks = readiness(current().db, utcnow())
    ready = all(c["ok"] for c in checks.values())
    if not ready:
        log.warning("not ready: %s", "; ".join(f"{k}: {c['detail']}" for k, c in checks.items() if not c["ok"]))
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


def metrics() -> Response:
    return Response(metrics_text(current()), content_type=CONTENT_TYPE_LATEST)


def register_ops(server: Flask) -> None:
    server.add_url_rule("/healthz", "vigie_healthz", healthz, methods=["GET"])
    server.add_url_rule("/readyz", "vigie_readyz", readyz, methods=["GET"])
    server.add_url_rule("/metrics", "vigie_metrics", metrics, methods=["GET"])
    log.info("dashboard worker %d: /healthz, /readyz and /metrics registered", os.getpid())
